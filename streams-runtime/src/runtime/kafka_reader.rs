//! [`PartitionReader`] over rdkafka: a group-less consumer assigned to one partition at a time.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

use crate::config::ProcessingGuarantee;
use crate::error::{Error, ErrorKind, Result};
use crate::task::{ApplyRecord, PartitionReader};

/// Give up if a partition yields nothing for this long while records are still missing.
const STALL_TIMEOUT: Duration = Duration::from_secs(60);
const METADATA_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) struct KafkaPartitionReader {
    config: ClientConfig,
}

impl KafkaPartitionReader {
    /// A reader with the instance's client properties; `read_committed` under exactly-once.
    pub(crate) fn new(client_config: &ClientConfig, application_id: &str, guarantee: ProcessingGuarantee) -> Self {
        let mut config = client_config.clone();
        config
            .set("group.id", format!("{application_id}-restore"))
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "false");
        if guarantee == ProcessingGuarantee::ExactlyOnceV2 {
            config.set("isolation.level", "read_committed");
        }
        Self { config }
    }

    fn consumer(&self, topic: &str) -> Result<BaseConsumer> {
        self.config
            .create()
            .map_err(|e| Error::kafka(format!("failed to create a consumer to read `{topic}`"), e))
    }
}

impl PartitionReader for KafkaPartitionReader {
    fn watermarks(&self, topic: &str, partition: i32) -> Result<(i64, i64)> {
        self.consumer(topic)?
            .fetch_watermarks(topic, partition, METADATA_TIMEOUT)
            .map_err(|e| {
                Error::kafka(
                    format!("failed to read the watermarks of `{topic}` partition {partition}"),
                    e,
                )
            })
    }

    fn read(&self, topic: &str, partition: i32, from: i64, to: i64, apply: &mut ApplyRecord<'_>) -> Result<()> {
        let consumer = self.consumer(topic)?;
        let mut assignment = TopicPartitionList::new();
        assignment
            .add_partition_offset(topic, partition, Offset::Offset(from))
            .and_then(|()| consumer.assign(&assignment))
            .map_err(|e| Error::kafka(format!("failed to assign `{topic}` partition {partition}"), e))?;
        let mut last_offset = from - 1;
        let mut last_progress = Instant::now();
        while last_offset + 1 < to {
            match consumer.poll(Duration::from_millis(200)) {
                Some(Ok(message)) => {
                    last_offset = message.offset();
                    last_progress = Instant::now();
                    if last_offset >= to {
                        break;
                    }
                    apply(last_offset, message.key().unwrap_or_default(), message.payload())?;
                }
                Some(Err(e)) => tracing::warn!(topic, partition, error = %e, "read failed; retrying"),
                None => {
                    // Transaction markers and aborted records take offsets but yield no message.
                    let position = consumer
                        .position()
                        .ok()
                        .and_then(|p| p.find_partition(topic, partition).map(|e| e.offset()));
                    if let Some(Offset::Offset(position)) = position
                        && position >= to
                    {
                        break;
                    }
                    if last_progress.elapsed() > STALL_TIMEOUT {
                        return Err(Error::new(
                            ErrorKind::State,
                            format!(
                                "no progress reading `{topic}` partition {partition} for {STALL_TIMEOUT:?} \
                                 at offset {last_offset} of {to}"
                            ),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}
