//! The hand-wired processing loop: consume → window → count → produce, committing at least once.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rdkafka::Message;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use streams_runtime::kafka::KafkaCluster;
use streams_runtime::window::TumblingWindows;
use streams_runtime::{Error, ErrorKind, Result, TimeWindow, Windowed};
use tokio::sync::watch;

use super::{APPLICATION_ID, Click, INPUT_TOPIC, OUTPUT_TOPIC, WINDOW_SIZE};

/// Per-(user, window) click counts: the state the HTTP endpoint serves.
#[derive(Debug, Default)]
pub struct ClickCounts {
    counts: RwLock<BTreeMap<(String, i64), u64>>,
}

impl ClickCounts {
    /// Adds one click of `user` in `window` and returns the new count.
    fn increment(&self, user: &str, window: TimeWindow) -> u64 {
        let mut counts = self.counts.write().unwrap_or_else(|e| e.into_inner());
        let count = counts.entry((user.to_owned(), window.start_ms)).or_default();
        *count += 1;
        *count
    }

    /// All windows of `user`, oldest first.
    pub fn windows_of(&self, user: &str) -> Vec<(TimeWindow, u64)> {
        let size = WINDOW_SIZE.as_millis() as i64;
        let counts = self.counts.read().unwrap_or_else(|e| e.into_inner());
        counts
            .range((user.to_owned(), i64::MIN)..=(user.to_owned(), i64::MAX))
            .map(|((_, start), count)| {
                (
                    TimeWindow {
                        start_ms: *start,
                        end_ms: start + size,
                    },
                    *count,
                )
            })
            .collect()
    }

    /// Number of (user, window) entries.
    pub fn len(&self) -> usize {
        self.counts.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether nothing has been counted yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Counters the pipeline updates as it runs.
#[derive(Debug, Default)]
pub struct PipelineStats {
    /// Clicks counted.
    pub processed: AtomicU64,
    /// Records skipped because they were not valid click JSON.
    pub malformed: AtomicU64,
    /// Count updates produced to the output topic and acknowledged.
    pub emitted: AtomicU64,
}

/// How often positions are committed (after all outputs before them are acknowledged).
const COMMIT_INTERVAL: Duration = Duration::from_secs(1);

/// Runs the aggregation until `shutdown` turns true, then commits and returns.
pub async fn run_pipeline(
    cluster: &KafkaCluster,
    counts: Arc<ClickCounts>,
    stats: Arc<PipelineStats>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<()> {
    let consumer: StreamConsumer = cluster
        .client_config()
        .set("group.id", APPLICATION_ID)
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .create()
        .map_err(|e| Error::new(ErrorKind::Kafka, "failed to create the consumer").with_source(e))?;
    consumer
        .subscribe(&[INPUT_TOPIC])
        .map_err(|e| Error::new(ErrorKind::Kafka, format!("failed to subscribe to `{INPUT_TOPIC}`")).with_source(e))?;
    let producer: FutureProducer = cluster
        .client_config()
        .set("partitioner", streams_runtime::partitioner::RDKAFKA_PARTITIONER)
        .set("linger.ms", "5")
        .create()
        .map_err(|e| Error::new(ErrorKind::Kafka, "failed to create the producer").with_source(e))?;
    let windows = TumblingWindows::of(WINDOW_SIZE);
    let mut pending: Vec<DeliveryFuture> = Vec::new();
    let mut commit_tick = tokio::time::interval(COMMIT_INTERVAL);

    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            _ = commit_tick.tick() => commit(&consumer, &mut pending, &stats).await?,
            message = consumer.recv() => {
                let message = match message {
                    Ok(m) => m,
                    Err(e) => {
                        tracing::warn!(error = %e, "consume failed; retrying");
                        continue;
                    }
                };
                match message.payload().map(serde_json::from_slice::<Click>) {
                    Some(Ok(click)) => {
                        let window = windows.window_for(click.event_time_ms());
                        let count = counts.increment(&click.user_id, window);
                        let key = Windowed { key: click.user_id, window }.to_string();
                        let value = count.to_string();
                        let record = FutureRecord::to(OUTPUT_TOPIC).key(&key).payload(&value).timestamp(window.start_ms);
                        match producer.send_result(record) {
                            Ok(delivery) => pending.push(delivery),
                            Err((e, _)) => return Err(Error::new(ErrorKind::Kafka, format!("failed to produce to `{OUTPUT_TOPIC}`")).with_source(e)),
                        }
                        stats.processed.fetch_add(1, Ordering::Relaxed);
                    }
                    Some(Err(e)) => {
                        stats.malformed.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(partition = message.partition(), offset = message.offset(), error = %e, "skipping malformed click");
                    }
                    None => {
                        stats.malformed.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(partition = message.partition(), offset = message.offset(), "skipping click without a payload");
                    }
                }
                consumer
                    .store_offset_from_message(&message)
                    .map_err(|e| Error::new(ErrorKind::Kafka, "failed to store a consumed offset").with_source(e))?;
            }
        }
    }
    commit(&consumer, &mut pending, &stats).await
}

/// At-least-once commit: positions are committed only once every output before them is acknowledged.
async fn commit(consumer: &StreamConsumer, pending: &mut Vec<DeliveryFuture>, stats: &PipelineStats) -> Result<()> {
    for delivery in pending.drain(..) {
        match delivery.await {
            Ok(Ok(_)) => {
                stats.emitted.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Err((e, _))) => {
                return Err(
                    Error::new(ErrorKind::Kafka, format!("failed to deliver to `{OUTPUT_TOPIC}`")).with_source(e),
                );
            }
            Err(_) => return Err(Error::new(ErrorKind::Kafka, "the producer was closed before delivery")),
        }
    }
    match consumer.commit_consumer_state(CommitMode::Async) {
        // Nothing consumed since the last commit.
        Err(rdkafka::error::KafkaError::ConsumerCommit(rdkafka::types::RDKafkaErrorCode::NoOffset)) | Ok(()) => Ok(()),
        Err(e) => {
            tracing::warn!(error = %e, "offset commit failed; retrying at the next interval");
            Ok(())
        }
    }
}
