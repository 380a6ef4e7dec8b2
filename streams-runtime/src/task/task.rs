use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use super::InputRecord;
use super::restore::{self, Restored};
use super::{TaskEnv, TaskId};
use crate::error::{Error, ErrorKind, Result, report};
use crate::metrics::Metrics;
use crate::naming;
use crate::processor::{OutputRecord, PunctuationType, TaskContext};
use crate::state::{
    Backend, ChangelogPartition, MemoryBackend, RocksBackend, SharedStore, Store, StoreBackend, StoreSpec, layout,
};
use crate::topology::graph::node::{RawProcessor, SharedPunctuator, TaskBuild};
use crate::topology::{ErrorPolicies, ErrorPolicy, Subtopology};

/// One sub-topology instance over one partition: processors, stores, stream time, positions.
pub(crate) struct Task {
    id: TaskId,
    ctx: TaskContext,
    /// Per source topic: its processor and where the task stands in it (one look-up per record;
    /// a task reads one topic or a few, which a scan compares faster than a hash finds).
    sources: Vec<(String, Source)>,
    stores: Vec<(String, SharedStore)>,
    /// Stream time as of the last successful commit, to roll back to.
    committed_stream_time: i64,
    restored: Restored,
    /// Hand-written processors with punctuation schedules.
    punctuators: Vec<SharedPunctuator>,
    policies: ErrorPolicies,
    /// The dead-letter topics of the policies, shared by the records sent to them.
    dead_letter_topics: HashMap<String, Arc<str>>,
    metrics: Arc<Metrics>,
}

/// One source topic of a task (of the task's partition).
struct Source {
    processor: Box<dyn RawProcessor>,
    /// Next offset to consume, once a record was processed since the task opened or last rolled
    /// back.
    position: Option<i64>,
    /// The position as of the last successful commit (before the first one: the first record
    /// seen), to roll back to.
    committed: Option<i64>,
    /// The position the local state already reflects: records below it are not applied again
    /// even if the broker lost the committed offsets.
    applied_below: Option<i64>,
}

/// The source of `topic` among a task's.
fn source_of<'a>(sources: &'a mut [(String, Source)], topic: &str) -> Option<&'a mut Source> {
    sources.iter_mut().find(|(t, _)| t == topic).map(|(_, source)| source)
}

/// What became of one consumed record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Processed,
    /// Logged and skipped: it could not be decoded or processed.
    Skipped,
    /// Already reflected in the local state (by a commit the broker did not record).
    AlreadyApplied,
}

impl Task {
    /// Opens the task's stores (rebuilding a corrupt one), restores them from their changelogs
    /// and creates its processors.
    pub(crate) fn open(env: &TaskEnv, sub: &Subtopology, partition: i32, policies: &ErrorPolicies) -> Result<Self> {
        let id = TaskId {
            subtopology: sub.id,
            partition,
        };
        // Restoration logs (and anything else while opening) carry the task id.
        let _span = tracing::info_span!("task", task = %id).entered();
        // A standby of this task on this instance hands its stores over (closing them first:
        // RocksDB allows one opener); they are warm, so only the changelog tail is restored.
        // Marked as opening until its stores are registered, so the standby thread keeps off
        // them — without holding the standbys' lock through the restore, which would stall the
        // standby thread and the membership heartbeat (it reads the standbys) meanwhile.
        let _opening = OpeningMark::new(env, id);
        let mut stores = Vec::new();
        let mut restored = Restored::default();
        for spec in &sub.stores {
            let (store, r) = open_store(env, spec, id, restore::Mode::Restore)?;
            restored.records += r.records;
            restored.bytes += r.bytes;
            stores.push((spec.name.clone(), store.shared()));
        }
        let mut applied_below = valid_positions(env, id, applied_positions(&stores));
        let store_map: HashMap<String, SharedStore> = stores.iter().cloned().collect();
        let punctuators = RefCell::new(Vec::new());
        let build = TaskBuild {
            task: id,
            application_id: &env.application_id,
            stores: &store_map,
            wall_clock_ms: env.clock.now_ms(),
            globals: &env.globals,
            punctuators: &punctuators,
        };
        let mut sources = Vec::with_capacity(sub.sources.len());
        for (topic, factory) in &sub.sources {
            let topic = topic.resolve(&env.application_id);
            let source = Source {
                processor: factory.instantiate(&build)?,
                position: None,
                committed: None,
                applied_below: applied_below.remove(&topic),
            };
            sources.push((topic, source));
        }
        {
            let mut registry = env.registry.write().unwrap_or_else(|e| e.into_inner());
            for (name, store) in &stores {
                registry.insert((name.clone(), partition), SharedStore::clone(store));
            }
        }
        Ok(Self {
            id,
            ctx: TaskContext::new(id, Arc::clone(&env.clock)),
            sources,
            stores,
            committed_stream_time: i64::MIN,
            restored,
            punctuators: punctuators.into_inner(),
            metrics: Arc::clone(&env.metrics),
            policies: policies.clone(),
            dead_letter_topics: [&policies.deserialization, &policies.processing]
                .into_iter()
                .filter_map(ErrorPolicy::dead_letter_topic)
                .map(|t| (t.to_owned(), Arc::from(t)))
                .collect(),
        })
    }

    pub(crate) fn id(&self) -> TaskId {
        self.id
    }

    /// Per source topic, the position its local state already reflects.
    pub(crate) fn applied_below(&self) -> std::collections::BTreeMap<&str, i64> {
        self.sources
            .iter()
            .filter_map(|(topic, s)| Some((topic.as_str(), s.applied_below?)))
            .collect()
    }

    /// Changelog records replayed when this task was opened.
    pub(crate) fn restored(&self) -> Restored {
        self.restored
    }

    /// Runs one consumed record through the task's processors. Records that cannot be decoded or
    /// processed are logged and skipped (a poison record never stops the task).
    pub(crate) fn process(&mut self, record: InputRecord<'_>) -> Result<Outcome> {
        let (topic, offset) = (record.topic, record.offset);
        let Some(source) = source_of(&mut self.sources, topic) else {
            tracing::warn!(task = %self.id, topic, "record from a topic this task does not read; skipping");
            return Ok(Outcome::Skipped);
        };
        source.committed.get_or_insert(offset);
        if source.applied_below.is_some_and(|below| offset < below) {
            source.position = Some(offset + 1);
            return Ok(Outcome::AlreadyApplied);
        }
        self.ctx.set_headers(record.headers);
        let mut result = source
            .processor
            .process(&mut self.ctx, record.key, record.value, record.timestamp);
        source.position = Some(offset + 1);
        if result.is_ok() && !self.punctuators.is_empty() {
            result = self.punctuate(PunctuationType::StreamTime, self.ctx.stream_time());
        }
        match result {
            Err(e) if matches!(e.kind(), ErrorKind::Codec | ErrorKind::Processing) => self.bad_record(&record, e),
            other => other.map(|()| Outcome::Processed),
        }
    }

    /// Brings the stores of a task being reused (suspended at a revoke, handed back at the next
    /// assignment) up to their changelogs' ends. Normally nothing moved: the thread committed at
    /// the revoke, and the changelog ends at its own last write (one watermark query per store;
    /// under exactly-once plus that commit's marker, which costs one short read to step over). If another instance owned the
    /// task in between (this member dropped out of the group without being told), its
    /// changelog writes are replayed here, so the task does not resume from stale state.
    /// `false`: a store no longer fits its changelog and the task must be reopened (rebuilt).
    pub(crate) fn catch_up(&mut self, env: &TaskEnv) -> Result<bool> {
        for (name, shared) in &self.stores {
            let mut store = Store::lock(shared);
            let Some(changelog) = store.changelog().cloned() else {
                continue;
            };
            // Standby mode: quiet and uncounted, as stepping over our own marker is no restore.
            match restore::replay(env, &mut store, &changelog, restore::Mode::Standby)? {
                Some(restored) if restored.records == 0 => {}
                Some(restored) => {
                    tracing::warn!(task = %self.id, store = %name, records = restored.records, "a reused task's changelog had moved on (another instance owned it meanwhile); replayed its tail")
                }
                None => return Ok(false),
            }
        }
        Ok(true)
    }

    /// An output of `record` that Kafka refused for good (too large, invalid): the input record
    /// is handled by the topology's processing-error policy, as if processing it had failed.
    pub(crate) fn refused_output(&mut self, record: &InputRecord<'_>, error: Error) -> Result<Outcome> {
        self.bad_record(record, error)
    }

    /// A record that did not decode or failed in user code, handled by the topology's policy.
    fn bad_record(&mut self, record: &InputRecord<'_>, error: Error) -> Result<Outcome> {
        let (topic, partition, offset) = (record.topic, record.partition, record.offset);
        let policy = if error.kind() == ErrorKind::Codec {
            &self.policies.deserialization
        } else {
            &self.policies.processing
        };
        match policy {
            ErrorPolicy::LogAndContinue => {
                tracing::warn!(task = %self.id, topic, partition, offset, error = %report(&error), "skipping a record that could not be processed");
            }
            ErrorPolicy::DeadLetter { topic: dead_letter } => {
                tracing::warn!(task = %self.id, topic, partition, offset, error = %report(&error), dead_letter, "sending a record that could not be processed to the dead-letter topic");
                let Some(dead_letter) = self.dead_letter_topics.get(dead_letter).cloned() else {
                    return Ok(Outcome::Skipped);
                };
                let mut headers = record.headers.to_vec();
                headers.extend(
                    [
                        ("__streams.errors.exception", format!("{:?}", error.kind())),
                        ("__streams.errors.message", error.report().to_string()),
                        ("__streams.errors.topic", topic.to_owned()),
                        ("__streams.errors.partition", partition.to_string()),
                        ("__streams.errors.offset", offset.to_string()),
                    ]
                    .map(|(name, value)| (name.to_owned(), Some(value.into_bytes()))),
                );
                self.ctx.outputs.push(OutputRecord {
                    topic: dead_letter,
                    key: record.key.map(<[u8]>::to_vec).unwrap_or_default(),
                    value: record.value.map(<[u8]>::to_vec),
                    timestamp: record.timestamp,
                    headers,
                });
                self.metrics.record_dead_lettered();
            }
            ErrorPolicy::LogAndFail => {
                tracing::error!(task = %self.id, topic, partition, offset, error = %report(&error), "stopping: a record could not be processed and the error policy is to fail");
                // Not committed: the next run starts at this record again.
                if let Some(source) = source_of(&mut self.sources, topic) {
                    source.position = Some(offset);
                }
                return Err(Error::new(
                    ErrorKind::Processing,
                    format!(
                        "record {topic}-{partition}@{offset} could not be processed and the topology's error policy \
                         is LogAndFail"
                    ),
                )
                .with_source(error));
            }
        }
        Ok(Outcome::Skipped)
    }

    /// Whether a processor of this task has punctuation schedules.
    pub(crate) fn has_punctuators(&self) -> bool {
        !self.punctuators.is_empty()
    }

    /// Runs the punctuations of `kind` due at `now_ms` (stream time, or wall-clock time); what
    /// they forward is queued like a record's outputs.
    pub(crate) fn punctuate(&mut self, kind: PunctuationType, now_ms: i64) -> Result<()> {
        if self.punctuators.is_empty() {
            return Ok(());
        }
        let _span = tracing::debug_span!("punctuate", task = %self.id, ?kind, now_ms).entered();
        self.ctx.set_headers(&[]);
        for punctuator in &self.punctuators {
            let took = punctuator
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .punctuate(&mut self.ctx, kind, now_ms)?;
            for latency in took {
                self.metrics.record_punctuation(&self.id, latency);
            }
        }
        Ok(())
    }

    /// Records the processors asked to produce since the last call.
    pub(crate) fn drain_outputs(&mut self) -> std::vec::Drain<'_, OutputRecord> {
        self.ctx.outputs.drain(..)
    }

    /// Bytes each of the task's stores occupies locally: (store name, bytes).
    pub(crate) fn store_sizes(&self) -> Vec<(String, u64)> {
        self.stores()
            .map(|s| {
                let store = Store::lock(s);
                (store.name().to_owned(), store.size_bytes())
            })
            .collect()
    }

    pub(crate) fn stores(&self) -> impl Iterator<Item = &SharedStore> {
        self.stores.iter().map(|(_, store)| store)
    }

    /// Bytes of uncommitted store writes.
    pub(crate) fn dirty_bytes(&self) -> usize {
        self.stores().map(|s| Store::lock(s).dirty_bytes()).sum()
    }

    /// Positions as of this commit, for the stores' checkpoints.
    pub(crate) fn checkpoint_positions(&self) -> std::collections::BTreeMap<String, i64> {
        self.sources
            .iter()
            .filter_map(|(topic, s)| Some((topic.clone(), s.position.or(s.committed)?)))
            .collect()
    }

    /// Positions to commit: (topic, partition, next offset).
    pub(crate) fn positions(&self) -> impl Iterator<Item = (&str, i32, i64)> {
        self.sources
            .iter()
            .filter_map(|(topic, s)| Some((topic.as_str(), self.id.partition, s.position?)))
    }

    /// The last commit succeeded: remember where to roll back to.
    pub(crate) fn mark_committed(&mut self) {
        for (_, source) in &mut self.sources {
            if source.position.is_some() {
                source.committed = source.position;
            }
        }
        self.committed_stream_time = self.ctx.stream_time();
    }

    /// Forgets everything since the last commit; returns the positions to seek back to.
    pub(crate) fn roll_back(&mut self) -> Vec<(String, i32, i64)> {
        for store in self.stores() {
            Store::lock(store).discard_uncommitted();
        }
        self.ctx.outputs.clear();
        self.ctx.set_stream_time(self.committed_stream_time);
        let partition = self.id.partition;
        self.sources
            .iter_mut()
            .filter_map(|(topic, s)| {
                s.position = None;
                Some((topic.clone(), partition, s.committed?))
            })
            .collect()
    }

    /// Moves stream time forward to `timestamp` (never back): the task's (punctuation) and that
    /// of every windowed operator (kept in its store).
    #[cfg(any(test, feature = "test-util"))]
    pub(crate) fn advance_stream_time(&mut self, timestamp: i64) -> Result<()> {
        self.ctx.advance_stream_time(timestamp);
        for store in self.stores() {
            let mut store = Store::lock(store);
            if store.tracks_stream_time() {
                store.observe_stream_time(timestamp)?;
            }
        }
        Ok(())
    }

    /// Late records dropped by this task's windows.
    pub(crate) fn dropped_late_records(&self) -> u64 {
        self.ctx.dropped_late_records()
    }

    /// Unregisters the task's stores from local queries; dropping the task closes them.
    pub(crate) fn close(self, env: &TaskEnv) {
        let mut registry = env.registry.write().unwrap_or_else(|e| e.into_inner());
        for (name, store) in &self.stores {
            let key = (name.clone(), self.id.partition);
            if registry.get(&key).is_some_and(|s| std::sync::Arc::ptr_eq(s, store)) {
                registry.remove(&key);
            }
        }
    }
}

/// Task `id` being opened as active: its standby (if any) is promoted, and the standby thread
/// leaves the task alone until the mark is dropped (the stores are registered, or the open
/// failed).
struct OpeningMark<'a> {
    env: &'a TaskEnv,
    id: TaskId,
}

impl<'a> OpeningMark<'a> {
    fn new(env: &'a TaskEnv, id: TaskId) -> Self {
        let mut standbys = env.standbys.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(standby) = standbys.remove(&id) {
            tracing::info!(task = %id, "promoting the local standby");
            drop(standby);
        }
        env.opening.lock().unwrap_or_else(|e| e.into_inner()).insert(id);
        Self { env, id }
    }
}

impl Drop for OpeningMark<'_> {
    fn drop(&mut self) {
        let _standbys = self.env.standbys.lock().unwrap_or_else(|e| e.into_inner());
        self.env
            .opening
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}

/// Per topic, the smallest input position recorded by all of the task's stores.
fn applied_positions(stores: &[(String, SharedStore)]) -> HashMap<String, i64> {
    let mut out: Option<HashMap<String, i64>> = None;
    for (_, store) in stores {
        let positions = Store::lock(store).input_positions().clone();
        out = Some(match out {
            None => positions.into_iter().collect(),
            Some(acc) => acc
                .into_iter()
                .filter_map(|(topic, offset)| positions.get(&topic).map(|&o| (topic, offset.min(o))))
                .collect(),
        });
    }
    out.unwrap_or_default()
}

/// Opens one store of task `id` and restores it; a store that cannot be read, or whose checkpoint
/// does not fit its changelog, is wiped and rebuilt from the changelog — never served as is.
/// A store whose lock another handle holds is live, not broken: `RocksBackend::open` waits for
/// it and then fails with `ErrorKind::Locked`, which never wipes.
pub(crate) fn open_store(
    env: &TaskEnv,
    spec: &StoreSpec,
    id: TaskId,
    mode: restore::Mode,
) -> Result<(Store, Restored)> {
    let dir = layout::store_dir(&env.state_dir, &env.application_id, id, &spec.name);
    let changelog = spec.logged.then(|| ChangelogPartition {
        topic: naming::changelog_topic(&env.application_id, &spec.name),
        partition: id.partition,
    });
    for attempt in 0..2 {
        let backend: Box<dyn Backend> = match spec.backend {
            StoreBackend::InMemory => Box::new(MemoryBackend::default()),
            StoreBackend::RocksDb => match RocksBackend::open(&dir, &env.rocks) {
                Ok(backend) => Box::new(backend),
                Err(e) if spec.logged && e.kind() == ErrorKind::State => {
                    tracing::warn!(task = %id, store = %spec.name, error = %report(&e), "local store is unreadable; rebuilding it from the changelog");
                    let _ = std::fs::remove_dir_all(&dir);
                    Box::new(RocksBackend::open(&dir, &env.rocks)?)
                }
                Err(e) => return Err(e),
            },
        };
        let mut store = Store::new(spec.name.clone(), changelog.clone(), backend)?;
        let Some(changelog) = &changelog else {
            return Ok((store, Restored::default()));
        };
        match restore::replay(env, &mut store, changelog, mode)? {
            Some(restored) => return Ok((store, restored)),
            None if attempt == 0 => {
                tracing::warn!(task = %id, store = %spec.name, "wiping the local store and rebuilding it from the changelog");
                drop(store);
                std::fs::remove_dir_all(&dir)
                    .map_err(|e| Error::io(format!("failed to wipe `{}`", dir.display()), e))?;
            }
            None => break,
        }
    }
    Err(Error::new(
        ErrorKind::State,
        format!(
            "store `{}` of task {id} still does not match its changelog after a rebuild",
            spec.name
        ),
    ))
}

/// Drops positions beyond the end of their input partition: they come from an earlier life of
/// the topic (recreated, or another cluster) and must not make the task skip anything.
fn valid_positions(env: &TaskEnv, id: TaskId, positions: HashMap<String, i64>) -> HashMap<String, i64> {
    positions
        .into_iter()
        .filter(|(topic, position)| {
            let high = env.reader.watermarks(topic, id.partition).ok().map(|(_, high)| high);
            let valid = high.is_some_and(|high| *position <= high);
            if !valid {
                tracing::warn!(task = %id, topic, position, high = ?high, "ignoring a checkpointed input position past the end of its partition");
            }
            valid
        })
        .collect()
}
