use super::{Codec, CodecError};

/// Bytes as they are, like Java's `ByteArraySerializer`: for opaque payloads and for looking at
/// internal topics (changelogs, repartition topics) in tests.
#[derive(Clone, Copy, Debug, Default)]
pub struct Bytes;

impl Codec<Vec<u8>> for Bytes {
    fn encode(&self, value: &Vec<u8>, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(value);
        Ok(())
    }

    fn encode_owned(&self, value: Vec<u8>) -> Result<Vec<u8>, CodecError> {
        Ok(value)
    }

    fn decode(&self, bytes: &[u8]) -> Result<Vec<u8>, CodecError> {
        Ok(bytes.to_vec())
    }
}
