//! Application configuration, named and defaulted as in Kafka Streams.
//!
//! [`StreamsConfig::builder`] records values; [`StreamsConfigBuilder::build`] validates the
//! combination and returns a [`ConfigError`] that names the offending setting and the fix.
//! Every default lives in [`defaults`].

pub mod defaults;
mod error;
mod guarantee;
pub mod properties;
pub mod redact;
mod schema_registry;
mod thread_failure;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

pub use error::ConfigError;
pub use guarantee::ProcessingGuarantee;
pub use schema_registry::SchemaRegistryConfig;
pub use thread_failure::ThreadFailurePolicy;

use crate::naming;

/// Validated configuration of one streams application instance. Its `Debug` redacts secrets
/// ([`redact::is_secret`]).
#[derive(Clone)]
pub struct StreamsConfig {
    application_id: String,
    bootstrap_servers: Option<String>,
    processing_guarantee: ProcessingGuarantee,
    state_dir: PathBuf,
    num_stream_threads: usize,
    commit_interval: Duration,
    repartition_purge_interval: Duration,
    cache_max_bytes_buffering: usize,
    num_standby_replicas: usize,
    max_task_idle: Option<Duration>,
    thread_failure_policy: ThreadFailurePolicy,
    group_instance_id: Option<String>,
    task_timeout: Duration,
    application_server: Option<String>,
    rocksdb: RocksDbConfig,
    schema_registry: SchemaRegistryConfig,
    kafka: BTreeMap<String, String>,
}

impl std::fmt::Debug for StreamsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamsConfig")
            .field("application_id", &self.application_id)
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field("processing_guarantee", &self.processing_guarantee)
            .field("state_dir", &self.state_dir)
            .field("num_stream_threads", &self.num_stream_threads)
            .field("commit_interval", &self.commit_interval)
            .field("repartition_purge_interval", &self.repartition_purge_interval)
            .field("cache_max_bytes_buffering", &self.cache_max_bytes_buffering)
            .field("num_standby_replicas", &self.num_standby_replicas)
            .field("max_task_idle", &self.max_task_idle)
            .field("thread_failure_policy", &self.thread_failure_policy)
            .field("group_instance_id", &self.group_instance_id)
            .field("task_timeout", &self.task_timeout)
            .field("application_server", &self.application_server)
            .field("rocksdb", &self.rocksdb)
            .field("schema_registry", &self.schema_registry)
            .field("kafka", &redact::Redacted(&self.kafka))
            .finish()
    }
}

impl std::fmt::Debug for StreamsConfigBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamsConfigBuilder")
            .field("application_id", &self.application_id)
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field("kafka", &redact::Redacted(&self.kafka))
            .field("errors", &self.errors)
            .finish_non_exhaustive()
    }
}

/// Memory budget shared by all RocksDB stores of one instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RocksDbConfig {
    /// `rocksdb.block.cache.size`: bytes of the one block cache shared by every store.
    pub block_cache_size: usize,
    /// `rocksdb.write.buffer.size`: bytes per memtable.
    pub write_buffer_size: usize,
    /// `rocksdb.max.write.buffers`: memtables kept per store before stalling writes.
    pub max_write_buffers: usize,
}

impl Default for RocksDbConfig {
    fn default() -> Self {
        Self {
            block_cache_size: defaults::ROCKSDB_BLOCK_CACHE_SIZE,
            write_buffer_size: defaults::ROCKSDB_WRITE_BUFFER_SIZE,
            max_write_buffers: defaults::ROCKSDB_MAX_WRITE_BUFFERS,
        }
    }
}

impl StreamsConfig {
    /// Starts a configuration for the application `application_id` (also its consumer group and
    /// the prefix of its internal topics).
    ///
    /// ```
    /// use kafka_streams::config::{ProcessingGuarantee, StreamsConfig};
    ///
    /// let config = StreamsConfig::builder("click-aggregator")
    ///     .bootstrap_servers("localhost:9092")
    ///     .processing_guarantee(ProcessingGuarantee::ExactlyOnceV2)
    ///     .build()?;
    /// assert_eq!(config.commit_interval().as_millis(), 100);
    /// # Ok::<_, kafka_streams::config::ConfigError>(())
    /// ```
    pub fn builder(application_id: impl Into<String>) -> StreamsConfigBuilder {
        StreamsConfigBuilder {
            application_id: application_id.into(),
            ..StreamsConfigBuilder::default()
        }
    }

    /// `application.id`.
    pub fn application_id(&self) -> &str {
        &self.application_id
    }
    /// `bootstrap.servers`; `None` means the embedded broker is used.
    pub fn bootstrap_servers(&self) -> Option<&str> {
        self.bootstrap_servers.as_deref()
    }
    /// `processing.guarantee`.
    pub fn processing_guarantee(&self) -> ProcessingGuarantee {
        self.processing_guarantee
    }
    /// `state.dir`.
    pub fn state_dir(&self) -> &std::path::Path {
        &self.state_dir
    }
    /// `num.stream.threads`.
    pub fn num_stream_threads(&self) -> usize {
        self.num_stream_threads
    }
    /// `commit.interval.ms`.
    pub fn commit_interval(&self) -> Duration {
        self.commit_interval
    }
    /// `repartition.purge.interval.ms`: at a commit at least this long after the last purge,
    /// the repartition records below the committed offsets are deleted (they were consumed).
    pub fn repartition_purge_interval(&self) -> Duration {
        self.repartition_purge_interval
    }
    /// `cache.max.bytes.buffering`.
    pub fn cache_max_bytes_buffering(&self) -> usize {
        self.cache_max_bytes_buffering
    }
    /// `num.standby.replicas`.
    pub fn num_standby_replicas(&self) -> usize {
        self.num_standby_replicas
    }
    /// `max.task.idle.ms`: how long a task reading several partitions (a join, a merge) waits
    /// for an empty one before it processes the others' records anyway; `None` (`-1`): it never
    /// waits. With the default 0 it waits only while that partition has records on the broker
    /// not fetched yet. See the module docs of the record merge in the runtime.
    pub fn max_task_idle(&self) -> Option<Duration> {
        self.max_task_idle
    }
    /// `stream.thread.failure.policy`: what a failed stream thread leads to.
    pub fn thread_failure_policy(&self) -> ThreadFailurePolicy {
        self.thread_failure_policy
    }
    /// `group.instance.id`: this instance's static group membership (KIP-345). Stream thread
    /// `n` joins as `<id>-<n>`, so a restart within `session.timeout.ms` gets the same tasks
    /// back without a rebalance; give every instance its own (e.g. the pod name).
    pub fn group_instance_id(&self) -> Option<&str> {
        self.group_instance_id.as_deref()
    }
    /// `task.timeout.ms`: how long commits may keep failing (each rolled back and redone)
    /// before the stream thread gives up with the last error, as in Kafka Streams; the
    /// thread-failure policy then decides (see [`ThreadFailurePolicy`]).
    pub fn task_timeout(&self) -> Duration {
        self.task_timeout
    }
    /// `application.server`: the `host:port` this instance serves interactive queries on.
    pub fn application_server(&self) -> Option<&str> {
        self.application_server.as_deref()
    }
    /// RocksDB memory settings.
    pub fn rocksdb(&self) -> &RocksDbConfig {
        &self.rocksdb
    }
    /// The Schema Registry of the `Avro`, `Protobuf` and `JsonSchema` codecs.
    pub fn schema_registry(&self) -> &SchemaRegistryConfig {
        &self.schema_registry
    }
    /// Raw librdkafka properties passed through to every client.
    pub fn kafka_properties(&self) -> &BTreeMap<String, String> {
        &self.kafka
    }
}

/// Records configuration values; [`build`](Self::build) validates them. Its `Debug` redacts
/// secrets.
#[derive(Clone, Default)]
pub struct StreamsConfigBuilder {
    application_id: String,
    bootstrap_servers: Option<String>,
    processing_guarantee: Option<ProcessingGuarantee>,
    state_dir: Option<PathBuf>,
    num_stream_threads: Option<usize>,
    commit_interval_ms: Option<u64>,
    repartition_purge_interval_ms: Option<u64>,
    cache_max_bytes_buffering: Option<usize>,
    num_standby_replicas: Option<usize>,
    max_task_idle_ms: Option<i64>,
    thread_failure_policy: Option<ThreadFailurePolicy>,
    group_instance_id: Option<String>,
    task_timeout_ms: Option<u64>,
    application_server: Option<String>,
    rocksdb: RocksDbConfig,
    schema_registry: SchemaRegistryConfig,
    kafka: BTreeMap<String, String>,
    errors: Vec<ConfigError>,
}

impl StreamsConfigBuilder {
    /// `bootstrap.servers`: the Kafka cluster to use. Without it the app starts an embedded
    /// in-process broker (librdkafka's mock cluster) — for demos and tests only.
    #[must_use]
    pub fn bootstrap_servers(mut self, servers: impl Into<String>) -> Self {
        self.bootstrap_servers = Some(servers.into());
        self
    }
    /// `processing.guarantee` (default: `at_least_once`).
    #[must_use]
    pub fn processing_guarantee(mut self, guarantee: ProcessingGuarantee) -> Self {
        self.processing_guarantee = Some(guarantee);
        self
    }
    /// `state.dir` (default: `<tmp>/kafka-streams`).
    #[must_use]
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }
    /// `num.stream.threads` (default: 1).
    #[must_use]
    pub fn num_stream_threads(mut self, threads: usize) -> Self {
        self.num_stream_threads = Some(threads);
        self
    }
    /// `commit.interval.ms` (default: 30000, or 100 under exactly-once).
    #[must_use]
    pub fn commit_interval(mut self, interval: Duration) -> Self {
        self.commit_interval_ms = Some(u64::try_from(interval.as_millis()).unwrap_or(u64::MAX));
        self
    }
    /// `repartition.purge.interval.ms` (default: 30000): how often, at a commit, consumed
    /// repartition records are deleted from the broker.
    #[must_use]
    pub fn repartition_purge_interval(mut self, interval: Duration) -> Self {
        self.repartition_purge_interval_ms = Some(u64::try_from(interval.as_millis()).unwrap_or(u64::MAX));
        self
    }
    /// `cache.max.bytes.buffering` (default: 10 MiB; 0 disables the record cache).
    #[must_use]
    pub fn cache_max_bytes_buffering(mut self, bytes: usize) -> Self {
        self.cache_max_bytes_buffering = Some(bytes);
        self
    }
    /// `num.standby.replicas` (default: 0).
    #[must_use]
    pub fn num_standby_replicas(mut self, replicas: usize) -> Self {
        self.num_standby_replicas = Some(replicas);
        self
    }
    /// `max.task.idle.ms` (see [`StreamsConfig::max_task_idle`]; default 0); `None` never waits (`-1`).
    #[must_use]
    pub fn max_task_idle(mut self, idle: Option<Duration>) -> Self {
        self.max_task_idle_ms = Some(idle.map_or(-1, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)));
        self
    }
    /// `stream.thread.failure.policy` (default: [`ThreadFailurePolicy::ShutdownClient`]).
    #[must_use]
    pub fn thread_failure_policy(mut self, policy: ThreadFailurePolicy) -> Self {
        self.thread_failure_policy = Some(policy);
        self
    }
    /// `group.instance.id` (see [`StreamsConfig::group_instance_id`]).
    #[must_use]
    pub fn group_instance_id(mut self, id: impl Into<String>) -> Self {
        self.group_instance_id = Some(id.into());
        self
    }
    /// `task.timeout.ms` (see [`StreamsConfig::task_timeout`]; default 5 minutes).
    #[must_use]
    pub fn task_timeout(mut self, timeout: Duration) -> Self {
        self.task_timeout_ms = Some(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX));
        self
    }
    /// `application.server`: `host:port` of this instance's interactive-query endpoint.
    #[must_use]
    pub fn application_server(mut self, endpoint: impl Into<String>) -> Self {
        self.application_server = Some(endpoint.into());
        self
    }
    /// RocksDB memory settings shared by all stores of the instance.
    #[must_use]
    pub fn rocksdb(mut self, rocksdb: RocksDbConfig) -> Self {
        self.rocksdb = rocksdb;
        self
    }
    /// `schema.registry.url`: the Confluent Schema Registry of the `Avro`, `Protobuf` and
    /// `JsonSchema` codecs (see [`SchemaRegistryConfig::urls`]); credentials go through
    /// [`set`](Self::set) (`basic.auth.user.info`, `bearer.auth.token`).
    #[must_use]
    pub fn schema_registry_url(self, url: &str) -> Self {
        self.set("schema.registry.url", url)
    }
    /// Passes a raw librdkafka property (e.g. `security.protocol`) to every client; prefix it
    /// with `consumer.` or `producer.` to reach only that client (e.g. `consumer.session.timeout.ms`).
    ///
    /// Properties the runtime manages itself (`group.id`, `transactional.id`, …) are rejected by
    /// [`build`](Self::build); use the typed setters for Kafka Streams settings.
    #[must_use]
    pub fn kafka_property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.kafka.insert(key.into(), value.into());
        self
    }

    /// Sets a property by its Kafka Streams name, as read from a properties file, a CLI flag or
    /// an environment variable. Unknown names are passed through to librdkafka.
    #[must_use]
    pub fn set(mut self, key: &str, value: &str) -> Self {
        let value = value.trim();
        match key {
            "application.id" => self.application_id = value.to_owned(),
            "bootstrap.servers" => self.bootstrap_servers = Some(value.to_owned()),
            "processing.guarantee" => match value.parse() {
                Ok(g) => self.processing_guarantee = Some(g),
                Err(e) => self.errors.push(e),
            },
            "state.dir" => self.state_dir = Some(PathBuf::from(value)),
            "num.stream.threads" => self.num_stream_threads = self.parse_number(key, value),
            "commit.interval.ms" => self.commit_interval_ms = self.parse_number(key, value),
            "repartition.purge.interval.ms" => self.repartition_purge_interval_ms = self.parse_number(key, value),
            "cache.max.bytes.buffering" | "statestore.cache.max.bytes" => {
                self.cache_max_bytes_buffering = self.parse_number(key, value);
            }
            "num.standby.replicas" => self.num_standby_replicas = self.parse_number(key, value),
            "max.task.idle.ms" => self.max_task_idle_ms = self.parse_number(key, value),
            // Per thread, and for the group consumers only (not the restore or admin clients).
            "group.instance.id" | "consumer.group.instance.id" => self.group_instance_id = Some(value.to_owned()),
            "task.timeout.ms" => self.task_timeout_ms = self.parse_number(key, value),
            "stream.thread.failure.policy" => match value.parse() {
                Ok(p) => self.thread_failure_policy = Some(p),
                Err(e) => self.errors.push(e),
            },
            "application.server" => self.application_server = Some(value.to_owned()),
            "rocksdb.block.cache.size" => {
                self.rocksdb.block_cache_size = self.parse_number(key, value).unwrap_or(0);
            }
            "rocksdb.write.buffer.size" => {
                self.rocksdb.write_buffer_size = self.parse_number(key, value).unwrap_or(0);
            }
            "rocksdb.max.write.buffers" => {
                self.rocksdb.max_write_buffers = self.parse_number(key, value).unwrap_or(0);
            }
            _ if self.schema_registry.set(key, value) => {}
            _ => {
                self.kafka.insert(key.to_owned(), value.to_owned());
            }
        }
        self
    }

    fn parse_number<T: std::str::FromStr>(&mut self, key: &str, value: &str) -> Option<T> {
        match value.parse() {
            Ok(n) => Some(n),
            Err(_) => {
                self.errors.push(ConfigError::NotANumber {
                    key: key.to_owned(),
                    value: value.to_owned(),
                });
                None
            }
        }
    }

    /// Whether `bootstrap.servers` was given (else the embedded broker is used).
    pub(crate) fn sets_bootstrap_servers(&self) -> bool {
        self.bootstrap_servers.is_some()
    }

    /// Whether `state.dir` was given.
    pub(crate) fn sets_state_dir(&self) -> bool {
        self.state_dir.is_some()
    }

    /// Validates the recorded values and returns the configuration, or the first problem found.
    pub fn build(self) -> Result<StreamsConfig, ConfigError> {
        if let Some(err) = self.errors.into_iter().next() {
            return Err(err);
        }
        if self.application_id.is_empty() {
            return Err(ConfigError::Missing { key: "application.id" });
        }
        // The longest suffix the runtime appends is `-<store>-changelog`; leave room for it.
        if let Some(problem) = naming::topic_name_problem(&self.application_id) {
            return Err(ConfigError::Invalid {
                key: "application.id",
                reason: format!("it prefixes internal topic names, but {problem}"),
            });
        }
        if let Some(servers) = &self.bootstrap_servers
            && servers.trim().is_empty()
        {
            return Err(ConfigError::Invalid {
                key: "bootstrap.servers",
                reason: "it is empty; give `host:port[,host:port…]` or leave it unset to use the embedded broker"
                    .to_owned(),
            });
        }
        let guarantee = self.processing_guarantee.unwrap_or_default();
        let threads = self.num_stream_threads.unwrap_or(defaults::NUM_STREAM_THREADS);
        if threads == 0 {
            return Err(ConfigError::Invalid {
                key: "num.stream.threads",
                reason: "it must be at least 1".to_owned(),
            });
        }
        let commit_ms = self.commit_interval_ms.unwrap_or(match guarantee {
            ProcessingGuarantee::AtLeastOnce => defaults::COMMIT_INTERVAL_MS,
            ProcessingGuarantee::ExactlyOnceV2 => defaults::COMMIT_INTERVAL_MS_EXACTLY_ONCE,
        });
        if commit_ms == 0 {
            return Err(ConfigError::Invalid {
                key: "commit.interval.ms",
                reason: "it must be at least 1 ms".to_owned(),
            });
        }
        if self.group_instance_id.as_deref().is_some_and(|id| id.trim().is_empty()) {
            return Err(ConfigError::Invalid {
                key: "group.instance.id",
                reason: "it is empty; give each instance its own id (e.g. the pod name) or leave it unset".to_owned(),
            });
        }
        let max_task_idle_ms = self.max_task_idle_ms.unwrap_or(defaults::MAX_TASK_IDLE_MS);
        if max_task_idle_ms < -1 {
            return Err(ConfigError::Invalid {
                key: "max.task.idle.ms",
                reason: "it must be -1 (never wait), 0 (wait only for records not fetched yet) or a wait in ms"
                    .to_owned(),
            });
        }
        if let Some(server) = &self.application_server {
            let valid = server
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
            if !valid {
                return Err(ConfigError::Invalid {
                    key: "application.server",
                    reason: format!("`{server}` is not `host:port`, e.g. `localhost:8080`"),
                });
            }
        }
        self.schema_registry.validate()?;
        let rocksdb = self.rocksdb;
        for (key, value) in [
            ("rocksdb.write.buffer.size", rocksdb.write_buffer_size),
            ("rocksdb.max.write.buffers", rocksdb.max_write_buffers),
        ] {
            if value == 0 {
                return Err(ConfigError::Invalid {
                    key,
                    reason: "it must be greater than 0".to_owned(),
                });
            }
        }
        for key in self.kafka.keys() {
            if let Some(owner) = managed_property(key) {
                return Err(ConfigError::Managed {
                    key: key.clone(),
                    owner,
                });
            }
        }
        if guarantee == ProcessingGuarantee::ExactlyOnceV2
            && self.kafka.get("enable.idempotence").is_some_and(|v| v == "false")
        {
            return Err(ConfigError::Conflict {
                first: "processing.guarantee=exactly_once_v2".to_owned(),
                second: "enable.idempotence=false".to_owned(),
                reason: "transactions require an idempotent producer; remove `enable.idempotence`".to_owned(),
            });
        }
        Ok(StreamsConfig {
            application_id: self.application_id,
            bootstrap_servers: self.bootstrap_servers.map(|s| s.trim().to_owned()),
            processing_guarantee: guarantee,
            state_dir: self.state_dir.unwrap_or_else(defaults::state_dir),
            num_stream_threads: threads,
            commit_interval: Duration::from_millis(commit_ms),
            repartition_purge_interval: Duration::from_millis(
                self.repartition_purge_interval_ms
                    .unwrap_or(defaults::REPARTITION_PURGE_INTERVAL_MS),
            ),
            cache_max_bytes_buffering: self
                .cache_max_bytes_buffering
                .unwrap_or(defaults::CACHE_MAX_BYTES_BUFFERING),
            num_standby_replicas: self.num_standby_replicas.unwrap_or(defaults::NUM_STANDBY_REPLICAS),
            max_task_idle: u64::try_from(max_task_idle_ms).ok().map(Duration::from_millis),
            thread_failure_policy: self.thread_failure_policy.unwrap_or_default(),
            group_instance_id: self.group_instance_id,
            task_timeout: Duration::from_millis(self.task_timeout_ms.unwrap_or(defaults::TASK_TIMEOUT_MS)),
            application_server: self.application_server,
            rocksdb,
            schema_registry: self.schema_registry,
            kafka: self.kafka,
        })
    }
}

/// Properties the runtime sets itself, with the setting users should use instead.
fn managed_property(key: &str) -> Option<&'static str> {
    let key = key
        .strip_prefix("consumer.")
        .or_else(|| key.strip_prefix("producer."))
        .unwrap_or(key);
    Some(match key {
        "group.id" => "application.id",
        "transactional.id" | "isolation.level" | "enable.auto.commit" | "enable.auto.offset.store" => {
            "processing.guarantee"
        }
        "partitioner" => "the runtime's Java-compatible murmur2 partitioner",
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
