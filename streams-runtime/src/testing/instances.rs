//! Several instances of one application in this process, on one cluster: what failover,
//! standby and rebalance tests and benchmarks start. Each instance gets its own temporary state
//! directory (kept across its restarts, removed when the group is dropped), as separate
//! machines would have.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::temp_dir::TempDir;
use crate::config::StreamsConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::kafka::KafkaCluster;
use crate::runtime::KafkaStreams;
use crate::topology::Topology;

type TopologyFn = dyn Fn() -> Topology + Send + Sync;
type ConfigFn = dyn Fn(&Path) -> Result<StreamsConfig> + Send + Sync;

/// Instances of one application on one cluster, numbered from 0 in the order they started.
///
/// ```no_run
/// # async fn run(cluster: kafka_streams::kafka::KafkaCluster, topology: fn() -> kafka_streams::topology::Topology) -> kafka_streams::Result<()> {
/// use std::time::Duration;
/// use kafka_streams::config::StreamsConfig;
/// use kafka_streams::testing::TestInstances;
///
/// let mut group = TestInstances::new(&cluster, topology, |dir| {
///     Ok(StreamsConfig::builder("failover").state_dir(dir).num_standby_replicas(1).build()?)
/// });
/// group.start().await?;
/// group.start().await?;
/// group.wait_for_tasks_spread(6, Duration::from_secs(60)).await?;
/// group.instance(0).kill().await?; // the survivor takes its tasks over
/// # Ok(()) }
/// ```
pub struct TestInstances {
    cluster: KafkaCluster,
    topology: Box<TopologyFn>,
    config: Box<ConfigFn>,
    /// Each instance with its state directory (in this order, so the instance is released
    /// before its directory goes).
    instances: Vec<(Arc<KafkaStreams>, TempDir)>,
}

impl TestInstances {
    /// A group that starts `topology()` on `cluster` with `config(state_dir)`.
    pub fn new(
        cluster: &KafkaCluster,
        topology: impl Fn() -> Topology + Send + Sync + 'static,
        config: impl Fn(&Path) -> Result<StreamsConfig> + Send + Sync + 'static,
    ) -> Self {
        Self {
            cluster: cluster.clone(),
            topology: Box::new(topology),
            config: Box::new(config),
            instances: Vec::new(),
        }
    }

    /// Starts one more instance, with a fresh state directory; returns its number.
    pub async fn start(&mut self) -> Result<usize> {
        let dir = TempDir::new("streams-test-instance")?;
        let streams = self.start_in(dir.path()).await?;
        self.instances.push((Arc::new(streams), dir));
        Ok(self.instances.len() - 1)
    }

    /// Starts one more instance and serves its interactive queries over HTTP at its
    /// `application.server`, which `config` sets (e.g. to a
    /// [`free_loopback_address`](super::free_loopback_address)); returns its number.
    #[cfg(feature = "http")]
    pub async fn start_serving(&mut self) -> Result<usize> {
        let index = self.start().await?;
        let streams = Arc::clone(self.instance(index));
        let endpoint = streams.endpoint().ok_or_else(|| {
            Error::new(
                ErrorKind::Config,
                "the instance has no application.server to serve queries at: set it in the config",
            )
        })?;
        let addr = endpoint.parse().map_err(|e| {
            Error::new(
                ErrorKind::Config,
                format!("application.server `{endpoint}` is not a socket address"),
            )
            .with_source(e)
        })?;
        crate::server::serve(streams, addr, std::future::pending()).await?;
        Ok(index)
    }

    /// Starts instance `index` again, in its state directory (after it was closed or killed).
    pub async fn restart(&mut self, index: usize) -> Result<()> {
        let dir = self.slot(index)?.1.path().to_owned();
        let streams = self.start_in(&dir).await?;
        self.instances[index].0 = Arc::new(streams);
        Ok(())
    }

    async fn start_in(&self, dir: &Path) -> Result<KafkaStreams> {
        let config = (self.config)(dir)?;
        KafkaStreams::start_on((self.topology)(), config, self.cluster.clone()).await
    }

    fn slot(&self, index: usize) -> Result<&(Arc<KafkaStreams>, TempDir)> {
        self.instances.get(index).ok_or_else(|| {
            Error::new(
                ErrorKind::Config,
                format!("no instance {index}: {} were started", self.instances.len()),
            )
        })
    }

    /// Instance `index`.
    ///
    /// # Panics
    /// If fewer instances were started (a mistake in the test).
    pub fn instance(&self, index: usize) -> &Arc<KafkaStreams> {
        match self.slot(index) {
            Ok((streams, _)) => streams,
            Err(e) => panic!("{e}"),
        }
    }

    /// Every instance started, in order (stopped ones included).
    pub fn instances(&self) -> impl Iterator<Item = &Arc<KafkaStreams>> {
        self.instances.iter().map(|(streams, _)| streams)
    }

    /// The instances not stopped.
    pub fn running(&self) -> impl Iterator<Item = &Arc<KafkaStreams>> {
        self.instances().filter(|streams| !streams.is_stopped())
    }

    /// Instance `index`'s state directory.
    pub fn state_dir(&self, index: usize) -> Result<&Path> {
        Ok(self.slot(index)?.1.path())
    }

    /// Waits until every running instance sees all of them in the membership topic, with the
    /// `tasks` active tasks each run by exactly one: then interactive queries route every key
    /// (their routing reads that view). Fails after `timeout` with each instance's view.
    pub async fn wait_for_membership(&self, tasks: usize, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let running = self.running().count();
            let views: Vec<(usize, Vec<String>)> = self
                .running()
                .map(|s| {
                    let members = s.members();
                    let mut owned: Vec<String> = members.iter().flat_map(|m| m.active_tasks.clone()).collect();
                    owned.sort();
                    (members.len(), owned)
                })
                .collect();
            let settled = views.iter().all(|(members, owned)| {
                let mut distinct = owned.clone();
                distinct.dedup();
                *members == running && owned.len() == tasks && distinct.len() == tasks
            });
            if settled {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(Error::new(
                    ErrorKind::Kafka,
                    format!(
                        "the membership never settled within {timeout:?}: (members, tasks) seen per instance {views:?}"
                    ),
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the running instances run `tasks` active tasks between them, each at least
    /// one (the group has spread them), or fails after `timeout` saying who runs what.
    pub async fn wait_for_tasks_spread(&self, tasks: usize, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let owned: Vec<usize> = self.running().map(|s| s.active_tasks().len()).collect();
            if owned.iter().sum::<usize>() == tasks && owned.iter().all(|&n| n > 0) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(Error::new(
                    ErrorKind::Kafka,
                    format!(
                        "the running instances did not spread {tasks} tasks within {timeout:?}: they run {owned:?}"
                    ),
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
