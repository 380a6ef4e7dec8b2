//! Windowed aggregations over time windows (tumbling, hopping): per key and window, with grace
//! for late records, emission on every update or once at window close, and retention (see
//! `lifecycle`).

use std::sync::Arc;

use crate::error::Result;
use crate::processor::{Data, Record, TaskContext};
use crate::state::query_adapter::QueryLayout;
use crate::state::{StreamClock, WindowKeys, WindowStore};
use crate::topology::dsl::windowed::{WindowedAggregation, Windowing};
use crate::topology::graph::node::{Children, Forward, Node, NodeFactory, operator};
use crate::topology::ops::aggregate::{AggregateFn, StoreData};
use crate::topology::ops::windowed::lifecycle::WindowLifecycle;
use crate::window::{EmitStrategy, TimeWindow, TimeWindows, Windowed};

#[allow(private_interfaces)] // the sealed trait's methods name crate types (see `Windowing`)
impl Windowing for TimeWindows {
    const NODE: &'static str = "WINDOWED-AGGREGATE";

    fn needed_retention(&self) -> (i64, &'static str, &'static str) {
        (
            self.size_ms().saturating_add(self.grace_ms()),
            "the window size plus the grace period",
            "windows would be deleted before they close",
        )
    }

    fn query_layout(&self) -> QueryLayout {
        QueryLayout::Window(self.size_ms())
    }

    fn aggregator<K: StoreData, V: StoreData, A: StoreData>(
        self,
        spec: WindowedAggregation<K, V, A>,
        children: Children<Windowed<K>, A>,
    ) -> Arc<dyn NodeFactory<K, V>> {
        let windows = self;
        operator(children, move |build, next| {
            let store = build.store(&spec.store)?;
            Ok(WindowedAggregateProcessor {
                clock: StreamClock::new(&store),
                store: WindowStore::new(store, windows.size_ms()),
                keys: WindowKeys::default(),
                windows,
                emit: spec.emit,
                lifecycle: WindowLifecycle::new(windows.size_ms(), windows.grace_ms(), spec.emit, spec.retention_ms),
                f: Arc::clone(&spec.f),
                next,
            })
        })
    }
}

struct WindowedAggregateProcessor<K, V, A> {
    store: WindowStore<K, A>,
    /// The current record's store keys.
    keys: WindowKeys,
    /// This aggregation's stream time (kept in its store).
    clock: StreamClock,
    windows: TimeWindows,
    emit: EmitStrategy,
    lifecycle: WindowLifecycle,
    f: Arc<AggregateFn<K, V, A>>,
    next: Forward<Windowed<K>, A>,
}

impl<K: StoreData, V: Data, A: StoreData> WindowedAggregateProcessor<K, V, A> {
    /// Adds one record to one of its windows, unless that window has closed at `stream_time`.
    fn update(
        &mut self,
        ctx: &mut TaskContext,
        key: K,
        value: V,
        window: TimeWindow,
        timestamp: i64,
        stream_time: i64,
    ) -> Result<()> {
        if self.windows.is_closed(&window, stream_time) {
            ctx.record_late_drop();
            tracing::debug!(
                task = %ctx.task(),
                timestamp,
                window = %window,
                stream_time,
                "dropping a record that arrived after its window closed"
            );
            return Ok(());
        }
        let f = &self.f;
        // Stamped with the window's latest record, as Kafka Streams' timestamped window stores.
        let (updated, timestamp, created) =
            self.store
                .update_encoded_timestamped(&mut self.keys, window.start_ms, |current| match current {
                    Some((aggregate, stored)) => (f(&key, value, Some(aggregate)), stored.max(timestamp)),
                    None => (f(&key, value, None), timestamp),
                })?;
        if created {
            self.lifecycle
                .was_created(&self.store, self.keys.key(), window.start_ms)?;
        }
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
}
impl<K: StoreData, V: Data, A: StoreData> Node<K, V> for WindowedAggregateProcessor<K, V, A> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        let Record { key, value, timestamp } = record;
        self.store.start_keys(&mut self.keys, &key)?;
        let (stream_time, generation) = self.clock.observe_with_generation(timestamp)?;
        if self.windows.advance_ms() == self.windows.size_ms() {
            // Tumbling: one window, no copies.
            let window = self.windows.window_for(timestamp);
            self.update(ctx, key, value, window, timestamp, stream_time)?;
        } else {
            for window in self.windows.windows_for(timestamp) {
                self.update(ctx, key.clone(), value.clone(), window, timestamp, stream_time)?;
            }
        }
        self.lifecycle
            .advance(ctx, stream_time, generation, &self.store, &mut self.next, |_, _| {})
    }
}
