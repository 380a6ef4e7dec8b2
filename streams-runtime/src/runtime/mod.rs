//! Running a topology: `KafkaStreams` starts stream threads that join the consumer group, own
//! tasks, keep state and commit; it also answers local store queries.

pub(crate) mod global;
pub(crate) mod internal_topics;
mod lifecycle;
pub(crate) mod local_stores;
mod process_id;
pub mod reset;
mod standby;
mod state_dir_lock;
mod takeover;
mod thread;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;

pub use crate::metrics::{Metrics, MetricsSnapshot};
pub use lifecycle::State;
use lifecycle::{Lifecycle, ThreadPhase};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::{StreamsConfig, ThreadFailurePolicy};
use crate::error::{Error, ErrorKind, Result, report};
use crate::kafka::{InstanceClients, KafkaCluster};
use crate::state::{KeyValueStore, RocksResources, WindowStore};
use crate::task::{StandbyRead, TaskEnv, TaskId};
use crate::topology::Topology;
use local_stores::LocalStores;

/// A standby task of this instance (see `num.standby.replicas`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StandbyTaskStatus {
    /// The task it mirrors.
    pub task: TaskId,
    /// Per store, the changelog offset its local copy reflects (`None`: nothing applied yet).
    pub changelog_offsets: Vec<(String, Option<i64>)>,
    /// Per store, the changelog offsets it was behind at its last catch-up, before applying
    /// them (standbys catch up every half second). Kafka Streams' `LagInfo::offsetLag`.
    pub offset_lags: Vec<(String, i64)>,
}

/// A running streams application instance.
///
/// ```no_run
/// # async fn run(topology: kafka_streams::topology::Topology) -> kafka_streams::Result<()> {
/// use kafka_streams::KafkaStreams;
/// use kafka_streams::config::StreamsConfig;
///
/// let config = StreamsConfig::builder("click-aggregator").bootstrap_servers("localhost:9092").build()?;
/// let streams = KafkaStreams::start(topology, config).await?;
/// streams.run_until_signal().await
/// # }
/// ```
pub struct KafkaStreams {
    env: Arc<TaskEnv>,
    topology: Arc<Topology>,
    cluster: KafkaCluster,
    stop: Arc<thread::Stop>,
    threads: Mutex<Vec<JoinHandle<Result<()>>>>,
    statuses: Vec<Arc<Mutex<thread::ThreadStatus>>>,
    partitions: HashMap<u32, i32>,
    membership: Arc<crate::query::Membership>,
    endpoint: Option<String>,
    /// Shared with the threads: released once they all stopped and the instance closed or dropped.
    state_dir_lock: Mutex<Option<Arc<state_dir_lock::StateDirLock>>>,
    lifecycle: Arc<Lifecycle>,
}

impl KafkaStreams {
    /// Connects to `bootstrap.servers` (or starts the embedded broker), checks source topics,
    /// creates internal topics and starts `num.stream.threads` stream threads.
    pub async fn start(topology: Topology, config: StreamsConfig) -> Result<Self> {
        let cluster = KafkaCluster::connect(config.bootstrap_servers())?;
        Self::start_on(topology, config, cluster).await
    }

    /// Like [`start`](Self::start), on an already connected cluster (e.g. a test broker).
    pub async fn start_on(topology: Topology, config: StreamsConfig, cluster: KafkaCluster) -> Result<Self> {
        #[cfg(feature = "schema-registry")]
        if topology.uses_schema_registry() {
            let registry =
                crate::codec::registry::SchemaRegistry::connect(config.schema_registry())?.ok_or_else(|| {
                    crate::config::ConfigError::Invalid {
                        key: "schema.registry.url",
                        reason:
                            "it is not set, but the topology has Schema Registry codecs (Avro, Protobuf, JsonSchema); \
                             set it to the registry's URL (`mock://<scope>` for an in-process test registry)"
                                .to_owned(),
                    }
                })?;
            topology.connect_schema_registry(registry);
        }
        let state_dir_lock = Arc::new(state_dir_lock::acquire(config.state_dir(), config.application_id())?);
        let cluster = with_client_properties(cluster, &config);
        if cluster.has_token_provider() && !crate::kafka::uses_oauthbearer(&cluster.client_config()) {
            return Err(Error::new(
                ErrorKind::Config,
                "a token provider is set but `sasl.mechanism` is not OAUTHBEARER: set sasl.mechanism=OAUTHBEARER \
                 (and security.protocol=SASL_SSL) or drop the provider",
            ));
        }
        let clients = Arc::new(InstanceClients::new(
            cluster.client_settings(),
            config.kafka_properties(),
        ));
        let partitions = internal_topics::prepare(&cluster, config.application_id(), &topology).await?;
        let process_id = process_id::load_or_create(config.state_dir(), config.application_id())?;
        let reader = Arc::new(crate::kafka::KafkaPartitionReader::new(
            &clients.common,
            config.application_id(),
            config.processing_guarantee(),
        ));
        let rocks = RocksResources::new(config.rocksdb());
        let global_storage = global::GlobalStorage::Disk {
            state_dir: config.state_dir(),
            application_id: config.application_id(),
            rocks: &rocks,
        };
        let globals = global::stores(&topology, &global_storage)?;
        let env = Arc::new(TaskEnv {
            application_id: config.application_id().to_owned(),
            process_id,
            state_dir: config.state_dir().to_owned(),
            guarantee: config.processing_guarantee(),
            rocks: rocks.clone(),
            registry: Arc::new(RwLock::new(HashMap::new())),
            metrics: Arc::new(Metrics::new(config.application_id())),
            reader,
            clock: Arc::new(crate::processor::clock::SystemClock),
            globals,
            standbys: Mutex::default(),
            opening: Mutex::default(),
        });
        let topology = Arc::new(topology);
        let stop = Arc::new(thread::Stop::default());
        let lifecycle = Arc::new(Lifecycle::new(config.num_stream_threads()));
        // Epoch ms of this instance's request that every instance stop (0: none).
        let shutdown_requested = Arc::new(std::sync::atomic::AtomicI64::new(0));
        let mut threads = Vec::new();
        if !topology.globals.is_empty() {
            // Global tables are complete before any task reads them.
            let positions = global::bootstrap(&env, &topology, &global_storage)?;
            let (env, topology, stop) = (Arc::clone(&env), Arc::clone(&topology), Arc::clone(&stop));
            let clients = Arc::clone(&clients);
            let lock = Arc::clone(&state_dir_lock);
            let lifecycle = Arc::clone(&lifecycle);
            let handle = std::thread::Builder::new()
                .name(format!("{}-GlobalStreamThread", env.application_id))
                .spawn(move || {
                    let _lock = lock;
                    let result = global::run(Arc::clone(&env), &clients, topology, positions, Arc::clone(&stop));
                    if let Err(e) = &result {
                        // Without its global tables no task can go on: the instance stops.
                        env.metrics.record_failed_thread();
                        tracing::error!(error = %report(&e), "global stream thread stopped; stopping the instance");
                        lifecycle.fail();
                        stop.graceful.store(true, Ordering::Relaxed);
                    }
                    result
                })
                .map_err(|e| Error::io("failed to spawn the global stream thread", e))?;
            threads.push(handle);
        }
        let mut statuses = Vec::new();
        for index in 0..config.num_stream_threads() {
            let (env, clients, topology, config, stop) = (
                Arc::clone(&env),
                Arc::clone(&clients),
                Arc::clone(&topology),
                config.clone(),
                Arc::clone(&stop),
            );
            let status = Arc::new(Mutex::new(thread::ThreadStatus::default()));
            statuses.push(Arc::clone(&status));
            let lock = Arc::clone(&state_dir_lock);
            let lifecycle = Arc::clone(&lifecycle);
            let shutdown_requested = Arc::clone(&shutdown_requested);
            let handle = std::thread::Builder::new()
                .name(format!("{}-StreamThread-{}", env.application_id, index + 1))
                .spawn(move || {
                    let _lock = lock;
                    let failed = FailureWiring {
                        lifecycle: &lifecycle,
                        stop: &stop,
                        shutdown_requested: &shutdown_requested,
                    };
                    let instance = thread::Instance { env, clients, topology };
                    run_stream_thread(index, &instance, &config, &status, &failed)
                })
                .map_err(|e| Error::io("failed to spawn a stream thread", e))?;
            threads.push(handle);
        }
        let endpoint = config.application_server().map(str::to_owned);
        let membership = {
            let (statuses, process_id, endpoint) = (statuses.clone(), env.process_id.clone(), endpoint.clone());
            let standby_env = Arc::clone(&env);
            let requested = Arc::clone(&shutdown_requested);
            let me = move || {
                let mut standby_lags: Vec<(String, i64)> = standby_env
                    .standbys
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .iter()
                    .map(|(id, s)| (id.to_string(), s.offset_lag()))
                    .collect();
                standby_lags.sort();
                let standby_tasks = standby_lags.iter().map(|(id, _)| id.clone()).collect();
                let snapshot: Vec<thread::ThreadStatus> = statuses
                    .iter()
                    .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).clone())
                    .collect();
                let mut active_tasks: Vec<String> = snapshot
                    .iter()
                    .flat_map(|s| s.tasks.iter().map(ToString::to_string))
                    .collect();
                active_tasks.sort();
                crate::query::MemberInfo {
                    process_id: process_id.clone(),
                    endpoint: endpoint.clone(),
                    active_tasks,
                    standby_tasks,
                    standby_lags,
                    lags: snapshot.into_iter().flat_map(|s| s.consumer.lags).collect(),
                    updated_ms: 0,
                    shutdown_requested_ms: Some(requested.load(Ordering::Relaxed)).filter(|&ms| ms > 0),
                }
            };
            let (lifecycle, stop) = (Arc::clone(&lifecycle), Arc::clone(&stop));
            let on_shutdown_request = move |from: &crate::query::MemberInfo| {
                tracing::error!(instance = %from.process_id, "another instance asked the application to shut down (a stream thread failed there); stopping");
                lifecycle.fail();
                stop.graceful.store(true, Ordering::Relaxed);
            };
            Arc::new(crate::query::Membership::start(
                &clients.common,
                &env.application_id,
                &env.process_id,
                Box::new(me),
                Box::new(on_shutdown_request),
            )?)
        };
        if config.num_standby_replicas() > 0 {
            let runner = standby::StandbyRunner {
                env: Arc::clone(&env),
                topology: Arc::clone(&topology),
                partitions: partitions.clone(),
                membership: Arc::clone(&membership),
                statuses: statuses.clone(),
                replicas: config.num_standby_replicas(),
                stop: Arc::clone(&stop),
                group: takeover::watch_for_instance(&clients, &env.application_id, &config)?,
            };
            let handle = std::thread::Builder::new()
                .name(format!("{}-StandbyThread", env.application_id))
                .spawn(move || runner.run())
                .map_err(|e| Error::io("failed to spawn the standby thread", e))?;
            threads.push(handle);
        }
        tracing::info!(application_id = %env.application_id, threads = threads.len(), "started");
        Ok(Self {
            env,
            topology,
            cluster,
            stop,
            threads: Mutex::new(threads),
            statuses,
            partitions,
            membership,
            endpoint,
            state_dir_lock: Mutex::new(Some(state_dir_lock)),
            lifecycle,
        })
    }

    /// The instance's state now.
    pub fn state(&self) -> State {
        self.lifecycle.state()
    }

    /// Every change of the instance's state, from now on (Kafka Streams' state listener as a
    /// watch channel: `changed().await`, then `borrow()`).
    pub fn state_changes(&self) -> tokio::sync::watch::Receiver<State> {
        self.lifecycle.subscribe()
    }

    /// Every live instance of this application (this one included): process id, query
    /// endpoint, tasks and lags, from the membership topic.
    pub fn members(&self) -> Vec<crate::query::MemberInfo> {
        self.membership.members()
    }

    /// The standby tasks this instance keeps warm, with the changelog offset each of their
    /// stores reflects.
    pub fn standby_tasks(&self) -> Vec<StandbyTaskStatus> {
        let standbys = self.env.standbys.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<StandbyTaskStatus> = standbys
            .iter()
            .map(|(id, s)| {
                let progress = s.progress();
                StandbyTaskStatus {
                    task: *id,
                    changelog_offsets: progress
                        .iter()
                        .map(|(name, offset, _)| (name.clone(), *offset))
                        .collect(),
                    offset_lags: progress.into_iter().map(|(name, _, lag)| (name, lag)).collect(),
                }
            })
            .collect();
        out.sort_by_key(|s| s.task);
        out
    }

    /// This instance's process id (kept in its state directory across restarts).
    pub fn process_id(&self) -> &str {
        &self.env.process_id
    }

    /// This instance's query endpoint (`application.server`), if set.
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    pub(crate) fn membership(&self) -> &crate::query::Membership {
        &self.membership
    }

    pub(crate) fn registry(&self) -> &crate::task::StoreRegistry {
        &self.env.registry
    }

    /// Store `name` of this instance's standbys, by partition (for reads that accept stale
    /// data).
    pub(crate) fn standby_reads(&self, name: &str) -> Vec<(i32, StandbyRead)> {
        let standbys = self.env.standbys.lock().unwrap_or_else(|e| e.into_inner());
        standbys
            .values()
            .filter_map(|s| Some((s.partition(), s.read(name)?)))
            .collect()
    }

    /// How far `read` is behind its changelog now, in offsets (asks the broker: blocking).
    pub(crate) fn standby_lag(&self, read: &StandbyRead) -> Result<i64> {
        read.offset_lag(&self.env)
    }

    /// The cluster this instance talks to.
    pub fn cluster(&self) -> &KafkaCluster {
        &self.cluster
    }

    /// The topology being run.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// The topology's description with the internal topic names this instance uses.
    pub fn describe(&self) -> String {
        self.topology.describe_for(&self.env.application_id)
    }

    /// Current metrics.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.env.metrics.snapshot()
    }

    /// Runs `f` on the metrics registry `/metrics` serves: register the app's own metrics
    /// there (with [`prometheus_client`], the version this crate
    /// uses), beside the runtime's `kafka_streams_*` ones.
    pub fn with_metrics_registry<R>(&self, f: impl FnOnce(&mut prometheus_client::registry::Registry) -> R) -> R {
        f(&mut self.env.metrics.registry())
    }

    /// The tasks of each stream thread (Kafka Streams' `metadataForLocalThreads`), as last
    /// reported by the threads.
    pub fn tasks_per_thread(&self) -> Vec<Vec<TaskId>> {
        self.statuses()
            .map(|s| {
                let mut tasks = s.tasks;
                tasks.sort();
                tasks
            })
            .collect()
    }

    /// Tasks owned by this instance's threads, as of their last commit.
    pub fn active_tasks(&self) -> Vec<TaskId> {
        let mut tasks: Vec<TaskId> = self.statuses().flat_map(|s| s.tasks).collect();
        tasks.sort();
        tasks
    }

    /// Consumer lag per assigned input partition (topic, partition, records behind the high
    /// watermark), as of the threads' last commits.
    pub fn consumer_lags(&self) -> Vec<(String, i32, i64)> {
        let mut lags: Vec<_> = self.statuses().flat_map(|s| s.consumer.lags).collect();
        lags.sort();
        lags
    }

    /// The application id.
    pub fn application_id(&self) -> &str {
        &self.env.application_id
    }

    /// Bytes the local stores occupy on disk, as of the threads' last commits.
    pub fn state_store_size_bytes(&self) -> u64 {
        self.statuses()
            .flat_map(|s| s.store_sizes)
            .map(|(_, bytes)| bytes)
            .sum()
    }

    /// Bytes each store occupies on disk (over this instance's tasks), as of the threads' last
    /// commits: (store name, bytes).
    pub fn state_store_sizes(&self) -> Vec<(String, u64)> {
        crate::state::sum_by_store(self.statuses().flat_map(|s| s.store_sizes))
    }

    /// Per stream thread: its name and its consumer's last statistics (for `/metrics`).
    pub(crate) fn consumer_stats(&self) -> Vec<(String, crate::kafka::ConsumerStats)> {
        self.statuses().map(|s| (s.name, s.consumer)).collect()
    }

    /// Each stream thread's producer statistics, by thread name.
    pub(crate) fn producer_stats(&self) -> Vec<(String, crate::kafka::ProducerStats)> {
        self.statuses().map(|s| (s.name, s.producer.get())).collect()
    }

    fn statuses(&self) -> impl Iterator<Item = thread::ThreadStatus> + '_ {
        self.statuses
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }

    /// Partition count of each sub-topology (the number of its tasks).
    pub fn partitions(&self, subtopology: u32) -> Option<i32> {
        self.partitions.get(&subtopology).copied()
    }

    /// The local partitions of key-value store `name`, keyed by partition.
    pub fn key_value_store<K, V>(&self, name: &str) -> Result<Vec<(i32, KeyValueStore<K, V>)>>
    where
        K: Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned,
    {
        self.local_stores().key_value_store(name)
    }

    /// The local partitions of window store `name`, keyed by partition.
    pub fn window_store<K, V>(&self, name: &str, window_size_ms: i64) -> Result<Vec<(i32, WindowStore<K, V>)>>
    where
        K: Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned,
    {
        self.local_stores().window_store(name, window_size_ms)
    }

    /// The local partitions of session store `name`, keyed by partition.
    pub fn session_store<K, V>(&self, name: &str) -> Result<Vec<(i32, crate::state::SessionStore<K, V>)>>
    where
        K: Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned,
    {
        self.local_stores().session_store(name)
    }

    fn local_stores(&self) -> LocalStores<'_> {
        LocalStores {
            topology: &self.topology,
            registry: &self.env.registry,
            globals: &self.env.globals,
        }
    }

    /// Commits, closes every task (keeping local state), leaves the group and waits for the
    /// threads; returns the first thread error, if any. Later calls return `Ok(())` at once.
    pub async fn close(&self) -> Result<()> {
        self.lifecycle.begin_shutdown();
        self.stop.graceful.store(true, Ordering::Relaxed);
        let result = self.join_threads().await;
        self.membership.stop(true);
        result
    }

    /// [`close`](Self::close), waiting at most `timeout`: an error of kind
    /// [`ErrorKind::State`] says the threads were still closing (they go on in the background).
    pub async fn close_timeout(&self, timeout: std::time::Duration) -> Result<()> {
        tokio::time::timeout(timeout, self.close()).await.unwrap_or_else(|_| {
            Err(Error::new(
                ErrorKind::State,
                format!("the stream threads did not close within {timeout:?}; they go on closing"),
            ))
        })
    }

    /// Stops every thread at once, committing nothing and abandoning open transactions, as a
    /// killed process would (local stores keep only what was committed). For crash-recovery
    /// tests; use [`close`](Self::close) otherwise.
    pub async fn kill(&self) -> Result<()> {
        self.lifecycle.begin_shutdown();
        self.stop.crash.store(true, Ordering::Relaxed);
        self.membership.stop(false);
        self.join_threads().await
    }

    async fn join_threads(&self) -> Result<()> {
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        let joined = tokio::task::spawn_blocking(move || {
            let mut first_error = None;
            for handle in threads {
                match handle.join() {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        first_error.get_or_insert(e);
                    }
                    Err(_) => {
                        first_error.get_or_insert(Error::new(ErrorKind::State, "a stream thread panicked"));
                    }
                }
            }
            first_error.map_or(Ok(()), Err)
        })
        .await
        .map_err(|e| Error::new(ErrorKind::Io, "failed to join the stream threads").with_source(e))
        .and_then(|joined| joined);
        // The threads are gone (failed or not): release the global stores' files and the state
        // directory, so another instance (or this one, started again) can take it.
        let closed = global::close(&self.env.globals);
        self.state_dir_lock.lock().unwrap_or_else(|e| e.into_inner()).take();
        self.lifecycle.all_stopped();
        joined.and(closed)
    }

    /// Whether every stream thread has stopped (after `close`, or because they all failed).
    pub fn is_stopped(&self) -> bool {
        self.threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .all(JoinHandle::is_finished)
    }

    /// Runs until SIGINT or SIGTERM, then closes gracefully. Returns the error of a stream
    /// thread whose failure stopped the instance (see
    /// [`ThreadFailurePolicy`]), so a service exits non-zero.
    pub async fn run_until_signal(&self) -> Result<()> {
        let mut states = self.state_changes();
        // The watch's borrow is released at once: holding it would block every state change.
        let failed = async move {
            let _ = states
                .wait_for(|s| matches!(s, State::PendingError | State::Error))
                .await
                .map(|state| *state);
        };
        tokio::select! {
            () = shutdown_signal() => {
                tracing::info!("shutdown signal received; committing and closing");
                self.close().await
            }
            () = failed => {
                tracing::error!("a stream thread failed; the instance stops");
                let result = self.close().await;
                result.and(Err(Error::new(ErrorKind::State, "the instance stopped: a stream thread failed")))
            }
        }
    }
}

/// `cluster` with the configuration's client properties (those not prefixed `consumer.` or
/// `producer.`: security, credentials), which every client of the instance needs.
pub(crate) fn with_client_properties(cluster: KafkaCluster, config: &StreamsConfig) -> KafkaCluster {
    config
        .kafka_properties()
        .iter()
        .filter(|(key, _)| !key.starts_with("consumer.") && !key.starts_with("producer."))
        .fold(cluster, |cluster, (key, value)| cluster.with_property(key, value))
}

/// What a failed stream thread reports to and stops.
struct FailureWiring<'a> {
    lifecycle: &'a Arc<Lifecycle>,
    stop: &'a Arc<thread::Stop>,
    /// Set to the time of a `shutdown_application` request (published through membership).
    shutdown_requested: &'a std::sync::atomic::AtomicI64,
}

/// Runs stream thread `index` and, under [`ThreadFailurePolicy::ReplaceThread`], its
/// replacements; reports its phases to the lifecycle.
fn run_stream_thread(
    index: usize,
    instance: &thread::Instance,
    config: &StreamsConfig,
    status: &Arc<Mutex<thread::ThreadStatus>>,
    failed: &FailureWiring<'_>,
) -> Result<()> {
    /// A replacement waits this long, so a failure that repeats does not spin.
    const REPLACE_PAUSE: std::time::Duration = std::time::Duration::from_secs(1);
    let (lifecycle, stop) = (failed.lifecycle, failed.stop);
    loop {
        lifecycle.set_phase(index, ThreadPhase::Starting);
        let result = thread::run(
            index,
            instance,
            config,
            Arc::clone(stop),
            Arc::clone(status),
            Arc::clone(lifecycle),
        );
        let Err(e) = result else {
            lifecycle.set_phase(index, ThreadPhase::Stopped);
            return Ok(());
        };
        instance.env.metrics.record_failed_thread();
        let stopping = stop.graceful.load(Ordering::Relaxed) || stop.crash.load(Ordering::Relaxed);
        let policy = config.thread_failure_policy();
        if policy == ThreadFailurePolicy::ReplaceThread && !stopping {
            tracing::error!(error = %report(&e), "stream thread failed; replacing it");
            std::thread::sleep(REPLACE_PAUSE);
            continue;
        }
        if policy == ThreadFailurePolicy::ShutdownApplication && !stopping {
            tracing::error!(error = %report(&e), "stream thread failed; asking every instance of the application to stop");
            // Wall time, as the membership thread that publishes it stamps entries.
            failed.shutdown_requested.store(
                crate::processor::clock::Clock::now_ms(&crate::processor::clock::SystemClock),
                Ordering::Relaxed,
            );
        } else {
            tracing::error!(error = %report(&e), "stream thread failed; stopping the instance");
        }
        lifecycle.set_phase(index, ThreadPhase::Failed);
        lifecycle.fail();
        stop.graceful.store(true, Ordering::Relaxed);
        return Err(e);
    }
}

impl Drop for KafkaStreams {
    fn drop(&mut self) {
        // Without `close` the threads still stop (committing) instead of running on unowned.
        self.stop.graceful.store(true, Ordering::Relaxed);
    }
}

/// Resolves on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    let terminated = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    // Elsewhere only Ctrl-C (there is no SIGTERM).
    #[cfg(not(unix))]
    let terminated = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminated => {}
    }
}

/// The generated store accessors take a running instance.
mod queryable {
    use serde::Serialize;
    use serde::de::DeserializeOwned;

    use super::KafkaStreams;
    use crate::error::Result;
    use crate::state::{KeyValueStore, QueryableStores, SessionStore, WindowStore};

    crate::state::queryable::queryable_by_inherent_methods!(KafkaStreams);
}
