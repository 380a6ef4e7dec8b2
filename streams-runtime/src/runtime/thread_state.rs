//! What a stream thread owns — tasks and its transport — and the commit protocol over them.
//!
//! Commit (both guarantees): produce each store's uncommitted writes to its changelog partition
//! → make outputs, changelog records and input positions durable together (at-least-once:
//! flush the producer, then commit offsets; exactly-once v2: `send_offsets_to_transaction` with
//! the consumer's group metadata, then `commit_transaction`) → only then apply the writes to the
//! local stores, in one batch with the changelog offset they reach. A failed commit rolls every
//! task back to its last commit: overlays discarded, stream time reset, consumer seeked back.
//! Failures are retried this way for at most `task.timeout.ms` without a successful commit (a
//! broker unreachable, a transaction that keeps aborting); then the thread fails with the last
//! error and the thread-failure policy decides (Kafka Streams bounds retries the same way).
//!
//! Repartition topics are purged as in Kafka Streams: at a commit at least
//! `repartition.purge.interval.ms` after the last purge, the records below the committed
//! offsets of the repartition partitions this thread reads are deleted on the broker (they
//! were consumed and will never be read again), so those topics do not grow forever.
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

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use rdkafka::consumer::BaseConsumer;

use super::rebalance::RebalanceHandler;
use super::record_merge::RecordMerge;
use super::transport::{InputRecord, OutgoingRecord, Transport};
use crate::config::StreamsConfig;
use crate::error::{Error, ErrorKind, Result, report};
use crate::state::Store;
use crate::task::{Outcome, Task, TaskEnv, TaskId};
use crate::topology::Topology;

/// Uncommitted store writes never wait for more than this many bytes, even with a smaller cache.
const MIN_OVERLAY_BYTES: usize = 64 * 1024;
/// Records between two checks of the uncommitted bytes against the cache size.
const CACHE_CHECK_INTERVAL: u32 = 256;

pub(crate) type ThreadConsumer = BaseConsumer<RebalanceHandler>;

/// Produces what `task`'s processors forwarded to sinks. A record Kafka refuses for good (too
/// large, invalid) does not stop the others: the first such refusal is returned for the
/// caller's error policy; any other failure is an error.
fn send_outputs<T: Transport>(transport: &mut T, task: &mut Task) -> Result<Option<Error>> {
    let mut rejected = None;
    for out in task.drain_outputs() {
        let sent = transport.send(OutgoingRecord {
            topic: &out.topic,
            partition: None,
            key: &out.key,
            value: out.value.as_deref(),
            timestamp: out.timestamp,
            headers: &out.headers,
        });
        match sent {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Rejected => {
                rejected.get_or_insert(e);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(rejected)
}

pub(crate) struct ThreadState<T: Transport> {
    pub(crate) name: String,
    pub(crate) env: Arc<TaskEnv>,
    topology: Arc<Topology>,
    /// Resolved source topic → sub-topology id.
    pub(crate) source_topics: HashMap<String, u32>,
    /// The resolved repartition topics among the sources (purged after commits).
    repartition_sources: HashSet<String>,
    purge_interval_ms: i64,
    last_purge_ms: i64,
    tasks: BTreeMap<TaskId, Task>,
    suspended: BTreeMap<TaskId, Task>,
    /// Assigned tasks whose stores were locked by another handle: not open yet, partitions paused.
    pending: BTreeSet<TaskId>,
    /// Polled records of multi-partition tasks, not processed yet.
    merge: RecordMerge,
    transport: T,
    commit_interval_ms: i64,
    overlay_limit: usize,
    last_commit_ms: i64,
    records_since_check: u32,
    /// Set from rebalance callbacks, which cannot return errors.
    pub(crate) fatal: Option<Error>,
    /// The producer was fenced or failed fatally: tasks were closed and the group must be rejoined.
    pub(crate) needs_rejoin: bool,
    /// A simulated crash: nothing may be committed any more.
    pub(crate) crashed: bool,
    /// Bumped whenever the set of tasks changes (status and membership refresh on it).
    pub(crate) assignment_version: u64,
    /// Wall-clock ms of the first rollback since the last successful commit.
    failing_since_ms: Option<i64>,
    task_timeout_ms: i64,
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
        let source_topics = topology
            .subtopologies
            .iter()
            .flat_map(|s| s.sources.iter().map(move |(t, _)| (t.resolve(app), s.id)))
            .collect();
        let repartition_sources = topology.repartition_sources(app).collect();
        let max_idle_ms = config
            .max_task_idle()
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let merge = RecordMerge::new(&source_topics, max_idle_ms);
        let last_commit_ms = env.clock.now_ms();
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
            fatal: None,
            needs_rejoin: false,
            crashed: false,
            assignment_version: 0,
            failing_since_ms: None,
            task_timeout_ms: i64::try_from(config.task_timeout().as_millis()).unwrap_or(i64::MAX),
        }
    }

    pub(crate) fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// Runs one consumed record through its task and queues the task's outputs. A failure to
    /// produce (e.g. a transaction gone abortable) rolls back to the last commit, like a failed
    /// commit; only state-store failures are returned.
    pub(crate) fn process(&mut self, consumer: &T::Consumer, record: InputRecord<'_>) -> Result<()> {
        match self.process_one(consumer, record) {
            Err(e) if e.kind() == ErrorKind::Kafka => {
                self.env.metrics.record_aborted_commit();
                self.recover_from_failed_commit(consumer, &e);
                Ok(())
            }
            other => other,
        }
    }

    /// A polled record: queued if its task reads several partitions (processed in timestamp
    /// order by [`Self::process_merged`]), processed at once otherwise.
    pub(crate) fn enqueue(&mut self, consumer: &T::Consumer, record: InputRecord<'_>) -> Result<()> {
        if let Some(&sub) = self.source_topics.get(record.topic)
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
        self.process(consumer, record)
    }

    /// Processes the queued records of multi-partition tasks that may go now, lowest timestamp
    /// first (see [`RecordMerge`] for when a task waits for an empty partition).
    /// `now` is the thread's clock (`env.clock`), read once per loop.
    pub(crate) fn process_merged(&mut self, consumer: &T::Consumer, now: i64) -> Result<()> {
        let tasks = self.merge.waiting_tasks();
        if tasks.is_empty() {
            return Ok(());
        }
        for id in tasks {
            loop {
                let transport = &self.transport;
                let Some((topic, record)) = self.merge.next(id, now, |topic, partition| {
                    transport.fetched_lag(consumer, topic, partition, now)
                }) else {
                    break;
                };
                self.process(consumer, record.input(&topic, id.partition))?;
            }
        }
        Ok(())
    }

    fn process_one(&mut self, consumer: &T::Consumer, record: InputRecord<'_>) -> Result<()> {
        let Some(&sub) = self.source_topics.get(record.topic) else {
            return Ok(());
        };
        let id = TaskId {
            subtopology: sub,
            partition: record.partition,
        };
        let Some(task) = self.tasks.get_mut(&id) else {
            if self.pending.contains(&id) {
                // Fetched before its partition was paused: read it again once the task opens.
                return self
                    .transport
                    .seek(consumer, record.topic, record.partition, record.offset);
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

    /// Runs the wall-clock punctuations that are due (called between records) and queues what
    /// they forward. Failures are handled like a record's: a failure to produce rolls back to
    /// the last commit; a processor's error is logged and the punctuation skipped.
    pub(crate) fn punctuate_wall_clock(&mut self, consumer: &T::Consumer) -> Result<()> {
        // Called after every record: without punctuators, not even the clock is read.
        if !self.tasks.values().any(Task::has_punctuators) {
            return Ok(());
        }
        let now = self.env.clock.now_ms();
        let mut result = Ok(());
        for task in self.tasks.values_mut() {
            let punctuated = task.punctuate(crate::processor::PunctuationType::WallClockTime, now);
            let sent = send_outputs(&mut self.transport, task).and_then(|rejected| rejected.map_or(Ok(()), Err));
            match punctuated.and(sent) {
                Err(e) if e.kind() == ErrorKind::Kafka => {
                    result = Err(e);
                    break;
                }
                Err(e) if e.kind() == ErrorKind::State => return Err(e),
                Err(e) => {
                    tracing::warn!(thread = %self.name, task = %task.id(), error = %report(&e), "wall-clock punctuation failed; skipped")
                }
                Ok(()) => {}
            }
        }
        if let Err(e) = result {
            self.env.metrics.record_aborted_commit();
            self.recover_from_failed_commit(consumer, &e);
        }
        Ok(())
    }

    /// Whether the commit interval elapsed by `now` (`env.clock`) or uncommitted state outgrew
    /// the cache.
    pub(crate) fn commit_due(&mut self, now: i64) -> bool {
        now - self.last_commit_ms >= self.commit_interval_ms || self.cache_full()
    }

    /// Whether uncommitted state outgrew the cache (checked every few hundred records).
    pub(crate) fn cache_full(&mut self) -> bool {
        if self.records_since_check < CACHE_CHECK_INTERVAL {
            return false;
        }
        self.records_since_check = 0;
        self.tasks.values().map(Task::dirty_bytes).sum::<usize>() > self.overlay_limit
    }

    /// Commits every task; on failure rolls them back to their last commit (see module docs).
    pub(crate) fn commit(&mut self, consumer: &T::Consumer) -> Result<()> {
        if self.crashed {
            return Ok(());
        }
        self.last_commit_ms = self.env.clock.now_ms();
        self.records_since_check = 0;
        if self.tasks.is_empty() && !self.transport.has_uncommitted() {
            // Nothing to make durable, so nothing is failing.
            self.failing_since_ms = None;
            return Ok(());
        }
        let started = std::time::Instant::now();
        match self.try_commit(consumer) {
            Ok(()) => {
                self.failing_since_ms = None;
                self.env.metrics.record_commit(&self.name, started.elapsed());
                self.purge_repartition_topics();
                Ok(())
            }
            Err(e) if e.kind() == ErrorKind::Rejected => {
                // A changelog record (a store value too large) or a delivered-then-refused output
                // that Kafka refuses for good: redoing the commit would fail the same way
                // forever. Roll back and stop the thread, saying which record.
                self.env.metrics.record_aborted_commit();
                if let Err(abort) = self.transport.abort() {
                    tracing::warn!(thread = %self.name, error = %abort, "failed to abort the transaction");
                }
                for task in self.tasks.values_mut() {
                    task.roll_back();
                }
                let e = e.context("a record Kafka refuses for good cannot be committed");
                tracing::error!(thread = %self.name, error = %report(&e), "stopping the stream thread");
                self.fail(Error::new(ErrorKind::State, e.report().to_string()));
                Err(e)
            }
            Err(e) => {
                self.env.metrics.record_aborted_commit();
                self.recover_from_failed_commit(consumer, &e);
                Err(e)
            }
        }
    }

    fn try_commit(&mut self, consumer: &T::Consumer) -> Result<()> {
        // 1. Uncommitted store writes go to their changelogs.
        let mut pending = Vec::new();
        let now = self.env.clock.now_ms();
        let stores: Vec<_> = self
            .tasks
            .iter()
            .flat_map(|(&id, t)| {
                let positions = t.checkpoint_positions();
                t.stores()
                    .map(move |s| (id, s.clone(), positions.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        for (id, store, positions) in stores {
            let (writes, changelog) = {
                let mut s = Store::lock(&store);
                (s.pending_writes(), s.changelog().cloned())
            };
            if let Some(changelog) = &changelog {
                for (key, value) in &writes {
                    self.transport.send(OutgoingRecord {
                        topic: &changelog.topic,
                        partition: Some(changelog.partition),
                        key,
                        value: value.as_deref(),
                        timestamp: now,
                        headers: &[],
                    })?;
                }
            }
            // Every store gets the new positions, written or not, so its checkpoint stays current.
            pending.push((id, store, writes, changelog, positions));
        }
        // 2. Outputs, changelog records and input positions become durable together.
        let positions: Vec<(String, i32, i64)> = self
            .tasks
            .values()
            .flat_map(|t| t.positions().map(|(topic, p, o)| (topic.to_owned(), p, o)))
            .collect();
        self.transport.commit(consumer, &positions)?;
        // 3. Only now does local state move forward, with the changelog offset it reflects.
        // The broker has committed: from here nothing is rolled back (see `reopen_unapplied`).
        let mut unapplied: BTreeMap<TaskId, Error> = BTreeMap::new();
        for (id, store, writes, changelog, positions) in pending {
            if unapplied.contains_key(&id) {
                continue;
            }
            let offset = changelog
                .as_ref()
                .filter(|_| !writes.is_empty())
                .and_then(|c| self.transport.last_offset(&c.topic, c.partition));
            if let Err(e) = Store::lock(&store).apply_committed(&writes, offset, &positions) {
                unapplied.insert(id, e);
            }
        }
        for (id, task) in &mut self.tasks {
            if !unapplied.contains_key(id) {
                task.mark_committed();
            }
        }
        for (id, error) in unapplied {
            self.reopen_unapplied(id, &error);
        }
        Ok(())
    }

    /// A store of task `id` failed to apply a batch the broker had already committed (a full
    /// disk, an I/O error). Rolling back would redo committed input — duplicate outputs and
    /// double-counted state — so the task is closed dirty and reopened from its changelog,
    /// which holds the committed batch (Kafka Streams closes such a task dirty too). If it
    /// cannot be reopened the thread fails: its tasks then move on, restored from the
    /// changelogs, and nothing committed is redone.
    fn reopen_unapplied(&mut self, id: TaskId, error: &Error) {
        tracing::warn!(thread = %self.name, task = %id, error = %report(&error), "a store could not apply a committed batch; reopening the task from its changelog");
        if let Some(mut task) = self.tasks.remove(&id) {
            task.roll_back();
            task.close(&self.env);
        }
        self.assignment_version += 1;
        if let Err(e) = self.open_task(id) {
            self.fail(e.context(format!("task {id} could not be reopened after a failed store write")));
        } else if self.pending.remove(&id) {
            self.fail(Error::new(
                ErrorKind::State,
                format!("task {id} could not be reopened after a failed store write: its store is locked"),
            ));
        }
    }

    /// Stops the thread on `error`: nothing more is committed, and the loop exits with it.
    fn fail(&mut self, error: Error) {
        self.crashed = true;
        self.fatal.get_or_insert(error);
    }

    /// Deletes the consumed records of the repartition partitions this thread reads, below the
    /// offsets just committed, when the purge interval has passed. A failure only delays it.
    fn purge_repartition_topics(&mut self) {
        let now = self.env.clock.now_ms();
        if self.repartition_sources.is_empty() || now - self.last_purge_ms < self.purge_interval_ms {
            return;
        }
        self.last_purge_ms = now;
        let committed: Vec<(String, i32, i64)> = self
            .tasks
            .values()
            .flat_map(|t| t.positions())
            .filter(|(topic, _, _)| self.repartition_sources.contains(*topic))
            .map(|(topic, partition, offset)| (topic.to_owned(), partition, offset))
            .collect();
        if committed.is_empty() {
            return;
        }
        if let Err(e) = self.transport.purge(&committed) {
            tracing::warn!(thread = %self.name, error = %report(&e), "failed to purge consumed repartition records; retried at a later commit");
        }
    }

    /// Rolls every task back to its last commit and, where the producer is unusable, closes the
    /// tasks and asks the thread to rejoin the group.
    fn recover_from_failed_commit(&mut self, consumer: &T::Consumer, error: &Error) {
        let mut fatal = self.transport.is_fatal(error);
        if !fatal && let Err(e) = self.transport.abort() {
            // A producer that cannot abort cannot be trusted with the next transaction either.
            tracing::warn!(thread = %self.name, error = %report(&e), "failed to abort the transaction; replacing the producer");
            fatal = true;
        }
        tracing::warn!(thread = %self.name, error = %report(&error), fatal, "commit failed; rolling back to the last commit");
        let mut seeks = Vec::new();
        for task in self.tasks.values_mut() {
            seeks.extend(task.roll_back());
        }
        // Queued records were never processed: read them again from the first one, unless the
        // rollback already moves that partition further back.
        for (topic, partition, first) in self.merge.take_all() {
            if !seeks.iter().any(|(t, p, _)| *t == topic && *p == partition) {
                seeks.push((topic, partition, first));
            }
        }
        let now = self.env.clock.now_ms();
        let failing_since = *self.failing_since_ms.get_or_insert(now);
        if now - failing_since >= self.task_timeout_ms {
            // Redoing the same work keeps failing: stop, with the last error, instead of
            // rolling back forever.
            self.fail(Error::new(
                error.kind(),
                format!(
                    "no commit succeeded for {} ms (task.timeout.ms is {} ms); the last failure: {}",
                    now - failing_since,
                    self.task_timeout_ms,
                    report(error)
                ),
            ));
            return;
        }
        if fatal {
            self.assignment_version += 1;
            for (_, task) in std::mem::take(&mut self.tasks) {
                task.close(&self.env);
            }
            if let Err(e) = self.transport.replace() {
                self.fatal = Some(e);
            }
            self.needs_rejoin = true;
            return;
        }
        for (topic, partition, offset) in seeks {
            if let Err(e) = self.transport.seek(consumer, &topic, partition, offset) {
                tracing::warn!(thread = %self.name, error = %report(&e), "failed to seek back; rejoining");
                self.needs_rejoin = true;
            }
        }
    }

    /// Rebalance: this member's assignment was lost rather than revoked — its session expired
    /// (the process was frozen, or missed `max.poll.interval.ms`), so other members may own its
    /// tasks already and have committed past it. Nothing is committed: the open transaction is
    /// aborted, every task rolls back to its last commit and closes, so a later assignment
    /// reopens it from its checkpoint, the changelog tail the other owner wrote and the group's
    /// committed offsets. Reusing the task as it stands would resume from stale state (Kafka
    /// Streams closes lost tasks dirty for the same reason).
    pub(crate) fn lose_all(&mut self) {
        self.assignment_version += 1;
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
    }

    /// Rebalance: the partitions in `revoked` are being taken away.
    pub(crate) fn suspend<'a>(&mut self, revoked: impl IntoIterator<Item = (&'a str, i32)>) {
        self.assignment_version += 1;
        for (topic, partition) in revoked {
            if let Some(&sub) = self.source_topics.get(topic) {
                let id = TaskId {
                    subtopology: sub,
                    partition,
                };
                if let Some(task) = self.tasks.remove(&id) {
                    self.suspended.insert(id, task);
                }
                // The next owner (maybe this thread again) reads them from the committed offsets.
                self.merge.drop_task(id);
                self.pending.remove(&id);
            }
        }
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
                self.source_topics.get(topic).map(|&sub| TaskId {
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
    fn open_task(&mut self, id: TaskId) -> Result<()> {
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

    /// The source partitions of the pending tasks (to pause: nothing is read for them yet).
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
                    .filter(move |(_, sub)| **sub == id.subtopology)
                    .map(move |(topic, _)| (topic.clone(), id.partition))
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
        super::thread::sum_by_store(self.tasks.values().flat_map(Task::store_sizes))
    }
}
