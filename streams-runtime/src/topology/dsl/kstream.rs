//! `KStream<K, V>`: an unbounded stream of independent records.

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codec::{Codec, Json};
use crate::processor::{Data, Record};
use crate::topology::dsl::grouped::KGroupedStream;
use crate::topology::graph::node::{Children, Node, NodeFactory, RawNodeFactory};
use crate::topology::graph::topic::TopicName;
use crate::topology::graph::{self, SharedGraph, SourceEntry};
use crate::topology::ops::source::{Decoding, Source, TimestampExtractor};
use crate::topology::ops::stateless::{
    FnNode, KeyValueFn, OneToManyFn, OneToOneFn, PredicateFn, Sink, ValueFn, fn_node,
};

/// A stream of records; every record is an independent event.
pub struct KStream<K, V> {
    pub(crate) graph: SharedGraph,
    pub(crate) node: usize,
    pub(crate) sub: usize,
    pub(crate) children: Children<K, V>,
    /// Whether an operation may have changed keys since the source, so grouping must repartition.
    pub(crate) key_changed: bool,
    /// The `Arc<dyn Codec<K>>` that encoded the keys of the topic this stream's task reads, while
    /// keys are unchanged: a key's partition is murmur2 of that encoding (query routing needs it).
    pub(crate) partition_codec: Option<PartitionCodec>,
}

/// An `Arc<dyn Codec<K>>`, type-erased so it can ride along streams of any key type.
pub(crate) type PartitionCodec = Arc<dyn std::any::Any + Send + Sync>;

/// Wraps a key codec as a [`PartitionCodec`].
pub(crate) fn partition_codec<K: 'static>(codec: &Arc<dyn Codec<K>>) -> PartitionCodec {
    Arc::new(Arc::clone(codec))
}

/// The key codec back from a [`PartitionCodec`], if it encodes `K`.
pub(crate) fn key_codec_of<K: 'static>(codec: Option<&PartitionCodec>) -> Option<Arc<dyn Codec<K>>> {
    codec.and_then(|c| c.downcast_ref::<Arc<dyn Codec<K>>>()).cloned()
}

/// A user function's error as a processing error of the record.
fn failed(operation: &str, error: &dyn std::fmt::Display) -> crate::Error {
    crate::Error::processing(format!("`{operation}` failed: {error}"))
}

impl<K: Data, V: Data> KStream<K, V> {
    /// Registers a source reading `topic` in a new sub-topology and returns its stream.
    pub(crate) fn source(
        graph: &SharedGraph,
        topic: TopicName,
        node_name: Option<&str>,
        key_codec: Arc<dyn Codec<K>>,
        value_codec: Arc<dyn Codec<V>>,
        timestamp: Option<Arc<TimestampExtractor<K, V>>>,
    ) -> Self {
        let children = Children::default();
        let codec = partition_codec(&key_codec);
        let factory = Source {
            topic: topic.clone(),
            decoding: Decoding {
                key_codec,
                value_codec,
                timestamp,
            },
            children: children.clone(),
        };
        Self::register_source(graph, topic, node_name, "SOURCE", Arc::new(factory), children, codec)
    }

    /// Adds `factory` as the source of `topic` in a new sub-topology; `children` receive what it
    /// forwards.
    pub(crate) fn register_source(
        graph: &SharedGraph,
        topic: TopicName,
        node_name: Option<&str>,
        kind: &'static str,
        factory: Arc<dyn RawNodeFactory>,
        children: Children<K, V>,
        partition_codec: PartitionCodec,
    ) -> Self {
        let mut g = graph::lock(graph);
        if g.sources.iter().any(|s| s.topic == topic) {
            g.errors.push(format!(
                "topic `{topic}` is read by two sources; read it once and share the stream"
            ));
        }
        let sub = g.new_sub();
        let node = g.add_node(kind, node_name, sub, None, format!("topics: [{topic}]"));
        g.sources.push(SourceEntry { topic, sub, factory });
        drop(g);
        KStream {
            graph: Arc::clone(graph),
            node,
            sub,
            children,
            key_changed: false,
            partition_codec: Some(partition_codec),
        }
    }

    pub(crate) fn attach<K2: Data, V2: Data>(
        &self,
        kind: &'static str,
        detail: String,
        key_changed: bool,
        factory: impl FnOnce(Children<K2, V2>) -> Arc<dyn NodeFactory<K, V>>,
    ) -> KStream<K2, V2> {
        let children = Children::default();
        self.children.add(factory(children.clone()));
        let node = graph::lock(&self.graph).add_node(kind, None, self.sub, Some(self.node), detail);
        KStream {
            graph: Arc::clone(&self.graph),
            node,
            sub: self.sub,
            children,
            key_changed: self.key_changed || key_changed,
            partition_codec: if self.key_changed || key_changed {
                None
            } else {
                self.partition_codec.clone()
            },
        }
    }

    fn one_to_one<K2: Data, V2: Data>(
        &self,
        kind: &'static str,
        key_changed: bool,
        f: impl Fn(Record<K, V>) -> Option<Record<K2, V2>> + Send + Sync + 'static,
    ) -> KStream<K2, V2> {
        self.try_one_to_one(kind, key_changed, move |r| Ok(f(r)))
    }

    fn try_one_to_one<K2: Data, V2: Data>(
        &self,
        kind: &'static str,
        key_changed: bool,
        f: impl Fn(Record<K, V>) -> crate::Result<Option<Record<K2, V2>>> + Send + Sync + 'static,
    ) -> KStream<K2, V2> {
        self.attach_fn(kind, key_changed, Arc::new(f) as Arc<OneToOneFn<K, V, K2, V2>>)
    }

    /// Any number of records for each record.
    fn one_to_many<K2: Data, V2: Data>(
        &self,
        kind: &'static str,
        key_changed: bool,
        f: impl Fn(Record<K, V>) -> crate::Result<Vec<Record<K2, V2>>> + Send + Sync + 'static,
    ) -> KStream<K2, V2> {
        self.attach_fn(kind, key_changed, Arc::new(f) as Arc<OneToManyFn<K, V, K2, V2>>)
    }

    /// A new value for each record, from its key and value; the key stays, so a table delete
    /// passes through it as a delete of the same key.
    fn value_op<V2: Data>(&self, f: impl Fn(&K, V) -> crate::Result<V2> + Send + Sync + 'static) -> KStream<K, V2> {
        self.attach_fn("MAPVALUES", false, Arc::new(f) as Arc<ValueFn<K, V, V2>>)
    }

    /// A new key and value for each record (grouping afterwards repartitions by the new key).
    fn map_op<K2: Data, V2: Data>(
        &self,
        f: impl Fn(K, V) -> crate::Result<(K2, V2)> + Send + Sync + 'static,
    ) -> KStream<K2, V2> {
        self.attach_fn("MAP", true, Arc::new(f) as Arc<KeyValueFn<K, V, K2, V2>>)
    }

    /// Keeps the records `predicate` returns `Ok(true)` for.
    fn filter_op(&self, predicate: impl Fn(&K, &V) -> crate::Result<bool> + Send + Sync + 'static) -> KStream<K, V> {
        self.attach_fn("FILTER", false, Arc::new(predicate) as Arc<PredicateFn<K, V>>)
    }

    /// Attaches the node calling `f`, one of the kinds of function of [`FnNode`].
    fn attach_fn<K2: Data, V2: Data, F>(&self, kind: &'static str, key_changed: bool, f: Arc<F>) -> KStream<K2, V2>
    where
        F: ?Sized + Send + Sync + 'static,
        FnNode<F, K2, V2>: Node<K, V> + 'static,
    {
        self.attach(kind, String::new(), key_changed, |children| fn_node(f, children))
    }

    /// Keeps the records for which `predicate` holds.
    #[must_use]
    pub fn filter(&self, predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static) -> KStream<K, V> {
        self.filter_op(move |key, value| Ok(predicate(key, value)))
    }

    /// Drops the records for which `predicate` holds.
    #[must_use]
    pub fn filter_not(&self, predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static) -> KStream<K, V> {
        self.filter_op(move |key, value| Ok(!predicate(key, value)))
    }

    /// Replaces each record's key and value. Grouping afterwards repartitions by the new key.
    pub fn map<K2: Data, V2: Data>(&self, f: impl Fn(K, V) -> (K2, V2) + Send + Sync + 'static) -> KStream<K2, V2> {
        self.map_op(move |key, value| Ok(f(key, value)))
    }

    /// Replaces each record's value, keeping its key (no repartitioning needed). On a table's
    /// stream (`to_stream()`), a deleted row passes through as a delete of its key.
    pub fn map_values<V2: Data>(&self, f: impl Fn(V) -> V2 + Send + Sync + 'static) -> KStream<K, V2> {
        self.value_op(move |_, value| Ok(f(value)))
    }

    /// Replaces each record's value using its key too, keeping the key (no repartitioning
    /// needed). Deletes pass through as in [`map_values`](Self::map_values).
    pub fn map_values_with_key<V2: Data>(&self, f: impl Fn(&K, V) -> V2 + Send + Sync + 'static) -> KStream<K, V2> {
        self.value_op(move |key, value| Ok(f(key, value)))
    }

    /// Sets a new key computed from each record. Grouping afterwards repartitions by it.
    pub fn select_key<K2: Data>(&self, f: impl Fn(&K, &V) -> K2 + Send + Sync + 'static) -> KStream<K2, V> {
        self.one_to_one("KEY-SELECT", true, move |r| {
            Some(Record {
                key: f(&r.key, &r.value),
                value: r.value,
                timestamp: r.timestamp,
            })
        })
    }

    /// Replaces each record with any number of records.
    pub fn flat_map<K2: Data, V2: Data, I>(&self, f: impl Fn(K, V) -> I + Send + Sync + 'static) -> KStream<K2, V2>
    where
        I: IntoIterator<Item = (K2, V2)>,
    {
        self.one_to_many("FLATMAP", true, move |r: Record<K, V>| {
            let timestamp = r.timestamp;
            Ok(f(r.key, r.value)
                .into_iter()
                .map(|(key, value)| Record { key, value, timestamp })
                .collect())
        })
    }

    /// Replaces each value with any number of values, keeping the key.
    pub fn flat_map_values<V2: Data, I>(&self, f: impl Fn(V) -> I + Send + Sync + 'static) -> KStream<K, V2>
    where
        I: IntoIterator<Item = V2>,
    {
        self.flat_map_values_with_key(move |_, value| f(value))
    }

    /// Replaces each value with any number of values computed from key and value, keeping the key.
    pub fn flat_map_values_with_key<V2: Data, I>(
        &self,
        f: impl Fn(&K, V) -> I + Send + Sync + 'static,
    ) -> KStream<K, V2>
    where
        I: IntoIterator<Item = V2>,
    {
        self.try_flat_map_values_with_key(move |key, value| Ok::<_, std::convert::Infallible>(f(key, value)))
    }

    /// `flat_map_values_with_key`, for a function that can fail (see [`try_map`](Self::try_map)).
    pub fn try_flat_map_values_with_key<V2: Data, I, E: std::fmt::Display>(
        &self,
        f: impl Fn(&K, V) -> Result<I, E> + Send + Sync + 'static,
    ) -> KStream<K, V2>
    where
        I: IntoIterator<Item = V2>,
    {
        self.one_to_many("FLATMAPVALUES", false, move |r: Record<K, V>| {
            let Record { key, value, timestamp } = r;
            Ok(f(&key, value)
                .map_err(|e| failed("flat_map_values", &e))?
                .into_iter()
                .map(|value| Record {
                    key: key.clone(),
                    value,
                    timestamp,
                })
                .collect())
        })
    }

    /// `map`, for a function that can fail: an `Err` is a processing error of the record, handled
    /// by the topology's error policy (see [`ErrorPolicy`](crate::topology::ErrorPolicy)).
    pub fn try_map<K2: Data, V2: Data, E: std::fmt::Display>(
        &self,
        f: impl Fn(K, V) -> Result<(K2, V2), E> + Send + Sync + 'static,
    ) -> KStream<K2, V2> {
        self.map_op(move |key, value| f(key, value).map_err(|e| failed("map", &e)))
    }

    /// `map_values`, for a function that can fail (see [`try_map`](Self::try_map)).
    pub fn try_map_values<V2: Data, E: std::fmt::Display>(
        &self,
        f: impl Fn(V) -> Result<V2, E> + Send + Sync + 'static,
    ) -> KStream<K, V2> {
        self.value_op(move |_, value| f(value).map_err(|e| failed("map_values", &e)))
    }

    /// `map_values_with_key`, for a function that can fail (see [`try_map`](Self::try_map)).
    pub fn try_map_values_with_key<V2: Data, E: std::fmt::Display>(
        &self,
        f: impl Fn(&K, V) -> Result<V2, E> + Send + Sync + 'static,
    ) -> KStream<K, V2> {
        self.value_op(move |key, value| f(key, value).map_err(|e| failed("map_values", &e)))
    }

    /// `flat_map`, for a function that can fail (see [`try_map`](Self::try_map)).
    pub fn try_flat_map<K2: Data, V2: Data, I, E: std::fmt::Display>(
        &self,
        f: impl Fn(K, V) -> Result<I, E> + Send + Sync + 'static,
    ) -> KStream<K2, V2>
    where
        I: IntoIterator<Item = (K2, V2)>,
    {
        self.one_to_many("FLATMAP", true, move |r: Record<K, V>| {
            let timestamp = r.timestamp;
            Ok(f(r.key, r.value)
                .map_err(|e| failed("flat_map", &e))?
                .into_iter()
                .map(|(key, value)| Record { key, value, timestamp })
                .collect())
        })
    }

    /// `filter`, for a predicate that can fail (see [`try_map`](Self::try_map)).
    #[must_use]
    pub fn try_filter<E: std::fmt::Display>(
        &self,
        predicate: impl Fn(&K, &V) -> Result<bool, E> + Send + Sync + 'static,
    ) -> KStream<K, V> {
        self.filter_op(move |key, value| predicate(key, value).map_err(|e| failed("filter", &e)))
    }

    /// `flat_map_values`, for a function that can fail (see [`try_map`](Self::try_map)).
    pub fn try_flat_map_values<V2: Data, I, E: std::fmt::Display>(
        &self,
        f: impl Fn(V) -> Result<I, E> + Send + Sync + 'static,
    ) -> KStream<K, V2>
    where
        I: IntoIterator<Item = V2>,
    {
        self.try_flat_map_values_with_key(move |_, value| f(value))
    }

    /// Calls `f` on every record and passes it on unchanged (logging, metrics).
    #[allow(clippy::return_self_not_must_use, reason = "a peek may end a branch")]
    pub fn peek(&self, f: impl Fn(&K, &V) + Send + Sync + 'static) -> KStream<K, V> {
        self.one_to_one("PEEK", false, move |r| {
            f(&r.key, &r.value);
            Some(r)
        })
    }

    /// Interleaves this stream with `other` (no ordering guarantee between them). Both inputs
    /// end up in one sub-topology, so their source topics must be co-partitioned (same
    /// partition count); the runtime checks that at start-up.
    #[must_use]
    pub fn merge(&self, other: &KStream<K, V>) -> KStream<K, V> {
        let children = Children::default();
        let identity: Arc<ValueFn<K, V, V>> = Arc::new(|_, value| Ok(value));
        for input in [self, other] {
            // The value as it is; a table delete passes on as a delete of its key.
            input.children.add(fn_node(Arc::clone(&identity), children.clone()));
        }
        let mut g = graph::lock(&self.graph);
        let sub = g.union(self.sub, other.sub);
        let node = g.add_node("MERGE", None, sub, Some(self.node), String::new());
        g.nodes[node].parents.push(other.node);
        drop(g);
        KStream {
            graph: Arc::clone(&self.graph),
            node,
            sub,
            children,
            key_changed: self.key_changed || other.key_changed,
            partition_codec: self.partition_codec.clone(),
        }
    }

    /// Groups by the current key, for aggregation. If keys may have changed since the source,
    /// the aggregation reads through a repartition topic named after its store.
    pub fn group_by_key(&self) -> KGroupedStream<K, V> {
        KGroupedStream {
            stream: self.clone_handle(),
        }
    }

    /// Groups by a new key computed from each record (always repartitions).
    pub fn group_by<K2: Data>(&self, f: impl Fn(&K, &V) -> K2 + Send + Sync + 'static) -> KGroupedStream<K2, V> {
        KGroupedStream {
            stream: self.select_key(f),
        }
    }

    /// Writes every record to `topic`, key and value as JSON.
    pub fn to(&self, topic: &str)
    where
        K: Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned,
    {
        self.to_with(topic, Json, Json);
    }

    /// Writes every record to `topic` with the given codecs.
    pub fn to_with(&self, topic: &str, key_codec: impl Codec<K>, value_codec: impl Codec<V>) {
        let sink = Sink {
            topic: TopicName::External(topic.to_owned()),
            key_codec: Arc::new(key_codec),
            value_codec: Arc::new(value_codec),
        };
        self.children.add(Arc::new(sink));
        graph::lock(&self.graph).add_node("SINK", None, self.sub, Some(self.node), format!("topic: {topic}"));
    }

    pub(crate) fn clone_handle(&self) -> KStream<K, V> {
        KStream {
            graph: Arc::clone(&self.graph),
            node: self.node,
            sub: self.sub,
            children: self.children.clone(),
            key_changed: self.key_changed,
            partition_codec: self.partition_codec.clone(),
        }
    }
}
