//! Table aggregations at the operator level: the group-by node that turns each row change into
//! a subtraction from its old group and an addition to its new one (keeping the table's previous
//! rows in `<store>-prior`), and the aggregate node that applies them. The DSL
//! (`KTable::group_by`, `KGroupedTable`) is in `dsl/grouped_table.rs`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::codec::{Binary, Codec};
use crate::error::Result;
use crate::processor::{Data, Record, TaskContext};
use crate::state::KeyValueStore;
use crate::topology::graph::node::{Children, Forward, Node, NodeFactory, operator};
use crate::topology::ops::aggregate::StoreData;

/// One side of a row change, on its way to the group's task.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum Change<V> {
    Subtract(V),
    Add(V),
    /// A row changed within its group: subtract `old`, then add `new`, with one result (as
    /// Kafka Streams since KIP-904's same-key updates).
    Update {
        old: V,
        new: V,
    },
}

/// `(key, value) → (group key, value to aggregate)`.
pub(crate) type Selector<K, V, K2, V2> = dyn Fn(&K, &V) -> (K2, V2) + Send + Sync;
/// Applies one change to a group's aggregate (`None`: the group has none); `None` back deletes
/// the group's row.
pub(crate) type ApplyChange<K, V, A> = dyn Fn(&K, Change<V>, Option<A>) -> Option<A> + Send + Sync;

/// Re-keys every row with `selector`, keeping the table's previous rows in `prior` to send
/// each change as a subtraction from the old group and an addition to the new one.
pub(crate) fn group_by<K: StoreData, V: StoreData, K2: StoreData, V2: StoreData>(
    prior: String,
    selector: Arc<Selector<K, V, K2, V2>>,
    children: Children<K2, Change<V2>>,
) -> Arc<dyn NodeFactory<K, V>> {
    operator(children, move |build, next| {
        Ok(GroupByProcessor {
            prior: KeyValueStore::new(build.store(&prior)?),
            selector: Arc::clone(&selector),
            next,
        })
    })
}

/// Applies the changes of each group to its aggregate in key-value store `store`.
pub(crate) fn aggregate<K: StoreData, V: Data, A: StoreData>(
    store: String,
    apply: Arc<ApplyChange<K, V, A>>,
    children: Children<K, A>,
) -> Arc<dyn NodeFactory<K, Change<V>>> {
    operator(children, move |build, next| {
        Ok(TableAggregateProcessor {
            store: KeyValueStore::new(build.store(&store)?),
            apply: Arc::clone(&apply),
            next,
        })
    })
}

struct GroupByProcessor<K, V, K2, V2> {
    prior: KeyValueStore<K, V>,
    selector: Arc<Selector<K, V, K2, V2>>,
    next: Forward<K2, Change<V2>>,
}

impl<K: StoreData, V: StoreData, K2: StoreData, V2: StoreData> Node<K, V> for GroupByProcessor<K, V, K2, V2> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        let Record { key, value, timestamp } = record;
        let (group, new_value) = (self.selector)(&key, &value);
        if let Some(old) = self.prior.get(&key)? {
            let (old_group, old_value) = (self.selector)(&key, &old);
            if same_key(&old_group, &group) {
                self.prior.put(&key, &value)?;
                let change = Change::Update {
                    old: old_value,
                    new: new_value,
                };
                return self.next.forward(ctx, Record::new(group, change, timestamp));
            }
            self.next
                .forward(ctx, Record::new(old_group, Change::Subtract(old_value), timestamp))?;
        }
        self.prior.put(&key, &value)?;
        self.next
            .forward(ctx, Record::new(group, Change::Add(new_value), timestamp))
    }

    fn delete(&mut self, ctx: &mut TaskContext, key: K, timestamp: i64) -> Result<()> {
        let Some(old) = self.prior.get(&key)? else {
            return Ok(());
        };
        self.prior.delete(&key)?;
        let (old_group, old_value) = (self.selector)(&key, &old);
        self.next
            .forward(ctx, Record::new(old_group, Change::Subtract(old_value), timestamp))
    }
}

/// Whether two group keys are the same (by their encoding: keys need no `PartialEq`).
fn same_key<K: StoreData>(a: &K, b: &K) -> bool {
    matches!((Binary.to_bytes(a), Binary.to_bytes(b)), (Ok(a), Ok(b)) if a == b)
}

struct TableAggregateProcessor<K, V, A> {
    store: KeyValueStore<K, A>,
    apply: Arc<ApplyChange<K, V, A>>,
    next: Forward<K, A>,
}

impl<K: StoreData, V: Data, A: StoreData> Node<K, Change<V>> for TableAggregateProcessor<K, V, A> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, Change<V>>) -> Result<()> {
        let Record { key, value, timestamp } = record;
        // Stamped with the latest change aggregated, as Kafka Streams' timestamped stores.
        let (current, timestamp) = match self.store.get_timestamped(&key)? {
            Some((aggregate, stored)) => (Some(aggregate), stored.max(timestamp)),
            None => (None, timestamp),
        };
        match (self.apply)(&key, value, current) {
            Some(updated) => {
                self.store.put_timestamped(&key, &updated, timestamp)?;
                self.next.forward(ctx, Record::new(key, updated, timestamp))
            }
            None => {
                self.store.delete(&key)?;
                self.next.forward_delete(ctx, key, timestamp)
            }
        }
    }
}
