use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Codec, CodecError};

/// serde JSON: the default for external topics, readable by any consumer.
#[derive(Clone, Copy, Debug, Default)]
pub struct Json;

impl<T: Serialize + DeserializeOwned> Codec<T> for Json {
    fn encode(&self, value: &T, out: &mut Vec<u8>) -> Result<(), CodecError> {
        serde_json::to_writer(out, value).map_err(|e| CodecError::encode::<T>("JSON", e))
    }

    /// Into a buffer sized for a small record up front (serde_json's own choice), not grown
    /// from empty: growing cost an output value about a hundred instructions.
    fn to_bytes(&self, value: &T) -> Result<Vec<u8>, CodecError> {
        serde_json::to_vec(value).map_err(|e| CodecError::encode::<T>("JSON", e))
    }

    fn decode(&self, bytes: &[u8]) -> Result<T, CodecError> {
        // JSON is UTF-8 (RFC 8259): checked once for the whole record, then parsed as text.
        // `from_slice` checks each string on its own instead, which cost a small record's
        // decoding about a fifth of its time.
        let text = std::str::from_utf8(bytes).map_err(|e| CodecError::decode::<T>("JSON", e))?;
        serde_json::from_str(text).map_err(|e| CodecError::decode::<T>("JSON", e))
    }

    /// A missing part reads as JSON `null`, so `Option<_>` and `()` keys accept null keys.
    fn decode_absent(&self) -> Result<T, CodecError> {
        self.decode(b"null")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::fixtures::Click;

    #[test]
    fn text_round_trips_and_bytes_that_are_not_utf8_are_a_decode_error() {
        let click = Click {
            user: "Zoë \u{1F600} \"quoted\"".into(),
            at: -5,
            tags: vec![0, 255],
        };
        let bytes = Json.to_bytes(&click).unwrap();
        assert_eq!(Codec::<Click>::decode(&Json, &bytes).unwrap(), click);
        let escaped = br#"{"user":"\u00e9\ud83d\ude00","at":1,"tags":[]}"#;
        assert_eq!(Codec::<Click>::decode(&Json, escaped).unwrap().user, "é\u{1F600}");
        let mut broken = br#"{"user":"ab","at":1,"tags":[]}"#.to_vec();
        broken[10] = 0xFF;
        let error = Codec::<Click>::decode(&Json, &broken).unwrap_err().to_string();
        assert!(error.contains("JSON decoding failed"), "{error}");
        assert!(Codec::<Click>::decode(&Json, br#"{"user":"ab""#).is_err(), "truncated");
    }
}
