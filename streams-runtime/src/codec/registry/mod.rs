//! The Confluent Schema Registry, as the [`Avro`](super::Avro), [`Protobuf`](super::Protobuf)
//! and [`JsonSchema`](super::JsonSchema) codecs use it.
//!
//! Design:
//! - A codec is made while the topology is built, before any configuration exists, so it holds
//!   a [`SchemaRegistrySlot`] from [`StreamsBuilder::schema_registry`]; the runtime (or the
//!   test driver) fills the slot from `schema.registry.url` when it starts the topology.
//! - Codecs are synchronous and run on stream threads, so the registry client is too: an HTTP
//!   look-up blocks the thread. Look-ups are rare: a codec registers its schema once and caches
//!   the id; decoders cache each writer schema by id.
//! - A registry that cannot be reached is not a bad record: the codec's error says so
//!   ([`CodecError::is_retriable`]), and the runtime rolls the task back to its last commit and
//!   reads the record again (until `task.timeout.ms`) instead of skipping it; a global table
//!   waits on the record. A registry that answers "no such schema" (404) or refuses a schema
//!   (409, 422) is a bad record, for the error policy.
//!
//! [`StreamsBuilder::schema_registry`]: crate::topology::StreamsBuilder::schema_registry
//! [`CodecError::is_retriable`]: super::CodecError::is_retriable

mod codec;
mod http;
mod mock;
mod registration;
mod slot;
#[cfg(test)]
mod tests;
pub(crate) mod wire;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

pub(crate) use codec::writer_schema;
pub use codec::{Body, RegistryCodec};
pub use mock::MockSchemaRegistry;
pub(crate) use registration::Registration;
pub use slot::SchemaRegistrySlot;

use crate::config::{ConfigError, SchemaRegistryConfig};

/// The kind of a registered schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SchemaType {
    /// An Avro schema (JSON text).
    Avro,
    /// A Protobuf schema (`.proto` text).
    Protobuf,
    /// A JSON Schema document.
    Json,
}

impl SchemaType {
    /// The registry's name for it (`AVRO`, `PROTOBUF`, `JSON`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Avro => "AVRO",
            Self::Protobuf => "PROTOBUF",
            Self::Json => "JSON",
        }
    }
}

/// A schema as the registry stores it: its kind and text. References between schemas are not
/// supported.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Schema {
    /// Avro, Protobuf or JSON Schema.
    pub schema_type: SchemaType,
    /// The schema's text.
    pub text: String,
}

impl Schema {
    /// An Avro schema as the [`Avro`](super::Avro) codec registers it (its JSON form).
    pub fn avro(schema: &apache_avro::Schema) -> Self {
        Self {
            schema_type: SchemaType::Avro,
            text: serde_json::to_string(schema).unwrap_or_else(|_| schema.canonical_form()),
        }
    }
}

/// Why a registry request failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The registry could not be reached or answered that it is unavailable (a connection
    /// failure, a timeout, 502/503): asking again later may succeed.
    #[error("the schema registry at {url} is unavailable: {reason}")]
    Unavailable {
        /// The registry.
        url: String,
        /// What failed.
        reason: String,
    },
    /// The registry answered with a refusal (unknown id, incompatible schema, bad credentials)
    /// or no registry is configured: asking again gives the same answer.
    #[error("the schema registry at {url} refused the request: {reason}")]
    Refused {
        /// The registry.
        url: String,
        /// What it said.
        reason: String,
    },
}

impl RegistryError {
    /// Whether asking again later may succeed.
    pub fn is_retriable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }
}

/// What a registry answers; implemented over HTTP and by [`MockSchemaRegistry`].
pub trait RegistryClient: Send + Sync + 'static {
    /// Registers `schema` under `subject` (or finds it there) and returns its id.
    fn register(&self, subject: &str, schema: &Schema) -> Result<u32, RegistryError>;
    /// The schema with this id.
    fn schema_by_id(&self, id: u32) -> Result<Schema, RegistryError>;
}

/// A connection to one registry with its caches: cheap to clone, shared by every codec of a
/// topology.
#[derive(Clone)]
pub struct SchemaRegistry {
    client: Arc<dyn RegistryClient>,
    /// `(subject, schema)` → id, for what this process registered.
    ids: Arc<Mutex<HashMap<(String, Schema), u32>>>,
    /// id → schema, for what this process read.
    schemas: Arc<Mutex<HashMap<u32, Arc<Schema>>>>,
}

impl std::fmt::Debug for SchemaRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaRegistry").finish_non_exhaustive()
    }
}

impl SchemaRegistry {
    /// The registry `config` names: over HTTP, or the in-process mock of a `mock://` scope.
    /// `Ok(None)` when `schema.registry.url` is not set.
    pub fn connect(config: &SchemaRegistryConfig) -> Result<Option<Self>, ConfigError> {
        let Some(first) = config.urls().first() else {
            return Ok(None);
        };
        if let Some(scope) = first.strip_prefix("mock://") {
            return Ok(Some(Self::new(MockSchemaRegistry::scope(scope))));
        }
        Ok(Some(Self::new(Arc::new(http::HttpRegistry::new(config)))))
    }

    /// A registry answered by `client`.
    pub fn new(client: Arc<dyn RegistryClient>) -> Self {
        Self {
            client,
            ids: Arc::default(),
            schemas: Arc::default(),
        }
    }

    /// The id of `schema` under `subject`, registering it on first use.
    pub fn register(&self, subject: &str, schema: &Schema) -> Result<u32, RegistryError> {
        let key = (subject.to_owned(), schema.clone());
        if let Some(&id) = self.ids.lock().unwrap_or_else(PoisonError::into_inner).get(&key) {
            return Ok(id);
        }
        let id = self.client.register(subject, schema)?;
        self.ids.lock().unwrap_or_else(PoisonError::into_inner).insert(key, id);
        Ok(id)
    }

    /// The schema with this id, fetched once.
    pub fn schema(&self, id: u32) -> Result<Arc<Schema>, RegistryError> {
        if let Some(schema) = self.schemas.lock().unwrap_or_else(PoisonError::into_inner).get(&id) {
            return Ok(Arc::clone(schema));
        }
        let schema = Arc::new(self.client.schema_by_id(id)?);
        self.schemas
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, Arc::clone(&schema));
        Ok(schema)
    }
}

/// Confluent's default subject name strategy (`TopicNameStrategy`): `<topic>-key` or
/// `<topic>-value`.
pub fn topic_subject(topic: &str, is_key: bool) -> String {
    format!("{topic}-{}", if is_key { "key" } else { "value" })
}
