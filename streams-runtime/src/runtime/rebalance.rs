//! Consumer-group rebalances: commit before partitions are revoked (close without committing
//! when the assignment was lost), open tasks when assigned.
//!
//! librdkafka calls these from inside `poll`, on the stream thread itself, while the thread's
//! loop does not hold its state lock.

use std::sync::{Arc, Mutex};

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::{ClientContext, TopicPartitionList};

use super::consumer_stats::{ConsumerStats, partition_ends};
use super::lifecycle::{Lifecycle, ThreadPhase};
use super::partition_map::PartitionMap;
use super::thread::KafkaThreadState;

use crate::error::report;

pub(crate) struct RebalanceHandler {
    pub(crate) state: Arc<Mutex<KafkaThreadState>>,
    /// Lags, queue depths and round trips, from librdkafka's periodic statistics.
    pub(crate) stats: Mutex<ConsumerStats>,
    /// The end of each assigned partition as of the last statistics: the last stable offset
    /// under `read_committed` (records of open transactions cannot be read yet), else the high
    /// watermark.
    pub(crate) ends: Mutex<PartitionMap<i64>>,
    pub(crate) read_committed: bool,
    /// Where this thread (number `index`) reports rebalancing and running.
    pub(crate) lifecycle: Arc<Lifecycle>,
    pub(crate) index: usize,
    /// Answers the consumer's token refresh requests (SASL/OAUTHBEARER).
    pub(crate) oauth: crate::kafka::OAuth,
}

impl RebalanceHandler {
    /// The consumer's latest statistics.
    pub(crate) fn stats(&self) -> ConsumerStats {
        self.stats.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The end offset of `topic`/`partition` librdkafka last reported (at most one statistics
    /// interval old, so never above the true end); `None` before the first report.
    pub(crate) fn reported_end(&self, topic: &str, partition: i32) -> Option<i64> {
        self.ends
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(topic, partition)
            .copied()
    }
}

impl ClientContext for RebalanceHandler {
    crate::kafka::answer_token_refreshes!(oauth);

    fn stats(&self, statistics: rdkafka::Statistics) {
        *self.stats.lock().unwrap_or_else(|e| e.into_inner()) = ConsumerStats::from_statistics(&statistics);
        *self.ends.lock().unwrap_or_else(|e| e.into_inner()) = partition_ends(&statistics, self.read_committed);
    }
}

impl ConsumerContext for RebalanceHandler {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(revoked) = rebalance {
            self.lifecycle.set_phase(self.index, ThreadPhase::Rebalancing);
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if consumer.assignment_lost() {
                tracing::warn!(thread = %state.name, partitions = revoked.count(), "rebalance: assignment lost (session expired); closing its tasks without committing");
                state.lose_all();
                return;
            }
            tracing::info!(thread = %state.name, partitions = revoked.count(), "rebalance: committing before revocation");
            if let Err(e) = state.commit(consumer) {
                tracing::warn!(thread = %state.name, error = %report(&e), "commit before revocation failed; uncommitted work will be redone by the next owner");
            }
            state.suspend(revoked.elements().iter().map(|e| (e.topic(), e.partition())));
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match rebalance {
            Rebalance::Assign(assigned) => {
                tracing::info!(thread = %state.name, partitions = assigned.count(), "rebalance: partitions assigned");
                if let Err(e) = state.assign(assigned.elements().iter().map(|e| (e.topic(), e.partition()))) {
                    state.fatal = Some(e);
                }
                // Nothing is fetched for a pending task until it opens (the thread resumes it).
                let pending = state.pending_partitions();
                if !pending.is_empty()
                    && let Err(e) = consumer.pause(&partition_list(&pending))
                {
                    tracing::warn!(thread = %state.name, error = %report(&e), "failed to pause the partitions of pending tasks");
                }
                // Restored and processing, unless a task still waits for its stores.
                if pending.is_empty() {
                    self.lifecycle.set_phase(self.index, ThreadPhase::Running);
                }
            }
            Rebalance::Revoke(_) => {}
            Rebalance::Error(e) => tracing::warn!(thread = %state.name, error = %report(&e), "rebalance error"),
        }
    }
}

/// `partitions` as an rdkafka partition list (for pause and resume).
pub(crate) fn partition_list(partitions: &[(String, i32)]) -> TopicPartitionList {
    let mut list = TopicPartitionList::new();
    for (topic, partition) in partitions {
        list.add_partition(topic, *partition);
    }
    list
}
