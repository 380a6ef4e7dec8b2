//! Table aggregations: `table.group_by(selector)` re-keys each row, and the aggregation keeps
//! one aggregate per new key with an **adder and a subtractor** — when a row changes, its old
//! value is subtracted from its old group and the new value added to its new group (Kafka
//! Streams' `KGroupedTable`). Counts can therefore go down.
//!
//! The old value of a row comes from a copy of the table kept by the group-by node
//! (`<store>-prior`, changelogged); both changes travel through `<store>-repartition` to the task
//! owning the group. A row deleted from the table is subtracted from its group.

use std::sync::Arc;

use crate::codec::Binary;
use crate::state::StoreKind;
use crate::topology::dsl::grouped::{register_query, register_store};
use crate::topology::dsl::kstream::KStream;
use crate::topology::dsl::ktable::KTable;
use crate::topology::dsl::materialized::Materialized;
use crate::topology::dsl::repartition::through_topic;
use crate::topology::ops::aggregate::StoreData;
use crate::topology::ops::aggregate::table::{self, Change};

/// A table re-keyed for aggregation (see the module docs).
pub struct KGroupedTable<K, V, K2, V2> {
    table: KTable<K, V>,
    selector: Arc<table::Selector<K, V, K2, V2>>,
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
                table::group_by(prior.name.clone(), selector, children)
            });
        let input = through_topic(&changes, &name, Arc::new(Binary), None);
        register_store(&input, &materialized, StoreKind::KeyValue);
        register_query::<K2, A, _>(&input, &name, None);
        let apply: Arc<table::ApplyChange<K2, V2, A>> = Arc::new(apply);
        let stream = input.attach("TABLE-AGGREGATE", format!("stores: [{name}]"), false, |children| {
            table::aggregate(name.clone(), apply, children)
        });
        KTable {
            stream,
            store: name,
            key_codec: crate::topology::dsl::kstream::key_codec_of::<K2>(input.partition_codec.as_ref()),
        }
    }
}
