//! Table-table joins (inner, left, outer): an update on either side looks its key up in the other
//! table's store (same task: the tables must be co-partitioned, i.e. their topics have the same
//! partition count and keys encoded alike) and updates the joined table, which is materialized
//! in its own store and emits every change.
//!
//! A delete on either side recomputes the row without it: the joined row is updated (left and
//! outer joins) or deleted (a delete goes downstream, e.g. a tombstone to the output topic).

use std::sync::Arc;

use crate::error::Result;
use crate::processor::{Record, TaskContext};
use crate::state::KeyValueStore;
use crate::topology::graph::node::{Children, Forward, Node, NodeFactory, operator};
use crate::topology::ops::aggregate::StoreData;

/// `(key, left value, right value) → joined value`, `None` when the join kind emits nothing.
pub(crate) type Joiner<K, V1, V2, VR> = dyn Fn(&K, Option<&V1>, Option<&V2>) -> Option<VR> + Send + Sync;

/// One side: `VM` its values, `VO` the other table's (in `other_store`); results go to
/// `result_store` and downstream.
pub(crate) fn join_side<K: StoreData, VM: StoreData, VO: StoreData, VR: StoreData>(
    other_store: String,
    result_store: String,
    joiner: Arc<Joiner<K, VM, VO, VR>>,
    children: Children<K, VR>,
) -> Arc<dyn NodeFactory<K, VM>> {
    operator(children, move |build, next| {
        Ok(TableJoinProcessor {
            other: KeyValueStore::new(build.store(&other_store)?),
            result: KeyValueStore::new(build.store(&result_store)?),
            joiner: Arc::clone(&joiner),
            next,
        })
    })
}

struct TableJoinProcessor<K, VM, VO, VR> {
    other: KeyValueStore<K, VO>,
    result: KeyValueStore<K, VR>,
    joiner: Arc<Joiner<K, VM, VO, VR>>,
    next: Forward<K, VR>,
}

impl<K: StoreData, VM: StoreData, VO: StoreData, VR: StoreData> Node<K, VM> for TableJoinProcessor<K, VM, VO, VR> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, VM>) -> Result<()> {
        let (other, timestamp) = stamped(self.other.get_timestamped(&record.key)?, record.timestamp);
        let joined = (self.joiner)(&record.key, Some(&record.value), other.as_ref());
        set_row(ctx, &self.result, &mut self.next, record.key, joined, timestamp)
    }

    fn delete(&mut self, ctx: &mut TaskContext, key: K, timestamp: i64) -> Result<()> {
        let (other, timestamp) = stamped(self.other.get_timestamped(&key)?, timestamp);
        let joined = (self.joiner)(&key, None, other.as_ref());
        set_row(ctx, &self.result, &mut self.next, key, joined, timestamp)
    }
}

/// The other side's row and the joined row's timestamp: the later of the change's and the
/// row's (as Kafka Streams stamps table-table join results).
fn stamped<V>(other: Option<(V, i64)>, timestamp: i64) -> (Option<V>, i64) {
    match other {
        Some((row, stored)) => (Some(row), stored.max(timestamp)),
        None => (None, timestamp),
    }
}

/// Sets a joined table's row to `joined` and passes the change on: an update, or (`None`) a
/// delete of a row it had.
pub(crate) fn set_row<K: StoreData, VR: StoreData>(
    ctx: &mut TaskContext,
    result: &KeyValueStore<K, VR>,
    next: &mut Forward<K, VR>,
    key: K,
    joined: Option<VR>,
    timestamp: i64,
) -> Result<()> {
    match joined {
        Some(joined) => {
            result.put_timestamped(&key, &joined, timestamp)?;
            next.forward(ctx, Record::new(key, joined, timestamp))
        }
        None if result.get(&key)?.is_some() => {
            result.delete(&key)?;
            next.forward_delete(ctx, key, timestamp)
        }
        None => Ok(()),
    }
}
