use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Codec, CodecError};

/// Compact binary: the default for internal topics and state stores. The encoding is
/// [postcard](https://postcard.jamesmunns.com/wire-format)'s 1.x wire format (varint integers,
/// length-prefixed strings and sequences), which its authors keep stable across 1.x releases, so
/// stores and changelogs written by one version of this crate are read by the next. A record
/// must be decoded whole: trailing bytes are an error, not ignored.
#[derive(Clone, Copy, Debug, Default)]
pub struct Binary;

impl<T: Serialize + DeserializeOwned> Codec<T> for Binary {
    fn encode(&self, value: &T, out: &mut Vec<u8>) -> Result<(), CodecError> {
        // postcard's format, written without postcard's serializer (see `postcard_writer`).
        super::postcard_writer::write(value, out).map_err(|e| CodecError::encode::<T>("binary", e))
    }

    fn decode(&self, bytes: &[u8]) -> Result<T, CodecError> {
        match postcard::take_from_bytes(bytes) {
            Ok((value, [])) => Ok(value),
            Ok((_, rest)) => Err(CodecError::decode::<T>(
                "binary",
                format!("{} bytes left over after the value", rest.len()),
            )),
            Err(e) => Err(CodecError::decode::<T>("binary", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::fixtures::Click;

    #[test]
    fn values_round_trip_and_appends_to_what_is_there() {
        let click = Click {
            user: "ann".into(),
            at: -5,
            tags: vec![1, 2],
        };
        let mut out = vec![0xAA];
        Binary.encode(&click, &mut out).unwrap();
        assert_eq!(out[0], 0xAA, "encode appends");
        assert_eq!(Codec::<Click>::decode(&Binary, &out[1..]).unwrap(), click);
    }

    /// The wire format is postcard's documented one: a change here breaks every store and
    /// changelog written before it.
    #[test]
    fn the_wire_format_is_postcards() {
        assert_eq!(
            Binary.to_bytes(&("ab".to_owned(), 300u32, -1i64)).unwrap(),
            [2, b'a', b'b', 0xAC, 0x02, 0x01]
        );
    }

    #[test]
    fn trailing_bytes_are_an_error() {
        let mut bytes = Binary.to_bytes(&7u64).unwrap();
        bytes.push(0);
        let error = Codec::<u64>::decode(&Binary, &bytes).unwrap_err().to_string();
        assert!(error.contains("left over"), "{error}");
    }
}
