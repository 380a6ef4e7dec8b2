//! Record-at-a-time operations: map, filter, flat_map, peek, … and the sink.

use std::sync::Arc;

use crate::codec::Codec;
use crate::error::{Error, Result};
use crate::processor::{Data, Record, TaskContext};
use crate::topology::graph::node::{Children, Forward, Node, NodeFactory, TaskBuild, operator};
use crate::topology::graph::topic::TopicName;

// The kinds of function a [`FnNode`] calls. Each returns `Err` for a processing error of the
// record (the topology's error policy decides what happens to it). Only `ValueFn` passes a
// table's deletes on (as deletes of the same key); the others have no value to give their
// function, and a delete stops there.

/// Zero or one output per input (`Ok(None)` drops the record): `peek`, `select_key`.
pub(crate) type OneToOneFn<K, V, K2, V2> = dyn Fn(Record<K, V>) -> Result<Option<Record<K2, V2>>> + Send + Sync;
/// Any number of outputs per input: `flat_map`, `flat_map_values`.
pub(crate) type OneToManyFn<K, V, K2, V2> = dyn Fn(Record<K, V>) -> Result<Vec<Record<K2, V2>>> + Send + Sync;
/// `filter`, `filter_not`: `Ok(true)` passes the record on as it is.
pub(crate) type PredicateFn<K, V> = dyn Fn(&K, &V) -> Result<bool> + Send + Sync;
/// `map_values` and its variants, `merge`: a new value; the key and timestamp stay.
pub(crate) type ValueFn<K, V, V2> = dyn Fn(&K, V) -> Result<V2> + Send + Sync;
/// `map`, `try_map`: a new key and value; the timestamp stays.
pub(crate) type KeyValueFn<K, V, K2, V2> = dyn Fn(K, V) -> Result<(K2, V2)> + Send + Sync;

/// A node that calls a user's function on each record and forwards what it returns. `F` is the
/// function's type; each kind of function is a `Node` below. `filter`, `map` and `map_values`
/// have kinds of their own rather than going through [`OneToOneFn`], as they are the most
/// common operations and a function that borrows the record, or takes only what it changes,
/// saves moving the whole record into and out of an `Option` at every node.
pub(crate) struct FnNode<F: ?Sized, K2, V2> {
    f: Arc<F>,
    next: Forward<K2, V2>,
}

/// The factory of the [`FnNode`] calling `f`, one of the kinds above.
pub(crate) fn fn_node<K, V, K2, V2, F>(f: Arc<F>, children: Children<K2, V2>) -> Arc<dyn NodeFactory<K, V>>
where
    K: 'static,
    V: 'static,
    K2: Data,
    V2: Data,
    F: ?Sized + Send + Sync + 'static,
    FnNode<F, K2, V2>: Node<K, V> + 'static,
{
    operator(children, move |_, next| {
        Ok(FnNode {
            f: Arc::clone(&f),
            next,
        })
    })
}

impl<K: Data, V: Data, K2: Data, V2: Data> Node<K, V> for FnNode<OneToOneFn<K, V, K2, V2>, K2, V2> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        match (self.f)(record)? {
            Some(out) => self.next.forward(ctx, out),
            None => Ok(()),
        }
    }
}

impl<K: Data, V: Data, K2: Data, V2: Data> Node<K, V> for FnNode<OneToManyFn<K, V, K2, V2>, K2, V2> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        for out in (self.f)(record)? {
            self.next.forward(ctx, out)?;
        }
        Ok(())
    }
}

impl<K: Data, V: Data> Node<K, V> for FnNode<PredicateFn<K, V>, K, V> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        if (self.f)(&record.key, &record.value)? {
            self.next.forward(ctx, record)
        } else {
            Ok(())
        }
    }
}

impl<K: Data, V: Data, V2: Data> Node<K, V> for FnNode<ValueFn<K, V, V2>, K, V2> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        let Record { key, value, timestamp } = record;
        let value = (self.f)(&key, value)?;
        self.next.forward(ctx, Record { key, value, timestamp })
    }

    fn delete(&mut self, ctx: &mut TaskContext, key: K, timestamp: i64) -> Result<()> {
        self.next.forward_delete(ctx, key, timestamp)
    }
}

impl<K: Data, V: Data, K2: Data, V2: Data> Node<K, V> for FnNode<KeyValueFn<K, V, K2, V2>, K2, V2> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        let (key, value) = (self.f)(record.key, record.value)?;
        let timestamp = record.timestamp;
        self.next.forward(ctx, Record { key, value, timestamp })
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
