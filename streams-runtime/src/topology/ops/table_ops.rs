//! Stateless table operations — `KTable::filter`, `filter_not`, `map_values` — with Kafka
//! Streams' table semantics: the result is itself a table, so a row that **stops** passing the
//! filter is deleted from it (and the deletion announced downstream), and a row deleted upstream
//! is deleted from it too. A stream filter followed by `to_table` would keep such rows forever.
//!
//! Results are materialized in their own store (changelogged and queryable like any table), so
//! they can be joined, grouped and queried; the key and its partitioning are unchanged.

use std::sync::Arc;

use crate::error::Result;
use crate::processor::{Record, TaskContext};
use crate::state::{KeyValueStore, StoreKind};
use crate::topology::dsl::grouped::{register_query, register_store};
use crate::topology::dsl::ktable::KTable;
use crate::topology::dsl::materialized::Materialized;
use crate::topology::graph::node::{Forward, Node, operator};
use crate::topology::ops::aggregate::StoreData;

/// A row's new value in the result table; `None`: the row is not in it.
type RowFn<K, V, V2> = dyn Fn(&K, V) -> Option<V2> + Send + Sync;

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
        let row: Arc<RowFn<K, V, V2>> = Arc::new(row);
        let stream = self
            .stream
            .attach(kind, format!("stores: [{name}]"), false, |children| {
                let store = name.clone();
                operator(children, move |build, next| {
                    Ok(DerivedTableProcessor {
                        store: KeyValueStore::new(build.store(&store)?),
                        row: Arc::clone(&row),
                        next,
                    })
                })
            });
        KTable {
            stream,
            store: name,
            key_codec: self.key_codec.clone(),
        }
    }
}

struct DerivedTableProcessor<K, V, V2> {
    store: KeyValueStore<K, V2>,
    row: Arc<RowFn<K, V, V2>>,
    next: Forward<K, V2>,
}

impl<K: StoreData, V: StoreData, V2: StoreData> DerivedTableProcessor<K, V, V2> {
    /// Deletes `key` from the result, announcing it only if the row was there.
    fn remove(&mut self, ctx: &mut TaskContext, key: K, timestamp: i64) -> Result<()> {
        if self.store.get(&key)?.is_none() {
            return Ok(());
        }
        self.store.delete(&key)?;
        self.next.forward_delete(ctx, key, timestamp)
    }
}

impl<K: StoreData, V: StoreData, V2: StoreData> Node<K, V> for DerivedTableProcessor<K, V, V2> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        let Record { key, value, timestamp } = record;
        match (self.row)(&key, value) {
            Some(value) => {
                self.store.put_timestamped(&key, &value, timestamp)?;
                self.next.forward(ctx, Record::new(key, value, timestamp))
            }
            None => self.remove(ctx, key, timestamp),
        }
    }

    fn delete(&mut self, ctx: &mut TaskContext, key: K, timestamp: i64) -> Result<()> {
        self.remove(ctx, key, timestamp)
    }
}
