//! Test input for a real (or embedded) broker: [`TopicWriter`] is to a [`KafkaCluster`] what the
//! test driver's [`InputTopic`](super::InputTopic) is to a [`TestDriver`](super::TestDriver) —
//! records encoded with the runtime's codecs and partitioned by Kafka's (murmur2) partitioner,
//! so each key lands where Kafka Streams and this runtime expect it.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use crate::codec::Codec;
use crate::error::{Error, ErrorKind, Result};
use crate::kafka::{AckedProducer, KafkaCluster};
use crate::partitioner::RDKAFKA_PARTITIONER;

/// Writes keyed records to one topic and waits until the broker acknowledged them.
pub struct TopicWriter<K, V> {
    producer: AckedProducer,
    topic: String,
    key_codec: Arc<dyn Codec<K>>,
    value_codec: Arc<dyn Codec<V>>,
}

impl<K: 'static, V: 'static> TopicWriter<K, V> {
    /// A writer of `topic` with the cluster's client settings (the topic must exist).
    pub fn new(
        cluster: &KafkaCluster,
        topic: &str,
        key_codec: impl Codec<K>,
        value_codec: impl Codec<V>,
    ) -> Result<Self> {
        Self::with_properties(cluster, topic, key_codec, value_codec, &[])
    }

    /// Like [`new`](Self::new), with producer `properties` on top (e.g. `compression.type`).
    pub fn with_properties(
        cluster: &KafkaCluster,
        topic: &str,
        key_codec: impl Codec<K>,
        value_codec: impl Codec<V>,
        properties: &[(&str, &str)],
    ) -> Result<Self> {
        let mut config = cluster.client_config();
        config.set("partitioner", RDKAFKA_PARTITIONER);
        for (key, value) in properties {
            config.set(*key, *value);
        }
        let producer = AckedProducer::new(&config, topic)?;
        Ok(Self {
            producer,
            topic: topic.to_owned(),
            key_codec: Arc::new(key_codec),
            value_codec: Arc::new(value_codec),
        })
    }

    /// Writes one record (`None`: a tombstone), with the producer's time unless `timestamp_ms`.
    pub async fn send(&self, key: &K, value: Option<&V>, timestamp_ms: Option<i64>) -> Result<()> {
        self.send_all([(key, value, timestamp_ms)]).await
    }

    /// Writes `records` — (key, value or tombstone, timestamp) — in order, all in flight at
    /// once, and waits until every one is acknowledged.
    pub async fn send_all<'a>(
        &self,
        records: impl IntoIterator<Item = (&'a K, Option<&'a V>, Option<i64>)>,
    ) -> Result<()>
    where
        K: 'a,
        V: 'a,
    {
        let encoded = records
            .into_iter()
            .map(|(key, value, timestamp_ms)| {
                let value = value.map(|v| self.encode_value(v)).transpose()?;
                Ok((self.encode_key(key)?, value, timestamp_ms))
            })
            .collect::<Result<Vec<_>>>()?;
        self.producer.send_all(&self.topic, encoded).await
    }

    fn encode_key(&self, key: &K) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.key_codec
            .encode(key, &mut out)
            .map_err(|e| self.failed(format!("a key did not encode: {e}")))?;
        Ok(out)
    }

    fn encode_value(&self, value: &V) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.value_codec
            .encode(value, &mut out)
            .map_err(|e| self.failed(format!("a value did not encode: {e}")))?;
        Ok(out)
    }

    fn failed(&self, why: String) -> Error {
        Error::new(ErrorKind::Kafka, format!("writing to `{}`: {why}", self.topic))
    }
}

/// A loopback address with a port that was free a moment ago, for a server a test starts
/// (a query server's `application.server`, say).
pub fn free_loopback_address() -> Result<SocketAddr> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map_err(|e| Error::io("failed to find a free loopback port", e))
}
