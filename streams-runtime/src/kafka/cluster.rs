//! The Kafka cluster an application talks to: a real one, or the embedded default.

use std::sync::Arc;

use rdkafka::config::ClientConfig;

use super::embedded::EmbeddedCluster;
use super::topics::{self, TopicSpec};
use crate::error::Result;

/// A handle on the cluster behind `bootstrap.servers`; cheap to clone.
#[derive(Clone, Debug)]
pub struct KafkaCluster {
    bootstrap_servers: String,
    embedded: Option<Arc<EmbeddedCluster>>,
}

impl KafkaCluster {
    /// A cluster reached through `bootstrap_servers`.
    pub fn remote(bootstrap_servers: impl Into<String>) -> Self {
        Self {
            bootstrap_servers: bootstrap_servers.into(),
            embedded: None,
        }
    }

    /// Starts an embedded single-broker cluster in this process.
    pub fn embedded() -> Result<Self> {
        Ok(Self::from(Arc::new(EmbeddedCluster::start(1)?)))
    }

    /// Uses `bootstrap_servers` when given, otherwise starts the embedded cluster.
    pub fn connect(bootstrap_servers: Option<&str>) -> Result<Self> {
        match bootstrap_servers {
            Some(servers) => Ok(Self::remote(servers)),
            None => Self::embedded(),
        }
    }

    /// The `bootstrap.servers` string.
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap_servers
    }

    /// The embedded cluster, if this is one (for fault injection in tests).
    pub fn as_embedded(&self) -> Option<&EmbeddedCluster> {
        self.embedded.as_deref()
    }

    /// A client config pointing at this cluster.
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.bootstrap_servers);
        config
    }

    /// Creates the topics that do not exist yet.
    ///
    /// On the embedded cluster topic configs are ignored: the mock has no log cleaner.
    pub async fn create_topics(&self, specs: &[TopicSpec]) -> Result<()> {
        match &self.embedded {
            Some(embedded) => specs
                .iter()
                .try_for_each(|s| embedded.create_topic(&s.name, s.partitions)),
            None => topics::create_topics(&self.client_config(), specs).await,
        }
    }
}

impl From<Arc<EmbeddedCluster>> for KafkaCluster {
    fn from(embedded: Arc<EmbeddedCluster>) -> Self {
        Self {
            bootstrap_servers: embedded.bootstrap_servers().to_owned(),
            embedded: Some(embedded),
        }
    }
}
