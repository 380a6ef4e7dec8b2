//! Record-at-a-time operations: map, filter, flat_map, peek, … and the sink.

use std::sync::Arc;

use crate::codec::Codec;
use crate::error::{Error, Result};
use crate::processor::{Data, Record, TaskContext};
use crate::topology::graph::node::{Children, Forward, Node, NodeFactory, TaskBuild, operator};
use crate::topology::graph::topic::TopicName;

/// A record-at-a-time function; `Err` is a processing error of the record (the topology's error
/// policy decides what happens to it), `Ok(None)` drops it.
pub(crate) type OneToOneFn<K, V, K2, V2> = dyn Fn(Record<K, V>) -> Result<Option<Record<K2, V2>>> + Send + Sync;
pub(crate) type OneToManyFn<K, V, K2, V2> = dyn Fn(Record<K, V>) -> Result<Vec<Record<K2, V2>>> + Send + Sync;

/// What becomes of a table delete of key `K` (see [`Node::delete`]): the key of the delete to
/// pass on. Only operations that keep the key (`map_values`) have one; the others have no value
/// to give their function and drop deletes.
pub(crate) type DeleteFn<K, K2> = dyn Fn(K) -> K2 + Send + Sync;

/// Zero or one output per input: `map`, `map_values`, `filter`, `peek`, `select_key`.
pub(crate) fn one_to_one<K: Data, V: Data, K2: Data, V2: Data>(
    f: Arc<OneToOneFn<K, V, K2, V2>>,
    deletes: Option<Arc<DeleteFn<K, K2>>>,
    children: Children<K2, V2>,
) -> Arc<dyn NodeFactory<K, V>> {
    operator(children, move |_, next| {
        Ok(OneToOneProcessor {
            f: Arc::clone(&f),
            deletes: deletes.clone(),
            next,
        })
    })
}

struct OneToOneProcessor<K, V, K2, V2> {
    f: Arc<OneToOneFn<K, V, K2, V2>>,
    deletes: Option<Arc<DeleteFn<K, K2>>>,
    next: Forward<K2, V2>,
}

impl<K: Data, V: Data, K2: Data, V2: Data> Node<K, V> for OneToOneProcessor<K, V, K2, V2> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        match (self.f)(record)? {
            Some(out) => self.next.forward(ctx, out),
            None => Ok(()),
        }
    }

    fn delete(&mut self, ctx: &mut TaskContext, key: K, timestamp: i64) -> Result<()> {
        match &self.deletes {
            Some(deletes) => self.next.forward_delete(ctx, deletes(key), timestamp),
            None => Ok(()),
        }
    }
}

/// A predicate of `filter`: `Ok(true)` keeps the record, `Err` is its processing error.
pub(crate) type PredicateFn<K, V> = dyn Fn(&K, &V) -> Result<bool> + Send + Sync;

/// `filter`, `filter_not`: the record passes on as it is, or not at all. Its own node rather than
/// a [`one_to_one`], as records are filtered more than anything else and a predicate that only
/// borrows the record saves moving it in and out of an `Option` at every node.
pub(crate) fn filter<K: Data, V: Data>(
    predicate: Arc<PredicateFn<K, V>>,
    children: Children<K, V>,
) -> Arc<dyn NodeFactory<K, V>> {
    operator(children, move |_, next| {
        Ok(FilterProcessor {
            predicate: Arc::clone(&predicate),
            next,
        })
    })
}

struct FilterProcessor<K, V> {
    predicate: Arc<PredicateFn<K, V>>,
    next: Forward<K, V>,
}

impl<K: Data, V: Data> Node<K, V> for FilterProcessor<K, V> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        if (self.predicate)(&record.key, &record.value)? {
            self.next.forward(ctx, record)
        } else {
            Ok(())
        }
    }

    /// A delete has no value to test: dropped, as by every operation that is not value-only.
    fn delete(&mut self, _: &mut TaskContext, _: K, _: i64) -> Result<()> {
        Ok(())
    }
}

/// A new value from a record's key and value; `Err` is the record's processing error.
pub(crate) type ValueFn<K, V, V2> = dyn Fn(&K, V) -> Result<V2> + Send + Sync;

/// `map_values` and its variants: the key and timestamp stay, so a table delete passes through
/// as a delete of the same key. Its own node for the reason [`filter`] is.
pub(crate) fn map_values<K: Data, V: Data, V2: Data>(
    f: Arc<ValueFn<K, V, V2>>,
    children: Children<K, V2>,
) -> Arc<dyn NodeFactory<K, V>> {
    operator(children, move |_, next| {
        Ok(MapValuesProcessor {
            f: Arc::clone(&f),
            next,
        })
    })
}

struct MapValuesProcessor<K, V, V2> {
    f: Arc<ValueFn<K, V, V2>>,
    next: Forward<K, V2>,
}

impl<K: Data, V: Data, V2: Data> Node<K, V> for MapValuesProcessor<K, V, V2> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        let Record { key, value, timestamp } = record;
        let value = (self.f)(&key, value)?;
        self.next.forward(ctx, Record { key, value, timestamp })
    }

    fn delete(&mut self, ctx: &mut TaskContext, key: K, timestamp: i64) -> Result<()> {
        self.next.forward_delete(ctx, key, timestamp)
    }
}

/// A new key and value from a record's; `Err` is the record's processing error.
pub(crate) type KeyValueFn<K, V, K2, V2> = dyn Fn(K, V) -> Result<(K2, V2)> + Send + Sync;

/// `map`, `try_map`: a new key and value, the same timestamp. Its own node for the reason
/// [`filter`] is. Deletes are dropped: there is no value to map.
pub(crate) fn map<K: Data, V: Data, K2: Data, V2: Data>(
    f: Arc<KeyValueFn<K, V, K2, V2>>,
    children: Children<K2, V2>,
) -> Arc<dyn NodeFactory<K, V>> {
    operator(children, move |_, next| {
        Ok(MapProcessor {
            f: Arc::clone(&f),
            next,
        })
    })
}

struct MapProcessor<K, V, K2, V2> {
    f: Arc<KeyValueFn<K, V, K2, V2>>,
    next: Forward<K2, V2>,
}

impl<K: Data, V: Data, K2: Data, V2: Data> Node<K, V> for MapProcessor<K, V, K2, V2> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        let (key, value) = (self.f)(record.key, record.value)?;
        self.next.forward(
            ctx,
            Record {
                key,
                value,
                timestamp: record.timestamp,
            },
        )
    }

    fn delete(&mut self, _: &mut TaskContext, _: K, _: i64) -> Result<()> {
        Ok(())
    }
}

/// Any number of outputs per input: `flat_map`, `flat_map_values`.
pub(crate) fn one_to_many<K: Data, V: Data, K2: Data, V2: Data>(
    f: Arc<OneToManyFn<K, V, K2, V2>>,
    children: Children<K2, V2>,
) -> Arc<dyn NodeFactory<K, V>> {
    operator(children, move |_, next| {
        Ok(OneToManyProcessor {
            f: Arc::clone(&f),
            next,
        })
    })
}

struct OneToManyProcessor<K, V, K2, V2> {
    f: Arc<OneToManyFn<K, V, K2, V2>>,
    next: Forward<K2, V2>,
}

impl<K: Data, V: Data, K2: Data, V2: Data> Node<K, V> for OneToManyProcessor<K, V, K2, V2> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        for out in (self.f)(record)? {
            self.next.forward(ctx, out)?;
        }
        Ok(())
    }
}

/// Writes records to a topic (user topic or repartition topic).
pub(crate) struct Sink<K, V> {
    pub(crate) topic: TopicName,
    pub(crate) key_codec: Arc<dyn Codec<K>>,
    pub(crate) value_codec: Arc<dyn Codec<V>>,
}

struct SinkProcessor<K, V> {
    topic: Arc<str>,
    key_codec: Arc<dyn Codec<K>>,
    value_codec: Arc<dyn Codec<V>>,
}

impl<K: Data, V: Data> NodeFactory<K, V> for Sink<K, V> {
    fn instantiate(&self, build: &TaskBuild<'_>) -> Result<Box<dyn Node<K, V>>> {
        Ok(Box::new(SinkProcessor {
            topic: Arc::from(build.topic(&self.topic)),
            key_codec: Arc::clone(&self.key_codec),
            value_codec: Arc::clone(&self.value_codec),
        }))
    }
}

impl<K: Data, V: Data> Node<K, V> for SinkProcessor<K, V> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        let codec_error = |e: crate::codec::CodecError| {
            Error::new(
                e.error_kind(),
                format!("failed to encode a record for `{}`", self.topic),
            )
            .with_source(e)
        };
        let key = self.key_codec.encode_owned(record.key).map_err(codec_error)?;
        let value = self.value_codec.encode_owned(record.value).map_err(codec_error)?;
        ctx.send(&self.topic, key, Some(value), record.timestamp);
        Ok(())
    }

    /// A table's delete becomes a tombstone on the topic.
    fn delete(&mut self, ctx: &mut TaskContext, key: K, timestamp: i64) -> Result<()> {
        let key = self.key_codec.encode_owned(key).map_err(|e| {
            Error::new(
                e.error_kind(),
                format!("failed to encode a tombstone's key for `{}`", self.topic),
            )
            .with_source(e)
        })?;
        ctx.send(&self.topic, key, None, timestamp);
        Ok(())
    }
}
