//! Stream-stream windowed joins (inner, left, outer), with Kafka Streams' semantics: a record
//! joins every record of the other side with the same key whose event time is within the join
//! window, the result stamped with the later of the two times; the join keeps its own stream
//! time, shared by both sides and moved only by the records that reach it (kept in the left
//! side's buffer store, so it commits and restores with the buffers; see `state::StreamClock`).
//!
//! Each side buffers its records in a store (`<name>-this-join`, `<name>-other-join`) for
//! before + after + grace, then deletes them (tombstones to the changelog). Left and outer joins
//! do not emit a record without partner at once — a partner may still come — but keep it in
//! `<name>-outer-join`, ordered by time, and emit it with `None` once its window closed (stream
//! time past `t + after + grace`) without a partner: no spurious left-only results. Records
//! arriving after their own window closed are dropped and counted as late.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::error::Result;
use crate::processor::{Data, Record, TaskContext};
use crate::state::{JoinBuffer, StreamClock, Unmatched, UnmatchedBuffer};
use crate::topology::graph::node::{Children, Forward, Node, NodeFactory, SharedFactory, TaskBuild};
use crate::topology::ops::aggregate::StoreData;
use crate::window::JoinWindows;

/// `(key, left value, right value) → result`; `None` from an inner join's missing side.
pub(crate) type Joiner<K, V1, V2, VR> = dyn Fn(&K, Option<&V1>, Option<&V2>) -> Option<VR> + Send + Sync;

/// Buffered records by timestamp: (encoded key, sequence number).
type TimeIndex = BTreeMap<i64, Vec<(Vec<u8>, u32)>>;

const LEFT: u8 = 0;
const RIGHT: u8 = 1;

/// Store names, from one side's point of view.
#[derive(Clone)]
pub(crate) struct JoinStores {
    pub(crate) this: String,
    pub(crate) other: String,
    pub(crate) unmatched: Option<String>,
}

/// The two sides of a windowed join, for the left and the right stream: each buffers its own
/// records in `stores` and joins them with the other's; (left, right) `outer` say which sides
/// emit records left without partner.
pub(crate) fn sides<K: StoreData, V: StoreData, V2: StoreData, VR: Data>(
    stores: &JoinStores,
    windows: JoinWindows,
    (left_outer, right_outer): (bool, bool),
    joiner: Arc<Joiner<K, V, V2, VR>>,
    children: &Children<K, VR>,
) -> (SharedFactory<K, V>, SharedFactory<K, V2>) {
    let left_joiner = Arc::clone(&joiner);
    let left = Arc::new(SideFactory::<K, V, V2, VR> {
        side: LEFT,
        stores: stores.clone(),
        // A left record at t joins right records in [t - before, t + after].
        before_ms: windows.before_ms,
        after_ms: windows.after_ms,
        windows,
        outer: (left_outer, right_outer),
        emit: Arc::new(move |k: &K, mine: Option<&V>, theirs: Option<&V2>| left_joiner(k, mine, theirs)),
        children: children.clone(),
    });
    let right = Arc::new(SideFactory::<K, V2, V, VR> {
        side: RIGHT,
        stores: stores.swapped(),
        before_ms: windows.after_ms,
        after_ms: windows.before_ms,
        windows,
        outer: (right_outer, left_outer),
        emit: Arc::new(move |k: &K, mine: Option<&V2>, theirs: Option<&V>| joiner(k, theirs, mine)),
        children: children.clone(),
    });
    (left, right)
}

impl JoinStores {
    fn swapped(&self) -> Self {
        Self {
            this: self.other.clone(),
            other: self.this.clone(),
            unmatched: self.unmatched.clone(),
        }
    }
}

/// One side of a join: `VM` its values, `VO` the other side's.
struct SideFactory<K, VM, VO, VR> {
    side: u8,
    stores: JoinStores,
    before_ms: i64,
    after_ms: i64,
    windows: JoinWindows,
    /// Whether records of (this side, the other side) without partner are emitted.
    outer: (bool, bool),
    emit: Arc<Joiner<K, VM, VO, VR>>,
    children: Children<K, VR>,
}

struct SideProcessor<K, VM, VO, VR> {
    side: u8,
    /// The join's stream time (both sides share it), and its value for the current record.
    clock: StreamClock,
    now: i64,
    mine: JoinBuffer,
    theirs: JoinBuffer,
    unmatched: Option<UnmatchedBuffer>,
    before_ms: i64,
    after_ms: i64,
    windows: JoinWindows,
    outer: (bool, bool),
    emit: Arc<Joiner<K, VM, VO, VR>>,
    next: Forward<K, VR>,
    /// This side's buffered records by time, for retention (rebuilt after a rollback).
    index: Option<(u64, TimeIndex)>,
}

impl<K: StoreData, VM: StoreData, VO: StoreData, VR: Data> NodeFactory<K, VM> for SideFactory<K, VM, VO, VR> {
    fn instantiate(&self, build: &TaskBuild<'_>) -> Result<Box<dyn Node<K, VM>>> {
        // The clock lives in the left side's buffer: `this` for the left, `other` for the right.
        let clock_store = if self.side == LEFT {
            &self.stores.this
        } else {
            &self.stores.other
        };
        Ok(Box::new(SideProcessor {
            side: self.side,
            clock: StreamClock::new(&build.store(clock_store)?),
            now: i64::MIN,
            mine: JoinBuffer::new(build.store(&self.stores.this)?),
            theirs: JoinBuffer::new(build.store(&self.stores.other)?),
            unmatched: match &self.stores.unmatched {
                Some(name) => Some(UnmatchedBuffer::new(build.store(name)?)),
                None => None,
            },
            before_ms: self.before_ms,
            after_ms: self.after_ms,
            windows: self.windows,
            outer: self.outer,
            emit: Arc::clone(&self.emit),
            next: self.children.instantiate(build)?,
            index: None,
        }))
    }
}

impl<K: StoreData, VM: StoreData, VO: StoreData, VR: Data> SideProcessor<K, VM, VO, VR> {
    fn index(&mut self) -> Result<&mut TimeIndex> {
        let generation = self.mine.generation();
        if self.index.as_ref().is_none_or(|(g, _)| *g != generation) {
            let mut by_time = TimeIndex::new();
            for (key, ts, seq) in self.mine.entries()? {
                by_time.entry(ts).or_default().push((key, seq));
            }
            self.index = Some((generation, by_time));
        }
        Ok(&mut self.index.get_or_insert_with(|| unreachable!("just built")).1)
    }

    fn forward(&mut self, ctx: &mut TaskContext, key: K, value: Option<VR>, timestamp: i64) -> Result<()> {
        match value {
            Some(value) => self.next.forward(ctx, Record { key, value, timestamp }),
            None => Ok(()),
        }
    }

    /// Emits the records without partner whose window closed, from either side.
    fn flush_unmatched(&mut self, ctx: &mut TaskContext) -> Result<()> {
        let Some(unmatched) = &self.unmatched else {
            return Ok(());
        };
        let stream_time = self.now;
        let grace = self.windows.grace_ms;
        // A record of side S at t closes once stream time > t + after(S) + grace.
        let after_of = |side: u8| {
            if side == self.side {
                self.after_ms
            } else {
                self.before_ms
            }
        };
        let earliest_close = stream_time
            .saturating_sub(grace)
            .saturating_sub(self.after_ms.min(self.before_ms))
            .saturating_sub(1);
        let mut due = Vec::new();
        for entry in unmatched.take_until(earliest_close)? {
            if stream_time
                > entry
                    .timestamp
                    .saturating_add(after_of(entry.side))
                    .saturating_add(grace)
            {
                due.push(entry);
            } else {
                unmatched.put(&entry);
            }
        }
        // Oldest first; at one time the right side's before the left's, then by key (Kafka
        // Streams' order).
        due.sort_by(|a, b| {
            (a.timestamp, a.side == LEFT, &a.key, a.seq).cmp(&(b.timestamp, b.side == LEFT, &b.key, b.seq))
        });
        for entry in due {
            let key: K = self.mine.decode_key(&entry.key)?;
            let value = if entry.side == self.side {
                let mine: VM = self.mine.decode_value(&entry.value)?;
                (self.emit)(&key, Some(&mine), None)
            } else {
                let theirs: VO = self.theirs.decode_value(&entry.value)?;
                (self.emit)(&key, None, Some(&theirs))
            };
            self.forward(ctx, key, value, entry.timestamp)?;
        }
        Ok(())
    }

    /// Deletes this side's records that no partner can join any more.
    fn expire(&mut self, stream_time: i64) -> Result<()> {
        let expired_before = stream_time.saturating_sub(self.windows.retention_ms());
        let index = self.index()?;
        if index.first_key_value().is_none_or(|(ts, _)| *ts >= expired_before) {
            return Ok(());
        }
        let mut expired = index.split_off(&expired_before);
        std::mem::swap(&mut expired, index);
        for (ts, entries) in expired {
            for (key, seq) in entries {
                self.mine.delete(&key, ts, seq);
            }
        }
        Ok(())
    }
}

impl<K: StoreData, VM: StoreData, VO: StoreData, VR: Data> Node<K, VM> for SideProcessor<K, VM, VO, VR> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, VM>) -> Result<()> {
        let Record { key, value, timestamp } = record;
        let stream_time = self.clock.observe(timestamp)?;
        self.now = stream_time;
        if stream_time
            > timestamp
                .saturating_add(self.after_ms)
                .saturating_add(self.windows.grace_ms)
        {
            ctx.record_late_drop();
            tracing::debug!(task = %ctx.task(), timestamp, stream_time, "dropping a join record that arrived after its window closed");
            return Ok(());
        }
        // Records whose window this one's time closed go out first, before its own results
        // (as Kafka Streams orders them).
        self.flush_unmatched(ctx)?;
        let encoded_key = self.mine.encode_key(&key)?;
        let encoded_value = self.mine.encode_value(&value)?;
        let seq = self.mine.put(&encoded_key, timestamp, encoded_value.clone())?;
        self.index()?
            .entry(timestamp)
            .or_default()
            .push((encoded_key.clone(), seq));
        let partners = self.theirs.range(
            &encoded_key,
            timestamp.saturating_sub(self.before_ms),
            timestamp.saturating_add(self.after_ms),
        )?;
        let other_side = if self.side == LEFT { RIGHT } else { LEFT };
        for partner in &partners {
            if self.outer.1
                && let Some(unmatched) = &self.unmatched
            {
                // It has a partner now: never emitted alone.
                unmatched.delete(partner.timestamp, other_side, &encoded_key, partner.seq);
            }
            let theirs: VO = self.theirs.decode_value(&partner.value)?;
            let joined = (self.emit)(&key, Some(&value), Some(&theirs));
            self.forward(ctx, key.clone(), joined, timestamp.max(partner.timestamp))?;
        }
        if partners.is_empty()
            && self.outer.0
            && let Some(unmatched) = &self.unmatched
        {
            unmatched.put(&Unmatched {
                timestamp,
                side: self.side,
                key: encoded_key,
                seq,
                value: encoded_value,
            });
        }
        self.expire(stream_time)
    }
}
