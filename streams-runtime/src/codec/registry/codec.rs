//! The one codec of the Schema Registry formats: Confluent's framing (magic byte, schema id)
//! around a body that [`Body`] encodes: Avro, Protobuf or JSON.

use std::marker::PhantomData;
use std::sync::Arc;

use super::{Registration, Schema, SchemaRegistrySlot, SchemaType, topic_subject, wire};
use crate::codec::{Codec, CodecError};

/// A Schema Registry format: the schema a type registers, and its records' bodies.
pub trait Body<T>: Send + Sync + 'static {
    /// The format's name in error messages.
    const FORMAT: &'static str;
    /// The body codec of `T`.
    fn new() -> Self;
    /// The schema `T` is registered with.
    fn schema(&self) -> Schema;
    /// Appends the body of `value`.
    fn encode(&self, value: &T, out: &mut Vec<u8>) -> Result<(), CodecError>;
    /// Decodes a body written with schema `id` (looked up in `registry` if the format needs
    /// the writer's schema).
    fn decode(&self, id: u32, body: &[u8], registry: &SchemaRegistrySlot) -> Result<T, CodecError>;
}

/// Values of `T` in the Schema Registry wire format with body `B`; used as
/// [`Avro`](crate::codec::Avro), [`Protobuf`](crate::codec::Protobuf) and
/// [`JsonSchema`](crate::codec::JsonSchema).
pub struct RegistryCodec<T, B> {
    registration: Registration,
    body: B,
    types: PhantomData<fn() -> T>,
}

impl<T, B: Body<T>> RegistryCodec<T, B> {
    /// Registers `T`'s schema under `subject` (when it first encodes) in the slot's registry.
    pub fn new(registry: &SchemaRegistrySlot, subject: impl Into<String>) -> Self {
        let body = B::new();
        Self {
            registration: Registration::new(registry, subject.into(), body.schema()),
            body,
            types: PhantomData,
        }
    }

    /// The codec of `topic`'s values (subject `<topic>-value`, Confluent's default strategy).
    pub fn topic_value(registry: &SchemaRegistrySlot, topic: &str) -> Self {
        Self::new(registry, topic_subject(topic, false))
    }

    /// The codec of `topic`'s keys (subject `<topic>-key`).
    pub fn topic_key(registry: &SchemaRegistrySlot, topic: &str) -> Self {
        Self::new(registry, topic_subject(topic, true))
    }
}

impl<T: 'static, B: Body<T>> Codec<T> for RegistryCodec<T, B> {
    fn encode(&self, value: &T, out: &mut Vec<u8>) -> Result<(), CodecError> {
        let id = self.registration.id::<T>(B::FORMAT)?;
        let start = out.len();
        wire::write_header(id, out);
        self.body.encode(value, out).inspect_err(|_| out.truncate(start))
    }

    fn decode(&self, bytes: &[u8]) -> Result<T, CodecError> {
        let (id, body) = wire::read_header(bytes).map_err(|e| CodecError::decode::<T>(B::FORMAT, e))?;
        self.body.decode(id, body, self.registration.registry())
    }
}

/// The schema a record was written with (schema `id`, fetched once per registry), which must
/// be of the decoding format's type: a record of another format is the record's problem.
pub(crate) fn writer_schema<T>(
    registry: &SchemaRegistrySlot,
    id: u32,
    expected: SchemaType,
    format: &'static str,
) -> Result<Arc<Schema>, CodecError> {
    let schema = registry
        .registry()
        .and_then(|registry| registry.schema(id))
        .map_err(|e| CodecError::registry::<T>(format, "decoding", e))?;
    if schema.schema_type != expected {
        return Err(CodecError::decode::<T>(
            format,
            format!(
                "schema {id} is a {} schema, not {}",
                schema.schema_type.as_str(),
                expected.as_str()
            ),
        ));
    }
    Ok(schema)
}
