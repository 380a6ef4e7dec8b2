//! A stream thread's group consumer: librdkafka's rebalance callbacks turned into plain partition
//! lists for a [`RebalanceListener`], its periodic statistics kept for metrics and the record
//! merge, and the few calls the thread's loop makes (poll, pause, resume, rejoin).
//!
//! librdkafka calls the listener from inside `poll`, on the stream thread itself, while the
//! thread's loop does not hold its state lock.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::{ClientContext, TopicPartitionList};

use super::consumer_stats::{ConsumerStats, PartitionReport, partition_reports};
use super::partition_map::PartitionMap;
use super::polled::Polled;
use super::{ClientSettings, OAuth};
use crate::error::{Error, Result};

/// The consumer handle the commit protocol commits and seeks with (see
/// [`KafkaTransport`](super::KafkaTransport)); the rebalance listener receives it too.
pub(crate) type ThreadConsumer = BaseConsumer<GroupContext>;

/// What a stream thread does when the group moves partitions.
pub(crate) trait RebalanceListener: Send + Sync {
    /// `partitions` are about to be taken away. `lost`: the session expired, so other members
    /// may own them already and nothing may be committed for them. Returns the ones this
    /// listener had paused (pending tasks), to resume before they go.
    fn revoking(&self, consumer: &ThreadConsumer, partitions: &[(String, i32)], lost: bool) -> Vec<(String, i32)>;

    /// `partitions` were assigned. Returns the ones to pause (their tasks cannot open yet).
    fn assigned(&self, consumer: &ThreadConsumer, partitions: &[(String, i32)]) -> Vec<(String, i32)>;
}

/// The consumer's context: the listener, the last statistics, token refreshes.
pub(crate) struct GroupContext {
    listener: Arc<dyn RebalanceListener>,
    /// Lags, queue depths and round trips, from librdkafka's periodic statistics.
    stats: Mutex<ConsumerStats>,
    /// The end and fetch progress of each assigned partition as of the last statistics.
    partitions: Mutex<PartitionMap<PartitionReport>>,
    read_committed: bool,
    /// Answers the consumer's token refresh requests (SASL/OAUTHBEARER).
    oauth: OAuth,
}

impl GroupContext {
    /// The consumer's latest statistics.
    pub(crate) fn stats(&self) -> ConsumerStats {
        self.stats.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// What librdkafka last reported of `topic`/`partition` (at most one statistics interval
    /// old, so its end is never above the true end); `None` before the first report.
    pub(crate) fn partition_report(&self, topic: &str, partition: i32) -> Option<PartitionReport> {
        self.partitions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(topic, partition)
            .copied()
    }
}

impl ClientContext for GroupContext {
    super::answer_token_refreshes!(oauth);

    fn stats(&self, statistics: rdkafka::Statistics) {
        *self.stats.lock().unwrap_or_else(|e| e.into_inner()) = ConsumerStats::from_statistics(&statistics);
        *self.partitions.lock().unwrap_or_else(|e| e.into_inner()) =
            partition_reports(&statistics, self.read_committed);
    }
}

impl ConsumerContext for GroupContext {
    fn pre_rebalance(&self, consumer: &ThreadConsumer, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(revoked) = rebalance {
            let paused = self
                .listener
                .revoking(consumer, &partitions_of(revoked), consumer.assignment_lost());
            // librdkafka keeps an application's pause across a revocation and a new assignment:
            // a pending task's partition, paused when it goes, would come back paused, and its
            // task, opening at once, would never read it. Resumed here, while it is still
            // assigned: resuming a partition at its next assignment instead is unsafe, since
            // librdkafka pauses assigned partitions itself while it serves a rebalance, and a
            // resume of a partition paused by anyone restarts its fetch from a stale position.
            if !paused.is_empty()
                && let Err(e) = consumer.resume(&partition_list(&paused))
            {
                tracing::warn!(error = %crate::error::report(&e), "failed to resume the partitions of pending tasks before their revocation");
            }
        }
    }

    fn post_rebalance(&self, consumer: &ThreadConsumer, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(assigned) => {
                let pause = self.listener.assigned(consumer, &partitions_of(assigned));
                if !pause.is_empty()
                    && let Err(e) = consumer.pause(&partition_list(&pause))
                {
                    tracing::warn!(error = %crate::error::report(&e), "failed to pause the partitions of pending tasks");
                }
            }
            Rebalance::Revoke(_) => {}
            Rebalance::Error(e) => tracing::warn!(error = %crate::error::report(&e), "rebalance error"),
        }
    }
}

/// A stream thread's member of the application's consumer group.
pub(crate) struct GroupConsumer {
    consumer: ThreadConsumer,
    topics: Vec<String>,
}

impl GroupConsumer {
    /// Creates the consumer from `settings` (group, client id and isolation already set) and
    /// subscribes it to `topics`; `listener` hears of every rebalance.
    pub(crate) fn subscribe(
        settings: &ClientSettings,
        listener: Arc<dyn RebalanceListener>,
        read_committed: bool,
        topics: Vec<String>,
    ) -> Result<Self> {
        let context = GroupContext {
            listener,
            stats: Mutex::default(),
            partitions: Mutex::default(),
            read_committed,
            oauth: settings.oauth(),
        };
        let consumer: ThreadConsumer = settings.create_with("the consumer", context)?;
        let this = Self { consumer, topics };
        this.join()?;
        Ok(this)
    }

    fn join(&self) -> Result<()> {
        let topics: Vec<&str> = self.topics.iter().map(String::as_str).collect();
        self.consumer
            .subscribe(&topics)
            .map_err(|e| Error::kafka("failed to subscribe to the source topics", e))
    }

    /// The handle the commit protocol works with.
    pub(crate) fn handle(&self) -> &ThreadConsumer {
        &self.consumer
    }

    /// The consumer's latest statistics.
    pub(crate) fn stats(&self) -> ConsumerStats {
        self.consumer.context().stats()
    }

    /// The next record, or the consumer's error (Kafka unreachable: librdkafka keeps retrying),
    /// or `None` after `timeout`. Rebalance callbacks run inside.
    pub(crate) fn poll(&self, timeout: Duration) -> Option<Result<Polled<'_>>> {
        super::polled::poll(&self.consumer, timeout)
    }

    /// Fetches `partitions` again (their tasks opened).
    pub(crate) fn resume(&self, partitions: &[(String, i32)]) -> Result<()> {
        self.consumer
            .resume(&partition_list(partitions))
            .map_err(|e| Error::kafka("failed to resume the partitions of opened tasks", e))
    }

    /// Leaves the group and joins it again (the producer was replaced and the tasks closed).
    pub(crate) fn rejoin(&self) -> Result<()> {
        self.consumer.unsubscribe();
        self.join()
    }

    /// Leaves the group and waits up to `timeout` for the revocation to run (polling meanwhile).
    pub(crate) fn leave(&self, poll_timeout: Duration, timeout: Duration) {
        self.consumer.unsubscribe();
        let deadline = std::time::Instant::now() + timeout;
        while self.consumer.assignment().is_ok_and(|a| a.count() > 0) && std::time::Instant::now() < deadline {
            let _ = self.consumer.poll(poll_timeout);
        }
    }
}

/// The (topic, partition) pairs of an rdkafka partition list.
fn partitions_of(list: &TopicPartitionList) -> Vec<(String, i32)> {
    list.elements()
        .iter()
        .map(|e| (e.topic().to_owned(), e.partition()))
        .collect()
}

/// `partitions` as an rdkafka partition list (for pause and resume).
fn partition_list(partitions: &[(String, i32)]) -> TopicPartitionList {
    let mut list = TopicPartitionList::new();
    for (topic, partition) in partitions {
        list.add_partition(topic, *partition);
    }
    list
}
