//! What a stream thread owns — tasks and its producer — and the commit protocol over them.
//!
//! Commit (both guarantees): produce each store's uncommitted writes to its changelog partition
//! → make outputs, changelog records and input positions durable together (at-least-once:
//! flush the producer, then commit offsets; exactly-once v2: `send_offsets_to_transaction` with
//! the consumer's group metadata, then `commit_transaction`) → only then apply the writes to the
//! local stores, in one batch with the changelog offset they reach. A failed commit rolls every
//! task back to its last commit: overlays discarded, stream time reset, consumer seeked back.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::producer::{BaseRecord, Producer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::producer::{DeliveryTracker, StreamsProducer, TrackingContext};
use super::rebalance::RebalanceHandler;
use crate::config::{ProcessingGuarantee, StreamsConfig};
use crate::error::{Error, ErrorKind, Result};
use crate::partitioner;
use crate::state::Store;
use crate::task::{Outcome, Task, TaskEnv, TaskId};
use crate::topology::Topology;

const KAFKA_TIMEOUT: Duration = Duration::from_secs(30);
/// Uncommitted store writes never wait for more than this many bytes, even with a smaller cache.
const MIN_OVERLAY_BYTES: usize = 64 * 1024;

pub(crate) type ThreadConsumer = BaseConsumer<RebalanceHandler>;

pub(crate) struct ThreadState {
    pub(crate) name: String,
    pub(crate) env: Arc<TaskEnv>,
    topology: Arc<Topology>,
    /// Resolved source topic → sub-topology id.
    pub(crate) source_topics: HashMap<String, u32>,
    tasks: BTreeMap<TaskId, Task>,
    suspended: BTreeMap<TaskId, Task>,
    producer: StreamsProducer,
    tracker: Arc<DeliveryTracker>,
    producer_config: ClientConfig,
    in_transaction: bool,
    commit_interval: Duration,
    overlay_limit: usize,
    last_commit: Instant,
    records_since_check: u32,
    /// Set from rebalance callbacks, which cannot return errors.
    pub(crate) fatal: Option<Error>,
    /// The producer was fenced or failed fatally: tasks were closed and the group must be rejoined.
    pub(crate) needs_rejoin: bool,
    /// A simulated crash: nothing may be committed any more.
    pub(crate) crashed: bool,
}

impl ThreadState {
    pub(crate) fn new(
        index: usize,
        env: Arc<TaskEnv>,
        topology: Arc<Topology>,
        config: &StreamsConfig,
    ) -> Result<Self> {
        let name = format!("{}-StreamThread-{}", env.application_id, index + 1);
        let app = env.application_id.as_str();
        let source_topics = topology
            .subtopologies
            .iter()
            .flat_map(|s| s.sources.iter().map(move |(t, _)| (t.resolve(app), s.id)))
            .collect();
        let mut producer_config = env.client_config_with(&env.producer_config);
        producer_config
            .set("partitioner", partitioner::RDKAFKA_PARTITIONER)
            .set("client.id", &name)
            .set("linger.ms", "5");
        if env.guarantee == ProcessingGuarantee::ExactlyOnceV2 {
            // Stable across restarts of this instance (the process id lives in its state
            // directory), so a restarted instance fences its crashed predecessor's transaction
            // instead of waiting for it to time out.
            producer_config.set(
                "transactional.id",
                format!("{}-{}-{}", env.application_id, env.process_id, index + 1),
            );
            if producer_config.get("transaction.timeout.ms").is_none() {
                producer_config.set("transaction.timeout.ms", "10000");
            }
        }
        let tracker = Arc::new(DeliveryTracker::default());
        let producer = create_producer(&producer_config, &tracker, env.guarantee)?;
        Ok(Self {
            name,
            env,
            topology,
            source_topics,
            tasks: BTreeMap::new(),
            suspended: BTreeMap::new(),
            producer,
            tracker,
            producer_config,
            in_transaction: false,
            commit_interval: config.commit_interval(),
            overlay_limit: config.cache_max_bytes_buffering().max(MIN_OVERLAY_BYTES),
            last_commit: Instant::now(),
            records_since_check: 0,
            fatal: None,
            needs_rejoin: false,
            crashed: false,
        })
    }

    /// Runs one consumed record through its task and queues the task's outputs. A failure to
    /// produce (e.g. a transaction gone abortable) rolls back to the last commit, like a failed
    /// commit; only state-store failures are returned.
    pub(crate) fn process(&mut self, consumer: &ThreadConsumer, message: &BorrowedMessage<'_>) -> Result<()> {
        match self.process_one(message) {
            Err(e) if e.kind() == ErrorKind::Kafka => {
                self.env.metrics.record_aborted_commit();
                self.recover_from_failed_commit(consumer, &e);
                Ok(())
            }
            other => other,
        }
    }

    fn process_one(&mut self, message: &BorrowedMessage<'_>) -> Result<()> {
        let Some(&sub) = self.source_topics.get(message.topic()) else {
            return Ok(());
        };
        let id = TaskId {
            subtopology: sub,
            partition: message.partition(),
        };
        let Some(task) = self.tasks.get_mut(&id) else {
            tracing::warn!(thread = %self.name, task = %id, "record for a task this thread does not own; skipping");
            return Ok(());
        };
        let timestamp = message.timestamp().to_millis().unwrap_or(0);
        let dropped_before = task.dropped_late_records();
        match task.process(
            message.topic(),
            message.offset(),
            message.key(),
            message.payload(),
            timestamp,
        )? {
            Outcome::Processed => self.env.metrics.record_processed(),
            Outcome::Skipped => self.env.metrics.record_skipped(),
            Outcome::AlreadyApplied => {}
        }
        self.env
            .metrics
            .record_late_drops(task.dropped_late_records() - dropped_before);
        let outputs: Vec<_> = task.drain_outputs().collect();
        for out in outputs {
            self.send(&out.topic, &out.key, out.value.as_deref(), out.timestamp, None)?;
        }
        self.records_since_check += 1;
        Ok(())
    }

    /// Whether the commit interval elapsed or uncommitted state outgrew the cache.
    pub(crate) fn commit_due(&mut self) -> bool {
        if self.last_commit.elapsed() >= self.commit_interval {
            return true;
        }
        if self.records_since_check >= 256 {
            self.records_since_check = 0;
            return self.tasks.values().map(Task::dirty_bytes).sum::<usize>() > self.overlay_limit;
        }
        false
    }

    fn ensure_transaction(&mut self) -> Result<()> {
        if self.env.guarantee == ProcessingGuarantee::ExactlyOnceV2 && !self.in_transaction {
            self.producer
                .begin_transaction()
                .map_err(|e| Error::kafka("failed to begin a transaction", e))?;
            self.in_transaction = true;
        }
        Ok(())
    }

    fn send(
        &mut self,
        topic: &str,
        key: &[u8],
        value: Option<&[u8]>,
        timestamp: i64,
        partition: Option<i32>,
    ) -> Result<()> {
        self.ensure_transaction()?;
        let mut record = BaseRecord::to(topic).key(key).timestamp(timestamp);
        if let Some(value) = value {
            record = record.payload(value);
        }
        if let Some(partition) = partition {
            record = record.partition(partition);
        }
        loop {
            match self.producer.send(record) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    // Back-pressure: the producer's thread drains the queue; retry shortly.
                    record = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err((e, _)) => return Err(Error::kafka(format!("failed to produce to `{topic}`"), e)),
            }
        }
    }

    /// Waits until every produced record is acknowledged. rdkafka's own `flush` sleeps in 100 ms
    /// polls that race the producer's delivery thread, which made every commit take 100 ms.
    fn flush_producer(&self) -> Result<()> {
        let deadline = Instant::now() + KAFKA_TIMEOUT;
        loop {
            match self.producer.flush(Duration::ZERO) {
                Ok(()) => return Ok(()),
                Err(KafkaError::Flush(RDKafkaErrorCode::OperationTimedOut)) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_micros(200));
                }
                Err(e) => return Err(Error::kafka("failed to flush the producer", e)),
            }
        }
    }

    /// Commits every task; on failure rolls them back to their last commit (see module docs).
    pub(crate) fn commit(&mut self, consumer: &ThreadConsumer) -> Result<()> {
        if self.crashed {
            return Ok(());
        }
        self.last_commit = Instant::now();
        self.records_since_check = 0;
        if self.tasks.is_empty() && !self.in_transaction {
            return Ok(());
        }
        let started = Instant::now();
        match self.try_commit(consumer) {
            Ok(()) => {
                self.env.metrics.record_commit(started.elapsed());
                Ok(())
            }
            Err(e) => {
                self.env.metrics.record_aborted_commit();
                self.recover_from_failed_commit(consumer, &e);
                Err(e)
            }
        }
    }

    fn try_commit(&mut self, consumer: &ThreadConsumer) -> Result<()> {
        // 1. Uncommitted store writes go to their changelogs.
        let mut pending = Vec::new();
        let now = now_ms();
        let stores: Vec<_> = self
            .tasks
            .values()
            .flat_map(|t| {
                let positions = t.checkpoint_positions();
                t.stores()
                    .map(move |s| (s.clone(), positions.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        for (store, positions) in stores {
            let (writes, changelog) = {
                let s = Store::lock(&store);
                (s.pending_writes(), s.changelog().cloned())
            };
            if let Some(changelog) = &changelog {
                for (key, value) in &writes {
                    self.send(&changelog.topic, key, value.as_deref(), now, Some(changelog.partition))?;
                }
            }
            // Every store gets the new positions, written or not, so its checkpoint stays current.
            pending.push((store, writes, changelog, positions));
        }
        // 2. Outputs, changelog records and input positions become durable together.
        let mut positions = TopicPartitionList::new();
        for task in self.tasks.values() {
            for (topic, partition, offset) in task.positions() {
                positions
                    .add_partition_offset(topic, partition, Offset::Offset(offset))
                    .map_err(|e| Error::kafka("failed to build the offsets to commit", e))?;
            }
        }
        match self.env.guarantee {
            ProcessingGuarantee::AtLeastOnce => {
                self.flush_producer()?;
                if let Some(e) = self.tracker.take_error() {
                    return Err(Error::kafka("a produced record was not delivered", e));
                }
                if positions.count() > 0 {
                    consumer
                        .commit(&positions, CommitMode::Sync)
                        .map_err(|e| Error::kafka("failed to commit consumer offsets", e))?;
                }
            }
            ProcessingGuarantee::ExactlyOnceV2 => {
                self.ensure_transaction()?;
                // commit_transaction flushes too, but with the same slow polling.
                self.flush_producer()?;
                if positions.count() > 0 {
                    let group = consumer.group_metadata().ok_or_else(|| {
                        Error::new(ErrorKind::Kafka, "the consumer has no group metadata to commit with")
                    })?;
                    self.producer
                        .send_offsets_to_transaction(&positions, &group, KAFKA_TIMEOUT)
                        .map_err(|e| Error::kafka("failed to add offsets to the transaction", e))?;
                }
                self.producer
                    .commit_transaction(KAFKA_TIMEOUT)
                    .map_err(|e| Error::kafka("failed to commit the transaction", e))?;
                self.in_transaction = false;
                if let Some(e) = self.tracker.take_error() {
                    tracing::warn!(thread = %self.name, error = %e, "delivery error reported after a committed transaction");
                }
            }
        }
        // 3. Only now does local state move forward, with the changelog offset it reflects.
        for (store, writes, changelog, positions) in pending {
            let offset = changelog
                .as_ref()
                .filter(|_| !writes.is_empty())
                .and_then(|c| self.tracker.last_offset(&c.topic, c.partition));
            Store::lock(&store).apply_committed(&writes, offset, &positions)?;
        }
        for task in self.tasks.values_mut() {
            task.mark_committed();
        }
        Ok(())
    }

    /// Rolls every task back to its last commit and, where the producer is unusable, closes the
    /// tasks and asks the thread to rejoin the group.
    fn recover_from_failed_commit(&mut self, consumer: &ThreadConsumer, error: &Error) {
        let mut fatal = kafka_error_is_fatal(error);
        if self.in_transaction
            && !fatal
            && let Err(e) = self.producer.abort_transaction(KAFKA_TIMEOUT)
        {
            // A producer that cannot abort cannot be trusted with the next transaction either.
            tracing::warn!(thread = %self.name, error = %e, "failed to abort the transaction; replacing the producer");
            fatal = true;
        }
        self.in_transaction = false;
        let _ = self.tracker.take_error();
        tracing::warn!(thread = %self.name, %error, fatal, "commit failed; rolling back to the last commit");
        let mut seeks = Vec::new();
        for task in self.tasks.values_mut() {
            seeks.extend(task.roll_back());
        }
        if fatal {
            for (_, task) in std::mem::take(&mut self.tasks) {
                task.close(&self.env);
            }
            match create_producer(&self.producer_config, &self.tracker, self.env.guarantee) {
                Ok(producer) => self.producer = producer,
                Err(e) => self.fatal = Some(e),
            }
            self.needs_rejoin = true;
            return;
        }
        for (topic, partition, offset) in seeks {
            if let Err(e) = consumer.seek(&topic, partition, Offset::Offset(offset), KAFKA_TIMEOUT) {
                tracing::warn!(thread = %self.name, topic, partition, offset, error = %e, "failed to seek back; rejoining");
                self.needs_rejoin = true;
            }
        }
    }

    /// Rebalance: the partitions in `revoked` are being taken away.
    pub(crate) fn suspend(&mut self, revoked: &TopicPartitionList) {
        for element in revoked.elements() {
            if let Some(&sub) = self.source_topics.get(element.topic()) {
                let id = TaskId {
                    subtopology: sub,
                    partition: element.partition(),
                };
                if let Some(task) = self.tasks.remove(&id) {
                    self.suspended.insert(id, task);
                }
            }
        }
    }

    /// Rebalance: `assigned` is this thread's new assignment; reuse suspended tasks, open the
    /// others (restoring their stores), close what was not handed back.
    pub(crate) fn assign(&mut self, assigned: &TopicPartitionList) -> Result<()> {
        let mut wanted: Vec<TaskId> = assigned
            .elements()
            .iter()
            .filter_map(|e| {
                self.source_topics.get(e.topic()).map(|&sub| TaskId {
                    subtopology: sub,
                    partition: e.partition(),
                })
            })
            .collect();
        wanted.sort();
        wanted.dedup();
        for id in wanted {
            if self.tasks.contains_key(&id) {
                continue;
            }
            if let Some(task) = self.suspended.remove(&id) {
                self.tasks.insert(id, task);
                continue;
            }
            let Some(sub) = self.topology.subtopologies.iter().find(|s| s.id == id.subtopology) else {
                continue;
            };
            let task = Task::open(&self.env, sub, id.partition)?;
            tracing::info!(thread = %self.name, task = %id, restored = task.restored().records, resume = ?task.applied_below(), "task assigned");
            self.tasks.insert(id, task);
        }
        for (id, task) in std::mem::take(&mut self.suspended) {
            tracing::info!(thread = %self.name, task = %id, "task revoked");
            task.close(&self.env);
        }
        Ok(())
    }

    /// Closes every task (after a final commit).
    pub(crate) fn close_all(&mut self) {
        for (_, task) in std::mem::take(&mut self.tasks)
            .into_iter()
            .chain(std::mem::take(&mut self.suspended))
        {
            task.close(&self.env);
        }
    }

    pub(crate) fn task_ids(&self) -> Vec<TaskId> {
        self.tasks.keys().copied().collect()
    }

    pub(crate) fn store_size_bytes(&self) -> u64 {
        self.tasks.values().map(Task::store_size_bytes).sum()
    }
}

fn create_producer(
    config: &ClientConfig,
    tracker: &Arc<DeliveryTracker>,
    guarantee: ProcessingGuarantee,
) -> Result<StreamsProducer> {
    let producer: StreamsProducer = config
        .create_with_context(TrackingContext(Arc::clone(tracker)))
        .map_err(|e| Error::kafka("failed to create the producer", e))?;
    if guarantee == ProcessingGuarantee::ExactlyOnceV2 {
        producer
            .init_transactions(KAFKA_TIMEOUT)
            .map_err(|e| Error::kafka("failed to initialise transactions", e))?;
    }
    Ok(producer)
}

/// Fenced or fatal: the producer cannot continue and must be replaced.
fn kafka_error_is_fatal(error: &Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        if let Some(kafka) = e.downcast_ref::<KafkaError>() {
            return match kafka {
                KafkaError::Transaction(e) => e.is_fatal() || !e.txn_requires_abort() && !e.is_retriable(),
                other => matches!(
                    other.rdkafka_error_code(),
                    Some(RDKafkaErrorCode::Fenced | RDKafkaErrorCode::ProducerFenced | RDKafkaErrorCode::Fatal)
                ),
            };
        }
        source = e.source();
    }
    false
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
