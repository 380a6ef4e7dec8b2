//! JSON Schema bodies: the JSON document, as serde writes it.

use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::CodecError;
use super::registry::{Body, RegistryCodec, Schema, SchemaRegistrySlot, SchemaType, writer_schema};

/// The JSON Schema a type is registered with.
pub trait HasJsonSchema {
    /// The schema document (JSON text). References to other schemas are not supported.
    const SCHEMA: &'static str;
}

/// Values of `T` as serde JSON in Confluent's Schema Registry wire format: what
/// `KafkaJsonSchemaSerializer` reads and writes. Documents are not validated against the
/// schema (Confluent's default, `json.fail.invalid.schema=false`); the registry checks the
/// schema's compatibility when it is registered.
pub type JsonSchema<T> = RegistryCodec<T, JsonSchemaBody<T>>;

/// The JSON body of [`JsonSchema`].
pub struct JsonSchemaBody<T>(PhantomData<fn() -> T>);

impl<T> Body<T> for JsonSchemaBody<T>
where
    T: HasJsonSchema + Serialize + DeserializeOwned + 'static,
{
    const FORMAT: &'static str = "JSON Schema";

    fn new() -> Self {
        Self(PhantomData)
    }

    fn schema(&self) -> Schema {
        Schema {
            schema_type: SchemaType::Json,
            text: T::SCHEMA.to_owned(),
        }
    }

    fn encode(&self, value: &T, out: &mut Vec<u8>) -> Result<(), CodecError> {
        serde_json::to_writer(out, value).map_err(|e| CodecError::encode::<T>(Self::FORMAT, e))
    }

    fn decode(&self, id: u32, body: &[u8], registry: &SchemaRegistrySlot) -> Result<T, CodecError> {
        writer_schema::<T>(registry, id, SchemaType::Json, Self::FORMAT)?;
        serde_json::from_slice(body).map_err(|e| CodecError::decode::<T>(Self::FORMAT, e))
    }
}
