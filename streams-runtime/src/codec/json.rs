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

    fn decode(&self, bytes: &[u8]) -> Result<T, CodecError> {
        serde_json::from_slice(bytes).map_err(|e| CodecError::decode::<T>("JSON", e))
    }

    /// A missing part reads as JSON `null`, so `Option<_>` and `()` keys accept null keys.
    fn decode_absent(&self) -> Result<T, CodecError> {
        self.decode(b"null")
    }
}
