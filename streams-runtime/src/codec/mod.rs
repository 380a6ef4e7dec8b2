//! Turning typed keys and values into bytes and back.
//!
//! One [`Codec`] trait; [`Json`] (serde JSON) is the default for external topics, [`Binary`]
//! (compact postcard) for internal topics and stores; [`Utf8`] and [`Bytes`] match Java's string and
//! byte-array serializers. With the `schema-registry` feature, `Avro`, `Protobuf` and
//! `JsonSchema` read and write Confluent Schema Registry's wire format (see `registry`).

#[cfg(feature = "schema-registry")]
mod avro;
mod binary;
mod bytes;
#[cfg(test)]
mod fixtures;
mod json;
#[cfg(feature = "schema-registry")]
mod json_schema;
mod postcard_writer;
#[cfg(feature = "schema-registry")]
mod protobuf;
#[cfg(feature = "schema-registry")]
pub mod registry;
mod utf8;

#[cfg(feature = "schema-registry")]
pub use avro::{Avro, AvroBody, AvroSchema};
pub use binary::Binary;
pub use bytes::Bytes;
pub use json::Json;
#[cfg(feature = "schema-registry")]
pub use json_schema::{HasJsonSchema, JsonSchema, JsonSchemaBody};
#[cfg(feature = "schema-registry")]
pub use protobuf::{HasProtobufSchema, Protobuf, ProtobufBody};
pub use utf8::Utf8;

use thiserror::Error;

use crate::error::ErrorKind;

/// Encodes and decodes values of type `T`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot encode or decode `{T}`",
    note = "derive `serde::Serialize` and `serde::Deserialize` for `{T}` to use the built-in codecs"
)]
pub trait Codec<T>: Send + Sync + 'static {
    /// Appends the encoding of `value` to `out`.
    fn encode(&self, value: &T, out: &mut Vec<u8>) -> Result<(), CodecError>;
    /// Decodes one value from `bytes`.
    fn decode(&self, bytes: &[u8]) -> Result<T, CodecError>;

    /// Decodes the value of a record without this part (a null key): by default as empty bytes.
    fn decode_absent(&self) -> Result<T, CodecError> {
        self.decode(&[])
    }

    /// Encodes `value` into a fresh buffer.
    fn to_bytes(&self, value: &T) -> Result<Vec<u8>, CodecError> {
        let mut out = Vec::new();
        self.encode(value, &mut out)?;
        Ok(out)
    }

    /// Encodes `value`, which the caller gives up, into a fresh buffer. Codecs whose encoding
    /// is the value's own bytes ([`Utf8`], [`Bytes`]) hand them over without a copy; the rest
    /// encode as [`to_bytes`](Self::to_bytes) does. Sinks use it on every record.
    fn encode_owned(&self, value: T) -> Result<Vec<u8>, CodecError> {
        self.to_bytes(&value)
    }
}

/// A value that could not be encoded or a record that could not be decoded.
#[derive(Debug, Error)]
#[error("{format} {direction} failed for `{type_name}`: {message}")]
pub struct CodecError {
    format: &'static str,
    direction: &'static str,
    type_name: &'static str,
    message: String,
    retriable: bool,
}

impl CodecError {
    /// Whether the failure was not the value's: a service the codec needs (the Schema
    /// Registry) could not be reached, and the same bytes may decode later.
    pub fn is_retriable(&self) -> bool {
        self.retriable
    }

    /// The kind of runtime error this becomes: [`ErrorKind::Unavailable`] if retriable (the
    /// record is processed again), else [`ErrorKind::Codec`] (the error policy's).
    pub fn error_kind(&self) -> ErrorKind {
        if self.retriable {
            ErrorKind::Unavailable
        } else {
            ErrorKind::Codec
        }
    }

    /// Why a registry request a codec made failed.
    #[cfg(feature = "schema-registry")]
    pub(crate) fn registry<T>(format: &'static str, direction: &'static str, err: registry::RegistryError) -> Self {
        Self {
            format,
            direction,
            type_name: std::any::type_name::<T>(),
            retriable: err.is_retriable(),
            message: err.to_string(),
        }
    }

    pub(crate) fn encode<T>(format: &'static str, err: impl std::fmt::Display) -> Self {
        Self {
            format,
            direction: "encoding",
            type_name: std::any::type_name::<T>(),
            message: err.to_string(),
            retriable: false,
        }
    }

    pub(crate) fn decode<T>(format: &'static str, err: impl std::fmt::Display) -> Self {
        Self {
            format,
            direction: "decoding",
            type_name: std::any::type_name::<T>(),
            message: err.to_string(),
            retriable: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Click {
        user_id: String,
        timestamp: i64,
    }

    #[test]
    fn both_codecs_round_trip() {
        let click = Click {
            user_id: "user-1".into(),
            timestamp: 1_704_447_630_000,
        };
        for bytes in [Json.to_bytes(&click).unwrap(), Binary.to_bytes(&click).unwrap()] {
            let back: Click = if bytes.first() == Some(&b'{') {
                Json.decode(&bytes)
            } else {
                Binary.decode(&bytes)
            }
            .unwrap();
            assert_eq!(back, click);
        }
    }

    #[test]
    fn malformed_input_is_an_error_naming_the_type() {
        let err = Codec::<Click>::decode(&Json, b"{\"user_id\": 3")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("JSON decoding failed for `"), "{err}");
        assert!(err.contains("Click"), "{err}");
    }
}
