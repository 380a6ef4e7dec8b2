use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::error::{Error, ErrorKind, Result};
use crate::kafka::KafkaCluster;

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
}

impl RawRecord {
    /// The key as (lossy) UTF-8.
    pub fn key_str(&self) -> String {
        String::from_utf8_lossy(&self.key).into_owned()
    }
}

/// Reads every record of every partition of `topic` up to the high watermarks at call time,
/// without joining a consumer group (so it works alike on every broker).
pub async fn read_topic(cluster: &KafkaCluster, topic: &str) -> Result<Vec<RawRecord>> {
    let (config, topic) = (cluster.client_config(), topic.to_owned());
    tokio::task::spawn_blocking(move || read_blocking(config, &topic))
        .await
        .map_err(|e| Error::new(ErrorKind::Io, "the topic reader panicked").with_source(e))?
}

fn read_blocking(mut config: rdkafka::ClientConfig, topic: &str) -> Result<Vec<RawRecord>> {
    const TIMEOUT: Duration = Duration::from_secs(30);
    let failed = |what: &str| format!("failed to read `{topic}` ({what})");
    let consumer: BaseConsumer = config
        .set("group.id", "streams-test-reader")
        .set("enable.auto.commit", "false")
        .create()
        .map_err(|e| Error::kafka(failed("consumer"), e))?;
    let metadata = consumer
        .fetch_metadata(Some(topic), TIMEOUT)
        .map_err(|e| Error::kafka(failed("metadata"), e))?;
    let partitions = metadata.topics().first().map_or(0, |t| t.partitions().len() as i32);
    let mut out = Vec::new();
    for partition in 0..partitions {
        let (low, high) = consumer
            .fetch_watermarks(topic, partition, TIMEOUT)
            .map_err(|e| Error::kafka(failed("watermarks"), e))?;
        if high <= low {
            continue;
        }
        let mut assignment = TopicPartitionList::new();
        assignment
            .add_partition_offset(topic, partition, Offset::Offset(low))
            .map_err(|e| Error::kafka(failed("assign"), e))?;
        consumer
            .assign(&assignment)
            .map_err(|e| Error::kafka(failed("assign"), e))?;
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if Instant::now() > deadline {
                return Err(Error::new(
                    ErrorKind::Kafka,
                    failed(&format!("partition {partition} stalled before {high}")),
                ));
            }
            match consumer.poll(Duration::from_millis(100)) {
                Some(Ok(m)) => {
                    out.push(RawRecord {
                        partition,
                        offset: m.offset(),
                        key: m.key().unwrap_or_default().to_vec(),
                        value: m.payload().map(<[u8]>::to_vec),
                    });
                    if m.offset() + 1 >= high {
                        break;
                    }
                }
                Some(Err(e)) => return Err(Error::kafka(failed("poll"), e)),
                None => {}
            }
        }
    }
    Ok(out)
}
