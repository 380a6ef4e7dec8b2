//! A stream thread: one consumer, one producer, the tasks the group assigned to it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rdkafka::Message;
use rdkafka::consumer::Consumer;

use super::consumer_stats::ConsumerStats;
use super::kafka_transport::KafkaTransport;
use super::lifecycle::{Lifecycle, ThreadPhase};
use super::rebalance::{RebalanceHandler, partition_list};
use super::thread_state::{ThreadConsumer, ThreadState};
use super::transport::{InputRecord, Transport};
use crate::config::StreamsConfig;
use crate::error::{Error, Result, report};
use crate::task::TaskEnv;
use crate::topology::Topology;

const POLL_TIMEOUT: Duration = Duration::from_millis(50);
/// Broker errors while Kafka is unreachable repeat fast; log them at most this often.
const ERROR_LOG_INTERVAL: Duration = Duration::from_secs(10);
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
}

/// Store sizes summed per store name (a store has a partition in each task): (store, bytes),
/// sorted by store.
pub(crate) fn sum_by_store(sizes: impl IntoIterator<Item = (String, u64)>) -> Vec<(String, u64)> {
    let mut sums = std::collections::BTreeMap::<String, u64>::new();
    for (store, bytes) in sizes {
        *sums.entry(store).or_default() += bytes;
    }
    sums.into_iter().collect()
}

pub(crate) type KafkaThreadState = ThreadState<KafkaTransport>;

fn lock(state: &Mutex<KafkaThreadState>) -> MutexGuard<'_, KafkaThreadState> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs stream thread `index` until `shutdown` is set or an unrecoverable error occurs.
pub(crate) fn run(
    index: usize,
    env: Arc<TaskEnv>,
    topology: Arc<Topology>,
    config: &StreamsConfig,
    stop: Arc<Stop>,
    status: Arc<Mutex<ThreadStatus>>,
    lifecycle: Arc<Lifecycle>,
) -> Result<()> {
    let name = format!("{}-StreamThread-{}", env.application_id, index + 1);
    let transport = KafkaTransport::new(&env, &name, index)?;
    let state = Arc::new(Mutex::new(ThreadState::new(
        name,
        Arc::clone(&env),
        topology,
        config,
        transport,
    )));
    let mut consumer_config = env.client_settings_with(&env.consumer_config);
    consumer_config
        .set("group.id", &env.application_id)
        .set("client.id", format!("{}-consumer", lock(&state).name))
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        // librdkafka's statistics carry the consumer lag per partition (for metrics) and the
        // partition ends that tell a multi-partition task whether to wait (record merge).
        .set("statistics.interval.ms", "500");
    env.guarantee.set_isolation(consumer_config.config_mut());
    let static_member = config.group_instance_id().is_some();
    if let Some(id) = config.group_instance_id() {
        consumer_config.set("group.instance.id", format!("{id}-{}", index + 1));
    }
    let consumer: ThreadConsumer = consumer_config.create_with(
        "the consumer",
        RebalanceHandler {
            state: Arc::clone(&state),
            stats: Mutex::default(),
            ends: Mutex::default(),
            read_committed: env.guarantee == crate::config::ProcessingGuarantee::ExactlyOnceV2,
            lifecycle: Arc::clone(&lifecycle),
            index,
            oauth: consumer_config.oauth(),
        },
    )?;
    let topics: Vec<String> = lock(&state).source_topics.keys().cloned().collect();
    let topic_refs: Vec<&str> = topics.iter().map(String::as_str).collect();
    consumer
        .subscribe(&topic_refs)
        .map_err(|e| Error::kafka("failed to subscribe to the source topics", e))?;

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
            Some(Ok(message)) => {
                let headers = crate::kafka::headers_of(&message);
                let record = InputRecord {
                    topic: message.topic(),
                    partition: message.partition(),
                    offset: message.offset(),
                    key: message.key(),
                    value: message.payload(),
                    // No timestamp is Kafka's -1: the source refuses it (through the error policy) unless
                    // the topology's timestamp extractor assigns one; it is never taken for 1970.
                    timestamp: message.timestamp().to_millis().unwrap_or(-1),
                    headers: &headers,
                };
                if let Err(e) = s.enqueue(&consumer, record) {
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
        if let Err(e) = s.process_merged(&consumer, now_ms) {
            break Err(e);
        }
        if let Err(e) = s.punctuate_wall_clock(&consumer) {
            break Err(e);
        }
        if s.has_pending() && last_pending_retry.elapsed() >= PENDING_RETRY_INTERVAL {
            last_pending_retry = Instant::now();
            match s.open_pending() {
                Ok(opened) if !opened.is_empty() => {
                    if let Err(e) = consumer.resume(&partition_list(&opened)) {
                        break Err(Error::kafka("failed to resume the partitions of opened tasks", e));
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
            if let Err(e) = s.commit(&consumer) {
                tracing::warn!(thread = %s.name, error = %report(&e), "commit failed; work since the last commit will be redone");
            }
            *status.lock().unwrap_or_else(|e| e.into_inner()) = ThreadStatus {
                tasks: s.task_ids(),
                store_sizes: s.store_sizes(),
                name: s.name.clone(),
                consumer: consumer.context().stats(),
            };
        }
        if s.needs_rejoin {
            s.needs_rejoin = false;
            drop(s);
            tracing::info!("rejoining the consumer group");
            consumer.unsubscribe();
            if let Err(e) = consumer.subscribe(&topic_refs) {
                break Err(Error::kafka("failed to resubscribe", e));
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
        if let Err(e) = s.commit(&consumer) {
            tracing::warn!(thread = %s.name, error = %report(&e), "final commit failed");
        }
    }
    // Leave the group explicitly before closing: the revoke callback runs (committing nothing
    // new) and no subscription is left for the close to tear down. A static member does not
    // leave (KIP-345): its tasks wait for it, unassigned, until its session times out, so a
    // restart within it gets them back without a rebalance.
    if !static_member {
        consumer.unsubscribe();
        let deadline = Instant::now() + Duration::from_secs(5);
        while consumer.assignment().is_ok_and(|a| a.count() > 0) && Instant::now() < deadline {
            let _ = consumer.poll(POLL_TIMEOUT);
        }
    }
    drop(consumer);
    lock(&state).close_all();
    *status.lock().unwrap_or_else(|e| e.into_inner()) = ThreadStatus::default();
    result
}
