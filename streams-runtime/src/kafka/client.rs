//! How the runtime creates its Kafka clients: one settings type ([`ClientSettings`]: librdkafka
//! properties plus the cluster's OAUTHBEARER token provider) and one client context
//! ([`StreamsContext`]) for every client that needs no special one. Clients with their own
//! context (the stream thread's consumer and producer) are created here too, so no client misses
//! the token provider.
//!
//! The context also keeps why a client could not talk to the cluster. librdkafka answers a
//! request it could not send with "Broker transport failure" and reports the cause — a wrong
//! password, an untrusted certificate, an unknown host — separately, to the client's error
//! callback; [`StreamsContext::last_error`] lets the first request of an application fail with it.

use std::sync::Mutex;

use rdkafka::ClientContext;
use rdkafka::admin::AdminClient;
use rdkafka::client::Client;
use rdkafka::config::{ClientConfig, FromClientConfigAndContext};
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, DeliveryResult, Producer, ProducerContext, ThreadedProducer};

use super::oauth::OAuth;
use crate::config::ProcessingGuarantee;
use crate::error::{Error, Result, report};

/// A consumer with the runtime's plain context.
/// librdkafka's consumer property whose default starves a fast consumer (see
/// [`defaults::FETCH_QUEUE_BACKOFF_MS`](crate::config::defaults::FETCH_QUEUE_BACKOFF_MS)).
pub(crate) const FETCH_QUEUE_BACKOFF: &str = "fetch.queue.backoff.ms";

pub(crate) type StreamsConsumer = BaseConsumer<StreamsContext>;
/// A producer with the runtime's plain context.
pub(crate) type PlainProducer = BaseProducer<StreamsContext>;
/// An admin client with the runtime's plain context.
pub(crate) type StreamsAdmin = AdminClient<StreamsContext>;

/// librdkafka properties for one kind of client only, applied over the common [`ClientSettings`].
type ClientProperties = std::collections::BTreeMap<String, String>;

/// The clients of one application instance: what every client gets (bootstrap servers,
/// security, credentials, the token provider), and the properties for its consumers or its
/// producers only.
#[derive(Clone, Debug, Default)]
pub(crate) struct InstanceClients {
    /// What every client gets, the admin client included.
    pub(crate) common: ClientSettings,
    consumer: ClientProperties,
    producer: ClientProperties,
}

impl InstanceClients {
    /// `common`, with the application's `consumer.`/`producer.`-prefixed `properties` (prefix
    /// stripped) for that kind of client only, as in Kafka Streams. Consumers also get the
    /// runtime's `fetch.queue.backoff.ms` unless the application sets it.
    pub(crate) fn new(common: ClientSettings, properties: &std::collections::BTreeMap<String, String>) -> Self {
        let (mut consumer, mut producer) = (ClientProperties::new(), ClientProperties::new());
        if !properties.contains_key(FETCH_QUEUE_BACKOFF) {
            consumer.insert(
                FETCH_QUEUE_BACKOFF.to_owned(),
                crate::config::defaults::FETCH_QUEUE_BACKOFF_MS.to_string(),
            );
        }
        for (key, value) in properties {
            if let Some(key) = key.strip_prefix("consumer.") {
                consumer.insert(key.to_owned(), value.clone());
            } else if let Some(key) = key.strip_prefix("producer.") {
                producer.insert(key.to_owned(), value.clone());
            }
        }
        Self {
            common,
            consumer,
            producer,
        }
    }

    /// The settings of a consumer.
    pub(crate) fn consumer(&self) -> ClientSettings {
        self.common.with_overrides(&self.consumer)
    }

    /// The settings of a producer.
    pub(crate) fn producer(&self) -> ClientSettings {
        self.common.with_overrides(&self.producer)
    }
}

/// librdkafka properties and the token provider every client of a cluster gets.
#[derive(Clone, Debug, Default)]
pub(crate) struct ClientSettings {
    config: ClientConfig,
    oauth: OAuth,
}

impl ClientSettings {
    pub(crate) fn new(config: ClientConfig, oauth: OAuth) -> Self {
        Self { config, oauth }
    }

    /// Sets librdkafka property `key` for the clients created from here on.
    pub(crate) fn set(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.config.set(key, value);
        self
    }

    /// Sets librdkafka property `key` to the runtime's default `value`, unless the application
    /// set it.
    pub(crate) fn set_default(&mut self, key: &str, value: impl ToString) -> &mut Self {
        if self.config.get(key).is_none() {
            self.config.set(key, value.to_string());
        }
        self
    }

    /// The value of librdkafka property `key`, if set.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.config.get(key)
    }

    /// These settings with every property of `overrides` applied on top.
    pub(crate) fn with_overrides(&self, overrides: &ClientProperties) -> Self {
        let mut settings = self.clone();
        for (key, value) in overrides {
            settings.config.set(key, value);
        }
        settings
    }

    /// Makes a consumer read only committed records under exactly-once (every consumer of an
    /// instance: the group's, the restore and standby reader's, the global thread's), so no
    /// aborted record reaches a task, a store or a global table.
    pub(crate) fn set_isolation(&mut self, guarantee: ProcessingGuarantee) -> &mut Self {
        if guarantee == ProcessingGuarantee::ExactlyOnceV2 {
            self.config.set("isolation.level", "read_committed");
        }
        self
    }

    // Each constructor takes `what` the client is for ("the global consumer"): its errors say
    // "failed to create <what>".

    /// A consumer with the plain context.
    pub(crate) fn consumer(&self, what: &str) -> Result<StreamsConsumer> {
        self.create_with(what, StreamsContext::new(self.oauth.clone()))
    }

    /// A producer with the plain context.
    pub(crate) fn producer(&self, what: &str) -> Result<PlainProducer> {
        self.create_with(what, StreamsContext::new(self.oauth.clone()))
    }

    /// An admin client with the plain context.
    pub(crate) fn admin(&self, what: &str) -> Result<StreamsAdmin> {
        self.create_with(what, StreamsContext::new(self.oauth.clone()))
    }

    /// A client with a context of its own (which answers token refreshes from [`Self::oauth`]),
    /// handed its first token so it connects before anything polls it.
    pub(crate) fn create_with<T, C>(&self, what: &str, context: C) -> Result<T>
    where
        T: FromClientConfigAndContext<C> + HoldsClient<C>,
        C: ClientContext,
    {
        let client: T = self
            .config
            .create_with_context(context)
            .map_err(|e| Error::kafka(format!("failed to create {what}"), e))?;
        self.refresh_token(client.native())
            .map_err(|e| e.context(format!("failed to create {what}")))?;
        Ok(client)
    }

    /// Hands a long-lived client that nothing polls between uses (an admin client, a pooled
    /// consumer) a fresh token; call before each use. The provider caches, so this is cheap.
    pub(crate) fn refresh_token<C: ClientContext>(&self, client: &Client<C>) -> Result<()> {
        self.oauth.install(client, &self.config)
    }

    /// The token provider, for a client context of its own (the stream thread's).
    pub(crate) fn oauth(&self) -> OAuth {
        self.oauth.clone()
    }
}

/// The librdkafka client inside each kind of client the runtime creates (to hand it a token).
pub(crate) trait HoldsClient<C: ClientContext> {
    fn native(&self) -> &Client<C>;
}

impl<C: ConsumerContext> HoldsClient<C> for BaseConsumer<C> {
    fn native(&self) -> &Client<C> {
        self.client()
    }
}

impl<C: ProducerContext> HoldsClient<C> for BaseProducer<C> {
    fn native(&self) -> &Client<C> {
        self.client()
    }
}

impl<C: ProducerContext> HoldsClient<C> for ThreadedProducer<C> {
    fn native(&self) -> &Client<C> {
        self.client()
    }
}

impl<C: ClientContext> HoldsClient<C> for AdminClient<C> {
    fn native(&self) -> &Client<C> {
        self.inner()
    }
}

/// The client context of the runtime's clients: answers librdkafka's token refresh requests from
/// the token provider and remembers the last connection-level error.
#[derive(Debug, Default)]
pub(crate) struct StreamsContext {
    oauth: OAuth,
    last_error: Mutex<Option<String>>,
}

impl StreamsContext {
    pub(crate) fn new(oauth: OAuth) -> Self {
        Self {
            oauth,
            last_error: Mutex::default(),
        }
    }

    /// The last reported connection-level error (e.g. "SASL authentication error: …").
    pub(crate) fn last_error(&self) -> Option<String> {
        self.last_error.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl ClientContext for StreamsContext {
    super::answer_token_refreshes!(oauth);

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!(target: "librdkafka", error = %report(&error), reason, "client error");
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason.to_owned());
    }
}

impl ConsumerContext for StreamsContext {}

impl ProducerContext for StreamsContext {
    type DeliveryOpaque = ();

    fn delivery(&self, _: &DeliveryResult<'_>, _: ()) {}
}
