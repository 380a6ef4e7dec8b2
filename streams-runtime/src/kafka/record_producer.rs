//! A plain (non-transactional) producer of keyed records, for the runtime's own bookkeeping
//! topics (the membership topic): fire and forget, delivery failures are logged by the client.

use std::time::Duration;

use rdkafka::producer::{BaseRecord, Producer};

use super::{ClientSettings, PlainProducer};
use crate::error::{Error, Result};

/// A producer of keyed records.
pub(crate) struct RecordProducer {
    producer: PlainProducer,
}

impl RecordProducer {
    /// Creates `what` (for error messages) from `settings`.
    pub(crate) fn new(settings: &ClientSettings, what: &str) -> Result<Self> {
        Ok(Self {
            producer: settings.producer(what)?,
        })
    }

    /// Queues `key` → `value` (`None`: a tombstone) for `topic`.
    pub(crate) fn send(&self, topic: &str, key: &str, value: Option<&[u8]>) -> Result<()> {
        let mut record = BaseRecord::<str, [u8]>::to(topic).key(key);
        if let Some(value) = value {
            record = record.payload(value);
        }
        self.producer
            .send(record)
            .map_err(|(e, _)| Error::kafka(format!("failed to produce to `{topic}`"), e))
    }

    /// Serves delivery reports without waiting.
    pub(crate) fn serve(&self) {
        self.producer.poll(Duration::ZERO);
    }

    /// Waits up to `timeout` until everything queued is delivered.
    pub(crate) fn flush(&self, timeout: Duration) -> Result<()> {
        self.producer
            .flush(timeout)
            .map_err(|e| Error::kafka("failed to flush the producer", e))
    }
}
