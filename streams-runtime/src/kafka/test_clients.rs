//! The Kafka clients behind the test support in `testing`: a producer that waits for every
//! acknowledgement, and the probe that tells a starting broker is up.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::error::{Error, ErrorKind, Result};

/// How long a record may wait for its acknowledgement.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(60);

/// A record to write: encoded key, value (`None`: a tombstone), timestamp (`None`: now).
pub(crate) type EncodedRecord = (Vec<u8>, Option<Vec<u8>>, Option<i64>);

/// A producer that sends records all in flight at once and waits for every acknowledgement.
pub(crate) struct AckedProducer {
    producer: FutureProducer,
}

impl AckedProducer {
    /// A producer for `topic` (in its error messages) with `config`'s properties.
    pub(crate) fn new(config: &ClientConfig, topic: &str) -> Result<Self> {
        let producer = config
            .create()
            .map_err(|e| Error::kafka(format!("failed to create a producer for `{topic}`"), e))?;
        Ok(Self { producer })
    }

    /// Writes `records` to `topic` in order and waits until the broker acknowledged each.
    pub(crate) async fn send_all(&self, topic: &str, records: Vec<EncodedRecord>) -> Result<()> {
        let failed = |why: String| Error::new(ErrorKind::Kafka, format!("writing to `{topic}`: {why}"));
        let mut deliveries = Vec::new();
        for (key, value, timestamp_ms) in &records {
            let mut record = FutureRecord::<Vec<u8>, Vec<u8>>::to(topic).key(key);
            if let Some(value) = value {
                record = record.payload(value);
            }
            if let Some(ts) = timestamp_ms {
                record = record.timestamp(*ts);
            }
            let delivery = self
                .producer
                .send_result(record)
                .map_err(|(e, _)| Error::kafka(format!("failed to queue a record for `{topic}`"), e))?;
            deliveries.push(delivery);
        }
        for delivery in deliveries {
            let outcome = tokio::time::timeout(DELIVERY_TIMEOUT, delivery)
                .await
                .map_err(|_| failed(format!("no acknowledgement within {DELIVERY_TIMEOUT:?}")))?
                .map_err(|_| failed("the producer was dropped".to_owned()))?;
            outcome.map_err(|(e, _)| Error::kafka(format!("failed to write a record to `{topic}`"), e))?;
        }
        Ok(())
    }
}

/// Whether a broker at `bootstrap_servers` answers a metadata request (with at least one broker).
pub(crate) fn answers_metadata(bootstrap_servers: &str) -> bool {
    let consumer: Option<BaseConsumer> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap_servers)
        .create()
        .ok();
    consumer.is_some_and(|c| {
        c.fetch_metadata(None, Duration::from_secs(2))
            .is_ok_and(|m| !m.brokers().is_empty())
    })
}
