//! Turning typed keys and values into bytes and back.
//!
//! One [`Codec`] trait; [`Json`] (serde JSON) is the default for external topics, [`Binary`]
//! (compact postcard) for internal topics and stores; [`Utf8`] and [`Bytes`] match Java's string and
//! byte-array serializers.

mod binary;
mod bytes;
mod json;
mod utf8;

pub use binary::Binary;
pub use bytes::Bytes;
pub use json::Json;
pub use utf8::Utf8;

use thiserror::Error;

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
}

/// A value that could not be encoded or a record that could not be decoded.
#[derive(Debug, Error)]
#[error("{format} {direction} failed for `{type_name}`: {message}")]
pub struct CodecError {
    format: &'static str,
    direction: &'static str,
    type_name: &'static str,
    message: String,
}

impl CodecError {
    pub(crate) fn encode<T>(format: &'static str, err: impl std::fmt::Display) -> Self {
        Self {
            format,
            direction: "encoding",
            type_name: std::any::type_name::<T>(),
            message: err.to_string(),
        }
    }

    pub(crate) fn decode<T>(format: &'static str, err: impl std::fmt::Display) -> Self {
        Self {
            format,
            direction: "decoding",
            type_name: std::any::type_name::<T>(),
            message: err.to_string(),
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
