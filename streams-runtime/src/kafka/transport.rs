//! The production [`Transport`]: an rdkafka producer (transactional under exactly-once v2) and
//! the thread's group consumer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::admin::AdminOptions;
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};

use super::consumer_stats::PartitionReport;
use super::group_consumer::ThreadConsumer;
use super::partition_map::PartitionMap;
use super::producer::{DeliveryTracker, ERRORS_ONLY, StreamsProducer, TRACK_OFFSET, TrackingContext};
use super::{ClientSettings, InstanceClients, StreamsAdmin};
use crate::config::ProcessingGuarantee;
use crate::error::{Error, ErrorKind, Result, report};
use crate::partitioner;
use crate::task::{FetchedLag, TaskEnv};
use crate::txn::{CommitError, OutgoingRecord, Positions, Transport};

const KAFKA_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a commit waits for the broker to confirm a repartition purge (it goes on anyway).
const PURGE_TIMEOUT: Duration = Duration::from_secs(5);

/// What deletes consumed repartition records: an admin client and a small runtime to await
/// its answer on the (synchronous) stream thread; created at the first purge.
struct Purger {
    admin: StreamsAdmin,
    runtime: tokio::runtime::Runtime,
}

pub(crate) struct KafkaTransport {
    producer: StreamsProducer,
    tracker: Arc<DeliveryTracker>,
    config: ClientSettings,
    guarantee: ProcessingGuarantee,
    /// Under exactly-once, whether the producer has its transactional identity yet (see
    /// [`KafkaTransport::init_transactions`]); always `true` at-least-once.
    transactions_ready: bool,
    in_transaction: bool,
    /// Records sent since the last commit or abort (at-least-once has no transaction to ask).
    sent: bool,
    /// The plain client settings (no producer identity) the purger's admin client uses.
    admin_config: ClientSettings,
    purger: Option<Purger>,
    /// The cluster has no DeleteRecords (librdkafka's mock cluster): purging is off.
    purge_unsupported: bool,
    /// The lag last found per partition, with the reported end it was measured against and
    /// when: a task with an empty partition asks for every record it considers (a stream and its
    /// caught-up table), or on every poll while it waits (a stream not fetched yet), and the
    /// consumer's position list costs a round trip to librdkafka's main thread (tens of µs).
    known_lags: std::sync::Mutex<PartitionMap<KnownLag>>,
}

/// A partition's lag, the report it was measured against, and when (thread clock, ms).
type KnownLag = (PartitionReport, FetchedLag, i64);

/// How long a partition found caught up is taken to stay so while its reported end does not
/// move (positions only move forward, except by a seek or an assignment, which forget every
/// known lag).
const CAUGHT_UP_FOR_MS: i64 = 50;
/// How long a partition found behind is taken to stay so: a task waits for it at most this much
/// longer than needed (its records arriving end the wait at once, without asking).
const BEHIND_FOR_MS: i64 = 10;

impl KafkaTransport {
    /// The producer of stream thread `name` (number `index`, from 0).
    pub(crate) fn new(env: &TaskEnv, clients: &InstanceClients, name: &str, index: usize) -> Result<Self> {
        let mut config = clients.producer();
        config
            .set("partitioner", partitioner::RDKAFKA_PARTITIONER)
            .set("client.id", name)
            .set("linger.ms", "5");
        // Queue depth and transaction state for `/metrics`.
        config.set_default("statistics.interval.ms", "1000");
        if env.guarantee == ProcessingGuarantee::ExactlyOnceV2 {
            // Stable across restarts of this instance (the process id lives in its state
            // directory), so a restarted instance fences its crashed predecessor's transaction
            // instead of waiting for it to time out.
            config.set(
                "transactional.id",
                format!("{}-{}-{}", env.application_id, env.process_id, index + 1),
            );
            if config.get("transaction.timeout.ms").is_none() {
                config.set("transaction.timeout.ms", "10000");
            }
        }
        let tracker = Arc::new(DeliveryTracker::default());
        // Transactions are initialised by `init_transactions`, once the consumer is joining.
        let producer = new_producer(&config, &tracker)?;
        Ok(Self {
            producer,
            tracker,
            config,
            guarantee: env.guarantee,
            transactions_ready: env.guarantee != ProcessingGuarantee::ExactlyOnceV2,
            in_transaction: false,
            sent: false,
            admin_config: clients.common.clone(),
            purger: None,
            purge_unsupported: false,
            known_lags: std::sync::Mutex::default(),
        })
    }

    fn purger(&mut self) -> Result<&Purger> {
        if let Some(purger) = &self.purger {
            // A token for this purge: nothing refreshes an admin client's token on its own.
            self.admin_config.refresh_token(purger.admin.inner())?;
        } else {
            let admin = self
                .admin_config
                .admin("the admin client that purges repartition topics")?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .map_err(|e| Error::io("failed to start the purger's runtime", e))?;
            self.purger = Some(Purger { admin, runtime });
        }
        Ok(self.purger.as_ref().expect("created above if it was not"))
    }

    /// Under exactly-once, gives the producer its transactional identity (InitProducerId, which
    /// also fences a predecessor's open transaction), once. The stream thread calls it right
    /// after subscribing its consumer, so these round trips overlap the group join instead of
    /// preceding it (about 0.5 s each when an instance starts), and before its first poll,
    /// so no task opens (or restores) before a predecessor is fenced.
    pub(crate) fn init_transactions(&mut self) -> Result<()> {
        if !self.transactions_ready {
            init_transactions(&self.producer)?;
            self.transactions_ready = true;
        }
        Ok(())
    }

    fn ensure_transaction(&mut self) -> Result<(), CommitError> {
        if !self.transactions_ready {
            // The stream thread initialises before its first poll, so this is a bug; a fatal
            // error replaces the producer (initialised at once) rather than blocking here.
            return Err(CommitError::Fatal(Error::new(
                ErrorKind::Kafka,
                "the producer's transactions were never initialised",
            )));
        }
        if self.guarantee == ProcessingGuarantee::ExactlyOnceV2 && !self.in_transaction {
            self.producer
                .begin_transaction()
                .map_err(|e| classify("failed to begin a transaction", e))?;
            self.in_transaction = true;
        }
        Ok(())
    }

    /// Waits until every produced record is acknowledged. rdkafka's own `flush` sleeps in 100 ms
    /// polls that race the producer's delivery thread, which made every commit take 100 ms.
    fn flush(&self) -> Result<(), CommitError> {
        let deadline = Instant::now() + KAFKA_TIMEOUT;
        loop {
            match self.producer.flush(Duration::ZERO) {
                Ok(()) => return Ok(()),
                Err(KafkaError::Flush(RDKafkaErrorCode::OperationTimedOut)) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_micros(200));
                }
                Err(e) => return Err(classify("failed to flush the producer", e)),
            }
        }
    }
}

impl Transport for KafkaTransport {
    type Consumer = ThreadConsumer;

    fn send(&mut self, out: OutgoingRecord<'_>) -> Result<(), CommitError> {
        self.ensure_transaction()?;
        self.sent = true;
        let track = if out.changelog { TRACK_OFFSET } else { ERRORS_ONLY };
        let mut record = BaseRecord::with_opaque_to(out.topic, track)
            .key(&*out.key)
            .timestamp(out.timestamp);
        if let Some(value) = out.value.as_deref() {
            record = record.payload(value);
        }
        if let Some(partition) = out.partition {
            record = record.partition(partition);
        }
        if !out.headers.is_empty() {
            let headers = out.headers.iter().fold(OwnedHeaders::new(), |headers, (key, value)| {
                headers.insert(Header {
                    key,
                    value: value.as_deref(),
                })
            });
            record = record.headers(headers);
        }
        loop {
            match self.producer.send(record) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    // Back-pressure: the producer's thread drains the queue; retry shortly.
                    record = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err((e, _)) if is_permanent_rejection(&e) => {
                    let size = out.key.len() + out.value.as_deref().map_or(0, <[u8]>::len);
                    return Err(CommitError::Rejected(
                        Error::new(
                            ErrorKind::Rejected,
                            format!("`{}` refused a record of {size} bytes for good", out.topic),
                        )
                        .with_source(e),
                    ));
                }
                Err((e, _)) => return Err(classify(format!("failed to produce to `{}`", out.topic), e)),
            }
        }
    }

    fn has_uncommitted(&self) -> bool {
        self.sent || self.in_transaction
    }

    fn commit(&mut self, consumer: &ThreadConsumer, positions: &Positions) -> Result<(), CommitError> {
        let offsets = offset_list(positions, "commit").map_err(CommitError::Abortable)?;
        match self.guarantee {
            ProcessingGuarantee::AtLeastOnce => {
                self.flush()?;
                if let Some(e) = self.tracker.take_error() {
                    return Err(undelivered(e));
                }
                if offsets.count() > 0 {
                    consumer
                        .commit(&offsets, CommitMode::Sync)
                        .map_err(|e| classify("failed to commit consumer offsets", e))?;
                }
            }
            ProcessingGuarantee::ExactlyOnceV2 => {
                self.ensure_transaction()?;
                // commit_transaction flushes too, but with the same slow polling.
                self.flush()?;
                // A record the broker refused for good fails this commit however often it is
                // redone: say so (the thread stops) instead of retrying it forever.
                if let Some(e) = self.tracker.take_error() {
                    return Err(undelivered(e));
                }
                if offsets.count() > 0 {
                    let group = consumer.group_metadata().ok_or_else(|| {
                        CommitError::Abortable(Error::new(
                            ErrorKind::Kafka,
                            "the consumer has no group metadata to commit with",
                        ))
                    })?;
                    self.producer
                        .send_offsets_to_transaction(&offsets, &group, KAFKA_TIMEOUT)
                        .map_err(|e| classify("failed to add offsets to the transaction", e))?;
                }
                self.producer
                    .commit_transaction(KAFKA_TIMEOUT)
                    .map_err(|e| classify("failed to commit the transaction", e))?;
                self.in_transaction = false;
                if let Some(e) = self.tracker.take_error() {
                    tracing::warn!(error = %report(&e), "delivery error reported after a committed transaction");
                }
            }
        }
        self.sent = false;
        Ok(())
    }

    fn last_offset(&self, topic: &str, partition: i32) -> Option<i64> {
        self.tracker.last_offset(topic, partition)
    }

    fn abort(&mut self) -> Result<()> {
        self.sent = false;
        let _ = self.tracker.take_error();
        if !std::mem::take(&mut self.in_transaction) {
            return Ok(());
        }
        self.producer
            .abort_transaction(KAFKA_TIMEOUT)
            .map_err(|e| Error::kafka("failed to abort the transaction", e))
    }

    fn replace(&mut self) -> Result<()> {
        self.in_transaction = false;
        self.sent = false;
        // The old producer stays until the new one is ready: a replacement that fails (Kafka
        // unreachable) leaves the transport as it was, as before the init was split off.
        let producer = new_producer(&self.config, &self.tracker)?;
        if self.guarantee == ProcessingGuarantee::ExactlyOnceV2 {
            init_transactions(&producer)?;
        }
        self.producer = producer;
        self.transactions_ready = true;
        Ok(())
    }

    fn purge(&mut self, below: &Positions) -> Result<()> {
        if self.purge_unsupported {
            return Ok(());
        }
        let offsets = offset_list(below, "purge below")?;
        let purger = self.purger()?;
        let deleted = purger.admin.delete_records(&offsets, &AdminOptions::new());
        let answered = purger
            .runtime
            .block_on(async { tokio::time::timeout(PURGE_TIMEOUT, deleted).await })
            .map_err(|_| {
                Error::new(
                    ErrorKind::Kafka,
                    format!("no answer to DeleteRecords within {PURGE_TIMEOUT:?}"),
                )
            })?
            .map_err(|e| Error::kafka("failed to delete consumed repartition records", e))?;
        for element in answered.elements() {
            if let Err(e) = element.error() {
                if matches!(
                    e.rdkafka_error_code(),
                    Some(RDKafkaErrorCode::UnsupportedFeature | RDKafkaErrorCode::UnsupportedVersion)
                ) {
                    tracing::info!(error = %report(&e), "the cluster cannot delete records; repartition topics are not purged");
                    self.purge_unsupported = true;
                    return Ok(());
                }
                return Err(Error::kafka(
                    format!(
                        "failed to delete consumed records of `{}` partition {}",
                        element.topic(),
                        element.partition()
                    ),
                    e,
                ));
            }
        }
        tracing::debug!(partitions = answered.count(), "purged consumed repartition records");
        Ok(())
    }

    fn fetched_lag(&self, consumer: &ThreadConsumer, topic: &str, partition: i32, now_ms: i64) -> FetchedLag {
        let Some(report) = consumer.context().partition_report(topic, partition) else {
            return FetchedLag::Unknown;
        };
        let mut known = self.known_lags.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&(at_report, lag, when_ms)) = known.get(topic, partition) {
            let fresh_for = if lag == FetchedLag::CaughtUp {
                CAUGHT_UP_FOR_MS
            } else {
                BEHIND_FOR_MS
            };
            if at_report == report && (0..fresh_for).contains(&(now_ms - when_ms)) {
                return lag;
            }
        }
        // The position is librdkafka's (past transaction markers), read now.
        let Ok(positions) = consumer.position() else {
            return FetchedLag::Unknown;
        };
        let position = match positions.find_partition(topic, partition).map(|p| p.offset()) {
            Some(Offset::Offset(position)) => Some(position),
            Some(_) => None,
            None => return FetchedLag::Unknown,
        };
        let lag = report.lag(position);
        known.insert(topic, partition, (report, lag, now_ms));
        lag
    }

    fn forget_lags(&self) {
        self.known_lags.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    fn seek(&self, consumer: &ThreadConsumer, topic: &str, partition: i32, offset: i64) -> Result<()> {
        self.forget_lags();
        consumer
            .seek(topic, partition, Offset::Offset(offset), KAFKA_TIMEOUT)
            .map_err(|e| Error::kafka(format!("failed to seek `{topic}` partition {partition} to {offset}"), e))
    }
}

impl KafkaTransport {
    /// The producer's queue depth and transaction state, from librdkafka's last statistics
    /// whenever read (the producer may be replaced; its statistics stay here).
    pub(crate) fn producer_stats(&self) -> super::SharedProducerStats {
        self.tracker.stats()
    }
}

/// A producer without its transactional identity yet (see [`KafkaTransport::init_transactions`]).
fn new_producer(config: &ClientSettings, tracker: &Arc<DeliveryTracker>) -> Result<StreamsProducer> {
    let context = TrackingContext {
        tracker: Arc::clone(tracker),
        oauth: config.oauth(),
    };
    config.create_with("the producer", context)
}

fn init_transactions(producer: &StreamsProducer) -> Result<()> {
    producer
        .init_transactions(KAFKA_TIMEOUT)
        .map_err(|e| Error::kafka("failed to initialise transactions", e))
}

/// `positions` as an rdkafka offset list, for the operation `purpose` (in its error message).
fn offset_list(positions: &Positions, purpose: &str) -> Result<TopicPartitionList> {
    let mut offsets = TopicPartitionList::new();
    for (topic, partition, offset) in positions {
        offsets
            .add_partition_offset(topic, *partition, Offset::Offset(*offset))
            .map_err(|e| Error::kafka(format!("failed to build the offsets to {purpose}"), e))?;
    }
    Ok(offsets)
}

/// Errors no retry can fix, because they are about the record itself: too large for the
/// client's `message.max.bytes` or the topic's `max.message.bytes`, or invalid.
fn is_permanent_rejection(error: &KafkaError) -> bool {
    matches!(
        error.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::MessageSizeTooLarge
                | RDKafkaErrorCode::InvalidMessageSize
                | RDKafkaErrorCode::InvalidRecord
                | RDKafkaErrorCode::InvalidTimestamp
        )
    )
}

/// A delivery failure reported after the send: rejected when permanent, else classified.
fn undelivered(error: KafkaError) -> CommitError {
    if is_permanent_rejection(&error) {
        CommitError::Rejected(Error::new(ErrorKind::Rejected, "a produced record was not delivered").with_source(error))
    } else {
        classify("a produced record was not delivered", error)
    }
}

/// What a producer or commit failure means for the producer, from librdkafka's own verdict: a
/// transactional error says whether it is fatal or requires an abort; a fenced producer is
/// named by its code; everything else (timeouts, an unreachable broker) is abortable.
fn classify(context: impl Into<String>, error: KafkaError) -> CommitError {
    let code = error.rdkafka_error_code();
    let fenced = matches!(code, Some(RDKafkaErrorCode::Fenced | RDKafkaErrorCode::ProducerFenced));
    let fatal = match &error {
        KafkaError::Transaction(e) => e.is_fatal() || !e.txn_requires_abort() && !e.is_retriable(),
        _ => code == Some(RDKafkaErrorCode::Fatal),
    };
    let error = Error::kafka(context, error);
    if fenced {
        CommitError::Fenced(error)
    } else if fatal {
        CommitError::Fatal(error)
    } else {
        CommitError::Abortable(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The classification the commit protocol acts on, from errors as librdkafka reports them
    /// (transactional errors need a live producer; their fenced/fatal codes take this path too).
    #[test]
    fn failures_are_classified_by_what_they_mean_for_the_producer() {
        let kind = |e: CommitError| match e {
            CommitError::Abortable(_) => "abortable",
            CommitError::Fenced(_) => "fenced",
            CommitError::Fatal(_) => "fatal",
            CommitError::Rejected(_) => "rejected",
        };
        let produce = |code| KafkaError::MessageProduction(code);
        assert_eq!(
            kind(classify("send", produce(RDKafkaErrorCode::ProducerFenced))),
            "fenced"
        );
        assert_eq!(kind(classify("send", produce(RDKafkaErrorCode::Fenced))), "fenced");
        assert_eq!(kind(classify("send", produce(RDKafkaErrorCode::Fatal))), "fatal");
        assert_eq!(
            kind(classify("flush", KafkaError::Flush(RDKafkaErrorCode::MessageTimedOut))),
            "abortable"
        );
        assert_eq!(
            kind(classify("send", produce(RDKafkaErrorCode::AllBrokersDown))),
            "abortable"
        );
        assert_eq!(
            kind(undelivered(produce(RDKafkaErrorCode::MessageSizeTooLarge))),
            "rejected"
        );
        assert_eq!(
            kind(undelivered(produce(RDKafkaErrorCode::RequestTimedOut))),
            "abortable"
        );
        assert!(classify("send", produce(RDKafkaErrorCode::ProducerFenced)).is_fatal());
        assert!(!classify("send", produce(RDKafkaErrorCode::AllBrokersDown)).is_fatal());
    }
}
