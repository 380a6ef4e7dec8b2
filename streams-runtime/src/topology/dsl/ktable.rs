//! `KTable<K, V>`: the latest value per key, as produced by an aggregation.

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codec::Codec;
use crate::processor::Data;
use crate::topology::dsl::kstream::KStream;

/// A changelog stream: each record updates the value of its key. Backed by a named store.
pub struct KTable<K, V> {
    pub(crate) stream: KStream<K, V>,
    pub(crate) store: String,
    /// How the table's topic encodes keys (tables read from a topic): streams joined with it
    /// are repartitioned with the same encoding, so equal keys share a partition.
    pub(crate) key_codec: Option<Arc<dyn Codec<K>>>,
}

impl<K: Data, V: Data> KTable<K, V> {
    /// The stream of updates (one record per change, as Kafka Streams emits with caching off).
    /// Deletes of rows travel along it too: a sink writes them as tombstones, table operations
    /// (joins, `group_by`, `to_table`) apply them, `map_values` and `merge` pass them on (same
    /// key); other stream operations (`map`, `filter`, ...) have no value to give their function
    /// and skip them.
    pub fn to_stream(&self) -> KStream<K, V> {
        self.stream.clone_handle()
    }

    /// The name of the store holding this table.
    pub fn store_name(&self) -> &str {
        &self.store
    }

    /// Writes every update to `topic` as JSON.
    pub fn to(&self, topic: &str)
    where
        K: Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned,
    {
        self.stream.to(topic);
    }
}
