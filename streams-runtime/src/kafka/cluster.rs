//! The Kafka cluster an application talks to: a real one, or the embedded default.

use std::collections::BTreeMap;
use std::sync::Arc;

use rdkafka::config::ClientConfig;

use super::client::ClientSettings;
#[cfg(feature = "embedded")]
use super::embedded::EmbeddedCluster;
use super::oauth::{OAuth, TokenProvider};
use super::topics::{self, TopicSpec};
use crate::error::Result;

/// A handle on the cluster behind `bootstrap.servers`, with the client properties every
/// connection to it needs (security protocol, credentials, certificates); cheap to clone. Its
/// `Debug` redacts secret values.
#[derive(Clone)]
pub struct KafkaCluster {
    bootstrap_servers: String,
    #[cfg(feature = "embedded")]
    embedded: Option<Arc<EmbeddedCluster>>,
    properties: Arc<BTreeMap<String, String>>,
    oauth: OAuth,
}

impl std::fmt::Debug for KafkaCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaCluster")
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field("embedded", &self.is_embedded())
            .field("properties", &crate::config::redact::Redacted(&self.properties))
            .field("token_provider", &self.oauth)
            .finish()
    }
}

impl KafkaCluster {
    /// A cluster reached through `bootstrap_servers`.
    pub fn remote(bootstrap_servers: impl Into<String>) -> Self {
        Self {
            bootstrap_servers: bootstrap_servers.into(),
            #[cfg(feature = "embedded")]
            embedded: None,
            properties: Arc::default(),
            oauth: OAuth::default(),
        }
    }

    /// The same cluster, every client of it also getting librdkafka property `key` (e.g.
    /// `security.protocol`, `sasl.password`, `ssl.ca.location`).
    #[must_use]
    pub fn with_property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.properties).insert(key.into(), value.into());
        self
    }

    /// The same cluster, its clients authenticating with SASL/OAUTHBEARER tokens from
    /// `provider` (with `sasl.mechanism=OAUTHBEARER`, usually over `SASL_SSL`): every client
    /// the runtime creates asks it for a token when it starts and before the token expires.
    #[must_use]
    pub fn with_token_provider(self, provider: impl TokenProvider) -> Self {
        self.with_shared_token_provider(Arc::new(provider))
    }

    /// [`Self::with_token_provider`] with a provider already shared.
    #[must_use]
    pub fn with_shared_token_provider(mut self, provider: Arc<dyn TokenProvider>) -> Self {
        self.oauth = OAuth::new(provider);
        self
    }

    /// Whether a token provider was set ([`Self::with_token_provider`]).
    pub fn has_token_provider(&self) -> bool {
        self.oauth.is_set()
    }

    /// Starts an embedded single-broker cluster in this process (librdkafka's mock cluster:
    /// for demos and tests, its data dies with the process).
    #[cfg(feature = "embedded")]
    pub fn embedded() -> Result<Self> {
        Ok(Self::from(Arc::new(EmbeddedCluster::start(1)?)))
    }

    /// Without the `embedded` feature there is no in-process broker: a clear error.
    #[cfg(not(feature = "embedded"))]
    pub fn embedded() -> Result<Self> {
        Err(crate::Error::new(
            crate::ErrorKind::Config,
            "no `bootstrap.servers` given (`--bootstrap-servers`, `STREAMS_BOOTSTRAP_SERVERS`), and the \
             embedded demo broker needs the `embedded` feature of kafka-streams (on by default)",
        ))
    }

    /// Uses `bootstrap_servers` when given, otherwise starts the embedded cluster.
    pub fn connect(bootstrap_servers: Option<&str>) -> Result<Self> {
        match bootstrap_servers {
            Some(servers) => Ok(Self::remote(servers)),
            None => Self::embedded(),
        }
    }

    /// Whether this is the embedded in-process cluster.
    pub fn is_embedded(&self) -> bool {
        #[cfg(feature = "embedded")]
        return self.embedded.is_some();
        #[cfg(not(feature = "embedded"))]
        false
    }

    /// The `bootstrap.servers` string.
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap_servers
    }

    /// The embedded cluster, if this is one (for fault injection in tests).
    #[cfg(feature = "embedded")]
    pub fn as_embedded(&self) -> Option<&EmbeddedCluster> {
        self.embedded.as_deref()
    }

    /// A client config pointing at this cluster, with its client properties. Clients created
    /// from it alone do not get the token provider ([`Self::with_token_provider`]).
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.bootstrap_servers);
        for (key, value) in self.properties.iter() {
            config.set(key, value);
        }
        config
    }

    /// What the runtime creates its clients from: the client config and the token provider.
    pub(crate) fn client_settings(&self) -> ClientSettings {
        ClientSettings::new(self.client_config(), self.oauth.clone())
    }

    /// Creates the topics that do not exist yet.
    ///
    /// On the embedded cluster topic configs are ignored: the mock has no log cleaner.
    pub async fn create_topics(&self, specs: &[TopicSpec]) -> Result<()> {
        #[cfg(feature = "embedded")]
        if let Some(embedded) = &self.embedded {
            return specs
                .iter()
                .try_for_each(|s| embedded.create_topic(&s.name, s.partitions));
        }
        topics::create_topics(&self.client_settings(), specs).await
    }
}

#[cfg(feature = "embedded")]
impl From<Arc<EmbeddedCluster>> for KafkaCluster {
    fn from(embedded: Arc<EmbeddedCluster>) -> Self {
        Self {
            bootstrap_servers: embedded.bootstrap_servers().to_owned(),
            embedded: Some(embedded),
            properties: Arc::default(),
            oauth: OAuth::default(),
        }
    }
}
