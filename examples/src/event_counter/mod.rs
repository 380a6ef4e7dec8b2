//! Event counter: the counting topology the exactly-once and failover tests run on Apache Kafka,
//! small enough that an independent oracle can recompute every output from the input.
//!
//! Events arrive keyed by user on `events`. Two counts come out, every update of each:
//! - `group-counts`: a running count per group — the events are re-keyed by their group, so the
//!   count reads through the repartition topic `event-counter-group-counts-repartition`;
//! - `user-window-counts`: a count per user in 10-second tumbling windows of event time, on the
//!   source partitions (no repartition), keyed `user@window-start`.
//!
//! Each count emits every update, so for each key the output is the sequence 1, 2, 3, … n: a
//! duplicate or a lost record shows up as a repeat or a gap, whatever the store says.

use serde::{Deserialize, Serialize};

/// One event, as JSON on `events` (keyed by `user`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Who did it; also the record key.
    pub user: String,
    /// The group it is counted in (the re-keyed count).
    pub group: String,
    /// A number unique to the event (for the oracle).
    pub seq: u64,
    /// Event time, epoch milliseconds.
    pub at_ms: i64,
}

/// Tumbling window size of `user-window-counts`.
pub const WINDOW_MS: i64 = 10_000;

/// The pipeline.
#[kafka_streams::topology(application_id = "event-counter")]
pub mod pipeline {
    use super::Event;
    use kafka_streams::Windowed;

    /// Events keyed by user; event time from the payload.
    #[source(topic = "events", timestamp = |event: &Event| event.at_ms)]
    pub type Events = (String, Event);

    /// Per-user count in 10-second tumbling windows (grace of an hour: the tests' input is in
    /// order per partition, so no event is late), in the window store `user-window-counts`.
    #[windowed(tumbling = "10s", grace = "1h")]
    #[state_store(name = "user-window-counts")]
    pub fn count_user_windows(#[from(Events)] _user: &String, _event: &Event, count: &mut u64) {
        *count += 1;
    }

    /// Every windowed count update, keyed `user@window-start`.
    #[sink(topic = "user-window-counts", from = count_user_windows)]
    pub fn publish_user_windows(key: Windowed<String>, count: u64) -> (String, u64) {
        (key.to_string(), count)
    }

    /// Events re-keyed by group: the count after it reads through a repartition topic.
    pub fn by_group(#[from(Events)] event: Event) -> (String, Event) {
        (event.group.clone(), event)
    }

    /// The running count per group, in the key-value store `group-counts`.
    #[state_store(name = "group-counts")]
    pub fn count_groups(#[from(by_group)] _group: &String, _event: &Event, count: &mut u64) {
        *count += 1;
    }

    /// Every group count update, `group → count`.
    #[sink(topic = "group-counts", from = count_groups)]
    pub fn publish_groups(count: u64) -> u64 {
        count
    }
}
