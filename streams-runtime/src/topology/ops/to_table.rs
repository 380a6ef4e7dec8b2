//! The operator behind `KStream::to_table`: each record upserts its key in a store.

use std::sync::Arc;

use crate::error::Result;
use crate::processor::{Record, TaskContext};
use crate::state::KeyValueStore;
use crate::topology::graph::node::{Children, Forward, Node, NodeFactory, operator};
use crate::topology::ops::aggregate::StoreData;

/// Upserts every record in key-value store `store` and passes it on.
pub(crate) fn upsert<K: StoreData, V: StoreData>(
    store: String,
    children: Children<K, V>,
) -> Arc<dyn NodeFactory<K, V>> {
    operator(children, move |build, next| {
        Ok(ToTableProcessor {
            store: KeyValueStore::new(build.store(&store)?),
            next,
        })
    })
}

struct ToTableProcessor<K, V> {
    store: KeyValueStore<K, V>,
    next: Forward<K, V>,
}

impl<K: StoreData, V: StoreData> Node<K, V> for ToTableProcessor<K, V> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        self.store
            .put_timestamped(&record.key, &record.value, record.timestamp)?;
        self.next.forward(ctx, record)
    }

    /// Only a table's stream carries deletes (`table.to_stream().to_table(..)`).
    fn delete(&mut self, ctx: &mut TaskContext, key: K, timestamp: i64) -> Result<()> {
        self.store.delete(&key)?;
        self.next.forward_delete(ctx, key, timestamp)
    }
}
