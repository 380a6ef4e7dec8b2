use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{KeyValueStore, SessionStore, WindowStore};
use crate::error::Result;

/// Something holding local store partitions: a running [`KafkaStreams`](crate::KafkaStreams) or
/// a `TestDriver` (feature `test-util`). The store accessors the `#[topology]` macro
/// generates take either.
pub trait QueryableStores {
    /// The local partitions of key-value store `name`, keyed by partition.
    fn key_value_store<K, V>(&self, name: &str) -> Result<Vec<(i32, KeyValueStore<K, V>)>>
    where
        K: Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned;

    /// The local partitions of window store `name`, keyed by partition.
    fn window_store<K, V>(&self, name: &str, window_size_ms: i64) -> Result<Vec<(i32, WindowStore<K, V>)>>
    where
        K: Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned;

    /// The local partitions of session store `name`, keyed by partition.
    fn session_store<K, V>(&self, name: &str) -> Result<Vec<(i32, SessionStore<K, V>)>>
    where
        K: Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned;
}

macro_rules! queryable_by_inherent_methods {
    ($ty:ty) => {
        impl QueryableStores for $ty {
            fn key_value_store<K, V>(&self, name: &str) -> Result<Vec<(i32, KeyValueStore<K, V>)>>
            where
                K: Serialize + DeserializeOwned,
                V: Serialize + DeserializeOwned,
            {
                <$ty>::key_value_store(self, name)
            }

            fn window_store<K, V>(&self, name: &str, window_size_ms: i64) -> Result<Vec<(i32, WindowStore<K, V>)>>
            where
                K: Serialize + DeserializeOwned,
                V: Serialize + DeserializeOwned,
            {
                <$ty>::window_store(self, name, window_size_ms)
            }

            fn session_store<K, V>(&self, name: &str) -> Result<Vec<(i32, SessionStore<K, V>)>>
            where
                K: Serialize + DeserializeOwned,
                V: Serialize + DeserializeOwned,
            {
                <$ty>::session_store(self, name)
            }
        }
    };
}

/// Implements [`QueryableStores`] for a type with inherent methods of the same names (a running
/// instance, the test driver), where that type is defined.
pub(crate) use queryable_by_inherent_methods;
