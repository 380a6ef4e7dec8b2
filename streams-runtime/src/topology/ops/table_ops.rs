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
use crate::state::KeyValueStore;
use crate::topology::graph::node::{Children, Forward, Node, NodeFactory, operator};
use crate::topology::ops::aggregate::StoreData;

/// A row's new value in the result table; `None`: the row is not in it.
pub(crate) type RowFn<K, V, V2> = dyn Fn(&K, V) -> Option<V2> + Send + Sync;

/// Keeps the rows `row` gives in key-value store `store`, deleting those it no longer gives.
pub(crate) fn derived<K: StoreData, V: StoreData, V2: StoreData>(
    store: String,
    row: Arc<RowFn<K, V, V2>>,
    children: Children<K, V2>,
) -> Arc<dyn NodeFactory<K, V>> {
    operator(children, move |build, next| {
        Ok(DerivedTableProcessor {
            store: KeyValueStore::new(build.store(&store)?),
            row: Arc::clone(&row),
            next,
        })
    })
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
