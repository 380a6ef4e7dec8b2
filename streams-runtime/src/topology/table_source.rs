//! Table sources: a topic read as a table — every record upserts its key in a store, a
//! tombstone deletes it — with the updates passed on to the table's stream.

use std::sync::Arc;

use super::node::{Children, Forward, RawNodeFactory, RawProcessor, TaskBuild};
use super::source::TimestampExtractor;
use super::topic::TopicName;
use crate::codec::Codec;
use crate::error::{Error, ErrorKind, Result};
use crate::processor::{Record, TaskContext};
use crate::state::KeyValueStore;
use crate::topology::aggregate::StoreData;

pub(crate) struct TableSource<K, V> {
    pub(crate) topic: TopicName,
    pub(crate) store: String,
    pub(crate) key_codec: Arc<dyn Codec<K>>,
    pub(crate) value_codec: Arc<dyn Codec<V>>,
    pub(crate) timestamp: Option<Arc<TimestampExtractor<K, V>>>,
    pub(crate) children: Children<K, V>,
}

struct TableSourceProcessor<K, V> {
    topic: String,
    store: KeyValueStore<K, V>,
    key_codec: Arc<dyn Codec<K>>,
    value_codec: Arc<dyn Codec<V>>,
    timestamp: Option<Arc<TimestampExtractor<K, V>>>,
    next: Forward<K, V>,
}

impl<K: StoreData, V: StoreData> RawNodeFactory for TableSource<K, V> {
    fn instantiate(&self, build: &TaskBuild<'_>) -> Result<Box<dyn RawProcessor>> {
        Ok(Box::new(TableSourceProcessor {
            topic: build.topic(&self.topic),
            store: KeyValueStore::new(build.store(&self.store)?),
            key_codec: Arc::clone(&self.key_codec),
            value_codec: Arc::clone(&self.value_codec),
            timestamp: self.timestamp.clone(),
            next: self.children.instantiate(build)?,
        }))
    }
}

impl<K: StoreData, V: StoreData> RawProcessor for TableSourceProcessor<K, V> {
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
                format!(
                    "failed to decode the {what} of a record from table topic `{}`",
                    self.topic
                ),
            )
            .with_source(e)
        };
        let Some(key) = key else {
            return Err(Error::new(
                ErrorKind::Codec,
                format!("a record from table topic `{}` has no key; skipping it", self.topic),
            ));
        };
        let key = self.key_codec.decode(key).map_err(|e| codec_error("key", e))?;
        let Some(value) = value else {
            // A tombstone: the key leaves the table.
            return self.store.delete(&key);
        };
        let value = self.value_codec.decode(value).map_err(|e| codec_error("value", e))?;
        let timestamp = match &self.timestamp {
            Some(extract) => extract(&key, &value, timestamp),
            None => timestamp,
        };
        ctx.advance_stream_time(timestamp.max(0));
        self.store.put(&key, &value)?;
        self.next.forward(ctx, Record { key, value, timestamp })
    }
}
