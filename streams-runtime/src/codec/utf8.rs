use super::{Codec, CodecError};

/// Plain UTF-8 strings, byte-compatible with Java's `StringSerializer` (so keys partition alike).
#[derive(Clone, Copy, Debug, Default)]
pub struct Utf8;

impl Codec<String> for Utf8 {
    fn encode(&self, value: &String, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(value.as_bytes());
        Ok(())
    }

    fn encode_owned(&self, value: String) -> Result<Vec<u8>, CodecError> {
        Ok(value.into_bytes())
    }

    fn decode(&self, bytes: &[u8]) -> Result<String, CodecError> {
        String::from_utf8(bytes.to_vec()).map_err(|e| CodecError::decode::<String>("UTF-8", e))
    }
}
