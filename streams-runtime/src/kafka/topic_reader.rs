use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer;
use rdkafka::{Message, Offset, TopicPartitionList};

use super::{ClientSettings, KafkaCluster};
use crate::error::{Error, ErrorKind, Result};

/// One record read back from a topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRecord {
    /// Partition it was read from.
    pub partition: i32,
    /// Its offset.
    pub offset: i64,
    /// Key bytes (empty for a null key).
    pub key: Vec<u8>,
    /// Value bytes; `None` for a tombstone.
    pub value: Option<Vec<u8>>,
    /// The record's timestamp (create or log-append time, as the topic says), epoch ms.
    pub timestamp: Option<i64>,
    /// Its headers in order; a null header value is `None`.
    pub headers: Vec<crate::processor::Header>,
}

impl RawRecord {
    /// The key as (lossy) UTF-8.
    pub fn key_str(&self) -> String {
        String::from_utf8_lossy(&self.key).into_owned()
    }
}

/// Reads every record of every partition of `topic` up to the high watermarks at call time,
/// without joining a consumer group (so it works alike on every broker), as a `read_committed`
/// consumer: records of aborted transactions are skipped on brokers that filter them.
pub async fn read_topic(cluster: &KafkaCluster, topic: &str) -> Result<Vec<RawRecord>> {
    read_with_isolation(cluster, topic, "read_committed").await
}

/// Like [`read_topic`], as a `read_uncommitted` consumer: also the records of aborted (and open)
/// transactions — what was physically written, e.g. to count what exactly-once rolled back.
pub async fn read_topic_uncommitted(cluster: &KafkaCluster, topic: &str) -> Result<Vec<RawRecord>> {
    read_with_isolation(cluster, topic, "read_uncommitted").await
}

/// One partition's offsets as the broker reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartitionOffsets {
    /// The partition.
    pub partition: i32,
    /// The log start offset (records below it were deleted).
    pub low: i64,
    /// The last stable offset: where `read_committed` readers stop. Below `high` while a
    /// transaction that wrote to the partition is undecided.
    pub stable: i64,
    /// The high watermark: the offset the next record gets.
    pub high: i64,
}

/// The offsets of every partition of `topic` (blocking: call it from a blocking context).
pub fn partition_offsets(cluster: &KafkaCluster, topic: &str) -> Result<Vec<PartitionOffsets>> {
    const TIMEOUT: Duration = Duration::from_secs(10);
    let failed = |what: &str| format!("failed to read the offsets of `{topic}` ({what})");
    let at = |isolation: &str| {
        cluster
            .client_settings()
            .set("isolation.level", isolation)
            .consumer(&format!("a consumer to read `{topic}`"))
    };
    let (committed, uncommitted) = (at("read_committed")?, at("read_uncommitted")?);
    let metadata = uncommitted
        .fetch_metadata(Some(topic), TIMEOUT)
        .map_err(|e| Error::kafka(failed("metadata"), e))?;
    let partitions = metadata.topics().first().map_or(0, |t| t.partitions().len() as i32);
    (0..partitions)
        .map(|partition| {
            let (low, high) = uncommitted
                .fetch_watermarks(topic, partition, TIMEOUT)
                .map_err(|e| Error::kafka(failed("watermarks"), e))?;
            let (_, stable) = committed
                .fetch_watermarks(topic, partition, TIMEOUT)
                .map_err(|e| Error::kafka(failed("stable offset"), e))?;
            Ok(PartitionOffsets {
                partition,
                low,
                stable,
                high,
            })
        })
        .collect()
}

async fn read_with_isolation(cluster: &KafkaCluster, topic: &str, isolation: &str) -> Result<Vec<RawRecord>> {
    let (mut config, topic) = (cluster.client_settings(), topic.to_owned());
    config.set("isolation.level", isolation);
    tokio::task::spawn_blocking(move || read_blocking(config, &topic))
        .await
        .map_err(|e| Error::new(ErrorKind::Io, "the topic reader panicked").with_source(e))?
}

fn read_blocking(mut config: ClientSettings, topic: &str) -> Result<Vec<RawRecord>> {
    const TIMEOUT: Duration = Duration::from_secs(30);
    let failed = |what: &str| format!("failed to read `{topic}` ({what})");
    let consumer = config
        .set("group.id", "streams-test-reader")
        .set("enable.auto.commit", "false")
        // Under read_committed the end of a transactional partition is a commit marker, never
        // returned as a record: the end-of-partition event says when everything readable was read.
        .set("enable.partition.eof", "true")
        .set("fetch.wait.max.ms", "50")
        .consumer(&format!("a consumer to read `{topic}`"))?;
    let metadata = consumer
        .fetch_metadata(Some(topic), TIMEOUT)
        .map_err(|e| Error::kafka(failed("metadata"), e))?;
    let partitions = metadata.topics().first().map_or(0, |t| t.partitions().len() as i32);
    // Every non-empty partition at once, each read up to its high watermark at call time.
    let mut assignment = TopicPartitionList::new();
    let mut highs = std::collections::HashMap::new();
    for partition in 0..partitions {
        let (low, high) = consumer
            .fetch_watermarks(topic, partition, TIMEOUT)
            .map_err(|e| Error::kafka(failed("watermarks"), e))?;
        if high > low {
            assignment
                .add_partition_offset(topic, partition, Offset::Offset(low))
                .map_err(|e| Error::kafka(failed("assign"), e))?;
            highs.insert(partition, high);
        }
    }
    let mut out = Vec::new();
    if highs.is_empty() {
        return Ok(out);
    }
    consumer
        .assign(&assignment)
        .map_err(|e| Error::kafka(failed("assign"), e))?;
    let mut deadline = Instant::now() + TIMEOUT;
    while !highs.is_empty() {
        if Instant::now() > deadline {
            return Err(Error::new(
                ErrorKind::Kafka,
                failed(&format!(
                    "partitions {:?} stalled before their ends",
                    highs.keys().collect::<Vec<_>>()
                )),
            ));
        }
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                let partition = m.partition();
                out.push(RawRecord {
                    partition,
                    offset: m.offset(),
                    key: m.key().unwrap_or_default().to_vec(),
                    value: m.payload().map(<[u8]>::to_vec),
                    timestamp: m.timestamp().to_millis(),
                    headers: super::headers_of(&m),
                });
                if highs.get(&partition).is_some_and(|high| m.offset() + 1 >= *high) {
                    highs.remove(&partition);
                }
                // Progress: a large topic may take longer than the timeout in all.
                deadline = Instant::now() + TIMEOUT;
            }
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(p))) => {
                highs.remove(&p);
            }
            Some(Err(e)) => return Err(Error::kafka(failed("poll"), e)),
            None => {}
        }
    }
    // Each partition in offset order, partitions in turn, as callers expect.
    out.sort_by_key(|r| (r.partition, r.offset));
    Ok(out)
}
