//! A stream thread: one consumer, one producer, the tasks the group assigned to it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::lifecycle::{Lifecycle, ThreadPhase};
use crate::config::StreamsConfig;
use crate::error::{Result, report};
use crate::kafka::{
    ClientSettings, ConsumerStats, GroupConsumer, InstanceClients, KafkaTransport, RebalanceListener,
    SharedProducerStats, ThreadConsumer,
};
use crate::task::TaskEnv;
use crate::topology::Topology;
use crate::txn::{ThreadState, Transport};

const POLL_TIMEOUT: Duration = Duration::from_millis(50);
/// Broker errors while Kafka is unreachable repeat fast; log them at most this often.
const ERROR_LOG_INTERVAL: Duration = Duration::from_secs(10);
/// librdkafka's property bounding a consumer's prefetch per partition.
const PREFETCH_PROPERTY: &str = "queued.min.messages";

/// How often a pending task (a store held by another handle) is tried again.
const PENDING_RETRY_INTERVAL: Duration = Duration::from_millis(500);

/// How the threads are asked to stop.
#[derive(Debug, Default)]
pub(crate) struct Stop {
    /// Commit, close tasks, leave the group.
    pub(crate) graceful: AtomicBool,
    /// Stop at once without committing (tests of crash recovery).
    pub(crate) crash: AtomicBool,
}

/// What a thread last reported about itself (refreshed at every commit).
#[derive(Clone, Debug, Default)]
pub(crate) struct ThreadStatus {
    pub(crate) tasks: Vec<crate::task::TaskId>,
    /// Bytes each store occupies locally, over the thread's tasks: (store name, bytes).
    pub(crate) store_sizes: Vec<(String, u64)>,
    /// The thread's name (the `thread` label of its metrics).
    pub(crate) name: String,
    /// Its consumer's lags, queue depths and broker round trips.
    pub(crate) consumer: ConsumerStats,
    /// Its producer's queue depth and transaction state, read live.
    pub(crate) producer: SharedProducerStats,
}

pub(crate) type KafkaThreadState = ThreadState<KafkaTransport>;

fn lock(state: &Mutex<KafkaThreadState>) -> MutexGuard<'_, KafkaThreadState> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// The thread's part in rebalances: commit before partitions are revoked (close without
/// committing when the assignment was lost), open tasks when assigned.
struct ThreadRebalance {
    state: Arc<Mutex<KafkaThreadState>>,
    /// Where this thread (number `index`) reports rebalancing and running.
    lifecycle: Arc<Lifecycle>,
    index: usize,
}

impl RebalanceListener for ThreadRebalance {
    fn revoking(&self, consumer: &ThreadConsumer, partitions: &[(String, i32)], lost: bool) -> Vec<(String, i32)> {
        self.lifecycle.set_phase(self.index, ThreadPhase::Rebalancing);
        let mut state = lock(&self.state);
        if lost {
            tracing::warn!(thread = %state.name, partitions = partitions.len(), "rebalance: assignment lost (session expired); closing its tasks without committing");
            return state.lose_all();
        }
        tracing::info!(thread = %state.name, partitions = partitions.len(), "rebalance: committing before revocation");
        if let Err(e) = state.commit(consumer) {
            tracing::warn!(thread = %state.name, error = %report(&e), "commit before revocation failed; uncommitted work will be redone by the next owner");
        }
        state.suspend(partitions.iter().map(|(t, p)| (t.as_str(), *p)))
    }

    fn assigned(&self, _consumer: &ThreadConsumer, partitions: &[(String, i32)]) -> Vec<(String, i32)> {
        let mut state = lock(&self.state);
        tracing::info!(thread = %state.name, partitions = partitions.len(), "rebalance: partitions assigned");
        if let Err(e) = state.assign(partitions.iter().map(|(t, p)| (t.as_str(), *p))) {
            state.fatal = Some(e);
        }
        // Nothing is fetched for a pending task until it opens (the thread resumes it).
        let pending = state.pending_partitions();
        // Restored and processing, unless a task still waits for its stores.
        if pending.is_empty() {
            self.lifecycle.set_phase(self.index, ThreadPhase::Running);
        }
        pending
    }
}

/// A stream thread's consumer prefetches `defaults::QUEUED_MIN_MESSAGES` records per partition,
/// unless the application set `queued.min.messages` (prefixed `consumer.` or not).
fn bound_prefetch(consumer_config: &mut ClientSettings) {
    consumer_config.set_default(PREFETCH_PROPERTY, crate::config::defaults::QUEUED_MIN_MESSAGES);
}

/// What every stream thread of an instance shares.
pub(crate) struct Instance {
    pub(crate) env: Arc<TaskEnv>,
    pub(crate) clients: Arc<InstanceClients>,
    pub(crate) topology: Arc<Topology>,
}

/// Runs stream thread `index` until `shutdown` is set or an unrecoverable error occurs.
pub(crate) fn run(
    index: usize,
    instance: &Instance,
    config: &StreamsConfig,
    stop: Arc<Stop>,
    status: Arc<Mutex<ThreadStatus>>,
    lifecycle: Arc<Lifecycle>,
) -> Result<()> {
    let env = &instance.env;
    let name = format!("{}-StreamThread-{}", env.application_id, index + 1);
    let transport = KafkaTransport::new(env, &instance.clients, &name, index)?;
    let state = Arc::new(Mutex::new(ThreadState::new(
        name,
        Arc::clone(env),
        Arc::clone(&instance.topology),
        config,
        transport,
    )));
    let mut consumer_config = instance.clients.consumer();
    consumer_config
        .set("group.id", &env.application_id)
        .set(
            "client.id",
            super::takeover::stream_thread_client_id(&env.application_id, &env.process_id, index),
        )
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        // librdkafka's statistics carry the consumer lag per partition (for metrics) and the
        // partition ends that tell a multi-partition task whether to wait (record merge).
        .set("statistics.interval.ms", "500");
    bound_prefetch(&mut consumer_config);
    consumer_config.set_isolation(env.guarantee);
    let static_member = config.group_instance_id().is_some();
    if let Some(id) = config.group_instance_id() {
        consumer_config.set("group.instance.id", format!("{id}-{}", index + 1));
    }
    let listener = Arc::new(ThreadRebalance {
        state: Arc::clone(&state),
        lifecycle: Arc::clone(&lifecycle),
        index,
    });
    let topics: Vec<String> = lock(&state).source_topics.iter().map(|(t, _)| t.to_owned()).collect();
    let read_committed = env.guarantee == crate::config::ProcessingGuarantee::ExactlyOnceV2;
    let consumer = GroupConsumer::subscribe(&consumer_config, listener, read_committed, topics)?;
    // While the consumer joins the group (librdkafka's threads do that; only the assignment
    // waits for a poll), the producer takes its transactional identity.
    lock(&state).transport_mut().init_transactions()?;

    let mut last_error_log: Option<Instant> = None;
    let mut reported_version = 0;
    let mut last_pending_retry = Instant::now();
    let result = loop {
        if stop.graceful.load(Ordering::Relaxed) || stop.crash.load(Ordering::Relaxed) {
            break Ok(());
        }
        let polled = consumer.poll(POLL_TIMEOUT);
        let mut s = lock(&state);
        if let Some(e) = s.fatal.take() {
            break Err(e);
        }
        match polled {
            Some(Ok(polled)) => {
                if let Err(e) = s.enqueue(consumer.handle(), polled.input()) {
                    break Err(e);
                }
            }
            // Kafka unreachable or similar: librdkafka keeps retrying; state stays intact.
            Some(Err(e)) if last_error_log.is_none_or(|t| t.elapsed() > ERROR_LOG_INTERVAL) => {
                tracing::warn!(thread = %s.name, error = %report(&e), "consumer error; processing paused until Kafka answers");
                last_error_log = Some(Instant::now());
            }
            Some(Err(_)) => {}
            None => {}
        }
        // Also without a new record: a task waiting for an empty partition may go on now.
        // One clock read per loop: the merge, its lag cache and the commit check share it.
        let now_ms = s.env.clock.now_ms();
        if let Err(e) = s.process_merged(consumer.handle(), now_ms) {
            break Err(e);
        }
        if let Err(e) = s.punctuate_wall_clock(consumer.handle(), now_ms) {
            break Err(e);
        }
        if s.has_pending() && last_pending_retry.elapsed() >= PENDING_RETRY_INTERVAL {
            last_pending_retry = Instant::now();
            match s.open_pending() {
                Ok(opened) if !opened.is_empty() => {
                    if let Err(e) = consumer.resume(&opened) {
                        break Err(e);
                    }
                    if !s.has_pending() {
                        lifecycle.set_phase(index, ThreadPhase::Running);
                    }
                }
                Ok(_) => {}
                Err(e) => break Err(e),
            }
        }
        if s.assignment_version != reported_version {
            // Tasks changed (rebalance): report at once, not only at the next commit.
            reported_version = s.assignment_version;
            let mut st = status.lock().unwrap_or_else(|e| e.into_inner());
            st.tasks = s.task_ids();
        }
        if s.commit_due(now_ms) {
            if let Err(e) = s.commit(consumer.handle()) {
                tracing::warn!(thread = %s.name, error = %report(&e), "commit failed; work since the last commit will be redone");
            }
            *status.lock().unwrap_or_else(|e| e.into_inner()) = ThreadStatus {
                tasks: s.task_ids(),
                store_sizes: s.store_sizes(),
                name: s.name.clone(),
                consumer: consumer.stats(),
                producer: s.transport_mut().producer_stats(),
            };
        }
        if s.needs_rejoin {
            s.needs_rejoin = false;
            drop(s);
            tracing::info!("rejoining the consumer group");
            if let Err(e) = consumer.rejoin() {
                break Err(e.context("failed to rejoin the consumer group"));
            }
        }
    };
    if stop.crash.load(Ordering::Relaxed) {
        // A simulated `kill -9`: nothing is committed or aborted, as for a killed process.
        lock(&state).crashed = true;
    } else if result.is_err() {
        // A failure (e.g. a record under the LogAndFail policy, whose partial effects must not
        // be committed): abandon uncommitted work; the next owner redoes it from the last
        // commit. The open transaction is aborted now rather than left to its timeout, so the
        // last stable offset of every partition it wrote moves on at once (a restore reads up
        // to it, and readers of the outputs wait for it).
        let mut s = lock(&state);
        s.crashed = true;
        if let Err(e) = s.transport_mut().abort() {
            tracing::warn!(thread = %s.name, error = %report(&e), "failed to abort the failed thread's transaction; the broker aborts it at its timeout");
        }
    } else {
        let mut s = lock(&state);
        if let Err(e) = s.commit(consumer.handle()) {
            tracing::warn!(thread = %s.name, error = %report(&e), "final commit failed");
        }
    }
    // Leave the group explicitly before closing: the revoke callback runs (committing nothing
    // new) and no subscription is left for the close to tear down. A static member does not
    // leave (KIP-345): its tasks wait for it, unassigned, until its session times out, so a
    // restart within it gets them back without a rebalance.
    if !static_member {
        consumer.leave(POLL_TIMEOUT, Duration::from_secs(5));
    }
    drop(consumer);
    lock(&state).close_all();
    *status.lock().unwrap_or_else(|e| e.into_inner()) = ThreadStatus::default();
    result
}

#[cfg(test)]
mod tests {
    use super::bound_prefetch;
    use crate::kafka::{ClientSettings, InstanceClients, OAuth};

    /// The stream threads' consumers bound their prefetch; a value the application set wins,
    /// prefixed `consumer.` or not. Settings only: no broker.
    #[test]
    fn stream_thread_consumers_bound_their_prefetch_unless_the_application_set_it() {
        let consumer = |properties: &[(&str, &str)]| {
            let mut common = rdkafka::ClientConfig::new();
            let mut rest = std::collections::BTreeMap::new();
            for (key, value) in properties {
                if key.starts_with("consumer.") {
                    rest.insert((*key).to_owned(), (*value).to_owned());
                } else {
                    common.set(*key, *value);
                }
            }
            let mut config = InstanceClients::new(ClientSettings::new(common, OAuth::default()), &rest).consumer();
            bound_prefetch(&mut config);
            config.get("queued.min.messages").map(str::to_owned)
        };
        assert_eq!(consumer(&[]).as_deref(), Some("10000"));
        assert_eq!(consumer(&[("queued.min.messages", "500")]).as_deref(), Some("500"));
        assert_eq!(
            consumer(&[("consumer.queued.min.messages", "700")]).as_deref(),
            Some("700")
        );
    }
}
