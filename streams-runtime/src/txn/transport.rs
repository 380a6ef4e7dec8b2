//! The seam between the commit protocol and the broker.
//!
//! [`ThreadState`](super::ThreadState) owns tasks and runs the commit protocol; a [`Transport`]
//! is what it produces through and commits with. Production uses rdkafka
//! ([`KafkaTransport`](crate::kafka::KafkaTransport)); the broker-free test driver uses an
//! in-memory log. Both run the very same task, store and commit code. Failures to produce or
//! commit come back as a [`CommitError`], already classified.

use std::borrow::Cow;

use super::CommitError;
use crate::error::Result;
use crate::task::FetchedLag;

/// A record to produce: a sink output or a changelog write.
#[derive(Debug)]
pub(crate) struct OutgoingRecord<'a> {
    pub(crate) topic: &'a str,
    /// `None`: the partitioner (murmur2 of the key) picks.
    pub(crate) partition: Option<i32>,
    /// Owned when the caller is done with the bytes (a sink's output), so a transport that
    /// keeps the record (the test driver's log) takes them without a copy; borrowed otherwise
    /// (a changelog write, still needed for the store).
    pub(crate) key: Cow<'a, [u8]>,
    /// `None`: a tombstone.
    pub(crate) value: Option<Cow<'a, [u8]>>,
    pub(crate) timestamp: i64,
    pub(crate) headers: Cow<'a, [crate::processor::Header]>,
    /// A changelog write: its delivered offset is kept, since the store's checkpoint names it
    /// ([`Transport::last_offset`]). Other records' deliveries are only checked for errors.
    pub(crate) changelog: bool,
}

/// Next offset to consume, per input topic partition.
pub(crate) type Positions = [(String, i32, i64)];

/// Where a stream thread's records go and how a commit becomes durable.
pub(crate) trait Transport {
    /// The consumer the thread reads with, as far as commits and seeks need it.
    type Consumer: ?Sized;

    /// Queues a record (inside the open transaction under exactly-once, starting one if needed).
    fn send(&mut self, record: OutgoingRecord<'_>) -> Result<(), CommitError>;

    /// Whether records were sent since the last commit or abort.
    fn has_uncommitted(&self) -> bool;

    /// Makes everything sent since the last commit durable together with `positions`
    /// (at-least-once: all delivered, then offsets committed; exactly-once: one transaction).
    fn commit(&mut self, consumer: &Self::Consumer, positions: &Positions) -> Result<(), CommitError>;

    /// Offset of the last changelog record ([`OutgoingRecord::changelog`]) delivered to
    /// `topic`/`partition` by this transport.
    fn last_offset(&self, topic: &str, partition: i32) -> Option<i64>;

    /// Abandons what was sent since the last commit (aborts the transaction, if any). An error
    /// means the producer cannot be trusted any more and must be [replaced](Self::replace).
    fn abort(&mut self) -> Result<()>;

    /// Replaces an unusable producer with a fresh one.
    fn replace(&mut self) -> Result<()>;

    /// Deletes the records below each given offset of each (repartition) topic partition: they
    /// were consumed and committed. Best effort; an error is only logged.
    fn purge(&mut self, below: &Positions) -> Result<()>;

    /// Whether records of `topic`/`partition` are on their way to the consumer, as far as it
    /// already knows (no request is made, so it may be a little behind the broker). `now_ms`
    /// is the thread's clock, read once per loop by the caller (asked for every merged record,
    /// a clock read of its own cost a stream thread 6 % of its time).
    fn fetched_lag(&self, consumer: &Self::Consumer, topic: &str, partition: i32, now_ms: i64) -> FetchedLag;

    /// Forgets what [`fetched_lag`](Self::fetched_lag) may remember: partitions were assigned,
    /// and their positions start over from the committed offsets.
    fn forget_lags(&self) {}

    /// Moves the consumer of `topic`/`partition` back to `offset`.
    fn seek(&self, consumer: &Self::Consumer, topic: &str, partition: i32, offset: i64) -> Result<()>;
}
