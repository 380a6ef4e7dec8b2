//! What happens to a window store's windows as stream time advances: emitted once when they
//! close (emit-on-close) and deleted once they fall out of retention (with tombstones to the
//! changelog). Shared by the time-windowed and the sliding-windowed aggregations.
//!
//! It keeps an in-memory index of the store's windows ordered by start. The index is derived
//! state: rebuilt from the store when the task opens and after every rollback (the store's
//! generation changes). What was already emitted on close is a marker kept in the store itself,
//! so it is committed, changelogged and restored together with the aggregates — a window is
//! emitted once, also across crashes (under exactly-once; at-least-once may repeat the last
//! uncommitted emissions).

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::error::Result;
use crate::processor::{Record, TaskContext};
use crate::state::WindowStore;
use crate::topology::graph::node::Forward;
use crate::topology::ops::aggregate::StoreData;
use crate::window::{EmitStrategy, Windowed};

/// Marker: the largest close bound (stream time − grace) up to which windows were emitted.
const EMITTED_MARKER: &str = "emitted-close";

pub(crate) struct WindowLifecycle {
    /// A window starting at `s` covers times before `s + span_ms` (its size for time windows,
    /// the time difference + 1 for sliding windows, whose end is inclusive); it is closed once
    /// that bound is at or before stream time − grace.
    span_ms: i64,
    grace_ms: i64,
    emit: EmitStrategy,
    retention_ms: i64,
    index: Option<WindowIndex>,
}

/// The windows in the store, by start time, as of one store generation.
struct WindowIndex {
    generation: u64,
    by_start: BTreeMap<i64, Vec<Vec<u8>>>,
    /// Windows ending at or before this were emitted (emit-on-close).
    emitted_close: i64,
}

impl WindowLifecycle {
    pub(crate) fn new(span_ms: i64, grace_ms: i64, emit: EmitStrategy, retention_ms: i64) -> Self {
        Self {
            span_ms,
            grace_ms,
            emit,
            retention_ms,
            index: None,
        }
    }

    /// Whether a window starting at `start` no longer takes records at `stream_time`.
    pub(crate) fn is_closed(&self, start: i64, stream_time: i64) -> bool {
        start.saturating_add(self.span_ms) <= stream_time.saturating_sub(self.grace_ms)
    }

    /// The index, rebuilt from the store if the task just opened or rolled back (`generation`:
    /// the store's, as read now).
    fn index<K: StoreData, A: StoreData>(
        &mut self,
        store: &WindowStore<K, A>,
        generation: u64,
    ) -> Result<&mut WindowIndex> {
        if self.index.as_ref().is_none_or(|i| i.generation != generation) {
            let mut by_start: BTreeMap<i64, Vec<Vec<u8>>> = BTreeMap::new();
            for (key, start) in store.windows_encoded()? {
                by_start.entry(start).or_default().push(key);
            }
            self.index = Some(WindowIndex {
                generation,
                by_start,
                emitted_close: store.marker(EMITTED_MARKER)?.unwrap_or(i64::MIN),
            });
        }
        Ok(self.index.get_or_insert_with(|| unreachable!("just built")))
    }

    /// Notes a window the aggregation is about to create in `store`.
    pub(crate) fn created<K: StoreData, A: StoreData>(
        &mut self,
        store: &WindowStore<K, A>,
        encoded: &[u8],
        start: i64,
    ) -> Result<()> {
        self.index(store, store.generation())?
            .by_start
            .entry(start)
            .or_default()
            .push(encoded.to_vec());
        Ok(())
    }

    /// Notes a window the aggregation just created in `store` (an index rebuilt now finds it
    /// there; a current one is told).
    pub(crate) fn was_created<K: StoreData, A: StoreData>(
        &mut self,
        store: &WindowStore<K, A>,
        encoded: &[u8],
        start: i64,
    ) -> Result<()> {
        let generation = store.generation();
        match self.index.as_mut() {
            Some(index) if index.generation == generation => {
                index.by_start.entry(start).or_default().push(encoded.to_vec());
            }
            _ => {
                self.index(store, generation)?;
            }
        }
        Ok(())
    }

    /// Emits the windows that closed (emit-on-close) and deletes those past retention, as the
    /// aggregation's `stream_time` now allows; `on_delete` is called for each deleted window (to
    /// delete what the aggregation keeps beside it). `generation`: the store's, read with the
    /// stream time (`StreamClock::observe_with_generation`).
    #[allow(clippy::too_many_arguments)] // the record's state, read together under one lock
    pub(crate) fn advance<K: StoreData, A: StoreData>(
        &mut self,
        ctx: &mut TaskContext,
        stream_time: i64,
        generation: u64,
        store: &WindowStore<K, A>,
        next: &mut Forward<Windowed<K>, A>,
        mut on_delete: impl FnMut(&[u8], i64),
    ) -> Result<()> {
        let (span, emit_on_close) = (self.span_ms, self.emit == EmitStrategy::OnWindowClose);
        let close_bound = stream_time.saturating_sub(self.grace_ms);
        let expired_before = stream_time.saturating_sub(self.retention_ms);
        // Forwarding never rolls this store back: the generation read with the stream time holds.
        let index = self.index(store, generation)?;
        if emit_on_close && close_bound > index.emitted_close {
            let from = index.emitted_close.saturating_sub(span);
            let to = close_bound.saturating_sub(span);
            // By window start, then key (as Kafka Streams' window stores iterate).
            let mut closed: Vec<(i64, Vec<u8>)> = index
                .by_start
                .range((Bound::Excluded(from), Bound::Included(to)))
                .flat_map(|(start, keys)| keys.iter().map(move |k| (*start, k.clone())))
                .collect();
            closed.sort_unstable();
            // The marker moves only once every closed window went out (or failed on its own).
            let mut failed = None;
            for (start, encoded) in closed {
                let Some((value, stored)) = store.fetch_encoded_timestamped(&encoded, start)? else {
                    continue;
                };
                let window = store.window(start);
                let key = store.decode_key(&encoded)?;
                // Stamped with the window's latest record; a value stored without one (by an
                // older version) with the window end, as before.
                let timestamp = if stored == i64::MIN { window.end_ms } else { stored };
                next.forward_each(
                    ctx,
                    Record {
                        key: Windowed { key, window },
                        value,
                        timestamp,
                    },
                    &mut failed,
                )?;
            }
            index.emitted_close = close_bound;
            store.set_marker(EMITTED_MARKER, close_bound);
            if let Some(error) = failed {
                return Err(error);
            }
        }
        // Retention: windows that started more than `retention` before stream time go.
        if index
            .by_start
            .first_key_value()
            .is_some_and(|(start, _)| *start < expired_before)
        {
            let mut expired = index.by_start.split_off(&expired_before);
            std::mem::swap(&mut expired, &mut index.by_start);
            for (start, keys) in expired {
                for key in keys {
                    store.delete_encoded(&key, start);
                    on_delete(&key, start);
                }
            }
        }
        Ok(())
    }
}
