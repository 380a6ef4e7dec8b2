//! `KTable<K, V>`: the latest value per key — from a topic, an aggregation or
//! `KStream::to_table` — and its stateless operations (`filter`, `filter_not`, `map_values`),
//! with Kafka Streams' table semantics: a row that stops passing a filter is deleted from the
//! result, and the deletion announced downstream (operators: `ops/table_ops.rs`,
//! `ops/to_table.rs`).

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codec::{Binary, Codec};
use crate::processor::Data;
use crate::state::StoreKind;
use crate::topology::dsl::grouped::{register_query, register_store, repartition_if_needed};
use crate::topology::dsl::kstream::KStream;
use crate::topology::dsl::materialized::Materialized;
use crate::topology::ops::aggregate::StoreData;
use crate::topology::ops::{table_ops, to_table};

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

impl<K: StoreData, V: StoreData> KStream<K, V> {
    /// The latest value per key, kept in the store `materialized` names (changelogged and
    /// queryable); its stream is every update. Re-keyed streams are repartitioned first.
    pub fn to_table(&self, materialized: impl Into<Materialized>) -> KTable<K, V> {
        let materialized = materialized.into();
        let input = repartition_if_needed(self, &materialized.name, Arc::new(Binary));
        register_store(&input, &materialized, StoreKind::KeyValue);
        register_query::<K, V, _>(&input, &materialized.name, None);
        let name = materialized.name.clone();
        // How the table's task reads its keys: a stream joined with the table is repartitioned
        // with the same encoding, so equal keys meet in one partition.
        let key_codec = crate::topology::dsl::kstream::key_codec_of::<K>(input.partition_codec.as_ref());
        let stream = input.attach("TOTABLE", format!("stores: [{name}]"), false, |children| {
            to_table::upsert(name, children)
        });
        KTable {
            stream,
            store: materialized.name,
            key_codec,
        }
    }
}

impl<K: StoreData, V: StoreData> KTable<K, V> {
    /// The rows for which `predicate(key, value)` holds, kept in the store `materialized` names.
    /// A row that no longer holds after an update is deleted from the result.
    ///
    /// ```no_run
    /// # use kafka_streams::codec::Utf8;
    /// # use kafka_streams::topology::{Consumed, Materialized, StreamsBuilder};
    /// let builder = StreamsBuilder::new();
    /// let stock = builder.table_with("stock", Consumed::new(Utf8, Utf8), Materialized::named("stock"));
    /// let sold_out = stock.filter(|_item, count| count == "0", Materialized::named("sold-out"));
    /// ```
    #[allow(
        clippy::return_self_not_must_use,
        reason = "a materialized filter may be kept for its store alone"
    )]
    pub fn filter(
        &self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
        materialized: impl Into<Materialized>,
    ) -> KTable<K, V> {
        self.derive("KTABLE-FILTER", materialized.into(), move |k, v| {
            predicate(k, &v).then_some(v)
        })
    }

    /// The rows for which `predicate(key, value)` does **not** hold (see [`KTable::filter`]).
    #[allow(
        clippy::return_self_not_must_use,
        reason = "a materialized filter may be kept for its store alone"
    )]
    pub fn filter_not(
        &self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
        materialized: impl Into<Materialized>,
    ) -> KTable<K, V> {
        self.derive("KTABLE-FILTER", materialized.into(), move |k, v| {
            (!predicate(k, &v)).then_some(v)
        })
    }

    /// Every row with its value mapped by `mapper(key, value)`, kept in the store `materialized`
    /// names; deletes pass through.
    pub fn map_values<V2: StoreData>(
        &self,
        mapper: impl Fn(&K, V) -> V2 + Send + Sync + 'static,
        materialized: impl Into<Materialized>,
    ) -> KTable<K, V2> {
        self.derive("KTABLE-MAPVALUES", materialized.into(), move |k, v| Some(mapper(k, v)))
    }

    fn derive<V2: StoreData>(
        &self,
        kind: &'static str,
        materialized: Materialized,
        row: impl Fn(&K, V) -> Option<V2> + Send + Sync + 'static,
    ) -> KTable<K, V2> {
        register_store(&self.stream, &materialized, StoreKind::KeyValue);
        register_query::<K, V2, _>(&self.stream, &materialized.name, None);
        let name = materialized.name;
        let row: Arc<table_ops::RowFn<K, V, V2>> = Arc::new(row);
        let stream = self
            .stream
            .attach(kind, format!("stores: [{name}]"), false, |children| {
                table_ops::derived(name.clone(), row, children)
            });
        KTable {
            stream,
            store: name,
            key_codec: self.key_codec.clone(),
        }
    }
}
