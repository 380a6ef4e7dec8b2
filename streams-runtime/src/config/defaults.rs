//! Every default value, in one place, matching Kafka Streams where Kafka Streams has one.

use std::path::PathBuf;

/// `num.stream.threads`.
pub const NUM_STREAM_THREADS: usize = 1;
/// `commit.interval.ms` under `at_least_once`.
pub const COMMIT_INTERVAL_MS: u64 = 30_000;
/// `commit.interval.ms` under `exactly_once_v2`: short, because output is invisible until commit.
pub const COMMIT_INTERVAL_MS_EXACTLY_ONCE: u64 = 100;
/// `cache.max.bytes.buffering`: 10 MiB shared by all stores of an instance.
pub const CACHE_MAX_BYTES_BUFFERING: usize = 10 * 1024 * 1024;
/// `repartition.purge.interval.ms`: how often consumed repartition records are deleted.
pub const REPARTITION_PURGE_INTERVAL_MS: u64 = 30_000;
/// `max.task.idle.ms`: a task waits for an empty partition only while it has records not
/// fetched yet (Kafka Streams' default); -1 never waits.
pub const MAX_TASK_IDLE_MS: i64 = 0;
/// `task.timeout.ms`: commits may fail (and be redone) for 5 minutes before the thread fails.
pub const TASK_TIMEOUT_MS: u64 = 300_000;
/// librdkafka's `fetch.queue.backoff.ms` for the consumers that read inputs and changelogs:
/// how long a partition's next fetch waits once its prefetch queue passed `queued.min.messages`.
/// librdkafka's own default, 1 s, starves a consumer that drains its queue faster than that (a
/// stream thread on a backlog, a restore): it idled most of the time, at a third of the
/// throughput (`benches/results/vs-kafka-streams.md`). Kafka's Java consumer fetches again as
/// soon as its buffer drains; 10 ms is close to that. `consumer.fetch.queue.backoff.ms` (or
/// unprefixed) overrides it.
pub const FETCH_QUEUE_BACKOFF_MS: u64 = 10;
/// librdkafka's `queued.min.messages` for the stream threads' consumers: how many records per
/// partition the consumer keeps prefetched. librdkafka's 100 000 made a stream thread on a
/// backlog hold up to `queued.max.messages.kbytes` (64 MiB) of fetched records: the re-keyed
/// count of `benches/results/vs-kafka-streams.md` peaked at 139 MB RSS (at-least-once) and
/// 144 MB (exactly-once); with 10 000, 84 and 112 MB at the same throughput or better. Kafka
/// Streams buffers 1 000 per partition (`buffered.records.per.partition`).
/// `consumer.queued.min.messages` (or unprefixed) overrides it.
pub const QUEUED_MIN_MESSAGES: u64 = 10_000;
/// librdkafka's `fetch.wait.max.ms` for the consumers that restore stores and feed standbys:
/// they read up to a known offset, so a fetch the broker holds waiting for data only delays the
/// next partition's read (librdkafka's 500 ms put half a second between the stores of a
/// restore). An unprefixed `fetch.wait.max.ms` overrides it.
pub const RESTORE_FETCH_WAIT_MAX_MS: u64 = 10;
/// `num.standby.replicas`.
pub const NUM_STANDBY_REPLICAS: usize = 0;
/// `rocksdb.block.cache.size`: 50 MiB, shared by all stores of an instance.
pub const ROCKSDB_BLOCK_CACHE_SIZE: usize = 50 * 1024 * 1024;
/// `rocksdb.write.buffer.size`: 16 MiB per memtable, as Kafka Streams' RocksDB config.
pub const ROCKSDB_WRITE_BUFFER_SIZE: usize = 16 * 1024 * 1024;
/// `rocksdb.max.write.buffers`.
pub const ROCKSDB_MAX_WRITE_BUFFERS: usize = 3;

/// `state.dir`: `<system temp dir>/kafka-streams`, as Kafka Streams.
pub fn state_dir() -> PathBuf {
    std::env::temp_dir().join("kafka-streams")
}

/// How long a Schema Registry request may take before it counts as an outage (the record is
/// retried, not skipped).
pub const SCHEMA_REGISTRY_REQUEST_TIMEOUT_MS: u64 = 10_000;
/// After a Schema Registry outage, the next request waits this long (a stream thread retries
/// the record at this pace, not in a tight loop).
pub const SCHEMA_REGISTRY_RETRY_BACKOFF_MS: u64 = 500;
