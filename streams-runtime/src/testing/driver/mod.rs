//! A broker-free test driver that runs the production task, store and commit code.
//!
//! Kafka Streams' `TopologyTestDriver` is single-partition and skips caching and commits. This
//! driver does neither: topics have as many partitions as you give them (repartition and
//! changelog topics are sized as on a broker), records are routed by the same murmur2
//! partitioner, and the stream thread's tasks, record cache, RocksDB stores and commit protocol
//! are the production ones — only the broker is replaced by an in-memory log (with
//! transactions, `read_committed` visibility and committed offsets).
//!
//! Determinism: one stream thread owns every task; after each pipe the driver processes every
//! readable record, always picking the one with the smallest event time across all input
//! partitions (ties: topic name, then partition). Wall-clock time moves only when you
//! [advance it](TestDriver::advance_wall_clock), which is also what triggers commits at
//! `commit.interval.ms` — plus the record cache filling up, as in production.
//!
//! Failures: [`crash`](TestDriver::crash) stops the instance like `kill -9` (nothing since the
//! last commit survives; an open transaction is aborted by the broker), and
//! [`restart`](TestDriver::restart) reopens the tasks from the same state directory, restoring
//! from the in-memory changelogs. [`inject_commit_fault`](TestDriver::inject_commit_fault)
//! makes the next commit fail, be fenced, or crash right after the broker committed.
//!
//! ```
//! use kafka_streams::config::StreamsConfig;
//! use kafka_streams::testing::TestDriver;
//! use kafka_streams::topology::StreamsBuilder;
//!
//! # fn main() -> kafka_streams::Result<()> {
//! let mut builder = StreamsBuilder::new();
//! builder
//!     .stream::<String, String>("words")
//!     .filter(|_, word| word.len() > 3)
//!     .to("long-words");
//! let driver = TestDriver::builder(builder.build()?, StreamsConfig::builder("words-app").build()?)
//!     .partitions(3)
//!     .build()?;
//! let words = driver.input_topic::<String, String>("words")?;
//! let long_words = driver.output_topic::<String, String>("long-words");
//! words.pipe("a".into(), "kafka".into())?;
//! words.pipe("b".into(), "rust".into())?;
//! words.pipe("c".into(), "go".into())?;
//! assert_eq!(
//!     long_words.read_key_values()?,
//!     vec![("a".to_owned(), "kafka".to_owned()), ("b".to_owned(), "rust".to_owned())]
//! );
//! # Ok(())
//! # }
//! ```

mod heads;
mod log;
mod record;
mod topics;
mod transport;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use record::TestRecord;
pub use topics::{InputTopic, OutputTopic};
pub use transport::CommitFault;

use self::heads::InputHeads;
use self::log::{LogRecord, Payload, Status};
use self::transport::{MemoryConsumer, MemoryReader, MemoryTransport, SharedLog, lock};
use super::temp_dir::TempDir;
use crate::codec::{Codec, Json};
use crate::config::{ProcessingGuarantee, StreamsConfig};
use crate::error::{Error, ErrorKind, Result, report};
use crate::partitioner;
use crate::processor::clock::{Clock, ManualClock};
use crate::runtime::internal_topics;
use crate::runtime::local_stores::LocalStores;
use crate::runtime::{Metrics, MetricsSnapshot};
use crate::state::{KeyValueStore, RocksResources, WindowStore};
use crate::task::InputRecord;
use crate::task::{TaskEnv, TaskId};
use crate::topology::Topology;
use crate::txn::ThreadState;

type SharedCore = Arc<Mutex<Core>>;

fn lock_core(core: &SharedCore) -> MutexGuard<'_, Core> {
    core.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs a [`Topology`] without a broker; see the [module docs](crate::testing).
pub struct TestDriver {
    core: SharedCore,
}

/// Configures a [`TestDriver`]: partition counts and the start of wall-clock time.
#[must_use]
pub struct TestDriverBuilder {
    topology: Topology,
    config: StreamsConfig,
    default_partitions: i32,
    topic_partitions: BTreeMap<String, i32>,
    start_time_ms: i64,
}

impl TestDriverBuilder {
    /// Partitions of every source and sink topic not set with
    /// [`topic_partitions`](Self::topic_partitions) (default 1).
    pub fn partitions(mut self, partitions: i32) -> Self {
        self.default_partitions = partitions;
        self
    }

    /// Partitions of external topic `topic`.
    pub fn topic_partitions(mut self, topic: impl Into<String>, partitions: i32) -> Self {
        self.topic_partitions.insert(topic.into(), partitions);
        self
    }

    /// Wall-clock time at start, epoch milliseconds (default 0). Piped records without a
    /// timestamp get the current wall-clock time.
    pub fn start_time_ms(mut self, start_time_ms: i64) -> Self {
        self.start_time_ms = start_time_ms;
        self
    }

    /// Creates the topics (sources, then internal topics sized as on a broker), opens every task
    /// and restores nothing (the log is empty).
    pub fn build(self) -> Result<TestDriver> {
        for (topic, &partitions) in std::iter::once(("(default)", &self.default_partitions))
            .chain(self.topic_partitions.iter().map(|(t, p)| (t.as_str(), p)))
        {
            if partitions < 1 {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!("topic `{topic}` needs at least one partition, not {partitions}"),
                ));
            }
        }
        let application_id = self.config.application_id().to_owned();
        let log = SharedLog::default();
        let mut source_partitions = HashMap::new();
        for name in internal_topics::external_sources(&self.topology) {
            let partitions = self
                .topic_partitions
                .get(&name)
                .copied()
                .unwrap_or(self.default_partitions);
            lock(&log).create_topic(&name, partitions)?;
            source_partitions.insert(name, partitions);
        }
        for global in &self.topology.globals {
            let partitions = self
                .topic_partitions
                .get(&global.topic)
                .copied()
                .unwrap_or(self.default_partitions);
            lock(&log).create_topic(&global.topic, partitions)?;
        }
        for (name, &partitions) in &self.topic_partitions {
            lock(&log).create_topic(name, partitions)?;
        }
        let (_, internal) = internal_topics::plan(&application_id, &self.topology, &source_partitions)?;
        for spec in internal {
            lock(&log).create_topic(&spec.name, spec.partitions)?;
        }
        // The registry of `schema.registry.url`, else a fresh mock: the topology's codecs and
        // those `schema_registry()` hands out for the test's topics share it.
        #[cfg(feature = "schema-registry")]
        let schema_registry = crate::codec::registry::SchemaRegistry::connect(self.config.schema_registry())?
            .unwrap_or_else(|| {
                crate::codec::registry::SchemaRegistry::new(crate::codec::registry::MockSchemaRegistry::new())
            });
        #[cfg(feature = "schema-registry")]
        self.topology.connect_schema_registry(schema_registry.clone());
        let state_dir = StateDir::for_config(&self.config)?;
        let clock = Arc::new(ManualClock::new(self.start_time_ms));
        let guarantee = self.config.processing_guarantee();
        let env = Arc::new(TaskEnv {
            application_id,
            process_id: "test-driver".to_owned(),
            state_dir: state_dir.path().to_owned(),
            guarantee,
            rocks: RocksResources::new(self.config.rocksdb()),
            registry: Arc::new(RwLock::new(HashMap::new())),
            metrics: Arc::new(Metrics::default()),
            reader: Arc::new(MemoryReader {
                log: Arc::clone(&log),
                read_committed: guarantee == ProcessingGuarantee::ExactlyOnceV2,
            }),
            clock: Arc::clone(&clock) as Arc<dyn Clock>,
            globals: crate::runtime::global::stores(&self.topology, &crate::runtime::global::GlobalStorage::Memory)?,
            standbys: std::sync::Mutex::default(),
            opening: std::sync::Mutex::default(),
        });
        let mut core = Core {
            topology: Arc::new(self.topology),
            config: self.config,
            env,
            log,
            clock,
            default_partitions: self.default_partitions,
            instance: None,
            next_producer: 0,
            #[cfg(feature = "schema-registry")]
            schema_registry,
            _state_dir: state_dir,
        };
        core.start()?;
        Ok(TestDriver {
            core: Arc::new(Mutex::new(core)),
        })
    }
}

impl TestDriver {
    /// A driver for `topology` whose topics all have one partition; see [`builder`](Self::builder).
    pub fn new(topology: Topology, config: StreamsConfig) -> Result<Self> {
        Self::builder(topology, config).build()
    }

    /// Configures a driver for `topology`. `config` is used as in production (application id,
    /// processing guarantee, commit interval, cache size, state directory, RocksDB); without an
    /// explicit `state.dir` the driver uses a fresh temporary directory, removed on drop.
    pub fn builder(topology: Topology, config: StreamsConfig) -> TestDriverBuilder {
        TestDriverBuilder {
            topology,
            config,
            default_partitions: 1,
            topic_partitions: BTreeMap::new(),
            start_time_ms: 0,
        }
    }

    fn core(&self) -> MutexGuard<'_, Core> {
        lock_core(&self.core)
    }

    /// The Schema Registry the topology's codecs use: the one `schema.registry.url` names, or
    /// else a fresh mock registry. Build the codecs of input and output topics on it, e.g.
    /// `Avro::topic_value(&driver.schema_registry(), "orders")`.
    #[cfg(feature = "schema-registry")]
    pub fn schema_registry(&self) -> crate::codec::registry::SchemaRegistrySlot {
        crate::codec::registry::SchemaRegistrySlot::connected(self.core().schema_registry.clone())
    }

    /// Source topic `name`, written with JSON keys and values (the builder's default codecs).
    pub fn input_topic<K, V>(&self, name: &str) -> Result<InputTopic<K, V>>
    where
        K: Serialize + DeserializeOwned + Send + Sync + 'static,
        V: Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        self.input_topic_with(name, Json, Json)
    }

    /// Source topic `name`, written with the given codecs (those the topology reads it with).
    pub fn input_topic_with<K, V>(
        &self,
        name: &str,
        key_codec: impl Codec<K>,
        value_codec: impl Codec<V>,
    ) -> Result<InputTopic<K, V>> {
        let core = self.core();
        if !core.is_source(name) {
            let sources = internal_topics::external_sources(&core.topology);
            return Err(Error::new(
                ErrorKind::Config,
                format!(
                    "`{name}` is not a source topic of this topology; its sources are: {}",
                    sources.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        Ok(InputTopic {
            name: name.to_owned(),
            key_codec: Arc::new(key_codec),
            value_codec: Arc::new(value_codec),
            core: Arc::clone(&self.core),
        })
    }

    /// Topic `name` as a `read_committed` consumer sees it, decoding JSON keys and values.
    pub fn output_topic<K, V>(&self, name: &str) -> OutputTopic<K, V>
    where
        K: Serialize + DeserializeOwned + Send + Sync + 'static,
        V: Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        self.output_topic_with(name, Json, Json)
    }

    /// Topic `name` (any topic: sink, repartition, changelog), decoded with the given codecs.
    pub fn output_topic_with<K, V>(
        &self,
        name: &str,
        key_codec: impl Codec<K>,
        value_codec: impl Codec<V>,
    ) -> OutputTopic<K, V> {
        OutputTopic {
            name: name.to_owned(),
            key_codec: Arc::new(key_codec),
            value_codec: Arc::new(value_codec),
            core: Arc::clone(&self.core),
            positions: Mutex::new(HashMap::new()),
        }
    }

    /// Every topic on the driver's broker with its partition count (sources, sinks written so
    /// far, repartition and changelog topics).
    pub fn topics(&self) -> Vec<(String, i32)> {
        let core = self.core();
        let log = lock(&core.log);
        log.topic_names()
            .into_iter()
            .map(|name| (name.to_owned(), log.partitions(name).unwrap_or(0)))
            .collect()
    }

    /// The low and high watermarks of `topic`/`partition`: the first offset still stored (records
    /// below it were deleted, e.g. consumed repartition records purged after a commit) and the
    /// offset the next record gets.
    pub fn watermarks(&self, topic: &str, partition: i32) -> Result<(i64, i64)> {
        let core = self.core();
        let log = lock(&core.log);
        Ok((
            log.low_watermark(topic, partition)?,
            log.high_watermark(topic, partition)?,
        ))
    }

    /// Moves wall-clock time forward; commits if `commit.interval.ms` has passed since the last
    /// commit, then processes what the commit made readable.
    pub fn advance_wall_clock(&self, by: Duration) -> Result<()> {
        let mut core = self.core();
        core.clock.advance(i64::try_from(by.as_millis()).unwrap_or(i64::MAX));
        if let Some(instance) = core.instance.as_mut() {
            let now = instance.state.env.clock.now_ms();
            instance.state.punctuate_wall_clock(&instance.consumer, now)?;
        }
        if core
            .instance
            .as_mut()
            .is_some_and(|i| i.state.commit_due(i.state.env.clock.now_ms()))
        {
            return core.commit_and_settle();
        }
        core.run()
    }

    /// Moves every task's stream time forward to `timestamp_ms` (never back), and that of each
    /// of its windowed operators, as a record with that event time reaching each of them would —
    /// without the record.
    pub fn advance_stream_time(&self, timestamp_ms: i64) -> Result<()> {
        let mut core = self.core();
        if let Some(instance) = core.instance.as_mut() {
            instance.state.advance_stream_time(timestamp_ms)?;
        }
        core.run()
    }

    /// Commits now (as when `commit.interval.ms` elapses), then processes what became readable
    /// and commits again, until nothing is pending: under exactly-once a record written to a
    /// repartition topic is readable only once committed, so each hop takes one commit, as in
    /// production — after this call every output of the piped input is in view. A failed commit
    /// is rolled back and its records reprocessed, as in production; it shows in
    /// [`metrics`](Self::metrics) as an aborted commit.
    pub fn commit(&self) -> Result<()> {
        self.core().commit_and_settle()
    }

    /// Makes the next commit fail in the way `fault` describes.
    pub fn inject_commit_fault(&self, fault: CommitFault) {
        if let Some(instance) = self.core().instance.as_mut() {
            instance.state.transport_mut().fault = Some(fault);
        }
    }

    /// Stops the instance as `kill -9` would: nothing since the last commit is kept (local
    /// stores hold only committed state; under exactly-once the open transaction is aborted).
    /// Pipes write to the log but nothing is processed until [`restart`](Self::restart).
    pub fn crash(&self) {
        self.core().crash();
    }

    /// Starts the instance again on the same state directory and log: tasks restore their
    /// stores from the changelogs (only the tail after their checkpoint) and resume from the
    /// committed offsets. A running instance is first closed gracefully.
    pub fn restart(&self) -> Result<()> {
        let mut core = self.core();
        if core.instance.is_some() {
            core.close()?;
        }
        core.start()?;
        core.run()
    }

    /// Whether the instance is running (not crashed).
    pub fn is_running(&self) -> bool {
        self.core().instance.is_some()
    }

    /// The running instance's tasks.
    pub fn active_tasks(&self) -> Vec<TaskId> {
        self.core()
            .instance
            .as_ref()
            .map(|i| i.state.task_ids())
            .unwrap_or_default()
    }

    /// The instance's metrics (they survive crashes and restarts of the driver).
    pub fn metrics(&self) -> MetricsSnapshot {
        self.core().env.metrics.snapshot()
    }

    /// Every partition of key-value store `name`, keyed by partition.
    pub fn key_value_store<K, V>(&self, name: &str) -> Result<Vec<(i32, KeyValueStore<K, V>)>>
    where
        K: Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned,
    {
        let core = self.core();
        core.local_stores().key_value_store(name)
    }

    /// Every partition of window store `name`, keyed by partition.
    pub fn window_store<K, V>(&self, name: &str, window_size_ms: i64) -> Result<Vec<(i32, WindowStore<K, V>)>>
    where
        K: Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned,
    {
        let core = self.core();
        core.local_stores().window_store(name, window_size_ms)
    }

    /// The local partitions of session store `name`, keyed by partition.
    pub fn session_store<K, V>(&self, name: &str) -> Result<Vec<(i32, crate::state::SessionStore<K, V>)>>
    where
        K: Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned,
    {
        let core = self.core();
        core.local_stores().session_store(name)
    }

    /// The state directory the tasks keep their stores in.
    pub fn state_dir(&self) -> PathBuf {
        self.core().env.state_dir.clone()
    }
}

impl Drop for TestDriver {
    fn drop(&mut self) {
        // Close the stores before the temporary state directory goes.
        if let Some(mut instance) = self.core().instance.take() {
            instance.state.close_all();
        }
    }
}

/// A record as written to or read from the log.
pub(crate) struct RawRecord {
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    timestamp: Option<i64>,
    headers: Vec<crate::processor::Header>,
    partition: Option<i32>,
}

/// The instance: one stream thread owning every task, and its read positions.
struct Instance {
    state: ThreadState<MemoryTransport>,
    consumer: MemoryConsumer,
    /// Every source topic partition, in processing-tie order.
    inputs: Vec<(String, i32)>,
    /// Per input, whether its topic differs from the previous input's (`inputs` is sorted):
    /// the choice of the next record looks each topic up once.
    new_topic: Vec<bool>,
    /// Every input's next readable record, kept between choices.
    heads: InputHeads,
}

struct Core {
    topology: Arc<Topology>,
    config: StreamsConfig,
    env: Arc<TaskEnv>,
    log: SharedLog,
    clock: Arc<ManualClock>,
    default_partitions: i32,
    instance: Option<Instance>,
    next_producer: u64,
    /// The Schema Registry of the topology's codecs and of the test's.
    #[cfg(feature = "schema-registry")]
    schema_registry: crate::codec::registry::SchemaRegistry,
    _state_dir: StateDir,
}

impl Core {
    fn is_source(&self, topic: &str) -> bool {
        internal_topics::external_sources(&self.topology)
            .iter()
            .any(|s| s == topic)
            || self.topology.globals.iter().any(|g| g.topic == topic)
    }

    fn local_stores(&self) -> LocalStores<'_> {
        LocalStores {
            topology: &self.topology,
            registry: &self.env.registry,
            globals: &self.env.globals,
        }
    }

    /// Starts the instance: opens (and restores) every task, positions at the committed offsets.
    fn start(&mut self) -> Result<()> {
        self.next_producer += 1;
        let transport = MemoryTransport::new(
            Arc::clone(&self.log),
            self.env.guarantee,
            self.next_producer,
            self.default_partitions,
        );
        let name = format!("{}-StreamThread-1", self.env.application_id);
        let state = ThreadState::new(
            name,
            Arc::clone(&self.env),
            Arc::clone(&self.topology),
            &self.config,
            transport,
        );
        let mut inputs: Vec<(String, i32)> = {
            let log = lock(&self.log);
            state
                .source_topics
                .iter()
                .flat_map(|(topic, _)| (0..log.partitions(topic).unwrap_or(0)).map(move |p| (topic.to_owned(), p)))
                .collect()
        };
        inputs.sort();
        let mut instance = Instance::new(state, inputs);
        instance.join(&self.log)?;
        self.instance = Some(instance);
        Ok(())
    }

    /// Writes `records` to source topic `topic` as an external, non-transactional producer; a
    /// global table's topic is applied to its store at once (the global thread's job).
    fn append(&mut self, topic: &str, records: Vec<RawRecord>) -> Result<()> {
        if let Some(global) = self.topology.globals.iter().find(|g| g.topic == topic) {
            let store = crate::runtime::global::store_of(&self.env, global)?;
            for record in &records {
                // A registry outage fails the pipe; the record is not written.
                crate::runtime::global::apply(global, &store, record.key.as_deref(), record.value.as_deref(), &|| {
                    true
                })?;
            }
            crate::runtime::global::flush(&store, &std::collections::BTreeMap::new())?;
        }
        let now = self.clock.now_ms();
        let mut log = lock(&self.log);
        let mut log = log
            .topic_mut(topic)
            .ok_or_else(|| Error::new(ErrorKind::Config, format!("topic `{topic}` does not exist")))?;
        let partitions = log.partitions();
        for record in records {
            let partition = match record.partition {
                Some(p) if !(0..partitions).contains(&p) => {
                    return Err(Error::new(
                        ErrorKind::Config,
                        format!("`{topic}` has partitions 0..{partitions}; there is no partition {p}"),
                    ));
                }
                Some(p) => p,
                None => record.key.as_deref().map_or(0, |key| {
                    partitioner::partition_for_key(key, partitions.unsigned_abs()) as i32
                }),
            };
            log.append(
                partition,
                LogRecord::new(
                    Payload {
                        key: record.key,
                        value: record.value,
                        timestamp: record.timestamp.unwrap_or(now),
                        headers: record.headers,
                    },
                    Status::Visible,
                ),
            )?;
        }
        Ok(())
    }

    /// Commits, then processes what the commit made readable, until a commit leaves nothing to
    /// process (each round is one hop through a repartition topic under exactly-once).
    fn commit_and_settle(&mut self) -> Result<()> {
        /// More rounds than any topology has hops: a commit failing each time (a fault that
        /// does not clear) must not hang the test.
        const MAX_ROUNDS: usize = 1_000;
        for _ in 0..MAX_ROUNDS {
            self.commit()?;
            if self.run_counting()? == 0 {
                return Ok(());
            }
        }
        Err(Error::new(
            ErrorKind::State,
            format!("test driver: still records to process after {MAX_ROUNDS} commits; does every commit fail?"),
        ))
    }

    /// Processes every readable record (see the module docs for the order).
    fn run(&mut self) -> Result<()> {
        self.run_counting().map(drop)
    }

    /// [`run`](Self::run), returning how many records it processed.
    fn run_counting(&mut self) -> Result<usize> {
        let mut processed = 0;
        loop {
            let Some(instance) = self.instance.as_mut() else {
                return Ok(processed);
            };
            if let Some(e) = instance.state.fatal.take() {
                // The stream thread died: like production, its uncommitted work is gone and
                // `restart` brings the instance back.
                self.crash();
                return Err(e);
            }
            if instance.state.needs_rejoin {
                instance.state.needs_rejoin = false;
                instance.join(&self.log)?;
            }
            match instance.process_next(&self.log) {
                Ok(true) => processed += 1,
                Ok(false) => return Ok(processed),
                Err(e) => {
                    if e.kind() == crate::ErrorKind::Processing {
                        // The stream thread stops at the record (LogAndFail): like production,
                        // nothing since the last commit survives; `restart` runs it again.
                        self.crash();
                    }
                    return Err(e);
                }
            }
            if instance.state.cache_full() {
                self.commit()?;
            }
        }
    }

    /// One commit of every task; a failure is handled as in production (rolled back, or the
    /// instance dies for an injected crash).
    fn commit(&mut self) -> Result<()> {
        let Some(instance) = self.instance.as_mut() else {
            return Ok(());
        };
        match instance.state.commit(&instance.consumer) {
            Ok(()) => Ok(()),
            Err(_) if instance.state.transport_mut().crashed_after_commit => {
                self.crash();
                Ok(())
            }
            Err(e) => {
                if let Some(fatal) = instance.state.fatal.take() {
                    // The stream thread gave up (e.g. `task.timeout.ms`): it is gone until a restart.
                    self.crash();
                    return Err(fatal);
                }
                tracing::warn!(error = %report(&e), "test driver: commit failed and was rolled back");
                Ok(())
            }
        }
    }

    fn crash(&mut self) {
        if let Some(mut instance) = self.instance.take() {
            instance.state.crashed = true;
            // The broker aborts the dead producer's transaction (timeout or fencing).
            let _ = crate::txn::Transport::abort(instance.state.transport_mut());
            instance.state.close_all();
        }
    }

    fn close(&mut self) -> Result<()> {
        self.commit()?;
        if let Some(mut instance) = self.instance.take() {
            instance.state.close_all();
        }
        Ok(())
    }
}

impl Instance {
    /// An instance reading `inputs` (sorted: processing-tie order) from their start.
    fn new(state: ThreadState<MemoryTransport>, inputs: Vec<(String, i32)>) -> Self {
        let new_topic = (0..inputs.len())
            .map(|i| i == 0 || inputs[i].0 != inputs[i - 1].0)
            .collect();
        Self {
            state,
            consumer: MemoryConsumer::default(),
            heads: InputHeads::new(inputs.len()),
            inputs,
            new_topic,
        }
    }

    /// (Re)takes every input partition: opens the tasks and positions at the committed offsets.
    fn join(&mut self, log: &SharedLog) -> Result<()> {
        self.state.assign(self.inputs.iter().map(|(t, p)| (t.as_str(), *p)))?;
        let log = lock(log);
        for (topic, partition) in &self.inputs {
            self.consumer
                .seek(topic, *partition, log.committed(topic, *partition).unwrap_or(0));
        }
        Ok(())
    }

    /// Processes the readable record with the smallest event time; `false` if there is none.
    fn process_next(&mut self, log: &SharedLog) -> Result<bool> {
        let read_committed = self.state.env.guarantee == ProcessingGuarantee::ExactlyOnceV2;
        // The input whose next readable record has the lowest timestamp (the first such input on
        // a tie), as a task's record merge picks among its partitions.
        let next = self.heads.choose(
            &lock(log),
            &mut self.consumer.lock(),
            &self.inputs,
            &self.new_topic,
            read_committed,
        )?;
        let Some((index, offset, record)) = next else {
            return Ok(false);
        };
        let (topic, partition) = &self.inputs[index];
        self.state.process(
            &self.consumer,
            InputRecord {
                topic,
                partition: *partition,
                offset,
                key: record.key.as_deref(),
                value: record.value.as_deref(),
                timestamp: record.timestamp,
                headers: &record.headers,
            },
        )?;
        if let Some(e) = self.state.interrupted.take() {
            // Rolled back to be read again (a registry outage): the caller hears of it now,
            // and the next run processes the record once the cause is gone.
            return Err(e);
        }
        Ok(true)
    }
}

impl Core {
    /// Records of `topic` past `positions` that a `read_committed` consumer may read, in write
    /// order; advances `positions`.
    fn read_committed(&self, topic: &str, positions: &mut HashMap<i32, i64>) -> Result<Vec<(i32, RawRecord)>> {
        let log = lock(&self.log);
        let Some(partitions) = log.partitions(topic) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for partition in 0..partitions {
            let position = positions.entry(partition).or_insert(0);
            let end = log.readable_end(topic, partition, true)?;
            for offset in *position..end {
                if let Some(r) = log.read(topic, partition, offset, true) {
                    out.push((
                        r.sequence,
                        partition,
                        RawRecord {
                            key: r.payload.key.clone(),
                            value: r.payload.value.clone(),
                            timestamp: Some(r.payload.timestamp),
                            headers: r.payload.headers.clone(),
                            partition: Some(partition),
                        },
                    ));
                }
            }
            *position = end;
        }
        out.sort_by_key(|(sequence, _, _)| *sequence);
        Ok(out.into_iter().map(|(_, p, r)| (p, r)).collect())
    }
}

/// The driver's state directory: the configured one, or a temporary one removed on drop.
enum StateDir {
    Configured(PathBuf),
    Temporary(TempDir),
}

impl StateDir {
    fn for_config(config: &StreamsConfig) -> Result<Self> {
        if config.state_dir() != crate::config::defaults::state_dir() {
            return Ok(Self::Configured(config.state_dir().to_owned()));
        }
        Ok(Self::Temporary(TempDir::new("streams-test-driver")?))
    }

    fn path(&self) -> &Path {
        match self {
            Self::Configured(path) => path,
            Self::Temporary(dir) => dir.path(),
        }
    }
}

/// The generated store accessors take a driver as they take a running instance.
mod queryable {
    use serde::Serialize;
    use serde::de::DeserializeOwned;

    use super::TestDriver;
    use crate::error::Result;
    use crate::state::{KeyValueStore, QueryableStores, SessionStore, WindowStore};

    crate::state::queryable::queryable_by_inherent_methods!(TestDriver);
}

#[cfg(test)]
mod tests {
    //! Thread-level scenarios the public driver cannot stage: a second instance on the same log.
    use super::*;
    use crate::codec::Utf8;
    use crate::topology::{Consumed, Materialized, StreamsBuilder};

    /// `in` (user → anything) counted per user into store `counts`.
    fn counting() -> Topology {
        let builder = StreamsBuilder::new();
        builder
            .stream_with("in", Consumed::new(Utf8, Utf8))
            .group_by_key()
            .count(Materialized::named("counts"))
            .to_stream()
            .to_with("out", Utf8, Json);
        builder.build().expect("topology")
    }

    fn clicks(n: usize) -> Vec<RawRecord> {
        (0..n)
            .map(|_| RawRecord {
                key: Some(b"user".to_vec()),
                value: Some(b"click".to_vec()),
                timestamp: None,
                headers: Vec::new(),
                partition: Some(0),
            })
            .collect()
    }

    /// This member was revoked, another instance owned the task and counted more, and the task
    /// is then handed back: the suspended task must not resume from its stale store. Before,
    /// it was reused as it stood — missing the other instance's counts — and its next change
    /// overwrote theirs in the changelog. (Kafka Streams closes tasks of a member that dropped
    /// out; a reused task now also checks its changelog's end and replays what it lacks.)
    #[test]
    fn a_task_handed_back_after_another_instance_owned_it_replays_what_that_instance_wrote() {
        for guarantee in [ProcessingGuarantee::AtLeastOnce, ProcessingGuarantee::ExactlyOnceV2] {
            let config = StreamsConfig::builder("reuse")
                .processing_guarantee(guarantee)
                .build()
                .expect("config");
            let driver = TestDriver::builder(counting(), config.clone()).build().expect("driver");
            let mut core = driver.core();
            core.append("in", clicks(3)).expect("append");
            core.run().expect("run");
            core.commit_and_settle().expect("commit");
            let log = Arc::clone(&core.log);
            let inputs = core.instance.as_ref().expect("running").inputs.clone();
            let revoked = || inputs.iter().map(|(t, p)| (t.as_str(), *p));
            core.instance.as_mut().expect("running").state.suspend(revoked());

            // Another instance, with its own state directory, owns the task meanwhile.
            let other_dir = tempfile::tempdir().expect("tempdir");
            let env = Arc::new(TaskEnv {
                application_id: core.env.application_id.clone(),
                process_id: "other".to_owned(),
                state_dir: other_dir.path().to_owned(),
                guarantee,
                rocks: RocksResources::new(config.rocksdb()),
                registry: Arc::new(RwLock::new(HashMap::new())),
                metrics: Arc::new(Metrics::default()),
                reader: Arc::clone(&core.env.reader),
                clock: Arc::clone(&core.env.clock),
                globals: HashMap::new(),
                standbys: std::sync::Mutex::default(),
                opening: std::sync::Mutex::default(),
            });
            let transport = MemoryTransport::new(Arc::clone(&log), guarantee, 1_000, 1);
            let mut other = Instance::new(
                ThreadState::new("other".to_owned(), env, Arc::clone(&core.topology), &config, transport),
                inputs.clone(),
            );
            other.join(&log).expect("the other instance takes the task");
            core.append("in", clicks(2)).expect("append");
            while other.process_next(&log).expect("process") {}
            other.state.commit(&other.consumer).expect("the other instance commits");
            other.state.close_all();

            // Handed back: one more click.
            core.instance.as_mut().expect("running").join(&log).expect("assign");
            core.append("in", clicks(1)).expect("append");
            core.run().expect("run");
            core.commit_and_settle().expect("commit");
            drop(core);
            let counts: Vec<(String, u64)> = driver
                .key_value_store::<String, u64>("counts")
                .expect("store")
                .into_iter()
                .flat_map(|(_, store)| store.all().expect("scan"))
                .collect();
            assert_eq!(counts, [("user".to_owned(), 6)], "{guarantee:?}");
        }
    }
}
