//! Grouped aggregations (`count`, `reduce`, `aggregate`), plain and windowed.

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::node::{Children, Forward, Node, NodeFactory, TaskBuild};
use crate::error::Result;
use crate::processor::{Data, Record, TaskContext};
use crate::state::{KeyValueStore, WindowStore};
use crate::window::{TimeWindows, Windowed};

/// `(key, value, aggregate so far) → new aggregate`; `None` so far means the first record.
pub(crate) type AggregateFn<K, V, A> = dyn Fn(&K, V, Option<A>) -> A + Send + Sync;

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

pub(crate) struct Aggregate<K, V, A> {
    pub(crate) store: String,
    pub(crate) f: Arc<AggregateFn<K, V, A>>,
    pub(crate) children: Children<K, A>,
}

struct AggregateProcessor<K, V, A> {
    store: KeyValueStore<K, A>,
    f: Arc<AggregateFn<K, V, A>>,
    next: Forward<K, A>,
}

impl<K: StoreData, V: Data, A: StoreData> NodeFactory<K, V> for Aggregate<K, V, A> {
    fn instantiate(&self, build: &TaskBuild<'_>) -> Result<Box<dyn Node<K, V>>> {
        Ok(Box::new(AggregateProcessor {
            store: KeyValueStore::new(build.store(&self.store)?),
            f: Arc::clone(&self.f),
            next: self.children.instantiate(build)?,
        }))
    }
}

impl<K: StoreData, V: Data, A: StoreData> Node<K, V> for AggregateProcessor<K, V, A> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        let Record { key, value, timestamp } = record;
        let updated = (self.f)(&key, value, self.store.get(&key)?);
        self.store.put(&key, &updated)?;
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

pub(crate) struct WindowedAggregate<K, V, A> {
    pub(crate) store: String,
    pub(crate) windows: TimeWindows,
    pub(crate) f: Arc<AggregateFn<K, V, A>>,
    pub(crate) children: Children<Windowed<K>, A>,
}

struct WindowedAggregateProcessor<K, V, A> {
    store: WindowStore<K, A>,
    windows: TimeWindows,
    f: Arc<AggregateFn<K, V, A>>,
    next: Forward<Windowed<K>, A>,
}

impl<K: StoreData, V: Data, A: StoreData> NodeFactory<K, V> for WindowedAggregate<K, V, A> {
    fn instantiate(&self, build: &TaskBuild<'_>) -> Result<Box<dyn Node<K, V>>> {
        Ok(Box::new(WindowedAggregateProcessor {
            store: WindowStore::new(build.store(&self.store)?, self.windows.size_ms()),
            windows: self.windows,
            f: Arc::clone(&self.f),
            next: self.children.instantiate(build)?,
        }))
    }
}

impl<K: StoreData, V: Data, A: StoreData> WindowedAggregateProcessor<K, V, A> {
    /// Adds one record to one of its windows, unless that window has closed.
    fn update(
        &mut self,
        ctx: &mut TaskContext,
        key: K,
        value: V,
        window: crate::window::TimeWindow,
        timestamp: i64,
    ) -> Result<()> {
        if self.windows.is_closed(&window, ctx.stream_time()) {
            ctx.record_late_drop();
            tracing::debug!(
                task = %ctx.task(),
                timestamp,
                window = %window,
                stream_time = ctx.stream_time(),
                "dropping a record that arrived after its window closed"
            );
            return Ok(());
        }
        let updated = (self.f)(&key, value, self.store.fetch(&key, window.start_ms)?);
        self.store.put(&key, window.start_ms, &updated)?;
        self.next.forward(
            ctx,
            Record {
                key: Windowed { key, window },
                value: updated,
                timestamp,
            },
        )
    }
}

impl<K: StoreData, V: Data, A: StoreData> Node<K, V> for WindowedAggregateProcessor<K, V, A> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        let Record { key, value, timestamp } = record;
        if self.windows.advance_ms() == self.windows.size_ms() {
            // Tumbling: one window, no copies.
            let window = self.windows.window_for(timestamp);
            return self.update(ctx, key, value, window, timestamp);
        }
        for window in self.windows.windows_for(timestamp) {
            self.update(ctx, key.clone(), value.clone(), window, timestamp)?;
        }
        Ok(())
    }
}
