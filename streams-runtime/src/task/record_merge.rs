//! The records of a task that reads several partitions (a join's two sides, merged streams, a
//! stream and the table it looks up), handed to the task in timestamp order.
//!
//! The consumer hands out records partition by partition, a fetched batch at a time: without
//! this, a burst on one side (a backlog read at startup, one topic fetched before the other)
//! moves the task's stream time far ahead, and the other side's records are then late and
//! dropped by windows and joins that Kafka Streams would have joined. As Kafka Streams'
//! `PartitionGroup` does, each partition of such a task gets a queue, and the task takes the
//! record with the lowest timestamp among the queue heads when every queue has one. When a
//! partition's queue is empty, `max.task.idle.ms` decides:
//!
//! - `-1`: never wait; the other queues are processed as they are.
//! - `0` (the default): wait while the empty partition is behind ([`FetchedLag::Behind`]): the
//!   end librdkafka last reported (its statistics, every 500 ms: the last stable offset under
//!   `read_committed`, the high watermark otherwise) is above the consumer's position, or —
//!   before anything of the partition was polled — librdkafka's fetcher is still below the end,
//!   or its fetch is still starting. As in Kafka Streams this wait has no time limit: however slow the
//!   fetch, records known to be on their way are merged in timestamp order, not dropped as
//!   late. (A partition's position passes transaction markers and aborted records once they
//!   are polled, so a partition holding only those is not behind for long.) While nothing is
//!   known (no report since the assignment, a partition not fetched here) the wait is bounded
//!   by [`LAG_WAIT_LIMIT_MS`].
//! - `n > 0`: also wait up to `n` ms for a partition that is caught up.
//!
//! The wait runs from the moment a partition of the task was found empty and ends when every
//! partition has a record again (so a partition that stays silent costs one wait, not one per
//! record). A queue holding [`MAX_BUFFERED`] records stops the wait too: memory stays bounded.
//! A wait longer than [`LAG_WAIT_LIMIT_MS`] is logged once, naming the partition waited for.
//!
//! Records are ordered by the timestamp they carry (the broker's or the producer's), not by the
//! value a custom timestamp extractor would compute after decoding; the test driver orders its
//! inputs the same way. Only tasks with more than one source partition buffer: a task reading
//! one partition processes each record as it is polled, without a copy.
//!
//! Buffered records are not processed, so they are neither committed nor part of any position:
//! on a rollback the consumer is moved back to the first one (see `ThreadState`), and a revoked
//! task's queues are dropped (the next owner reads from the committed offsets).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use super::InputRecord;
use crate::processor::Header;
use crate::task::TaskId;

/// The longest wait for a partition whose lag is unknown: a fetch round trip and a statistics
/// report (every 500 ms) with room to spare. A partition known to be behind is waited for
/// without limit: a bound (2 s here once) let a join on a loaded machine run ahead of a
/// partition whose first fetch came later, dropping 833 of its 2,400 records as late
/// (`tests/kafka_joins.rs`).
pub(crate) const LAG_WAIT_LIMIT_MS: i64 = 2_000;
/// Whether an empty partition's records are on their way, as far as its consumer knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FetchedLag {
    /// The consumer's position is at the end the broker last reported.
    CaughtUp,
    /// Records are on their way: the position (or, before the first poll, the fetcher) is
    /// below the reported end, or the partition's fetch is starting.
    Behind,
    /// Not known: no report since the assignment, or the partition is not fetched here.
    Unknown,
}

/// Records one queue may hold before the task stops waiting for its empty partitions.
pub(crate) const MAX_BUFFERED: usize = 10_000;

/// A consumed record waiting in its partition's queue (an owned copy of an [`InputRecord`]).
#[derive(Debug)]
pub(crate) struct BufferedRecord {
    pub(crate) offset: i64,
    pub(crate) key: Option<Vec<u8>>,
    pub(crate) value: Option<Vec<u8>>,
    pub(crate) timestamp: i64,
    pub(crate) headers: Vec<Header>,
}

impl BufferedRecord {
    /// The record as the task processes it, from `topic` and `partition`.
    pub(crate) fn input<'a>(&'a self, topic: &'a str, partition: i32) -> InputRecord<'a> {
        InputRecord {
            topic,
            partition,
            offset: self.offset,
            key: self.key.as_deref(),
            value: self.value.as_deref(),
            timestamp: self.timestamp,
            headers: &self.headers,
        }
    }
}

/// The queues of one task: one per source topic (the partition is the task's).
#[derive(Debug)]
struct TaskQueues {
    queues: Vec<(Arc<str>, VecDeque<BufferedRecord>)>,
    /// Wall-clock ms since which the task has had records while a partition was empty.
    waiting_since: Option<i64>,
    /// Whether this wait was logged as long already.
    long_wait_logged: bool,
}

impl TaskQueues {
    fn is_empty(&self) -> bool {
        self.queues.iter().all(|(_, q)| q.is_empty())
    }
}

/// The queues of every multi-partition task of a stream thread.
#[derive(Debug)]
pub(crate) struct RecordMerge {
    /// Sub-topology → its source topics, for the sub-topologies that read more than one.
    merged: HashMap<u32, Vec<Arc<str>>>,
    tasks: BTreeMap<TaskId, TaskQueues>,
    /// `max.task.idle.ms`; `None` never waits.
    max_idle_ms: Option<i64>,
}

impl RecordMerge {
    /// `source_topics`: every resolved source topic and the sub-topology reading it.
    pub(crate) fn new<'a>(source_topics: impl IntoIterator<Item = (&'a str, u32)>, max_idle_ms: Option<i64>) -> Self {
        let mut by_subtopology: HashMap<u32, Vec<Arc<str>>> = HashMap::new();
        for (topic, sub) in source_topics {
            by_subtopology.entry(sub).or_default().push(Arc::from(topic));
        }
        by_subtopology.retain(|_, topics| topics.len() > 1);
        for topics in by_subtopology.values_mut() {
            topics.sort();
        }
        Self {
            merged: by_subtopology,
            tasks: BTreeMap::new(),
            max_idle_ms,
        }
    }

    /// Whether the tasks of sub-topology `sub` read several partitions (and so buffer here).
    pub(crate) fn merges(&self, sub: u32) -> bool {
        self.merged.contains_key(&sub)
    }

    /// Queues `record` for task `id` (of a merging sub-topology).
    pub(crate) fn push(&mut self, id: TaskId, record: &InputRecord<'_>) {
        let Some(topics) = self.merged.get(&id.subtopology) else {
            return;
        };
        let task = self.tasks.entry(id).or_insert_with(|| TaskQueues {
            queues: topics.iter().map(|t| (Arc::clone(t), VecDeque::new())).collect(),
            waiting_since: None,
            long_wait_logged: false,
        });
        if let Some((_, queue)) = task.queues.iter_mut().find(|(t, _)| &**t == record.topic) {
            queue.push_back(BufferedRecord {
                offset: record.offset,
                key: record.key.map(<[u8]>::to_vec),
                value: record.value.map(<[u8]>::to_vec),
                timestamp: record.timestamp,
                headers: record.headers.to_vec(),
            });
        }
    }

    /// Whether there is no task to look at ([`Self::waiting_tasks`] is empty), without
    /// collecting them.
    pub(crate) fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// The tasks with buffered records.
    pub(crate) fn waiting_tasks(&self) -> Vec<TaskId> {
        self.tasks.keys().copied().collect()
    }

    /// The next record task `id` may process now (and its topic), or `None` if it must wait
    /// (or has nothing). `lag` tells whether a partition is behind (see [`fetched lag`]);
    /// `now_ms` is the wall clock.
    ///
    /// [`fetched lag`]: crate::txn::Transport::fetched_lag
    pub(crate) fn next(
        &mut self,
        id: TaskId,
        now_ms: i64,
        mut lag: impl FnMut(&str, i32) -> FetchedLag,
    ) -> Option<(Arc<str>, BufferedRecord)> {
        let task = self.tasks.get_mut(&id)?;
        if task.is_empty() {
            self.tasks.remove(&id);
            return None;
        }
        if task.queues.iter().all(|(_, q)| !q.is_empty()) {
            task.waiting_since = None;
            task.long_wait_logged = false;
        } else if let Some(idle) = self.max_idle_ms {
            let waited = now_ms - *task.waiting_since.get_or_insert(now_ms);
            let full = task.queues.iter().any(|(_, q)| q.len() >= MAX_BUFFERED);
            let waited_for = (!full)
                .then(|| {
                    task.queues.iter().filter(|(_, q)| q.is_empty()).find_map(|(topic, _)| {
                        let lag = lag(topic, id.partition);
                        let limit = match lag {
                            FetchedLag::CaughtUp => idle,
                            FetchedLag::Behind => i64::MAX,
                            FetchedLag::Unknown => idle.max(LAG_WAIT_LIMIT_MS),
                        };
                        (waited < limit).then_some((topic, lag))
                    })
                })
                .flatten();
            if let Some((topic, lag)) = waited_for {
                if waited >= LAG_WAIT_LIMIT_MS && !task.long_wait_logged {
                    task.long_wait_logged = true;
                    tracing::info!(
                        task = %id, topic = %topic, partition = id.partition, lag = ?lag, waited_ms = waited,
                        "a task waits for a partition that is behind, to process its records in timestamp order"
                    );
                }
                return None;
            }
        }
        let (topic, queue) = task
            .queues
            .iter_mut()
            .filter(|(_, q)| !q.is_empty())
            .min_by_key(|(_, q)| q.front().map_or(i64::MAX, |r| r.timestamp))?;
        let record = queue.pop_front()?;
        Some((Arc::clone(topic), record))
    }

    /// Drops the queues of task `id` (revoked or closed).
    pub(crate) fn drop_task(&mut self, id: TaskId) {
        self.tasks.remove(&id);
    }

    /// Empties every queue; returns, per partition that had records, the offset of the first
    /// (where the consumer must resume to read them again).
    pub(crate) fn take_all(&mut self) -> Vec<(String, i32, i64)> {
        std::mem::take(&mut self.tasks)
            .into_iter()
            .flat_map(|(id, task)| {
                task.queues.into_iter().filter_map(move |(topic, queue)| {
                    queue.front().map(|r| (topic.to_string(), id.partition, r.offset))
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merge(max_idle_ms: Option<i64>) -> RecordMerge {
        RecordMerge::new([("left", 0), ("right", 0), ("solo", 1)], max_idle_ms)
    }

    const TASK: TaskId = TaskId {
        subtopology: 0,
        partition: 3,
    };

    fn push(merge: &mut RecordMerge, topic: &str, offset: i64, timestamp: i64) {
        merge.push(
            TASK,
            &InputRecord {
                topic,
                partition: TASK.partition,
                offset,
                key: Some(b"k"),
                value: None,
                timestamp,
                headers: &[],
            },
        );
    }

    fn next(merge: &mut RecordMerge, now: i64, lag: FetchedLag) -> Option<(String, i64)> {
        merge
            .next(TASK, now, |_, _| lag)
            .map(|(topic, r)| (topic.to_string(), r.offset))
    }

    #[test]
    fn only_sub_topologies_with_several_sources_merge() {
        let merge = merge(Some(0));
        assert!(merge.merges(0));
        assert!(!merge.merges(1));
    }

    #[test]
    fn the_lowest_head_timestamp_goes_first_when_every_partition_has_records() {
        let mut merge = merge(Some(0));
        push(&mut merge, "left", 0, 50);
        push(&mut merge, "left", 1, 60);
        push(&mut merge, "right", 0, 10);
        push(&mut merge, "right", 1, 55);
        // Behind on every partition: nothing may wait while all queues have a head.
        assert_eq!(next(&mut merge, 0, FetchedLag::Behind), Some(("right".into(), 0)));
        assert_eq!(next(&mut merge, 0, FetchedLag::Behind), Some(("left".into(), 0)));
        assert_eq!(next(&mut merge, 0, FetchedLag::Behind), Some(("right".into(), 1)));
        // `right` is empty and behind: `left` waits for it.
        assert_eq!(next(&mut merge, 0, FetchedLag::Behind), None);
    }

    #[test]
    fn an_empty_partition_that_is_behind_is_waited_for_until_its_records_come() {
        let mut merge = merge(Some(0));
        push(&mut merge, "left", 0, 50);
        assert_eq!(next(&mut merge, 1_000, FetchedLag::Behind), None);
        // Far past the limit of an unknown lag: the records are known to exist.
        assert_eq!(
            next(&mut merge, 1_000 + 60 * LAG_WAIT_LIMIT_MS, FetchedLag::Behind),
            None
        );
        push(&mut merge, "right", 0, 40);
        assert_eq!(
            next(&mut merge, 1_000 + 60 * LAG_WAIT_LIMIT_MS, FetchedLag::Behind),
            Some(("right".into(), 0))
        );
        assert_eq!(
            next(&mut merge, 1_000 + 60 * LAG_WAIT_LIMIT_MS, FetchedLag::CaughtUp),
            Some(("left".into(), 0))
        );
    }

    #[test]
    fn an_empty_partition_of_unknown_lag_is_waited_for_up_to_the_limit() {
        let mut merge = merge(Some(0));
        push(&mut merge, "left", 0, 50);
        assert_eq!(next(&mut merge, 1_000, FetchedLag::Unknown), None);
        assert_eq!(
            next(&mut merge, 1_000 + LAG_WAIT_LIMIT_MS - 1, FetchedLag::Unknown),
            None
        );
        assert_eq!(
            next(&mut merge, 1_000 + LAG_WAIT_LIMIT_MS, FetchedLag::Unknown),
            Some(("left".into(), 0))
        );
        // The partition stayed silent: later records do not wait again.
        push(&mut merge, "left", 1, 70);
        assert_eq!(
            next(&mut merge, 1_000 + LAG_WAIT_LIMIT_MS, FetchedLag::Unknown),
            Some(("left".into(), 1))
        );
    }

    #[test]
    fn a_partition_found_behind_after_the_limit_of_an_unknown_lag_is_still_waited_for() {
        let mut merge = merge(Some(0));
        push(&mut merge, "left", 0, 50);
        assert_eq!(next(&mut merge, 0, FetchedLag::Unknown), None);
        // Its first report came late, saying records are on their way.
        assert_eq!(next(&mut merge, 5 * LAG_WAIT_LIMIT_MS, FetchedLag::Behind), None);
    }

    #[test]
    fn a_caught_up_empty_partition_is_not_waited_for_by_default() {
        let mut merge = merge(Some(0));
        push(&mut merge, "left", 0, 50);
        assert_eq!(next(&mut merge, 0, FetchedLag::CaughtUp), Some(("left".into(), 0)));
        assert_eq!(next(&mut merge, 0, FetchedLag::CaughtUp), None);
    }

    #[test]
    fn a_positive_idle_time_waits_for_caught_up_partitions_too() {
        let mut merge = merge(Some(500));
        push(&mut merge, "left", 0, 50);
        assert_eq!(next(&mut merge, 0, FetchedLag::CaughtUp), None);
        assert_eq!(next(&mut merge, 499, FetchedLag::CaughtUp), None);
        assert_eq!(next(&mut merge, 500, FetchedLag::CaughtUp), Some(("left".into(), 0)));
    }

    #[test]
    fn minus_one_never_waits() {
        let mut merge = merge(None);
        push(&mut merge, "left", 0, 50);
        assert_eq!(next(&mut merge, 0, FetchedLag::Unknown), Some(("left".into(), 0)));
    }

    #[test]
    fn a_full_queue_stops_the_wait() {
        let mut merge = merge(Some(0));
        for offset in 0..MAX_BUFFERED as i64 {
            push(&mut merge, "left", offset, offset);
        }
        assert_eq!(next(&mut merge, 0, FetchedLag::Behind), Some(("left".into(), 0)));
    }

    #[test]
    fn take_all_says_where_each_partition_resumes() {
        let mut merge = merge(Some(0));
        push(&mut merge, "left", 4, 50);
        push(&mut merge, "left", 5, 51);
        push(&mut merge, "right", 9, 52);
        let mut resume = merge.take_all();
        resume.sort();
        assert_eq!(resume, [("left".to_owned(), 3, 4), ("right".to_owned(), 3, 9)]);
        assert!(merge.waiting_tasks().is_empty());
    }
}
