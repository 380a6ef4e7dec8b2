//! The stream thread's producer, which remembers where its records landed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rdkafka::ClientContext;
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{DeliveryResult, ProducerContext, ThreadedProducer};

use super::{OAuth, ProducerStats, SharedProducerStats};
use crate::error::report;

/// Delivery outcomes: the last offset per partition (changelog offsets for store checkpoints)
/// and the first failure since it was last taken; and the producer's last statistics.
#[derive(Debug, Default)]
pub(crate) struct DeliveryTracker {
    state: Mutex<DeliveryState>,
    stats: SharedProducerStats,
}

#[derive(Debug, Default)]
struct DeliveryState {
    /// Topic → partition → last delivered offset.
    offsets: HashMap<String, HashMap<i32, i64>>,
    error: Option<KafkaError>,
}

impl DeliveryTracker {
    fn lock(&self) -> std::sync::MutexGuard<'_, DeliveryState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn last_offset(&self, topic: &str, partition: i32) -> Option<i64> {
        self.lock().offsets.get(topic).and_then(|p| p.get(&partition)).copied()
    }

    pub(crate) fn take_error(&self) -> Option<KafkaError> {
        self.lock().error.take()
    }

    /// The producer's statistics, as of librdkafka's last report whenever read.
    pub(crate) fn stats(&self) -> SharedProducerStats {
        self.stats.clone()
    }
}

/// Producer context feeding a [`DeliveryTracker`].
pub(crate) struct TrackingContext {
    pub(crate) tracker: Arc<DeliveryTracker>,
    /// Answers the producer's token refresh requests (SASL/OAUTHBEARER).
    pub(crate) oauth: OAuth,
}

impl ClientContext for TrackingContext {
    crate::kafka::answer_token_refreshes!(oauth);

    fn stats(&self, statistics: rdkafka::Statistics) {
        self.tracker.stats.set(ProducerStats::from_statistics(&statistics));
    }
}

/// The delivery opaque of a record whose offset is kept (a changelog write).
pub(crate) const TRACK_OFFSET: usize = 1;
/// The delivery opaque of a record only checked for errors (a sink's output).
pub(crate) const ERRORS_ONLY: usize = 0;

impl ProducerContext for TrackingContext {
    /// [`TRACK_OFFSET`] or [`ERRORS_ONLY`].
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, track: usize) {
        if result.is_ok() && track == ERRORS_ONLY {
            // Most deliveries (every output record): no lock, no look-up.
            return;
        }
        let mut state = self.tracker.lock();
        match result {
            Ok(message) => {
                // Allocates only for a topic's first delivery (this runs once per record).
                if !state.offsets.contains_key(message.topic()) {
                    state.offsets.insert(message.topic().to_owned(), HashMap::new());
                }
                if let Some(partitions) = state.offsets.get_mut(message.topic()) {
                    let entry = partitions.entry(message.partition()).or_insert(-1);
                    *entry = (*entry).max(message.offset());
                }
            }
            Err((error, message)) => {
                tracing::warn!(topic = message.topic(), partition = message.partition(), error = %report(&error), "record not delivered");
                state.error.get_or_insert_with(|| error.clone());
            }
        }
    }
}

/// Threaded, so delivery reports are served while a commit or abort waits for them.
pub(crate) type StreamsProducer = ThreadedProducer<TrackingContext>;
