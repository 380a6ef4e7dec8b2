//! The driver's broker: topics as in-memory partition logs, with transactions and the
//! application's committed offsets.

use std::collections::{BTreeSet, HashMap};

use rustc_hash::FxHashMap;

use crate::error::{Error, ErrorKind, Result};

/// Whether a record can be read, as the broker's transaction markers would decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// Written outside a transaction, or by a committed one.
    Visible,
    /// Written by producer `.0`'s open transaction: hidden from `read_committed` readers, and
    /// everything after it too (the last stable offset).
    Open(u64),
    /// Written by an aborted transaction: never shown to `read_committed` readers.
    Aborted,
}

/// What a record carries; shared, so handing it to the stream thread copies nothing.
#[derive(Debug)]
pub(crate) struct Payload {
    pub(crate) key: Option<Vec<u8>>,
    pub(crate) value: Option<Vec<u8>>,
    pub(crate) timestamp: i64,
    pub(crate) headers: Vec<crate::processor::Header>,
}

/// One record in a partition log.
#[derive(Clone, Debug)]
pub(crate) struct LogRecord {
    pub(crate) payload: std::sync::Arc<Payload>,
    /// The payload's timestamp, kept here too: choosing the next record compares the head of
    /// every input partition, and reading each head's payload (a heap block of its own) cost
    /// the driver a cache miss per partition per record.
    pub(crate) timestamp: i64,
    pub(crate) status: Status,
    /// Position in the order of all writes to the log, across topics.
    pub(crate) sequence: u64,
}

impl LogRecord {
    /// A record carrying `payload`, not yet appended (its sequence is set by the log).
    pub(crate) fn new(payload: Payload, status: Status) -> Self {
        Self {
            timestamp: payload.timestamp,
            payload: std::sync::Arc::new(payload),
            status,
            sequence: 0,
        }
    }
}

/// One partition: its records, the offsets of those in open transactions, and its low
/// watermark (records below it were deleted, as DeleteRecords does on a broker).
#[derive(Clone, Debug, Default)]
struct Partition {
    records: Vec<LogRecord>,
    open: BTreeSet<i64>,
    low: i64,
}

impl Partition {
    /// The offset readers stop before: the end of the log, or (`read_committed`) the first
    /// record of a still open transaction.
    fn readable_end(&self, read_committed: bool) -> i64 {
        match self.open.first() {
            Some(&first_open) if read_committed => first_open,
            _ => self.records.len() as i64,
        }
    }

    /// The record at `offset`, if it exists (not deleted) and a reader at this isolation level
    /// may see it.
    fn read(&self, offset: i64, read_committed: bool) -> Option<&LogRecord> {
        if offset < self.low {
            return None;
        }
        let record = self.records.get(usize::try_from(offset).ok()?)?;
        (!read_committed || record.status == Status::Visible).then_some(record)
    }
}

/// What a topic keeps for partition number `partition` (its log, a reader's position), among
/// what it keeps for each: `None` for a negative or unknown partition.
pub(super) fn nth<T>(partitions: &[T], partition: i32) -> Option<&T> {
    partitions.get(usize::try_from(partition).ok()?)
}

/// [`nth`], to change.
fn nth_mut(partitions: &mut [Partition], partition: i32) -> Option<&mut Partition> {
    partitions.get_mut(usize::try_from(partition).ok()?)
}

/// The partitions of one topic, and how often what can be read from them changed.
#[derive(Debug)]
struct Topic {
    partitions: Vec<Partition>,
    /// Moves with every append, transaction end and deletion: a reader that saw this version
    /// knows its view of the topic is still current (see `heads`).
    version: u64,
}

/// Every topic of the driver's cluster.
#[derive(Debug, Default)]
pub(crate) struct MemoryLog {
    /// Looked up for every record written and read: Fx-hashed (topic names are the test's).
    topics: FxHashMap<String, Topic>,
    /// Per producer, where its open transaction wrote (so ending it touches only those).
    open_transactions: HashMap<u64, Vec<(String, i32, i64)>>,
    /// The application's consumer-group offsets: next offset to read.
    committed: HashMap<(String, i32), i64>,
    next_sequence: u64,
}

/// The partitions of one topic of the log.
pub(crate) struct TopicLog<'a, 'n> {
    topic: &'n str,
    partitions: &'a [Partition],
    version: u64,
}

impl<'a> TopicLog<'a, '_> {
    /// Changes with everything that changes what can be read from the topic.
    pub(crate) fn version(&self) -> u64 {
        self.version
    }

    /// The record at `offset` of `partition`, if it exists and a reader at this isolation level
    /// may see it.
    pub(crate) fn read(&self, partition: i32, offset: i64, read_committed: bool) -> Option<&'a LogRecord> {
        nth(self.partitions, partition)?.read(offset, read_committed)
    }

    /// Where a reader of `partition` at `from` stands once past the records it may never read
    /// (aborted, deleted) up to the readable end, and the record there if one is readable now.
    pub(crate) fn next_readable(
        &self,
        partition: i32,
        from: i64,
        read_committed: bool,
    ) -> Result<(i64, Option<&'a LogRecord>)> {
        let log = nth(self.partitions, partition).ok_or_else(|| unknown(self.topic, partition))?;
        let end = log.readable_end(read_committed);
        let mut offset = from;
        while offset < end {
            if let Some(record) = log.read(offset, read_committed) {
                return Ok((offset, Some(record)));
            }
            offset += 1;
        }
        Ok((offset, None))
    }
}

/// One topic of the log, open for appends.
pub(crate) struct TopicAppender<'a> {
    topic: &'a str,
    partitions: &'a mut [Partition],
    version: &'a mut u64,
    open_transactions: &'a mut HashMap<u64, Vec<(String, i32, i64)>>,
    next_sequence: &'a mut u64,
}

impl TopicAppender<'_> {
    pub(crate) fn partitions(&self) -> i32 {
        self.partitions.len() as i32
    }

    /// Appends `record` to `partition`; returns its offset.
    pub(crate) fn append(&mut self, partition: i32, mut record: LogRecord) -> Result<i64> {
        record.sequence = *self.next_sequence;
        let log = nth_mut(self.partitions, partition).ok_or_else(|| unknown(self.topic, partition))?;
        let offset = log.records.len() as i64;
        if let Status::Open(producer) = record.status {
            log.open.insert(offset);
            self.open_transactions
                .entry(producer)
                .or_default()
                .push((self.topic.to_owned(), partition, offset));
        }
        log.records.push(record);
        *self.next_sequence += 1;
        *self.version += 1;
        Ok(offset)
    }
}

impl MemoryLog {
    /// Creates `name` with `partitions` partitions; an existing topic must have that many.
    pub(crate) fn create_topic(&mut self, name: &str, partitions: i32) -> Result<()> {
        match self.topics.get(name) {
            Some(existing) if existing.partitions.len() as i32 != partitions => Err(Error::new(
                ErrorKind::Config,
                format!(
                    "topic `{name}` already has {} partitions, not {partitions}",
                    existing.partitions.len()
                ),
            )),
            Some(_) => Ok(()),
            None => {
                let count = usize::try_from(partitions).unwrap_or(0).max(1);
                let partitions = vec![Partition::default(); count];
                self.topics.insert(name.to_owned(), Topic { partitions, version: 0 });
                Ok(())
            }
        }
    }

    pub(crate) fn partitions(&self, topic: &str) -> Option<i32> {
        self.topics.get(topic).map(|t| t.partitions.len() as i32)
    }

    /// The names of every topic, sorted.
    pub(crate) fn topic_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.topics.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    fn partition(&self, topic: &str, partition: i32) -> Result<&Partition> {
        self.topics
            .get(topic)
            .and_then(|t| nth(&t.partitions, partition))
            .ok_or_else(|| unknown(topic, partition))
    }

    /// `topic`, to append to (one look-up of the topic for many records).
    pub(crate) fn topic_mut<'a>(&'a mut self, topic: &'a str) -> Option<TopicAppender<'a>> {
        let Topic { partitions, version } = self.topics.get_mut(topic)?;
        Some(TopicAppender {
            topic,
            partitions,
            version,
            open_transactions: &mut self.open_transactions,
            next_sequence: &mut self.next_sequence,
        })
    }

    /// Ends producer `producer`'s open transaction: its records become visible or aborted.
    pub(crate) fn end_transaction(&mut self, producer: u64, commit: bool) {
        let status = if commit { Status::Visible } else { Status::Aborted };
        for (topic, partition, offset) in self.open_transactions.remove(&producer).unwrap_or_default() {
            let Some(topic) = self.topics.get_mut(&topic) else {
                continue;
            };
            topic.version += 1;
            if let Some(log) = nth_mut(&mut topic.partitions, partition) {
                log.open.remove(&offset);
                if let Some(record) = usize::try_from(offset).ok().and_then(|o| log.records.get_mut(o)) {
                    record.status = status;
                }
            }
        }
    }

    /// The offset readers stop before: the end of the log, or (`read_committed`) the first
    /// record of a still open transaction.
    pub(crate) fn readable_end(&self, topic: &str, partition: i32, read_committed: bool) -> Result<i64> {
        Ok(self.partition(topic, partition)?.readable_end(read_committed))
    }

    /// The record at `offset`, if it exists (not deleted) and a reader at this isolation level
    /// may see it.
    pub(crate) fn read(&self, topic: &str, partition: i32, offset: i64, read_committed: bool) -> Option<&LogRecord> {
        self.topic(topic)?.read(partition, offset, read_committed)
    }

    /// The partitions of `topic` (one look-up of the topic for several of its partitions).
    pub(crate) fn topic<'a, 'n>(&'a self, topic: &'n str) -> Option<TopicLog<'a, 'n>> {
        self.topics.get(topic).map(|t| TopicLog {
            topic,
            partitions: &t.partitions,
            version: t.version,
        })
    }

    /// Deletes the records of `topic`/`partition` below `offset` (never past the end): the low
    /// watermark moves up. The in-memory records are kept (offsets index them); they can no
    /// longer be read.
    pub(crate) fn delete_records(&mut self, topic: &str, partition: i32, offset: i64) -> Result<()> {
        let entry = self.topics.get_mut(topic).ok_or_else(|| unknown(topic, partition))?;
        let log = nth_mut(&mut entry.partitions, partition).ok_or_else(|| unknown(topic, partition))?;
        log.low = log.low.max(offset.min(log.records.len() as i64));
        entry.version += 1;
        Ok(())
    }

    /// The first offset still readable in `topic`/`partition`.
    pub(crate) fn low_watermark(&self, topic: &str, partition: i32) -> Result<i64> {
        Ok(self.partition(topic, partition)?.low)
    }

    pub(crate) fn high_watermark(&self, topic: &str, partition: i32) -> Result<i64> {
        Ok(self.partition(topic, partition)?.records.len() as i64)
    }

    pub(crate) fn commit_offsets(&mut self, positions: &[(String, i32, i64)]) {
        for (topic, partition, offset) in positions {
            self.committed.insert((topic.clone(), *partition), *offset);
        }
    }

    /// The application's committed offset for `topic`/`partition`.
    pub(crate) fn committed(&self, topic: &str, partition: i32) -> Option<i64> {
        self.committed.get(&(topic.to_owned(), partition)).copied()
    }
}

pub(super) fn unknown(topic: &str, partition: i32) -> Error {
    Error::new(
        ErrorKind::Kafka,
        format!("topic `{topic}` partition {partition} does not exist in the test driver"),
    )
}
