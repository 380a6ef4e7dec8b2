//! Source nodes: decode raw records from a topic partition and assign event time.

use std::sync::Arc;

use super::node::{Children, Forward, RawNodeFactory, RawProcessor, TaskBuild};
use super::topic::TopicName;
use crate::codec::Codec;
use crate::error::{Error, ErrorKind, Result};
use crate::processor::{Data, Record, TaskContext};

/// Picks a record's event time from its key, value and broker timestamp.
pub type TimestampExtractor<K, V> = dyn Fn(&K, &V, i64) -> i64 + Send + Sync;

pub(crate) struct Source<K, V> {
    pub(crate) topic: TopicName,
    pub(crate) key_codec: Arc<dyn Codec<K>>,
    pub(crate) value_codec: Arc<dyn Codec<V>>,
    pub(crate) timestamp: Option<Arc<TimestampExtractor<K, V>>>,
    pub(crate) children: Children<K, V>,
}

struct SourceProcessor<K, V> {
    topic: String,
    key_codec: Arc<dyn Codec<K>>,
    value_codec: Arc<dyn Codec<V>>,
    timestamp: Option<Arc<TimestampExtractor<K, V>>>,
    next: Forward<K, V>,
}

impl<K: Data, V: Data> RawNodeFactory for Source<K, V> {
    fn instantiate(&self, build: &TaskBuild<'_>) -> Result<Box<dyn RawProcessor>> {
        Ok(Box::new(SourceProcessor {
            topic: build.topic(&self.topic),
            key_codec: Arc::clone(&self.key_codec),
            value_codec: Arc::clone(&self.value_codec),
            timestamp: self.timestamp.clone(),
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
        let codec_error = |what: &str, e| {
            Error::new(
                ErrorKind::Codec,
                format!("failed to decode the {what} of a record from `{}`", self.topic),
            )
            .with_source(e)
        };
        let Some(value) = value else {
            // A stream has no use for tombstones; tables (later) do.
            return Ok(());
        };
        let key = match key {
            Some(bytes) => self.key_codec.decode(bytes),
            None => self.key_codec.decode_absent(),
        }
        .map_err(|e| codec_error("key", e))?;
        let value = self.value_codec.decode(value).map_err(|e| codec_error("value", e))?;
        let timestamp = match &self.timestamp {
            Some(extract) => extract(&key, &value, timestamp),
            None => timestamp,
        };
        if timestamp < 0 {
            return Err(Error::new(
                ErrorKind::Codec,
                format!(
                    "a record from `{}` has the invalid event time {timestamp}; skipping it",
                    self.topic
                ),
            ));
        }
        ctx.advance_stream_time(timestamp);
        self.next.forward(ctx, Record { key, value, timestamp })
    }
}
