//! Reading partitions outside the consumer group: changelogs to restore stores, and input
//! watermarks to validate checkpoints. rdkafka in production, the in-memory log in the test driver.

use crate::error::Result;

/// Called per record read: offset, key, value (`None` for a tombstone).
pub(crate) type ApplyRecord<'a> = dyn FnMut(i64, &[u8], Option<&[u8]>) -> Result<()> + 'a;

/// Reads topic partitions directly (no group), at the isolation level of the processing guarantee.
pub(crate) trait PartitionReader: Send + Sync {
    /// Low and high watermark (next offset to be written) of `topic`/`partition`. Under
    /// exactly-once the high one is the last stable offset: records of a still open
    /// transaction, and all after them, are not readable yet.
    fn watermarks(&self, topic: &str, partition: i32) -> Result<(i64, i64)>;

    /// Where the log of `topic`/`partition` ends, open transactions included (the high
    /// watermark a `read_uncommitted` reader sees).
    fn log_end(&self, topic: &str, partition: i32) -> Result<i64>;

    /// How many partitions `topic` has.
    fn partitions(&self, topic: &str) -> Result<i32>;

    /// Calls `apply` for every readable record from offset `from` up to (not including) `to`.
    /// Transaction markers and aborted records take offsets but are not passed on.
    fn read(&self, topic: &str, partition: i32, from: i64, to: i64, apply: &mut ApplyRecord<'_>) -> Result<()>;
}
