//! [`PartitionReader`] over rdkafka: group-less consumers assigned to one partition at a time.
//!
//! Creating a consumer costs a connection and a metadata round trip (~100 ms on the embedded
//! broker), which used to be paid for every store of every task opened; consumers are now kept
//! in a small pool and reused, so opening six tasks no longer stalls a rebalance for 0.7 s.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer;
use rdkafka::{Message, Offset, TopicPartitionList};

use super::{ClientSettings, StreamsConsumer};
use crate::config::ProcessingGuarantee;
use crate::error::{Error, ErrorKind, Result, report};
use crate::task::{ApplyRecord, PartitionReader};

/// Give up if a partition yields nothing for this long while records are still missing.
const STALL_TIMEOUT: Duration = Duration::from_secs(60);
const METADATA_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a read waits for the next record before asking where the consumer is. Under
/// exactly-once a changelog ends with a transaction marker, which takes an offset but yields no
/// record: the read learns it reached the end only from the position, so every wait here is
/// paid once per partition restored (200 ms made a restore of six partitions 1.2 s slower).
const READ_POLL: Duration = Duration::from_millis(5);
/// How long the broker may hold a fetch that finds no records (see `new`).
const RESTORE_FETCH_WAIT: &str = "fetch.wait.max.ms";

pub(crate) struct KafkaPartitionReader {
    config: ClientSettings,
    /// The same at `read_uncommitted`, for the end of the log past open transactions.
    uncommitted_config: ClientSettings,
    /// Idle consumers (none assigned); one per concurrent reader at most.
    idle: Mutex<Vec<StreamsConsumer>>,
}

/// A pooled consumer, returned to the pool (unassigned) when dropped.
struct Pooled<'a> {
    consumer: Option<StreamsConsumer>,
    pool: &'a Mutex<Vec<StreamsConsumer>>,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = StreamsConsumer;

    fn deref(&self) -> &StreamsConsumer {
        self.consumer
            .as_ref()
            .unwrap_or_else(|| unreachable!("taken only on drop"))
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(consumer) = self.consumer.take()
            && consumer.unassign().is_ok()
        {
            self.pool.lock().unwrap_or_else(|e| e.into_inner()).push(consumer);
        }
    }
}

impl KafkaPartitionReader {
    /// A reader with the instance's client properties; `read_committed` under exactly-once.
    pub(crate) fn new(client_config: &ClientSettings, application_id: &str, guarantee: ProcessingGuarantee) -> Self {
        let mut config = client_config.clone();
        config
            .set("group.id", format!("{application_id}-restore"))
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "false")
            // A read starting below the log start (records deleted after the watermarks were
            // read) resumes at the first record still there. librdkafka's default, `latest`,
            // jumped to the end: the restore applied nothing and still recorded the end as
            // reached, silently dropping the whole tail.
            .set("auto.offset.reset", "earliest");
        // Defaults where the user set nothing. A restore drains its queue fast: no 1 s pause
        // between fetches (see `FETCH_QUEUE_BACKOFF_MS`). And a read ends at a known offset, so
        // the broker never needs to hold a fetch for data: with librdkafka's 500 ms, the fetch
        // left waiting at the end of one partition delayed the next read (one fetch in flight
        // per broker): 0.5 s between the stores of a restore, 2.5 s for six tasks whose
        // restores took 2 ms each.
        config
            .set_default(
                super::FETCH_QUEUE_BACKOFF,
                crate::config::defaults::FETCH_QUEUE_BACKOFF_MS,
            )
            .set_default(RESTORE_FETCH_WAIT, crate::config::defaults::RESTORE_FETCH_WAIT_MAX_MS);
        let mut uncommitted_config = config.clone();
        uncommitted_config.set("isolation.level", "read_uncommitted");
        config.set_isolation(guarantee);
        Self {
            config,
            uncommitted_config,
            idle: Mutex::default(),
        }
    }

    fn consumer(&self, topic: &str) -> Result<Pooled<'_>> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let consumer = match idle {
            Some(consumer) => {
                // Idle in the pool, it served no token refresh.
                self.config.refresh_token(consumer.client())?;
                consumer
            }
            None => self.config.consumer(&format!("a consumer to read `{topic}`"))?,
        };
        Ok(Pooled {
            consumer: Some(consumer),
            pool: &self.idle,
        })
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

    fn log_end(&self, topic: &str, partition: i32) -> Result<i64> {
        // Rare (a checkpoint past the last stable offset): a short-lived consumer will do.
        let consumer = self
            .uncommitted_config
            .consumer(&format!("a consumer to read `{topic}`"))?;
        consumer
            .fetch_watermarks(topic, partition, METADATA_TIMEOUT)
            .map(|(_, high)| high)
            .map_err(|e| Error::kafka(format!("failed to read the end of `{topic}` partition {partition}"), e))
    }

    fn partitions(&self, topic: &str) -> Result<i32> {
        let consumer = self.consumer(topic)?;
        let metadata = consumer
            .fetch_metadata(Some(topic), METADATA_TIMEOUT)
            .map_err(|e| Error::kafka(format!("failed to read the metadata of `{topic}`"), e))?;
        match metadata.topics().first() {
            Some(t) if t.error().is_none() && !t.partitions().is_empty() => Ok(t.partitions().len() as i32),
            _ => Err(Error::new(
                ErrorKind::Config,
                format!("topic `{topic}` does not exist; create it before starting the application"),
            )),
        }
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
            match consumer.poll(READ_POLL) {
                // A pooled consumer may still hand out a message fetched for its previous
                // assignment: only this partition's records, from `from` on, count.
                Some(Ok(message))
                    if message.topic() != topic || message.partition() != partition || message.offset() < from => {}
                Some(Ok(message)) => {
                    last_offset = message.offset();
                    last_progress = Instant::now();
                    if last_offset >= to {
                        break;
                    }
                    apply(last_offset, message.key().unwrap_or_default(), message.payload())?;
                }
                Some(Err(e)) => tracing::warn!(topic, partition, error = %report(&e), "read failed; retrying"),
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

#[cfg(test)]
mod tests {
    use rdkafka::admin::{AdminClient, AdminOptions};
    use rdkafka::client::DefaultClientContext;
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

    use super::*;

    /// A restore read that starts below the log start (the records were deleted after the
    /// watermarks were read) applies what is left, from the first record still there. Before,
    /// librdkafka's default offset reset jumped to the end: nothing was applied and the restore
    /// still counted the tail as reached. Apache Kafka, because log start offsets (DeleteRecords)
    /// and the offset reset are the broker's and librdkafka's.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_read_from_below_the_log_start_resumes_at_the_first_record_left() {
        let broker = crate::testing::TestBroker::kafka().expect("Apache Kafka broker (install: scripts/setup.sh)");
        broker.create_topic("log", 1).await.expect("topic");
        let cluster = broker.cluster();
        let producer: BaseProducer = cluster.client_config().create().expect("producer");
        for i in 0..10 {
            let key = format!("k{i}");
            producer
                .send(BaseRecord::to("log").key(&key).payload("v").partition(0))
                .map_err(|(e, _)| e)
                .expect("send");
        }
        producer.flush(Duration::from_secs(10)).expect("flush");
        let admin: AdminClient<DefaultClientContext> = cluster.client_config().create().expect("admin");
        let mut below = TopicPartitionList::new();
        below.add_partition_offset("log", 0, Offset::Offset(6)).expect("offset");
        admin
            .delete_records(&below, &AdminOptions::new())
            .await
            .expect("delete records");

        let reader = KafkaPartitionReader::new(&cluster.client_settings(), "app", ProcessingGuarantee::AtLeastOnce);
        let seen = tokio::task::spawn_blocking(move || {
            let mut seen = Vec::new();
            reader
                .read("log", 0, 2, 10, &mut |offset, _, _| {
                    seen.push(offset);
                    Ok(())
                })
                .map(|()| seen)
        })
        .await
        .expect("reader thread")
        .expect("read");
        assert_eq!(seen, [6, 7, 8, 9]);
    }

    /// The restore consumers' librdkafka defaults: no broker-held fetch at a partition's end
    /// (it delayed the next store's read by librdkafka's 500 ms) and no 1 s fetch pause; a value
    /// the user set wins. Settings only: no broker.
    #[test]
    fn restore_consumers_default_to_short_fetch_waits_unless_the_user_set_them() {
        let settings = |properties: &[(&str, &str)]| {
            let mut config = rdkafka::ClientConfig::new();
            for (key, value) in properties {
                config.set(*key, *value);
            }
            crate::kafka::ClientSettings::new(config, crate::kafka::OAuth::default())
        };
        let defaulted = KafkaPartitionReader::new(&settings(&[]), "app", ProcessingGuarantee::ExactlyOnceV2);
        for config in [&defaulted.config, &defaulted.uncommitted_config] {
            assert_eq!(config.get("fetch.wait.max.ms"), Some("10"));
            assert_eq!(config.get("fetch.queue.backoff.ms"), Some("10"));
        }
        let chosen = KafkaPartitionReader::new(
            &settings(&[("fetch.wait.max.ms", "250"), ("fetch.queue.backoff.ms", "100")]),
            "app",
            ProcessingGuarantee::AtLeastOnce,
        );
        assert_eq!(chosen.config.get("fetch.wait.max.ms"), Some("250"));
        assert_eq!(chosen.config.get("fetch.queue.backoff.ms"), Some("100"));
    }
}
