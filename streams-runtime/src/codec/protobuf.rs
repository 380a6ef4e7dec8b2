//! Protobuf bodies: the message indexes (which message of the `.proto` file), then the message
//! as prost encodes it.

use std::marker::PhantomData;

use super::CodecError;
use super::registry::{Body, RegistryCodec, Schema, SchemaRegistrySlot, SchemaType, wire, writer_schema};

/// The schema a prost message type is registered with: the `.proto` file's text (usually
/// `include_str!` of the file prost-build compiled) and the message's place in it.
pub trait HasProtobufSchema {
    /// The `.proto` file's text. Imports of other files are not supported.
    const SCHEMA: &'static str;
    /// The message's indexes in the file: `[0]` is the first top-level message, `[1, 0]` the
    /// first message nested in the second.
    const MESSAGE_INDEXES: &'static [i32] = &[0];
}

/// Protobuf messages of `T` in Confluent's Schema Registry wire format: what
/// `KafkaProtobufSerializer` reads and writes.
pub type Protobuf<T> = RegistryCodec<T, ProtobufBody<T>>;

/// The Protobuf body of [`Protobuf`].
pub struct ProtobufBody<T>(PhantomData<fn() -> T>);

impl<T> Body<T> for ProtobufBody<T>
where
    T: prost::Message + Default + HasProtobufSchema + 'static,
{
    const FORMAT: &'static str = "Protobuf";

    fn new() -> Self {
        Self(PhantomData)
    }

    fn schema(&self) -> Schema {
        Schema {
            schema_type: SchemaType::Protobuf,
            text: T::SCHEMA.to_owned(),
        }
    }

    fn encode(&self, value: &T, out: &mut Vec<u8>) -> Result<(), CodecError> {
        wire::write_message_indexes(T::MESSAGE_INDEXES, out);
        value.encode(out).map_err(|e| CodecError::encode::<T>(Self::FORMAT, e))
    }

    fn decode(&self, id: u32, body: &[u8], registry: &SchemaRegistrySlot) -> Result<T, CodecError> {
        writer_schema::<T>(registry, id, SchemaType::Protobuf, Self::FORMAT)?;
        let (indexes, message) =
            wire::read_message_indexes(body).map_err(|e| CodecError::decode::<T>(Self::FORMAT, e))?;
        if indexes != T::MESSAGE_INDEXES {
            return Err(CodecError::decode::<T>(
                Self::FORMAT,
                format!(
                    "the record holds message {indexes:?} of its schema, this type is message {:?}",
                    T::MESSAGE_INDEXES
                ),
            ));
        }
        T::decode(message).map_err(|e| CodecError::decode::<T>(Self::FORMAT, e))
    }
}
