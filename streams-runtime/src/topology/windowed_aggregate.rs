//! Windowed aggregations over time windows (tumbling, hopping): per key and window, with grace
//! for late records, emission on every update or once at window close, and retention.
//!
//! The processor keeps an in-memory index of the windows in its store, ordered by start: it tells
//! which windows close as stream time advances (emit-on-close) and which fall out of retention
//! (deleted, with tombstones to the changelog). The index is derived state: it is rebuilt from
//! the store when the task opens and after every rollback (the store's generation changes). What
//! was already emitted on close is a marker kept in the store itself, so it is committed,
//! changelogged and restored together with the aggregates — a window is emitted once, also
//! across crashes (under exactly-once; at-least-once may repeat the last uncommitted emissions).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::aggregate::{AggregateFn, StoreData};
use super::node::{Children, Forward, Node, NodeFactory, TaskBuild};
use crate::error::Result;
use crate::processor::{Data, Record, TaskContext};
use crate::state::WindowStore;
use crate::window::{EmitStrategy, TimeWindow, TimeWindows, Windowed};

/// Marker: the largest close bound (stream time − grace) up to which windows were emitted.
const EMITTED_MARKER: &str = "emitted-close";

pub(crate) struct WindowedAggregate<K, V, A> {
    pub(crate) store: String,
    pub(crate) windows: TimeWindows,
    pub(crate) emit: EmitStrategy,
    pub(crate) retention_ms: i64,
    pub(crate) f: Arc<AggregateFn<K, V, A>>,
    pub(crate) children: Children<Windowed<K>, A>,
}

impl<K: StoreData, V: Data, A: StoreData> NodeFactory<K, V> for WindowedAggregate<K, V, A> {
    fn instantiate(&self, build: &TaskBuild<'_>) -> Result<Box<dyn Node<K, V>>> {
        Ok(Box::new(WindowedAggregateProcessor {
            store: WindowStore::new(build.store(&self.store)?, self.windows.size_ms()),
            windows: self.windows,
            emit: self.emit,
            retention_ms: self.retention_ms,
            f: Arc::clone(&self.f),
            next: self.children.instantiate(build)?,
            index: None,
        }))
    }
}

struct WindowedAggregateProcessor<K, V, A> {
    store: WindowStore<K, A>,
    windows: TimeWindows,
    emit: EmitStrategy,
    retention_ms: i64,
    f: Arc<AggregateFn<K, V, A>>,
    next: Forward<Windowed<K>, A>,
    index: Option<WindowIndex>,
}

/// The windows in the store, by start time, as of one store generation.
struct WindowIndex {
    generation: u64,
    by_start: BTreeMap<i64, Vec<Vec<u8>>>,
    /// Windows ending at or before this were emitted (emit-on-close).
    emitted_close: i64,
}

impl<K: StoreData, V: Data, A: StoreData> WindowedAggregateProcessor<K, V, A> {
    /// The index, rebuilt from the store if the task just opened or rolled back.
    fn index(&mut self) -> Result<&mut WindowIndex> {
        let generation = self.store.generation();
        if self.index.as_ref().is_none_or(|i| i.generation != generation) {
            let mut by_start: BTreeMap<i64, Vec<Vec<u8>>> = BTreeMap::new();
            for (key, start) in self.store.windows_encoded()? {
                by_start.entry(start).or_default().push(key);
            }
            self.index = Some(WindowIndex {
                generation,
                by_start,
                emitted_close: self.store.marker(EMITTED_MARKER)?.unwrap_or(i64::MIN),
            });
        }
        Ok(self.index.get_or_insert_with(|| unreachable!("just built")))
    }

    /// Adds one record to one of its windows, unless that window has closed.
    fn update(
        &mut self,
        ctx: &mut TaskContext,
        key: K,
        encoded: &[u8],
        value: V,
        window: TimeWindow,
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
        let current = self.store.fetch_encoded(encoded, window.start_ms)?;
        if current.is_none() {
            self.index()?
                .by_start
                .entry(window.start_ms)
                .or_default()
                .push(encoded.to_vec());
        }
        let updated = (self.f)(&key, value, current);
        self.store.put_encoded(encoded, window.start_ms, &updated)?;
        if self.emit == EmitStrategy::OnWindowClose {
            return Ok(());
        }
        self.next.forward(
            ctx,
            Record {
                key: Windowed { key, window },
                value: updated,
                timestamp,
            },
        )
    }

    /// Emits the windows that closed (emit-on-close) and deletes those past retention, as
    /// stream time now allows.
    fn advance(&mut self, ctx: &mut TaskContext) -> Result<()> {
        let stream_time = ctx.stream_time();
        let size = self.windows.size_ms();
        if self.emit == EmitStrategy::OnWindowClose {
            // A window [start, start + size) is closed once stream time ≥ end + grace.
            let close_bound = stream_time.saturating_sub(self.windows.grace_ms());
            let index = self.index()?;
            if close_bound > index.emitted_close {
                let from = index.emitted_close.saturating_sub(size);
                let to = close_bound.saturating_sub(size);
                let closed: Vec<(i64, Vec<u8>)> = index
                    .by_start
                    .range((std::ops::Bound::Excluded(from), std::ops::Bound::Included(to)))
                    .flat_map(|(start, keys)| keys.iter().map(move |k| (*start, k.clone())))
                    .collect();
                index.emitted_close = close_bound;
                self.store.set_marker(EMITTED_MARKER, close_bound);
                for (start, encoded) in closed {
                    let Some(value) = self.store.fetch_encoded(&encoded, start)? else {
                        continue;
                    };
                    let window = TimeWindow {
                        start_ms: start,
                        end_ms: start.saturating_add(size),
                    };
                    let key = self.store.decode_key(&encoded)?;
                    self.next.forward(
                        ctx,
                        Record {
                            key: Windowed { key, window },
                            value,
                            timestamp: window.end_ms,
                        },
                    )?;
                }
            }
        }
        // Retention: windows that started more than `retention` before stream time go.
        let expired_before = stream_time.saturating_sub(self.retention_ms);
        let index = self.index()?;
        if index
            .by_start
            .first_key_value()
            .is_some_and(|(start, _)| *start < expired_before)
        {
            let mut expired = index.by_start.split_off(&expired_before);
            std::mem::swap(&mut expired, &mut index.by_start);
            for (start, keys) in expired {
                for key in keys {
                    self.store.delete_encoded(&key, start);
                }
            }
        }
        Ok(())
    }
}

impl<K: StoreData, V: Data, A: StoreData> Node<K, V> for WindowedAggregateProcessor<K, V, A> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        let Record { key, value, timestamp } = record;
        let encoded = self.store.encode_key(&key)?;
        if self.windows.advance_ms() == self.windows.size_ms() {
            // Tumbling: one window, no copies.
            let window = self.windows.window_for(timestamp);
            self.update(ctx, key, &encoded, value, window, timestamp)?;
        } else {
            for window in self.windows.windows_for(timestamp) {
                self.update(ctx, key.clone(), &encoded, value.clone(), window, timestamp)?;
            }
        }
        self.advance(ctx)
    }
}
