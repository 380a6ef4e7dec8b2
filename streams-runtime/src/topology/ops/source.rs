//! Source nodes: decode raw records from a topic partition and assign event time.

use std::sync::Arc;

use crate::codec::Codec;
use crate::error::{Error, ErrorKind, Result};
use crate::processor::{Data, Record, TaskContext};
use crate::topology::graph::node::{Children, Forward, RawNodeFactory, RawProcessor, TaskBuild};
use crate::topology::graph::topic::TopicName;

/// Picks a record's event time from its key, value and broker timestamp.
pub type TimestampExtractor<K, V> = dyn Fn(&K, &V, i64) -> i64 + Send + Sync;

/// How a source (stream or table) turns raw records into typed ones.
pub(crate) struct Decoding<K, V> {
    pub(crate) key_codec: Arc<dyn Codec<K>>,
    pub(crate) value_codec: Arc<dyn Codec<V>>,
    pub(crate) timestamp: Option<Arc<TimestampExtractor<K, V>>>,
}

impl<K, V> Clone for Decoding<K, V> {
    fn clone(&self) -> Self {
        Self {
            key_codec: Arc::clone(&self.key_codec),
            value_codec: Arc::clone(&self.value_codec),
            timestamp: self.timestamp.clone(),
        }
    }
}

impl<K: 'static, V: 'static> Decoding<K, V> {
    fn codec_error(topic: &str, what: &str, e: crate::codec::CodecError) -> Error {
        Error::new(
            e.error_kind(),
            format!("failed to decode the {what} of a record from `{topic}`"),
        )
        .with_source(e)
    }

    /// The key (a missing key decodes as the codec's absent value).
    pub(crate) fn key(&self, topic: &str, key: Option<&[u8]>) -> Result<K> {
        match key {
            Some(bytes) => self.key_codec.decode(bytes),
            None => self.key_codec.decode_absent(),
        }
        .map_err(|e| Self::codec_error(topic, "key", e))
    }

    pub(crate) fn value(&self, topic: &str, value: &[u8]) -> Result<V> {
        self.value_codec
            .decode(value)
            .map_err(|e| Self::codec_error(topic, "value", e))
    }

    /// The event time: extracted, or the broker timestamp.
    pub(crate) fn event_time(&self, key: &K, value: &V, broker_timestamp: i64) -> i64 {
        match &self.timestamp {
            Some(extract) => extract(key, value, broker_timestamp),
            None => broker_timestamp,
        }
    }
}

pub(crate) struct Source<K, V> {
    pub(crate) topic: TopicName,
    pub(crate) decoding: Decoding<K, V>,
    pub(crate) children: Children<K, V>,
}

struct SourceProcessor<K, V> {
    topic: String,
    decoding: Decoding<K, V>,
    next: Forward<K, V>,
}

impl<K: Data, V: Data> RawNodeFactory for Source<K, V> {
    fn instantiate(&self, build: &TaskBuild<'_>) -> Result<Box<dyn RawProcessor>> {
        Ok(Box::new(SourceProcessor {
            topic: build.topic(&self.topic),
            decoding: self.decoding.clone(),
            next: self.children.instantiate(build)?,
        }))
    }
}

impl<K: Data, V: Data> RawProcessor for SourceProcessor<K, V> {
    fn process(
        &mut self,
        ctx: &mut TaskContext,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        timestamp: i64,
    ) -> Result<()> {
        let Some(value) = value else {
            // A stream has no use for tombstones; tables do.
            return Ok(());
        };
        let key = self.decoding.key(&self.topic, key)?;
        let value = self.decoding.value(&self.topic, value)?;
        let timestamp = self.decoding.event_time(&key, &value, timestamp);
        if timestamp < 0 {
            return Err(Error::new(
                ErrorKind::Codec,
                format!(
                    "a record from `{}` has no valid event time ({timestamp}; -1 means it was produced without \
                     a timestamp): give the source a timestamp extractor or have the producer set one",
                    self.topic
                ),
            ));
        }
        ctx.advance_stream_time(timestamp);
        self.next.forward(ctx, Record { key, value, timestamp })
    }
}
