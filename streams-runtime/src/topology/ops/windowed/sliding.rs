//! Sliding-windowed aggregations, with Kafka Streams' semantics (KIP-450): a window exists for
//! each distinct set of a key's records at most the time difference `d` apart, so each record
//! at `t` touches
//! - its own (left) window `[t − d, t]`, created from the aggregate of the records before it in
//!   that span (taken from the window that ends last before `t`);
//! - every existing window that covers `t`;
//! - the right window of the record before it, `[p + 1, p + 1 + d]`, created if `t` falls in it;
//! - its own right window `[t + 1, t + 1 + d]`, created (without `t`) when later records already
//!   fall in it — which happens with out-of-order records.
//!
//! Each window keeps, with its aggregate, the largest record timestamp in it (the stored value's
//! timestamp, committed and restored with it; results are stamped with it, as in Kafka
//! Streams): it tells where the previous record is and whether a right window would be empty. A window is open while its end is at or after
//! stream time − grace; records whose latest possible window is closed (`t + 1 + d ≤ stream
//! time − grace`) are dropped as late. Emission on every update or once at window close, and
//! retention, work as for time windows (`window_lifecycle`).
//!
//! Unlike Kafka Streams, which clamps windows that would start before 0 (its "early records"),
//! windows here may start at negative times: every record gets the same treatment.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::error::Result;
use crate::processor::{Data, Record, TaskContext};
use crate::state::query_adapter::QueryLayout;
use crate::state::{StreamClock, WindowStore};
use crate::topology::dsl::windowed::{WindowedAggregation, Windowing};
use crate::topology::graph::node::{Children, Forward, Node, NodeFactory, operator};
use crate::topology::ops::aggregate::{AggregateFn, StoreData};
use crate::topology::ops::windowed::lifecycle::WindowLifecycle;
use crate::window::{EmitStrategy, SlidingWindows, Windowed};

#[allow(private_interfaces)] // the sealed trait's methods name crate types (see `Windowing`)
impl Windowing for SlidingWindows {
    const NODE: &'static str = "SLIDING-WINDOWED-AGGREGATE";

    fn needed_retention(&self) -> (i64, &'static str, &'static str) {
        // A record looks back at windows starting up to 2d before it (a window is open through
        // its end, so one more millisecond); late ones up to grace more.
        let needed = self
            .time_difference_ms
            .saturating_mul(2)
            .saturating_add(self.grace_ms)
            .saturating_add(1);
        (
            needed,
            "twice the time difference plus the grace period plus 1 ms",
            "records of sliding windows look back that far",
        )
    }

    fn query_layout(&self) -> QueryLayout {
        QueryLayout::Window(self.time_difference_ms)
    }

    fn aggregator<K: StoreData, V: StoreData, A: StoreData>(
        self,
        spec: WindowedAggregation<K, V, A>,
        children: Children<Windowed<K>, A>,
    ) -> Arc<dyn NodeFactory<K, V>> {
        let windows = self;
        operator(children, move |build, next| {
            let d = windows.time_difference_ms;
            let store = build.store(&spec.store)?;
            Ok(SlidingAggregateProcessor {
                clock: StreamClock::new(&store),
                now: i64::MIN,
                generation: 0,
                store: WindowStore::new(store, d),
                d,
                grace_ms: windows.grace_ms,
                emit: spec.emit,
                // Both ends inclusive: open while start + d ≥ stream time − grace.
                lifecycle: WindowLifecycle::new(d + 1, windows.grace_ms, spec.emit, spec.retention_ms),
                f: Arc::clone(&spec.f),
                next,
            })
        })
    }
}

struct SlidingAggregateProcessor<K, V, A> {
    store: WindowStore<K, A>,
    /// This aggregation's stream time (kept in its store), and its value for the current record.
    clock: StreamClock,
    now: i64,
    /// The store's generation, read with `now` (for the lifecycle's index).
    generation: u64,
    /// The time difference: a window starting at `s` spans `[s, s + d]`.
    d: i64,
    grace_ms: i64,
    emit: EmitStrategy,
    lifecycle: WindowLifecycle,
    f: Arc<AggregateFn<K, V, A>>,
    next: Forward<Windowed<K>, A>,
}

/// A window the record meets: its start, and its aggregate with its largest record timestamp
/// unless the record creates it.
struct Target<A> {
    start: i64,
    current: Option<(A, i64)>,
}

impl<K: StoreData, V: Data, A: StoreData> SlidingAggregateProcessor<K, V, A> {
    /// Adds the record at `t` to one window (created if `target.current` is `None`), unless
    /// that window has closed.
    fn add(
        &mut self,
        ctx: &mut TaskContext,
        key: &K,
        encoded: &[u8],
        target: Target<A>,
        value: V,
        t: i64,
    ) -> Result<()> {
        let Target { start, current } = target;
        if self.lifecycle.is_closed(start, self.now) {
            tracing::debug!(task = %ctx.task(), timestamp = t, window_start = start, "not adding a record to a closed sliding window");
            return Ok(());
        }
        let (aggregate, max_timestamp) = match current {
            Some((aggregate, max)) => ((self.f)(key, value, Some(aggregate)), max.max(t)),
            None => {
                self.lifecycle.created(&self.store, encoded, start)?;
                ((self.f)(key, value, None), t)
            }
        };
        self.put(ctx, key, encoded, start, aggregate, max_timestamp)
    }

    /// Emits and expires the windows stream time has closed; a window leaving the store takes
    /// the max-timestamp marker older versions kept beside it with it.
    fn advance(&mut self, ctx: &mut TaskContext) -> Result<()> {
        self.lifecycle.advance(
            ctx,
            self.now,
            self.generation,
            &self.store,
            &mut self.next,
            |encoded, start| {
                if let Ok(Some(_)) = self.store.max_timestamp(encoded, start) {
                    self.store.set_max_timestamp(encoded, start, None);
                }
            },
        )
    }

    /// Stores one window and forwards it (unless results wait for the window to close).
    fn put(
        &mut self,
        ctx: &mut TaskContext,
        key: &K,
        encoded: &[u8],
        start: i64,
        aggregate: A,
        max_timestamp: i64,
    ) -> Result<()> {
        self.store
            .put_encoded_timestamped(encoded, start, &aggregate, max_timestamp)?;
        if self.emit == EmitStrategy::OnWindowClose {
            return Ok(());
        }
        let window = self.store.window(start);
        self.next.forward(
            ctx,
            Record {
                key: Windowed {
                    key: key.clone(),
                    window,
                },
                value: aggregate,
                timestamp: max_timestamp,
            },
        )
    }
}

impl<K: StoreData, V: Data, A: StoreData> Node<K, V> for SlidingAggregateProcessor<K, V, A> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        let Record {
            key,
            value,
            timestamp: t,
        } = record;
        let d = self.d;
        (self.now, self.generation) = self.clock.observe_with_generation(t)?;
        let close_time = self.now.saturating_sub(self.grace_ms);
        if t.saturating_add(1).saturating_add(d) <= close_time {
            ctx.record_late_drop();
            tracing::debug!(task = %ctx.task(), timestamp = t, stream_time = self.now, "dropping a record whose sliding windows all closed");
            return self.advance(ctx);
        }
        let encoded = self.store.encode_key(&key)?;
        let existing = self.store.fetch_range_encoded_timestamped(
            &encoded,
            t.saturating_sub(d.saturating_mul(2)),
            t.saturating_add(1),
        )?;
        let mut starts = BTreeSet::new();
        let mut left_aggregate: Option<A> = None;
        let mut right_aggregate: Option<(A, i64)> = None;
        let (mut left_exists, mut right_exists) = (false, false);
        let mut previous: Option<i64> = None;
        // Latest window first, as Kafka Streams (so updates go out in its order).
        for (start, aggregate, stored) in existing.into_iter().rev() {
            starts.insert(start);
            let end = start.saturating_add(d);
            let max = if stored == i64::MIN {
                // Stored by a version that kept it in a marker beside the window.
                self.store.max_timestamp(&encoded, start)?.unwrap_or(end)
            } else {
                stored
            };
            if start == t.saturating_add(1) {
                // The record's own right window.
                right_exists = true;
            } else if end > t {
                // Covers the record; the latest such window, before the record joins it, holds
                // exactly the records the record's right window would.
                if right_aggregate.is_none() {
                    right_aggregate = Some((aggregate.clone(), max));
                }
                let current = Some((aggregate, max));
                self.add(ctx, &key, &encoded, Target { start, current }, value.clone(), t)?;
            } else if end == t {
                left_exists = true;
                let current = Some((aggregate, max));
                self.add(ctx, &key, &encoded, Target { start, current }, value.clone(), t)?;
                if max < t {
                    previous = Some(max);
                } else {
                    // A record at t already made every window t needs.
                    return self.advance(ctx);
                }
            } else {
                // The latest window ending before the record holds the records before it.
                left_aggregate = Some(aggregate);
                previous = Some(max);
                break;
            }
        }
        if let Some(p) = previous {
            let start = p.saturating_add(1);
            if !starts.contains(&start) && start.saturating_add(d) >= t {
                self.add(ctx, &key, &encoded, Target { start, current: None }, value.clone(), t)?;
                // When the previous record is at t − d − 1, this window is also the record's
                // left window `[t − d, t]`: it must not be created (and emitted) twice.
                left_exists |= start == t.saturating_sub(d);
            }
        }
        if !left_exists {
            let start = t.saturating_sub(d);
            let base = left_aggregate.filter(|_| previous.is_some_and(|p| p >= start));
            let current = base.map(|aggregate| (aggregate, t));
            if current.is_some() && !self.lifecycle.is_closed(start, self.now) {
                self.lifecycle.created(&self.store, &encoded, start)?;
            }
            self.add(ctx, &key, &encoded, Target { start, current }, value, t)?;
        }
        if !right_exists && let Some((aggregate, max)) = right_aggregate.filter(|(_, max)| *max > t) {
            let start = t.saturating_add(1);
            self.lifecycle.created(&self.store, &encoded, start)?;
            self.put(ctx, &key, &encoded, start, aggregate, max)?;
        }
        self.advance(ctx)
    }
}
