//! The commit protocol over a stream thread's tasks.
//!
//! Commit (both guarantees): produce each store's uncommitted writes to its changelog partition
//! → make outputs, changelog records and input positions durable together (at-least-once:
//! flush the producer, then commit offsets; exactly-once v2: `send_offsets_to_transaction` with
//! the consumer's group metadata, then `commit_transaction`) → only then apply the writes to the
//! local stores, in one batch with the changelog offset they reach. A failed commit rolls every
//! task back to its last commit: overlays discarded, stream time reset, consumer seeked back.
//! What else happens follows from the [`CommitError`]: an abortable failure aborts and goes on;
//! a fenced or fatal producer is replaced, the tasks close and the thread rejoins its group; a
//! record Kafka refuses for good stops the thread. Failures are retried this way for at most
//! `task.timeout.ms` without a successful commit (a broker unreachable, a transaction that keeps
//! aborting); then the thread fails with the last error and the thread-failure policy decides
//! (Kafka Streams bounds retries the same way).
//!
//! Repartition topics are purged as in Kafka Streams: at a commit at least
//! `repartition.purge.interval.ms` after the last purge, the records below the committed
//! offsets of the repartition partitions this thread reads are deleted on the broker (they
//! were consumed and will never be read again), so those topics do not grow forever.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::{CommitError, OutgoingRecord, ThreadState, Transport};
use crate::error::{Error, ErrorKind, Result, report};
use crate::state::Store;
use crate::task::{Task, TaskId};

/// Records between two checks of the uncommitted bytes against the cache size.
const CACHE_CHECK_INTERVAL: u32 = 256;

impl<T: Transport> ThreadState<T> {
    /// Whether the commit interval elapsed by `now` (`env.clock`) or uncommitted state outgrew
    /// the cache.
    #[inline]
    pub(crate) fn commit_due(&mut self, now: i64) -> bool {
        now - self.last_commit_ms >= self.commit_interval_ms || self.cache_full()
    }

    /// Whether uncommitted state outgrew the cache (checked every few hundred records).
    #[inline]
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
            Err(CommitError::Rejected(e)) => {
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
                Err(e.into_error())
            }
        }
    }

    fn try_commit(&mut self, consumer: &T::Consumer) -> Result<(), CommitError> {
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
                        key: Cow::Borrowed(key),
                        value: value.as_deref().map(Cow::Borrowed),
                        timestamp: now,
                        headers: Cow::Borrowed(&[]),
                        changelog: true,
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
    pub(super) fn fail(&mut self, error: Error) {
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
    pub(super) fn recover_from_failed_commit(&mut self, consumer: &T::Consumer, error: &CommitError) {
        let mut fatal = error.is_fatal();
        if !fatal && let Err(e) = self.transport.abort() {
            // A producer that cannot abort cannot be trusted with the next transaction either.
            tracing::warn!(thread = %self.name, error = %report(&e), "failed to abort the transaction; replacing the producer");
            fatal = true;
        }
        tracing::warn!(thread = %self.name, error = %error, fatal, "commit failed; rolling back to the last commit");
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
                error.error().kind(),
                format!(
                    "no commit succeeded for {} ms (task.timeout.ms is {} ms); the last failure: {}",
                    now - failing_since,
                    self.task_timeout_ms,
                    report(error.error())
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
}
