//! The seed walkthrough: user clicks → per-user 5-minute tumbling counts → `aggregated-clicks`,
//! queryable over HTTP.
//!
//! This is the hand-wired version that runs on rdkafka directly, with counts kept in memory; it
//! is replaced by the `#[topology]` version once the runtime core and macros land.

mod app;
mod demo_input;
mod http;
mod pipeline;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use app::{AppOptions, RunningApp};
pub use demo_input::DemoClicks;
pub use http::{WindowCount, router};
pub use pipeline::{ClickCounts, PipelineStats, run_pipeline};

/// `application.id`: the consumer group and the prefix of internal topics.
pub const APPLICATION_ID: &str = "click-aggregator";
/// Where clicks arrive.
pub const INPUT_TOPIC: &str = "user-clicks";
/// Where per-window counts go, keyed `user@window-start`.
pub const OUTPUT_TOPIC: &str = "aggregated-clicks";
/// Partitions of both topics when the app creates them.
pub const PARTITIONS: i32 = 3;
/// Tumbling window size.
pub const WINDOW_SIZE: Duration = Duration::from_secs(5 * 60);

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
