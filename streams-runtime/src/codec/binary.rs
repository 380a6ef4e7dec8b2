use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Codec, CodecError};

/// Compact bincode: the default for internal topics and state stores.
#[derive(Clone, Copy, Debug, Default)]
pub struct Binary;

impl<T: Serialize + DeserializeOwned> Codec<T> for Binary {
    fn encode(&self, value: &T, out: &mut Vec<u8>) -> Result<(), CodecError> {
        bincode::serialize_into(out, value).map_err(|e| CodecError::encode::<T>("binary", e))
    }

    fn decode(&self, bytes: &[u8]) -> Result<T, CodecError> {
        bincode::deserialize(bytes).map_err(|e| CodecError::decode::<T>("binary", e))
    }
}
