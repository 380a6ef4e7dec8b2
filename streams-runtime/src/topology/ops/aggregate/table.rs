//! Table aggregations: `table.group_by(selector)` re-keys each row, and the aggregation keeps
//! one aggregate per new key with an **adder and a subtractor** — when a row changes, its old
//! value is subtracted from its old group and the new value added to its new group (Kafka
//! Streams' `KGroupedTable`). Counts can therefore go down.
//!
//! The old value of a row comes from a copy of the table kept by the group-by node
//! (`<store>-prior`, changelogged); both changes travel through `<store>-repartition` to the task
//! owning the group. A row deleted from the table is subtracted from its group.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::codec::{Binary, Codec};
use crate::error::Result;
use crate::processor::{Data, Record, TaskContext};
use crate::state::{KeyValueStore, StoreKind};
use crate::topology::dsl::grouped::{register_query, register_store};
use crate::topology::dsl::kstream::KStream;
use crate::topology::dsl::ktable::KTable;
use crate::topology::dsl::materialized::Materialized;
use crate::topology::dsl::repartition::through_topic;
use crate::topology::graph::node::{Forward, Node, operator};
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

type Selector<K, V, K2, V2> = dyn Fn(&K, &V) -> (K2, V2) + Send + Sync;
/// Applies one change to a group's aggregate (`None`: the group has none); `None` back deletes
/// the group's row.
type ApplyChange<K, V, A> = dyn Fn(&K, Change<V>, Option<A>) -> Option<A> + Send + Sync;

/// A table re-keyed for aggregation (see the module docs).
pub struct KGroupedTable<K, V, K2, V2> {
    table: KTable<K, V>,
    selector: Arc<Selector<K, V, K2, V2>>,
}

impl<K: StoreData, V: StoreData> KTable<K, V> {
    /// Re-keys every row with `selector(key, value) -> (group key, value)` for an aggregation.
    pub fn group_by<K2: StoreData, V2: StoreData>(
        &self,
        selector: impl Fn(&K, &V) -> (K2, V2) + Send + Sync + 'static,
    ) -> KGroupedTable<K, V, K2, V2> {
        KGroupedTable {
            table: KTable {
                stream: self.stream.clone_handle(),
                store: self.store.clone(),
                key_codec: self.key_codec.clone(),
            },
            selector: Arc::new(selector),
        }
    }
}

impl<K: StoreData, V: StoreData, K2: StoreData, V2: StoreData> KGroupedTable<K, V, K2, V2> {
    /// Rows per group (a row leaving a group decrements it).
    pub fn count(&self, materialized: impl Into<Materialized>) -> KTable<K2, i64> {
        self.aggregate(|| 0, |_, _, n| n + 1, |_, _, n| n - 1, materialized)
    }

    /// Folds each group from `initializer()`: `adder(key, new value, aggregate)` when a row
    /// joins the group or changes in it, `subtractor(key, old value, aggregate)` when it leaves
    /// or changes.
    pub fn aggregate<A: StoreData>(
        &self,
        initializer: impl Fn() -> A + Send + Sync + 'static,
        adder: impl Fn(&K2, V2, A) -> A + Send + Sync + 'static,
        subtractor: impl Fn(&K2, V2, A) -> A + Send + Sync + 'static,
        materialized: impl Into<Materialized>,
    ) -> KTable<K2, A> {
        self.aggregate_with(
            move |key, change, current| {
                let current = current.unwrap_or_else(&initializer);
                Some(match change {
                    Change::Add(v) => adder(key, v, current),
                    Change::Subtract(v) => subtractor(key, v, current),
                    Change::Update { old, new } => adder(key, new, subtractor(key, old, current)),
                })
            },
            materialized.into(),
        )
    }

    /// Combines each group's values without an initial value, as Kafka Streams'
    /// `KGroupedTable::reduce`: the first row of a group is its aggregate, later rows are folded
    /// in with `adder(aggregate, new value)`, and a row leaving the group is taken out with
    /// `subtractor(aggregate, old value)`. A group whose last row left keeps the subtracted
    /// aggregate (as in Kafka Streams; e.g. a sum of 0).
    pub fn reduce(
        &self,
        adder: impl Fn(V2, V2) -> V2 + Send + Sync + 'static,
        subtractor: impl Fn(V2, V2) -> V2 + Send + Sync + 'static,
        materialized: impl Into<Materialized>,
    ) -> KTable<K2, V2> {
        self.aggregate_with(
            move |_, change, current| match (change, current) {
                (Change::Add(v), None) => Some(v),
                (Change::Add(v), Some(agg)) => Some(adder(agg, v)),
                (Change::Subtract(v), Some(agg)) => Some(subtractor(agg, v)),
                (Change::Update { old, new }, Some(agg)) => Some(adder(subtractor(agg, old), new)),
                (Change::Update { new, .. }, None) => Some(new),
                // Nothing to take the row out of (cannot happen: it was added first).
                (Change::Subtract(_), None) => None,
            },
            materialized.into(),
        )
    }

    fn aggregate_with<A: StoreData>(
        &self,
        apply: impl Fn(&K2, Change<V2>, Option<A>) -> Option<A> + Send + Sync + 'static,
        materialized: Materialized,
    ) -> KTable<K2, A> {
        let name = materialized.name.clone();
        let prior = Materialized::named(format!("{name}-prior"));
        let table = &self.table.stream;
        register_store(table, &prior, StoreKind::KeyValue);
        let selector = Arc::clone(&self.selector);
        let changes: KStream<K2, Change<V2>> =
            table.attach("TABLE-GROUPBY", format!("stores: [{}]", prior.name), true, |children| {
                let prior = prior.name.clone();
                operator(children, move |build, next| {
                    Ok(GroupByProcessor {
                        prior: KeyValueStore::new(build.store(&prior)?),
                        selector: Arc::clone(&selector),
                        next,
                    })
                })
            });
        let input = through_topic(&changes, &name, Arc::new(Binary), None);
        register_store(&input, &materialized, StoreKind::KeyValue);
        register_query::<K2, A, _>(&input, &name, None);
        let apply: Arc<ApplyChange<K2, V2, A>> = Arc::new(apply);
        let stream = input.attach("TABLE-AGGREGATE", format!("stores: [{name}]"), false, |children| {
            let store = name.clone();
            operator(children, move |build, next| {
                Ok(TableAggregateProcessor {
                    store: KeyValueStore::new(build.store(&store)?),
                    apply: Arc::clone(&apply),
                    next,
                })
            })
        });
        KTable {
            stream,
            store: name,
            key_codec: crate::topology::dsl::kstream::key_codec_of::<K2>(input.partition_codec.as_ref()),
        }
    }
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
