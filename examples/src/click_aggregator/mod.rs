//! The seed walkthrough: user clicks → per-user 5-minute tumbling counts → `aggregated-clicks`,
//! queryable over HTTP, declared with the `#[topology]` macros.

mod app;
mod demo_input;
mod http;

use std::time::Duration;

use kafka_streams::topology::Topology;
use serde::{Deserialize, Serialize};

pub use app::{AppOptions, DemoInput, RunningApp, produce_demo_clicks};
pub use demo_input::DemoClicks;
pub use http::{ROUTES, SeedCount, WindowCount, router, routes};

/// `application.id`: the consumer group and the prefix of internal topics.
pub const APPLICATION_ID: &str = pipeline::APPLICATION_ID;
/// Where clicks arrive, keyed by user id.
pub const INPUT_TOPIC: &str = pipeline::topics::USER_CLICKS;
/// Where per-window counts go, keyed `user@window-start`.
pub const OUTPUT_TOPIC: &str = pipeline::topics::AGGREGATED_CLICKS;
/// The window store of the counts (changelog: `click-aggregator-click-counts-changelog`).
pub const STORE: &str = pipeline::stores::ClickCounts::NAME;
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
#[kafka_streams::topology(application_id = "click-aggregator")]
pub mod pipeline {
    use super::Click;
    use kafka_streams::Windowed;

    /// Clicks keyed by user id; event time comes from the payload (epoch seconds).
    #[source(topic = "user-clicks", timestamp = |click: &Click| click.event_time_ms())]
    pub type UserClicks = (String, Click);

    /// Per-user count in 5-minute tumbling windows, kept in the window store `click-counts`.
    #[windowed(tumbling = "5m", grace = "30s")]
    #[state_store(name = "click-counts")]
    pub fn count_clicks(#[from(UserClicks)] _user: &String, _click: &Click, count: &mut u64) {
        *count += 1;
    }

    /// Every count update, keyed `user@window-start`.
    #[sink(topic = "aggregated-clicks", from = count_clicks)]
    pub fn publish(key: Windowed<String>, count: u64) -> (String, u64) {
        (key.to_string(), count)
    }
}

/// The pipeline's topology.
pub fn topology() -> Topology {
    // The topology is fixed and checked by the macro; `build` only fails on user mistakes.
    pipeline::topology().unwrap_or_else(|e| unreachable!("{e}"))
}
