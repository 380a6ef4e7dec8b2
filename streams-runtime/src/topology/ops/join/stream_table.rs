//! Stream-table joins: each stream record looks up its key in the table's store (of the same
//! task — the inputs are co-partitioned) and is joined with the current table value.

use std::sync::Arc;

use crate::error::Result;
use crate::processor::{Data, Record, TaskContext};
use crate::state::KeyValueStore;
use crate::topology::graph::node::{Children, Forward, Node, NodeFactory, operator};
use crate::topology::ops::aggregate::StoreData;

/// `(key, stream value, table value if any) → joined value, or nothing` (inner joins drop
/// records whose key is not in the table).
pub(crate) type JoinFn<K, V, VT, VR> = dyn Fn(&K, &V, Option<&VT>) -> Option<VR> + Send + Sync;

/// Looks every record's key up in key-value store `store` and joins it with `joiner`.
pub(crate) fn lookup<K: StoreData, V: Data, VT: StoreData, VR: Data>(
    store: String,
    joiner: Arc<JoinFn<K, V, VT, VR>>,
    children: Children<K, VR>,
) -> Arc<dyn NodeFactory<K, V>> {
    operator(children, move |build, next| {
        Ok(StreamTableJoinProcessor {
            table: KeyValueStore::new(build.store(&store)?),
            joiner: Arc::clone(&joiner),
            next,
        })
    })
}

struct StreamTableJoinProcessor<K, V, VT, VR> {
    table: KeyValueStore<K, VT>,
    joiner: Arc<JoinFn<K, V, VT, VR>>,
    next: Forward<K, VR>,
}

impl<K: StoreData, V: Data, VT: StoreData, VR: Data> Node<K, V> for StreamTableJoinProcessor<K, V, VT, VR> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        let table_value = self.table.get(&record.key)?;
        match (self.joiner)(&record.key, &record.value, table_value.as_ref()) {
            Some(value) => self.next.forward(
                ctx,
                Record {
                    key: record.key,
                    value,
                    timestamp: record.timestamp,
                },
            ),
            None => Ok(()),
        }
    }
}
