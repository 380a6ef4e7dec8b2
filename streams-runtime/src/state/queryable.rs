use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{KeyValueStore, SessionStore, WindowStore};
use crate::error::Result;
use crate::window::Windowed;

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

    /// Every entry of key-value store `name` in this instance's partitions, by key: a scan of
    /// each (for tests, checks and small stores; look keys up with
    /// [`key_value_store`](Self::key_value_store)).
    fn key_value_entries<K, V>(&self, name: &str) -> Result<BTreeMap<K, V>>
    where
        K: Serialize + DeserializeOwned + Ord,
        V: Serialize + DeserializeOwned,
    {
        merged(self.key_value_store::<K, V>(name)?, KeyValueStore::all)
    }

    /// Every window of window store `name` in this instance's partitions, by key and window:
    /// a scan of each, as [`key_value_entries`](Self::key_value_entries).
    fn window_entries<K, V>(&self, name: &str, window_size_ms: i64) -> Result<BTreeMap<Windowed<K>, V>>
    where
        K: Serialize + DeserializeOwned + Ord,
        V: Serialize + DeserializeOwned,
    {
        merged(self.window_store::<K, V>(name, window_size_ms)?, WindowStore::all)
    }

    /// Every session of session store `name` in this instance's partitions, by key and
    /// session: a scan of each, as [`key_value_entries`](Self::key_value_entries).
    fn session_entries<K, V>(&self, name: &str) -> Result<BTreeMap<Windowed<K>, V>>
    where
        K: Serialize + DeserializeOwned + Ord,
        V: Serialize + DeserializeOwned,
    {
        merged(self.session_store::<K, V>(name)?, SessionStore::all)
    }
}

/// The entries of every partition, scanned with `scan`, in one map.
fn merged<S, K: Ord, V>(partitions: Vec<(i32, S)>, scan: impl Fn(&S) -> Result<Vec<(K, V)>>) -> Result<BTreeMap<K, V>> {
    let mut entries = BTreeMap::new();
    for (_, partition) in &partitions {
        entries.extend(scan(partition)?);
    }
    Ok(entries)
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
