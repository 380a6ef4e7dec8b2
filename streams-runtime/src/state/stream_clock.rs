//! The stream time of one stateful operator, kept in one of its stores.
//!
//! Kafka Streams keeps an *observed stream time* per windowed operator (a join's two sides share
//! one): only records that reach the operator move it, so a filtered-out record, a table update
//! or another branch of the task cannot close its windows. We do the same, and do better on one
//! point: the time is a marker in the operator's store, committed, changelogged and restored with
//! the windows it governs, so a crash, a failover or a standby promotion changes nothing — the
//! operator resumes with the clock of the commit its state reflects (Kafka Streams starts such a
//! processor's clock over and accepts records an uninterrupted run drops as late).

use super::{SharedStore, Store};
use crate::error::Result;

#[derive(Clone)]
pub(crate) struct StreamClock {
    store: SharedStore,
}

impl StreamClock {
    /// The clock kept in `store` (marked as tracking one, for the driver's `advance_stream_time`).
    pub(crate) fn new(store: &SharedStore) -> Self {
        Store::lock(store).track_stream_time();
        Self {
            store: SharedStore::clone(store),
        }
    }

    /// Moves the clock forward to `timestamp` (never back) and returns it: the stream time a
    /// record with this timestamp is judged at.
    pub(crate) fn observe(&self, timestamp: i64) -> Result<i64> {
        Store::lock(&self.store).observe_stream_time(timestamp)
    }

    /// [`observe`](Self::observe), and the store's generation (see `Store::generation`) read
    /// under the same lock: a windowed aggregation checks it for every record, and one lock of
    /// the store less per record is measurable. It holds for the whole record (only a rollback,
    /// between records, moves it).
    pub(crate) fn observe_with_generation(&self, timestamp: i64) -> Result<(i64, u64)> {
        let mut store = Store::lock(&self.store);
        Ok((store.observe_stream_time(timestamp)?, store.generation()))
    }
}
