//! Global tables at the operator level: what the runtime needs to fill a global store from its
//! topic (`GlobalSpec`), and the stream-global join that looks a key computed from each record
//! up in it. The DSL (`GlobalKTable`, `StreamsBuilder::global_table_with`,
//! `KStream::join_global`) is in `dsl/global_ktable.rs`.

use std::sync::Arc;

use crate::error::Result;
use crate::processor::{Data, Record, TaskContext};
use crate::state::{KeyValueStore, SharedStore};
use crate::topology::graph::node::{Children, Forward, Node, NodeFactory, operator};
use crate::topology::ops::aggregate::StoreData;

/// Applies one raw record of a global topic to its store (a tombstone deletes the key).
pub(crate) type GlobalApply = dyn Fn(&SharedStore, Option<&[u8]>, Option<&[u8]>) -> Result<()> + Send + Sync;

/// A global table of the topology: its topic, store and decoding.
#[derive(Clone)]
pub(crate) struct GlobalSpec {
    pub(crate) topic: String,
    pub(crate) store: String,
    pub(crate) apply: Arc<GlobalApply>,
}

/// `(key, value) → the global table's key` to look up.
pub(crate) type KeyMapper<K, V, GK> = dyn Fn(&K, &V) -> GK + Send + Sync;
/// `(key, value, global value if any) → joined value, or nothing`.
pub(crate) type GlobalJoiner<K, V, GV, VR> = dyn Fn(&K, &V, Option<&GV>) -> Option<VR> + Send + Sync;

/// Looks `key_mapper(key, value)` up in global store `store` and joins with `joiner`.
pub(crate) fn lookup<K: Data, V: Data, GK: StoreData, GV: StoreData, VR: Data>(
    store: String,
    key_mapper: Arc<KeyMapper<K, V, GK>>,
    joiner: Arc<GlobalJoiner<K, V, GV, VR>>,
    children: Children<K, VR>,
) -> Arc<dyn NodeFactory<K, V>> {
    operator(children, move |build, next| {
        Ok(GlobalJoinProcessor {
            table: KeyValueStore::new(build.store(&store)?),
            key_mapper: Arc::clone(&key_mapper),
            joiner: Arc::clone(&joiner),
            next,
        })
    })
}

struct GlobalJoinProcessor<K, V, GK, GV, VR> {
    table: KeyValueStore<GK, GV>,
    key_mapper: Arc<KeyMapper<K, V, GK>>,
    joiner: Arc<GlobalJoiner<K, V, GV, VR>>,
    next: Forward<K, VR>,
}

impl<K: Data, V: Data, GK: StoreData, GV: StoreData, VR: Data> Node<K, V> for GlobalJoinProcessor<K, V, GK, GV, VR> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        let global_key = (self.key_mapper)(&record.key, &record.value);
        let found = self.table.get(&global_key)?;
        match (self.joiner)(&record.key, &record.value, found.as_ref()) {
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
