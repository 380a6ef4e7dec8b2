//! The driver's [`Transport`] and [`PartitionReader`] over the in-memory log, so tasks, stores
//! and the commit protocol run unchanged.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, MutexGuard};

use rustc_hash::FxHashMap;

use super::log::{LogRecord, MemoryLog, Payload, Status};
use crate::config::ProcessingGuarantee;
use crate::error::{Error, ErrorKind, Result};
use crate::partitioner;
use crate::task::{ApplyRecord, FetchedLag, PartitionReader};
use crate::txn::{CommitError, OutgoingRecord, Positions, Transport};

pub(crate) type SharedLog = Arc<Mutex<MemoryLog>>;

pub(crate) fn lock(log: &SharedLog) -> MutexGuard<'_, MemoryLog> {
    log.lock().unwrap_or_else(|e| e.into_inner())
}

/// A failure to inject into the next commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitFault {
    /// The commit fails before anything becomes durable, as on an abortable broker error:
    /// the runtime aborts, rolls back to the previous commit and reprocesses.
    Abort,
    /// The producer is fenced: the runtime closes its tasks, replaces the producer and
    /// reopens them (restoring from the changelogs).
    Fence,
    /// The process dies right after the broker committed, before the local stores applied the
    /// commit: the restarted instance must replay the changelog tail.
    CrashAfterCommit,
}

/// Sink outputs, changelog writes and commits of the driver's stream thread.
pub(crate) struct MemoryTransport {
    log: SharedLog,
    guarantee: ProcessingGuarantee,
    producer: u64,
    /// Sink topics that do not exist yet are created with this many partitions.
    default_partitions: i32,
    /// Topic → partition → offset of the last record sent.
    last_offsets: FxHashMap<String, FxHashMap<i32, i64>>,
    uncommitted: bool,
    pub(crate) fault: Option<CommitFault>,
    /// A [`CommitFault::CrashAfterCommit`] happened: the driver's instance must die now.
    pub(crate) crashed_after_commit: bool,
}

impl MemoryTransport {
    pub(crate) fn new(log: SharedLog, guarantee: ProcessingGuarantee, producer: u64, default_partitions: i32) -> Self {
        Self {
            log,
            guarantee,
            producer,
            default_partitions,
            last_offsets: FxHashMap::default(),
            uncommitted: false,
            fault: None,
            crashed_after_commit: false,
        }
    }

    fn transactional(&self) -> bool {
        self.guarantee == ProcessingGuarantee::ExactlyOnceV2
    }
}

/// The stream thread's read positions (next offset per input partition).
#[derive(Debug, Default)]
pub(crate) struct MemoryConsumer {
    positions: Mutex<ReadPositions>,
}

/// Topic → next offset per partition (indexed by partition; unset ones are 0). Nested so
/// lookups never allocate, and a topic's partitions in a `Vec` because the driver reads every
/// input partition's position for every record it processes.
#[derive(Debug, Default)]
pub(crate) struct ReadPositions {
    positions: FxHashMap<String, Vec<i64>>,
    /// Moves with every change, so the driver's cached input heads know they are current.
    version: u64,
}

impl ReadPositions {
    pub(crate) fn version(&self) -> u64 {
        self.version
    }

    pub(crate) fn get(&self, topic: &str, partition: i32) -> i64 {
        self.topic(topic).map_or(0, |p| Self::of(p, partition))
    }

    /// The positions in `topic` (one look-up of the topic for several of its partitions).
    pub(crate) fn topic(&self, topic: &str) -> Option<&[i64]> {
        self.positions.get(topic).map(Vec::as_slice)
    }

    /// The position of `partition` among a topic's positions.
    pub(crate) fn of(positions: &[i64], partition: i32) -> i64 {
        super::log::nth(positions, partition).copied().unwrap_or(0)
    }

    pub(crate) fn set(&mut self, topic: &str, partition: i32, offset: i64) {
        let Ok(index) = usize::try_from(partition) else {
            return;
        };
        self.version += 1;
        let positions = match self.positions.get_mut(topic) {
            Some(positions) => positions,
            None => self.positions.entry(topic.to_owned()).or_default(),
        };
        if positions.len() <= index {
            positions.resize(index + 1, 0);
        }
        positions[index] = offset;
    }
}

impl MemoryConsumer {
    /// Every position under one lock (the driver's choice of the next record reads them all).
    pub(crate) fn lock(&self) -> MutexGuard<'_, ReadPositions> {
        self.positions.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn position(&self, topic: &str, partition: i32) -> i64 {
        self.lock().get(topic, partition)
    }

    pub(crate) fn seek(&self, topic: &str, partition: i32, offset: i64) {
        self.lock().set(topic, partition, offset);
    }
}

impl Transport for MemoryTransport {
    type Consumer = MemoryConsumer;

    fn send(&mut self, out: OutgoingRecord<'_>) -> Result<(), CommitError> {
        let mut log = lock(&self.log);
        // A sink topic that does not exist yet is created, as a broker with auto-creation would.
        let mut topic = match log.topic_mut(out.topic) {
            Some(topic) => topic,
            None => {
                log.create_topic(out.topic, self.default_partitions)
                    .map_err(CommitError::Abortable)?;
                log.topic_mut(out.topic).ok_or_else(|| {
                    CommitError::Abortable(Error::new(ErrorKind::Kafka, format!("topic `{}` vanished", out.topic)))
                })?
            }
        };
        let partition = out
            .partition
            .unwrap_or_else(|| partitioner::partition_for_key(&out.key, topic.partitions().unsigned_abs()) as i32);
        let status = if self.transactional() {
            Status::Open(self.producer)
        } else {
            Status::Visible
        };
        let offset = topic
            .append(
                partition,
                LogRecord::new(
                    Payload {
                        key: Some(out.key.into_owned()),
                        value: out.value.map(Cow::into_owned),
                        timestamp: out.timestamp,
                        headers: out.headers.into_owned(),
                    },
                    status,
                ),
            )
            .map_err(CommitError::Abortable)?;
        // Only changelog offsets are asked for (checkpoints name them), as the Kafka transport
        // tracks only those deliveries.
        if out.changelog {
            match self.last_offsets.get_mut(out.topic) {
                Some(partitions) => {
                    partitions.insert(partition, offset);
                }
                None => {
                    self.last_offsets
                        .insert(out.topic.to_owned(), FxHashMap::from_iter([(partition, offset)]));
                }
            }
        }
        self.uncommitted = true;
        Ok(())
    }

    fn has_uncommitted(&self) -> bool {
        self.uncommitted
    }

    fn commit(&mut self, _consumer: &MemoryConsumer, positions: &Positions) -> Result<(), CommitError> {
        let crash = match self.fault.take() {
            Some(CommitFault::Abort) => {
                return Err(CommitError::Abortable(Error::new(
                    ErrorKind::Kafka,
                    "injected abortable commit failure",
                )));
            }
            Some(CommitFault::Fence) => {
                return Err(CommitError::Fenced(Error::new(
                    ErrorKind::Kafka,
                    "injected fencing: another producer took over this transactional id",
                )));
            }
            Some(CommitFault::CrashAfterCommit) => true,
            None => false,
        };
        let mut log = lock(&self.log);
        if self.transactional() {
            log.end_transaction(self.producer, true);
        }
        log.commit_offsets(positions);
        self.uncommitted = false;
        if crash {
            // Committed on the broker, and the process dies before its stores apply it: the
            // commit protocol sees a failure (nothing is applied), the driver then kills the
            // instance.
            self.crashed_after_commit = true;
            return Err(CommitError::Abortable(Error::new(
                ErrorKind::Kafka,
                "simulated crash right after the commit",
            )));
        }
        Ok(())
    }

    fn last_offset(&self, topic: &str, partition: i32) -> Option<i64> {
        self.last_offsets.get(topic).and_then(|p| p.get(&partition)).copied()
    }

    fn abort(&mut self) -> Result<()> {
        self.uncommitted = false;
        if self.transactional() {
            lock(&self.log).end_transaction(self.producer, false);
        }
        Ok(())
    }

    fn replace(&mut self) -> Result<()> {
        // The broker aborts what the fenced producer left open.
        lock(&self.log).end_transaction(self.producer, false);
        self.producer += 1;
        self.uncommitted = false;
        Ok(())
    }

    fn purge(&mut self, below: &Positions) -> Result<()> {
        let mut log = lock(&self.log);
        for (topic, partition, offset) in below {
            log.delete_records(topic, *partition, *offset)?;
        }
        Ok(())
    }

    fn fetched_lag(&self, consumer: &MemoryConsumer, topic: &str, partition: i32, _now_ms: i64) -> FetchedLag {
        match lock(&self.log).high_watermark(topic, partition) {
            Ok(end) if end > consumer.position(topic, partition) => FetchedLag::Behind,
            Ok(_) => FetchedLag::CaughtUp,
            Err(_) => FetchedLag::Unknown,
        }
    }

    fn seek(&self, consumer: &MemoryConsumer, topic: &str, partition: i32, offset: i64) -> Result<()> {
        consumer.seek(topic, partition, offset);
        Ok(())
    }
}

/// Restores stores from the in-memory changelogs.
pub(crate) struct MemoryReader {
    pub(crate) log: SharedLog,
    pub(crate) read_committed: bool,
}

impl PartitionReader for MemoryReader {
    fn watermarks(&self, topic: &str, partition: i32) -> Result<(i64, i64)> {
        let log = lock(&self.log);
        Ok((
            log.low_watermark(topic, partition)?,
            log.high_watermark(topic, partition)?,
        ))
    }

    fn log_end(&self, topic: &str, partition: i32) -> Result<i64> {
        lock(&self.log).high_watermark(topic, partition)
    }

    fn partitions(&self, topic: &str) -> Result<i32> {
        lock(&self.log)
            .partitions(topic)
            .ok_or_else(|| crate::Error::new(crate::ErrorKind::Config, format!("topic `{topic}` does not exist")))
    }

    fn read(&self, topic: &str, partition: i32, from: i64, to: i64, apply: &mut ApplyRecord<'_>) -> Result<()> {
        let records: Vec<(i64, Arc<Payload>)> = {
            let log = lock(&self.log);
            (from..to)
                .filter_map(|offset| {
                    log.read(topic, partition, offset, self.read_committed)
                        .map(|r| (offset, Arc::clone(&r.payload)))
                })
                .collect()
        };
        for (offset, record) in records {
            apply(
                offset,
                record.key.as_deref().unwrap_or_default(),
                record.value.as_deref(),
            )?;
        }
        Ok(())
    }
}
