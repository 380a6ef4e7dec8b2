//! What a stream thread owns — its tasks and its transport — and records through them.
//!
//! Commit, rollback and recovery over these tasks are in [`commit`](super::commit).
//!
//! Assignment: revoked tasks are suspended and reused if handed back; the rest are closed
//! *before* new tasks open, so a task moving between two threads of this process finds its
//! stores unlocked. A task whose store another handle still holds (a standby, a query, a thread
//! slow to let go) is kept *pending* rather than failing the thread: its partitions stay paused
//! and the open is retried on the thread's loop (Kafka Streams does the same on a
//! `LockException`); a record that still arrives for it is rewound, never skipped.
//!
//! A task that reads several partitions gets its records in timestamp order through a
//! [`RecordMerge`] ([`ThreadState::enqueue`], then [`ThreadState::process_merged`]); the test driver picks
//! the record with the lowest timestamp across its inputs itself and calls [`ThreadState::process`].
//!
//! The same code runs in production (over rdkafka) and in the test driver (over an in-memory
//! log): only the [`Transport`] differs.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use super::{CommitError, OutgoingRecord, Transport};
use crate::config::StreamsConfig;
use crate::error::{Error, ErrorKind, Result, report};
use crate::metrics::{RECORD_LATENCY_SAMPLE, RecordLatency};
use crate::task::{InputRecord, Outcome, RecordMerge, SourceTopics, Task, TaskEnv, TaskId};
use crate::topology::Topology;

/// Uncommitted store writes never wait for more than this many bytes, even with a smaller cache.
const MIN_OVERLAY_BYTES: usize = 64 * 1024;

/// Produces what `task`'s processors forwarded to sinks. A record Kafka refuses for good (too
/// large, invalid) does not stop the others: the first such refusal is returned for the
/// caller's error policy; any other failure is returned as it is.
fn send_outputs<T: Transport>(transport: &mut T, task: &mut Task) -> Result<Option<Error>, CommitError> {
    let mut rejected = None;
    for out in task.drain_outputs() {
        let sent = transport.send(OutgoingRecord {
            topic: &out.topic,
            partition: None,
            key: Cow::Owned(out.key),
            value: out.value.map(Cow::Owned),
            timestamp: out.timestamp,
            headers: Cow::Owned(out.headers),
            changelog: false,
        });
        match sent {
            Ok(()) => {}
            Err(CommitError::Rejected(e)) => {
                rejected.get_or_insert(e);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(rejected)
}

/// What stopped a record: the transport (the commit protocol recovers) or the task itself.
enum Step {
    Transport(CommitError),
    Task(Error),
}

impl From<CommitError> for Step {
    fn from(e: CommitError) -> Self {
        Self::Transport(e)
    }
}

impl From<Error> for Step {
    fn from(e: Error) -> Self {
        Self::Task(e)
    }
}

pub(crate) struct ThreadState<T: Transport> {
    pub(crate) name: String,
    pub(crate) env: Arc<TaskEnv>,
    pub(super) topology: Arc<Topology>,
    /// Resolved source topic → sub-topology id (looked up once per record).
    pub(crate) source_topics: SourceTopics,
    /// The resolved repartition topics among the sources (purged after commits).
    pub(super) repartition_sources: HashSet<String>,
    pub(super) purge_interval_ms: i64,
    pub(super) last_purge_ms: i64,
    pub(super) tasks: BTreeMap<TaskId, Task>,
    pub(super) suspended: BTreeMap<TaskId, Task>,
    /// Assigned tasks whose stores were locked by another handle: not open yet, partitions paused.
    pub(super) pending: BTreeSet<TaskId>,
    /// Polled records of multi-partition tasks, not processed yet.
    pub(super) merge: RecordMerge,
    pub(super) transport: T,
    pub(super) commit_interval_ms: i64,
    pub(super) overlay_limit: usize,
    pub(super) last_commit_ms: i64,
    pub(super) records_since_check: u32,
    /// The wall-clock time of the last look for due wall-clock punctuations.
    wall_clock_checked_ms: i64,
    /// Set from rebalance callbacks, which cannot return errors.
    pub(crate) fatal: Option<Error>,
    /// The producer was fenced or failed fatally: tasks were closed and the group must be rejoined.
    pub(crate) needs_rejoin: bool,
    /// A simulated crash: nothing may be committed any more.
    pub(crate) crashed: bool,
    /// Bumped whenever the set of tasks changes (status and membership refresh on it).
    pub(crate) assignment_version: u64,
    /// Wall-clock ms of the first rollback since the last successful commit.
    pub(super) failing_since_ms: Option<i64>,
    /// Records handed to [`Self::process`]; every [`RECORD_LATENCY_SAMPLE`]th is timed into
    /// `record_latency`.
    records_seen: u64,
    record_latency: RecordLatency,
    /// Why the last record was rolled back rather than processed, when the cause was outside
    /// it (a Schema Registry outage); the test driver hands it to its caller.
    pub(crate) interrupted: Option<Error>,
    pub(super) task_timeout_ms: i64,
}

impl<T: Transport> ThreadState<T> {
    pub(crate) fn new(
        name: String,
        env: Arc<TaskEnv>,
        topology: Arc<Topology>,
        config: &StreamsConfig,
        transport: T,
    ) -> Self {
        let app = env.application_id.as_str();
        let source_topics = SourceTopics::new(
            topology
                .subtopologies
                .iter()
                .flat_map(|s| s.sources.iter().map(move |(t, _)| (t.resolve(app), s.id))),
        );
        let repartition_sources = topology.repartition_sources(app).collect();
        let max_idle_ms = config
            .max_task_idle()
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let merge = RecordMerge::new(source_topics.iter(), max_idle_ms);
        let last_commit_ms = env.clock.now_ms();
        let record_latency = env.metrics.record_latency(&name);
        Self {
            name,
            env,
            topology,
            source_topics,
            repartition_sources,
            purge_interval_ms: i64::try_from(config.repartition_purge_interval().as_millis()).unwrap_or(i64::MAX),
            last_purge_ms: last_commit_ms,
            tasks: BTreeMap::new(),
            suspended: BTreeMap::new(),
            pending: BTreeSet::new(),
            merge,
            transport,
            commit_interval_ms: i64::try_from(config.commit_interval().as_millis()).unwrap_or(i64::MAX),
            overlay_limit: config.cache_max_bytes_buffering().max(MIN_OVERLAY_BYTES),
            last_commit_ms,
            records_since_check: 0,
            wall_clock_checked_ms: i64::MIN,
            fatal: None,
            needs_rejoin: false,
            crashed: false,
            assignment_version: 0,
            failing_since_ms: None,
            records_seen: 0,
            record_latency,
            interrupted: None,
            task_timeout_ms: i64::try_from(config.task_timeout().as_millis()).unwrap_or(i64::MAX),
        }
    }

    pub(crate) fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// Runs one consumed record through its task (see `process_in`): the test driver's entry.
    #[cfg(any(test, feature = "test-util"))]
    pub(crate) fn process(&mut self, consumer: &T::Consumer, record: InputRecord<'_>) -> Result<()> {
        let sub = self.source_topics.get(record.topic);
        self.process_in(consumer, sub, record)
    }

    /// Runs one consumed record through its task and queues the task's outputs; `sub` is the
    /// subtopology of its topic, which the caller looked up already (`None`: not a source topic
    /// of this thread). A failure to produce (a [`CommitError`] from the transport, e.g. a
    /// transaction gone abortable) rolls back to the last commit, like a failed commit. The
    /// task's own failures are returned: a state store's, and a record's that the error policy
    /// says must stop the thread (a user processor's error of any kind counts as the record's,
    /// never as the transport's).
    fn process_in(&mut self, consumer: &T::Consumer, sub: Option<u32>, record: InputRecord<'_>) -> Result<()> {
        self.records_seen = self.records_seen.wrapping_add(1);
        let sampled = self
            .records_seen
            .is_multiple_of(RECORD_LATENCY_SAMPLE)
            .then(std::time::Instant::now);
        let timestamp = record.timestamp;
        let result = self.process_one(consumer, sub, record);
        if let Some(started) = sampled {
            let processing = started.elapsed();
            let now = self.env.clock.now_ms();
            self.record_latency.observe(processing, now.saturating_sub(timestamp));
        }
        match result {
            Ok(()) => Ok(()),
            Err(Step::Transport(e)) => {
                self.env.metrics.record_aborted_commit();
                self.recover_from_failed_commit(consumer, &e);
                Ok(())
            }
            Err(Step::Task(e)) if e.kind() == ErrorKind::Unavailable => {
                // Not the record's fault (the Schema Registry is down): it is not skipped but
                // read again after a rollback, as a failed commit's records are, until
                // `task.timeout.ms`. The registry client paces the retries.
                tracing::warn!(thread = %self.name, error = %report(&e), "a service the codecs need is unavailable; rolling back to process the record again");
                let error = CommitError::Abortable(e);
                self.recover_from_failed_commit(consumer, &error);
                self.interrupted = Some(error.into_error());
                Ok(())
            }
            Err(Step::Task(e)) => Err(e),
        }
    }

    /// A polled record: queued if its task reads several partitions (processed in timestamp
    /// order by [`Self::process_merged`]), processed at once otherwise.
    pub(crate) fn enqueue(&mut self, consumer: &T::Consumer, record: InputRecord<'_>) -> Result<()> {
        // One look-up of the topic for both the merge check and the processing (per record).
        let sub = self.source_topics.get(record.topic);
        if let Some(sub) = sub
            && self.merge.merges(sub)
        {
            let id = TaskId {
                subtopology: sub,
                partition: record.partition,
            };
            if self.tasks.contains_key(&id) {
                self.merge.push(id, &record);
                return Ok(());
            }
        }
        self.process_in(consumer, sub, record)
    }

    /// Processes the queued records of multi-partition tasks that may go now, lowest timestamp
    /// first (see [`RecordMerge`] for when a task waits for an empty partition).
    /// `now` is the thread's clock (`env.clock`), read once per loop.
    #[inline]
    pub(crate) fn process_merged(&mut self, consumer: &T::Consumer, now: i64) -> Result<()> {
        // Called after every record (so the check is inlined into the thread's loop): most
        // topologies have no task that merges partitions.
        if self.merge.is_empty() {
            return Ok(());
        }
        self.process_queued(consumer, now)
    }

    /// The queued records the merge lets go at `now` (see `process_merged`).
    fn process_queued(&mut self, consumer: &T::Consumer, now: i64) -> Result<()> {
        let tasks = self.merge.waiting_tasks();
        for id in tasks {
            loop {
                let transport = &self.transport;
                let Some((topic, record)) = self.merge.next(id, now, |topic, partition| {
                    transport.fetched_lag(consumer, topic, partition, now)
                }) else {
                    break;
                };
                self.process_in(consumer, Some(id.subtopology), record.input(&topic, id.partition))?;
            }
        }
        Ok(())
    }

    fn process_one(&mut self, consumer: &T::Consumer, sub: Option<u32>, record: InputRecord<'_>) -> Result<(), Step> {
        let Some(sub) = sub else {
            return Ok(());
        };
        let id = TaskId {
            subtopology: sub,
            partition: record.partition,
        };
        let Some(task) = self.tasks.get_mut(&id) else {
            if self.pending.contains(&id) {
                // Fetched before its partition was paused: read it again once the task opens.
                // If the consumer cannot be moved back, everything since the last commit is redone.
                return self
                    .transport
                    .seek(consumer, record.topic, record.partition, record.offset)
                    .map_err(|e| Step::Transport(CommitError::Abortable(e)));
            }
            tracing::warn!(thread = %self.name, task = %id, "record for a task this thread does not own; skipping");
            return Ok(());
        };
        let dropped_before = task.dropped_late_records();
        match task.process(record)? {
            Outcome::Processed => self.env.metrics.record_processed(),
            Outcome::Skipped => self.env.metrics.record_skipped(),
            Outcome::AlreadyApplied => {}
        }
        self.env
            .metrics
            .record_late_drops(task.dropped_late_records() - dropped_before);
        if let Some(rejected) = send_outputs(&mut self.transport, task)? {
            // An output too large or invalid for Kafka: the input record is handled by the
            // topology's processing-error policy (skipped, dead-lettered, or the thread stops),
            // never redone forever.
            if task.refused_output(&record, rejected)? == Outcome::Skipped {
                self.env.metrics.record_skipped();
            }
            if let Some(e) = send_outputs(&mut self.transport, task)? {
                tracing::warn!(thread = %self.name, task = %id, error = %report(&e), "the dead-letter record was refused too; skipped");
            }
        }
        self.records_since_check += 1;
        Ok(())
    }

    /// Runs the wall-clock punctuations due at `now` (the thread's clock, `env.clock`, read once
    /// per loop; called between records) and queues what they forward. Failures are handled like
    /// a record's: a failure to produce, or a codec's unavailable registry, rolls back to the
    /// last commit; a processor's error is logged and the punctuation skipped.
    #[inline]
    pub(crate) fn punctuate_wall_clock(&mut self, consumer: &T::Consumer, now: i64) -> Result<()> {
        // Called after every record, hundreds of times per millisecond: punctuations fall due by
        // the millisecond, so the tasks are looked at once per millisecond at most (and the
        // check is inlined into the thread's loop).
        if now == self.wall_clock_checked_ms {
            return Ok(());
        }
        self.punctuate_wall_clock_now(consumer, now)
    }

    /// The wall-clock punctuations due at `now` (see `punctuate_wall_clock`).
    fn punctuate_wall_clock_now(&mut self, consumer: &T::Consumer, now: i64) -> Result<()> {
        self.wall_clock_checked_ms = now;
        if !self.tasks.values().any(Task::has_punctuators) {
            return Ok(());
        }
        let mut result = Ok(());
        for task in self.tasks.values_mut() {
            let punctuated = task.punctuate(crate::processor::PunctuationType::WallClockTime, now);
            let sent = send_outputs(&mut self.transport, task);
            match (punctuated, sent) {
                // A store failure stops the thread, whatever else happened.
                (Err(e), _) if e.kind() == ErrorKind::State => return Err(e),
                // A service a codec needs is down: as for a record, roll back (the
                // punctuation's effects with everything since the last commit) and go on.
                (Err(e), _) if e.kind() == ErrorKind::Unavailable => {
                    result = Err(CommitError::Abortable(e));
                    break;
                }
                (_, Err(e)) => {
                    result = Err(e);
                    break;
                }
                (punctuated, Ok(rejected)) => {
                    if let Err(e) = punctuated.and(rejected.map_or(Ok(()), Err)) {
                        tracing::warn!(thread = %self.name, task = %task.id(), error = %report(&e), "wall-clock punctuation failed; skipped")
                    }
                }
            }
        }
        if let Err(e) = result {
            self.env.metrics.record_aborted_commit();
            self.recover_from_failed_commit(consumer, &e);
        }
        Ok(())
    }

    /// Rebalance: this member's assignment was lost rather than revoked — its session expired
    /// (the process was frozen, or missed `max.poll.interval.ms`), so other members may own its
    /// tasks already and have committed past it. Nothing is committed: the open transaction is
    /// aborted, every task rolls back to its last commit and closes, so a later assignment
    /// reopens it from its checkpoint, the changelog tail the other owner wrote and the group's
    /// committed offsets. Reusing the task as it stands would resume from stale state (Kafka
    /// Streams closes lost tasks dirty for the same reason). Returns the partitions of the
    /// pending tasks it dropped: paused, to be resumed before they go (see
    /// [`Self::pending_partitions`]).
    pub(crate) fn lose_all(&mut self) -> Vec<(String, i32)> {
        self.assignment_version += 1;
        let paused = self.pending_partitions();
        self.pending.clear();
        self.merge.take_all();
        if let Err(e) = self.transport.abort() {
            tracing::warn!(thread = %self.name, error = %report(&e), "failed to abort the lost assignment's transaction; replacing the producer");
            if let Err(e) = self.transport.replace() {
                self.fatal = Some(e);
            }
        }
        for (id, mut task) in std::mem::take(&mut self.tasks)
            .into_iter()
            .chain(std::mem::take(&mut self.suspended))
        {
            task.roll_back();
            tracing::info!(thread = %self.name, task = %id, "task lost; closed without committing");
            task.close(&self.env);
        }
        paused
    }

    /// Rebalance: the partitions in `revoked` are being taken away. Returns the partitions of
    /// the pending tasks among them: paused, to be resumed before they go (see
    /// [`Self::pending_partitions`]).
    pub(crate) fn suspend<'a>(&mut self, revoked: impl IntoIterator<Item = (&'a str, i32)>) -> Vec<(String, i32)> {
        self.assignment_version += 1;
        let mut dropped = Vec::new();
        for (topic, partition) in revoked {
            if let Some(sub) = self.source_topics.get(topic) {
                let id = TaskId {
                    subtopology: sub,
                    partition,
                };
                if let Some(task) = self.tasks.remove(&id) {
                    self.suspended.insert(id, task);
                }
                // The next owner (maybe this thread again) reads them from the committed offsets.
                self.merge.drop_task(id);
                if self.pending.remove(&id) {
                    dropped.push(id);
                }
            }
        }
        self.partitions_of(dropped)
    }

    /// Rebalance: `assigned` is this thread's new assignment; reuse suspended tasks, close what
    /// was not handed back, then open the others (restoring their stores). A task whose store is
    /// locked by another handle becomes pending (see [`Self::pending_partitions`]).
    pub(crate) fn assign<'a>(&mut self, assigned: impl IntoIterator<Item = (&'a str, i32)>) -> Result<()> {
        self.assignment_version += 1;
        self.transport.forget_lags();
        let mut wanted: Vec<TaskId> = assigned
            .into_iter()
            .filter_map(|(topic, partition)| {
                self.source_topics.get(topic).map(|sub| TaskId {
                    subtopology: sub,
                    partition,
                })
            })
            .collect();
        wanted.sort();
        wanted.dedup();
        for id in &wanted {
            if let Some(mut task) = self.suspended.remove(id) {
                match task.catch_up(&self.env) {
                    Ok(true) => {
                        self.tasks.insert(*id, task);
                    }
                    // Its state no longer fits its changelog: reopened (rebuilt) below.
                    Ok(false) => task.close(&self.env),
                    Err(e) => {
                        tracing::warn!(thread = %self.name, task = %id, error = %report(&e), "could not check a reused task against its changelog; reusing it as it is");
                        self.tasks.insert(*id, task);
                    }
                }
            }
        }
        // Closed first: their store locks are released before any new task opens.
        for (id, task) in std::mem::take(&mut self.suspended) {
            tracing::info!(thread = %self.name, task = %id, "task revoked");
            task.close(&self.env);
        }
        for id in wanted {
            if !self.tasks.contains_key(&id) {
                self.open_task(id)?;
            }
        }
        Ok(())
    }

    /// Opens task `id`; a store held by another handle leaves it pending instead of failing.
    pub(super) fn open_task(&mut self, id: TaskId) -> Result<()> {
        let Some(sub) = self.topology.subtopologies.iter().find(|s| s.id == id.subtopology) else {
            return Ok(());
        };
        match Task::open(&self.env, sub, id.partition, &self.topology.error_policies) {
            Ok(task) => {
                tracing::info!(thread = %self.name, task = %id, restored = task.restored().records, resume = ?task.applied_below(), "task assigned");
                self.pending.remove(&id);
                self.tasks.insert(id, task);
                self.assignment_version += 1;
                Ok(())
            }
            Err(e) if e.kind() == ErrorKind::Locked => {
                if self.pending.insert(id) {
                    tracing::warn!(thread = %self.name, task = %id, error = %report(&e), "task pending: a store is held by another handle; retrying");
                }
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// The source partitions of the pending tasks (to pause: nothing is read for them yet). They
    /// are resumed when their task opens, or before they are revoked: librdkafka keeps a pause
    /// across a revocation and a new assignment.
    pub(crate) fn pending_partitions(&self) -> Vec<(String, i32)> {
        self.partitions_of(self.pending.iter().copied())
    }

    /// Retries opening the pending tasks; the source partitions of those that opened (to resume).
    pub(crate) fn open_pending(&mut self) -> Result<Vec<(String, i32)>> {
        let mut opened = Vec::new();
        for id in self.pending.clone() {
            self.open_task(id)?;
            if self.tasks.contains_key(&id) {
                opened.push(id);
            }
        }
        Ok(self.partitions_of(opened))
    }

    pub(crate) fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    fn partitions_of(&self, ids: impl IntoIterator<Item = TaskId>) -> Vec<(String, i32)> {
        ids.into_iter()
            .flat_map(|id| {
                self.source_topics
                    .iter()
                    .filter(move |(_, sub)| *sub == id.subtopology)
                    .map(move |(topic, _)| (topic.to_owned(), id.partition))
            })
            .collect()
    }

    /// Moves every task's stream time forward to `timestamp`, as a record with that event time
    /// on each of their partitions would (the test driver's `advance_stream_time`).
    #[cfg(any(test, feature = "test-util"))]
    pub(crate) fn advance_stream_time(&mut self, timestamp: i64) -> Result<()> {
        self.tasks
            .values_mut()
            .try_for_each(|task| task.advance_stream_time(timestamp))
    }

    /// Closes every task (after a final commit).
    pub(crate) fn close_all(&mut self) {
        self.pending.clear();
        self.merge.take_all();
        for (_, task) in std::mem::take(&mut self.tasks)
            .into_iter()
            .chain(std::mem::take(&mut self.suspended))
        {
            task.close(&self.env);
        }
    }

    pub(crate) fn task_ids(&self) -> Vec<TaskId> {
        self.tasks.keys().copied().collect()
    }

    /// Bytes each store occupies locally, summed over this thread's tasks: (store name, bytes).
    pub(crate) fn store_sizes(&self) -> Vec<(String, u64)> {
        crate::state::sum_by_store(self.tasks.values().flat_map(Task::store_sizes))
    }
}
