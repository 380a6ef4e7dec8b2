//! Session-windowed aggregations, with Kafka Streams' semantics: a record joins every session of
//! its key within the inactivity gap of its time; those sessions merge into one (aggregates
//! combined with the merger), which then takes the record. A session closes once stream time
//! passes its last record by gap + grace; a record whose (merged) session would already be
//! closed is dropped as late.
//!
//! Emission: on every update — the merged session's new aggregate, keyed by its window, after a
//! delete for each session merged away (deleted from the store and its changelog too; a sink
//! writes it as a tombstone) — or, with
//! `EmitStrategy::OnWindowClose`, once per session when it closes, which is what consumers of
//! session results usually want. As for time windows, the emitted bound is kept in the store,
//! and sessions older than the retention are deleted.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::error::Result;
use crate::processor::{Data, Record, TaskContext};
use crate::state::query_adapter::QueryLayout;
use crate::state::{SessionStore, StoreKind, StreamClock};
use crate::topology::dsl::windowed::{WindowedAggregation, Windowing};
use crate::topology::graph::node::{Children, Forward, Node, NodeFactory, operator};
use crate::topology::ops::aggregate::{AggregateFn, MergeFn, StoreData};
use crate::window::{EmitStrategy, SessionWindows, TimeWindow, Windowed};

const EMITTED_MARKER: &str = "emitted-close";

#[allow(private_interfaces)] // the sealed trait's methods name crate types (see `Windowing`)
impl Windowing for SessionWindows {
    const NODE: &'static str = "SESSION-WINDOWED-AGGREGATE";

    fn needed_retention(&self) -> (i64, &'static str, &'static str) {
        (
            self.gap_ms.saturating_add(self.grace_ms),
            "the inactivity gap plus the grace period",
            "sessions would be deleted before they close",
        )
    }

    fn store_kind(&self, retention_ms: i64) -> StoreKind {
        StoreKind::Session { retention_ms }
    }

    fn query_layout(&self) -> QueryLayout {
        QueryLayout::Session
    }

    fn aggregator<K: StoreData, V: StoreData, A: StoreData>(
        self,
        spec: WindowedAggregation<K, V, A>,
        children: Children<Windowed<K>, A>,
    ) -> Arc<dyn NodeFactory<K, V>> {
        let windows = self;
        operator(children, move |build, next| {
            let store = build.store(&spec.store)?;
            Ok(SessionAggregateProcessor {
                clock: StreamClock::new(&store),
                now: i64::MIN,
                store: SessionStore::new(store),
                windows,
                emit: spec.emit,
                retention_ms: spec.retention_ms,
                f: Arc::clone(&spec.f),
                merge: Arc::clone(&spec.merge),
                next,
                index: None,
            })
        })
    }
}

/// Sessions by end time: (encoded key, start), as of one store generation.
struct SessionIndex {
    generation: u64,
    by_end: BTreeMap<i64, Vec<(Vec<u8>, i64)>>,
    emitted_close: i64,
}

struct SessionAggregateProcessor<K, V, A> {
    store: SessionStore<K, A>,
    /// This aggregation's stream time (kept in its store), and its value for the current record.
    clock: StreamClock,
    now: i64,
    windows: SessionWindows,
    emit: EmitStrategy,
    retention_ms: i64,
    f: Arc<AggregateFn<K, V, A>>,
    merge: Arc<MergeFn<K, A>>,
    next: Forward<Windowed<K>, A>,
    index: Option<SessionIndex>,
}

impl<K: StoreData, V: Data, A: StoreData> SessionAggregateProcessor<K, V, A> {
    fn index(&mut self) -> Result<&mut SessionIndex> {
        let generation = self.store.generation();
        if self.index.as_ref().is_none_or(|i| i.generation != generation) {
            let mut by_end: BTreeMap<i64, Vec<(Vec<u8>, i64)>> = BTreeMap::new();
            for (key, start, end) in self.store.sessions()? {
                by_end.entry(end).or_default().push((key, start));
            }
            self.index = Some(SessionIndex {
                generation,
                by_end,
                emitted_close: self.store.marker(EMITTED_MARKER)?.unwrap_or(i64::MIN),
            });
        }
        Ok(self.index.get_or_insert_with(|| unreachable!("just built")))
    }

    /// Sessions ending before this are closed.
    fn close_bound(&self, stream_time: i64) -> i64 {
        stream_time
            .saturating_sub(self.windows.gap_ms)
            .saturating_sub(self.windows.grace_ms)
    }

    /// Emits the sessions that closed (emit-on-close) and deletes those past retention.
    fn advance(&mut self, ctx: &mut TaskContext) -> Result<()> {
        let stream_time = self.now;
        if self.emit == EmitStrategy::OnWindowClose {
            let close_bound = self.close_bound(stream_time);
            let index = self.index()?;
            if close_bound > index.emitted_close {
                let from = index.emitted_close;
                let closed: Vec<(i64, Vec<u8>, i64)> = index
                    .by_end
                    .range(from..close_bound)
                    .flat_map(|(end, sessions)| sessions.iter().map(move |(k, start)| (*end, k.clone(), *start)))
                    .collect();
                // The marker moves only once every closed session went out (or failed on its own).
                let mut failed = None;
                for (end, encoded, start) in closed {
                    let Some(session) = self
                        .store
                        .sessions_ending_from(&encoded, end)?
                        .into_iter()
                        .find(|s| s.end == end && s.start == start)
                    else {
                        continue;
                    };
                    let key = self.store.decode_key(&encoded)?;
                    let value = self.store.decode_value(&session.value)?;
                    self.next.forward_each(
                        ctx,
                        Record {
                            key: Windowed {
                                key,
                                window: TimeWindow {
                                    start_ms: start,
                                    end_ms: end,
                                },
                            },
                            value,
                            timestamp: end,
                        },
                        &mut failed,
                    )?;
                }
                self.index()?.emitted_close = close_bound;
                self.store.set_marker(EMITTED_MARKER, close_bound);
                if let Some(error) = failed {
                    return Err(error);
                }
            }
        }
        let expired_before = stream_time.saturating_sub(self.retention_ms);
        let index = self.index()?;
        if index
            .by_end
            .first_key_value()
            .is_some_and(|(end, _)| *end < expired_before)
        {
            let mut expired = index.by_end.split_off(&expired_before);
            std::mem::swap(&mut expired, &mut index.by_end);
            for (end, sessions) in expired {
                for (key, start) in sessions {
                    self.store.remove(&key, start, end);
                }
            }
        }
        Ok(())
    }
}

impl<K: StoreData, V: Data, A: StoreData> Node<K, V> for SessionAggregateProcessor<K, V, A> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        let Record { key, value, timestamp } = record;
        let gap = self.windows.gap_ms;
        let encoded = self.store.encode_key(&key)?;
        self.now = self.clock.observe(timestamp)?;
        // Sessions of the key within the gap of the record: they merge with it.
        let overlapping: Vec<_> = self
            .store
            .sessions_ending_from(&encoded, timestamp.saturating_sub(gap))?
            .into_iter()
            .take_while(|s| s.start <= timestamp.saturating_add(gap))
            .collect();
        let start = overlapping.iter().map(|s| s.start).fold(timestamp, i64::min);
        let end = overlapping.iter().map(|s| s.end).fold(timestamp, i64::max);
        if end < self.close_bound(self.now) {
            ctx.record_late_drop();
            tracing::debug!(task = %ctx.task(), timestamp, stream_time = self.now, "dropping a record whose session already closed");
            return Ok(());
        }
        let mut aggregate: Option<A> = None;
        for session in &overlapping {
            let existing = self.store.decode_value(&session.value)?;
            aggregate = Some(match aggregate {
                None => existing,
                Some(acc) => (self.merge)(&key, acc, existing),
            });
            self.store.remove(&encoded, session.start, session.end);
        }
        let index = self.index()?;
        for session in &overlapping {
            if let Some(at_end) = index.by_end.get_mut(&session.end) {
                at_end.retain(|(k, s)| !(k == &encoded && *s == session.start));
            }
        }
        index.by_end.entry(end).or_default().push((encoded.clone(), start));
        let updated = (self.f)(&key, value, aggregate);
        self.store.put(&encoded, start, end, &updated)?;
        if self.emit == EmitStrategy::OnWindowUpdate {
            // Sessions merged into this one are gone: downstream hears of it (Kafka Streams
            // sends a tombstone per merged session, stamped with its end), before the merged
            // result.
            for session in overlapping.iter().filter(|s| (s.start, s.end) != (start, end)) {
                let window = TimeWindow {
                    start_ms: session.start,
                    end_ms: session.end,
                };
                let gone = Windowed {
                    key: key.clone(),
                    window,
                };
                self.next.forward_delete(ctx, gone, session.end)?;
            }
            self.next.forward(
                ctx,
                Record {
                    key: Windowed {
                        key,
                        window: TimeWindow {
                            start_ms: start,
                            end_ms: end,
                        },
                    },
                    value: updated,
                    timestamp: end,
                },
            )?;
        }
        self.advance(ctx)
    }
}
