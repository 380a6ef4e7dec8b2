//! The seed walkthrough: user clicks → per-user 5-minute tumbling counts → `aggregated-clicks`,
//! queryable over HTTP, on the streams runtime's typed builder API.

mod app;
mod demo_input;
mod http;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use streams_runtime::codec::{Json, Utf8};
use streams_runtime::topology::{Consumed, Materialized, StreamsBuilder, Topology};
use streams_runtime::window::TumblingWindows;

pub use app::{AppOptions, RunningApp};
pub use demo_input::DemoClicks;
pub use http::{WindowCount, router};

/// `application.id`: the consumer group and the prefix of internal topics.
pub const APPLICATION_ID: &str = "click-aggregator";
/// Where clicks arrive, keyed by user id.
pub const INPUT_TOPIC: &str = "user-clicks";
/// Where per-window counts go, keyed `user@window-start`.
pub const OUTPUT_TOPIC: &str = "aggregated-clicks";
/// The window store of the counts (changelog: `click-aggregator-click-counts-changelog`).
pub const STORE: &str = "click-counts";
/// Partitions of both topics when the app creates them.
pub const PARTITIONS: i32 = 3;
/// Tumbling window size.
pub const WINDOW_SIZE: Duration = Duration::from_secs(5 * 60);
/// How late a click may arrive and still count.
pub const GRACE: Duration = Duration::from_secs(30);

/// One click, as JSON on `user-clicks`: `{"user_id":"user123","url":"/home","timestamp":1704447600}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Click {
    /// Who clicked; also the record key.
    pub user_id: String,
    /// What was clicked.
    pub url: String,
    /// Event time, epoch seconds.
    pub timestamp: i64,
}

impl Click {
    /// Event time in epoch milliseconds.
    pub fn event_time_ms(&self) -> i64 {
        self.timestamp.saturating_mul(1000)
    }
}

/// The pipeline: count clicks per user in 5-minute tumbling windows (event time from the
/// payload, 30 s grace), keep the counts in the `click-counts` window store, and publish every
/// update to `aggregated-clicks` as `user@window-start → count`.
pub fn topology() -> Topology {
    let builder = StreamsBuilder::new();
    builder
        .stream_with(
            INPUT_TOPIC,
            Consumed::new(Utf8, Json).with_timestamp(|_, click: &Click, _| click.event_time_ms()),
        )
        .group_by_key()
        .windowed_by(TumblingWindows::of(WINDOW_SIZE).grace(GRACE))
        .count(Materialized::named(STORE))
        .to_stream()
        .map(|window, count| (window.to_string(), count))
        .to_with(OUTPUT_TOPIC, Utf8, Json);
    // The topology above is fixed and valid; `build` only fails on user mistakes.
    builder.build().unwrap_or_else(|e| unreachable!("{e}"))
}
