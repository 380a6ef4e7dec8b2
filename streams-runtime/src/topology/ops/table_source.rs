//! Table sources: a topic read as a table — every record upserts its key in a store, a
//! tombstone deletes it — with the updates (and deletes of present keys) passed on.

use crate::error::{Error, ErrorKind, Result};
use crate::processor::{Record, TaskContext};
use crate::state::KeyValueStore;
use crate::topology::graph::node::{Children, Forward, RawNodeFactory, RawProcessor, TaskBuild};
use crate::topology::graph::topic::TopicName;
use crate::topology::ops::aggregate::StoreData;
use crate::topology::ops::source::Decoding;

pub(crate) struct TableSource<K, V> {
    pub(crate) topic: TopicName,
    pub(crate) store: String,
    pub(crate) decoding: Decoding<K, V>,
    pub(crate) children: Children<K, V>,
}

struct TableSourceProcessor<K, V> {
    topic: String,
    store: KeyValueStore<K, V>,
    decoding: Decoding<K, V>,
    next: Forward<K, V>,
}

impl<K: StoreData, V: StoreData> RawNodeFactory for TableSource<K, V> {
    fn instantiate(&self, build: &TaskBuild<'_>) -> Result<Box<dyn RawProcessor>> {
        Ok(Box::new(TableSourceProcessor {
            topic: build.topic(&self.topic),
            store: KeyValueStore::new(build.store(&self.store)?),
            decoding: self.decoding.clone(),
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
        if key.is_none() {
            return Err(Error::new(
                ErrorKind::Codec,
                format!("a record from table topic `{}` has no key; skipping it", self.topic),
            ));
        }
        let key = self.decoding.key(&self.topic, key)?;
        let Some(value) = value else {
            // A tombstone: the key leaves the table; those downstream hear of it if it was there.
            if self.store.get(&key)?.is_none() {
                return Ok(());
            }
            self.store.delete(&key)?;
            return self.next.forward_delete(ctx, key, timestamp.max(0));
        };
        let value = self.decoding.value(&self.topic, value)?;
        // A table update without a timestamp still updates the table (it is the latest value),
        // stamped 0 so that it never moves stream time.
        let timestamp = self.decoding.event_time(&key, &value, timestamp).max(0);
        ctx.advance_stream_time(timestamp);
        self.store.put_timestamped(&key, &value, timestamp)?;
        self.next.forward(ctx, Record { key, value, timestamp })
    }
}
