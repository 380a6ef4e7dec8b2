//! Grouped aggregations (`count`, `reduce`, `aggregate`) per key; the windowed ones are in
//! `windowed_aggregate`.

pub(crate) mod table;

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Result;
use crate::processor::{Data, Record, TaskContext};
use crate::state::KeyValueStore;
use crate::topology::graph::node::{Children, Forward, Node, NodeFactory, operator};

/// `(key, value, aggregate so far) → new aggregate`; `None` so far means the first record.
pub(crate) type AggregateFn<K, V, A> = dyn Fn(&K, V, Option<A>) -> A + Send + Sync;

/// `(key, aggregate, aggregate) → aggregate`: combines two sessions that merge.
pub(crate) type MergeFn<K, A> = dyn Fn(&K, A, A) -> A + Send + Sync;

/// `count`: one more per record.
pub(crate) fn counting<K, V>() -> impl Fn(&K, V, Option<u64>) -> u64 + Send + Sync + 'static {
    |_, _, count| count.unwrap_or(0) + 1
}

/// `reduce`: the first value, then `reducer(aggregate, value)`.
pub(crate) fn reducing<K, V>(
    reducer: impl Fn(V, V) -> V + Send + Sync + 'static,
) -> impl Fn(&K, V, Option<V>) -> V + Send + Sync + 'static {
    move |_, value, acc| match acc {
        Some(acc) => reducer(acc, value),
        None => value,
    }
}

/// `aggregate`: `aggregator(key, value, aggregate)`, starting from `initializer()`.
pub(crate) fn folding<K, V, A>(
    initializer: impl Fn() -> A + Send + Sync + 'static,
    aggregator: impl Fn(&K, V, A) -> A + Send + Sync + 'static,
) -> impl Fn(&K, V, Option<A>) -> A + Send + Sync + 'static {
    move |key, value, acc| aggregator(key, value, acc.unwrap_or_else(&initializer))
}

/// Serializable data a store can hold.
pub trait StoreData: Data + Serialize + DeserializeOwned {}
impl<T: Data + Serialize + DeserializeOwned> StoreData for T {}

/// Aggregates per key into key-value store `store`.
pub(crate) fn aggregate<K: StoreData, V: Data, A: StoreData>(
    store: String,
    f: Arc<AggregateFn<K, V, A>>,
    children: Children<K, A>,
) -> Arc<dyn NodeFactory<K, V>> {
    operator(children, move |build, next| {
        Ok(AggregateProcessor {
            store: KeyValueStore::new(build.store(&store)?),
            f: Arc::clone(&f),
            next,
        })
    })
}

struct AggregateProcessor<K, V, A> {
    store: KeyValueStore<K, A>,
    f: Arc<AggregateFn<K, V, A>>,
    next: Forward<K, A>,
}

impl<K: StoreData, V: Data, A: StoreData> Node<K, V> for AggregateProcessor<K, V, A> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        let Record { key, value, timestamp } = record;
        // Stamped with the latest record aggregated, as Kafka Streams' timestamped stores.
        let (current, timestamp) = match self.store.get_timestamped(&key)? {
            Some((aggregate, stored)) => (Some(aggregate), stored.max(timestamp)),
            None => (None, timestamp),
        };
        let updated = (self.f)(&key, value, current);
        self.store.put_timestamped(&key, &updated, timestamp)?;
        self.next.forward(
            ctx,
            Record {
                key,
                value: updated,
                timestamp,
            },
        )
    }
}
