//! `StreamsBuilder`: where a topology starts.

use std::sync::Arc;

use crate::codec::{Codec, Json};
use crate::processor::Data;
use crate::state::StoreKind;
use crate::topology::dsl::grouped::register_store;
use crate::topology::dsl::kstream::KStream;
use crate::topology::dsl::ktable::KTable;
use crate::topology::dsl::materialized::Materialized;
use crate::topology::graph::node::Children;
use crate::topology::graph::topic::TopicName;
use crate::topology::graph::{self, SharedGraph};
use crate::topology::ops::aggregate::StoreData;
use crate::topology::ops::source::TimestampExtractor;
use crate::topology::ops::table_source::TableSource;
use crate::topology::{ErrorPolicy, Topology, TopologyError};

/// Builds a [`Topology`] from streams and the operations applied to them.
///
/// ```
/// use std::time::Duration;
/// use kafka_streams::codec::{Json, Utf8};
/// use kafka_streams::topology::{Consumed, Materialized, StreamsBuilder};
/// use kafka_streams::window::TumblingWindows;
///
/// #[derive(Clone, serde::Serialize, serde::Deserialize)]
/// struct Click { user_id: String, timestamp: i64 }
///
/// let builder = StreamsBuilder::new();
/// builder
///     .stream_with("user-clicks", Consumed::new(Utf8, Json).with_timestamp(|_, c: &Click, _| c.timestamp * 1000))
///     .group_by_key()
///     .windowed_by(TumblingWindows::of(Duration::from_secs(300)).grace(Duration::from_secs(30)))
///     .count(Materialized::named("click-counts"))
///     .to_stream()
///     .map(|k, count| (k.to_string(), count))
///     .to_with("aggregated-clicks", Utf8, Json);
/// let topology = builder.build()?;
/// assert!(topology.describe().contains("click-counts"));
/// # Ok::<_, kafka_streams::topology::TopologyError>(())
/// ```
#[derive(Default)]
pub struct StreamsBuilder {
    graph: SharedGraph,
}

/// How a source topic is read: codecs and event-time extraction.
pub struct Consumed<K, V> {
    key_codec: Arc<dyn Codec<K>>,
    value_codec: Arc<dyn Codec<V>>,
    timestamp: Option<Arc<TimestampExtractor<K, V>>>,
}

impl<K: Data, V: Data> Consumed<K, V> {
    /// Reads keys and values with these codecs; event time is the record's timestamp.
    pub fn new(key_codec: impl Codec<K>, value_codec: impl Codec<V>) -> Self {
        Self {
            key_codec: Arc::new(key_codec),
            value_codec: Arc::new(value_codec),
            timestamp: None,
        }
    }

    /// Takes event time (epoch ms) from the record: `f(key, value, broker timestamp)`.
    #[must_use]
    pub fn with_timestamp(mut self, f: impl Fn(&K, &V, i64) -> i64 + Send + Sync + 'static) -> Self {
        self.timestamp = Some(Arc::new(f));
        self
    }
}

impl<K, V> Consumed<K, V> {
    pub(crate) fn into_decoding(self) -> crate::topology::ops::source::Decoding<K, V> {
        crate::topology::ops::source::Decoding {
            key_codec: self.key_codec,
            value_codec: self.value_codec,
            timestamp: self.timestamp,
        }
    }
}

impl StreamsBuilder {
    pub(crate) fn graph(&self) -> &SharedGraph {
        &self.graph
    }

    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// A stream of the records of `topic`, key and value as JSON, event time = record timestamp.
    pub fn stream<K, V>(&self, topic: &str) -> KStream<K, V>
    where
        K: Data + serde::Serialize + serde::de::DeserializeOwned,
        V: Data + serde::Serialize + serde::de::DeserializeOwned,
    {
        self.stream_with(topic, Consumed::new(Json, Json))
    }

    /// A stream of the records of `topic`, read as `consumed` says.
    pub fn stream_with<K: Data, V: Data>(&self, topic: &str, consumed: Consumed<K, V>) -> KStream<K, V> {
        if let Some(problem) = crate::naming::topic_name_problem(topic) {
            graph::lock(&self.graph).errors.push(format!("source topic: {problem}"));
        }
        KStream::source(
            &self.graph,
            TopicName::External(topic.to_owned()),
            None,
            consumed.key_codec,
            consumed.value_codec,
            consumed.timestamp,
        )
    }

    /// A table over `topic`: each record sets its key's value in the store `materialized`
    /// names (a tombstone deletes it); the store is logged to its own changelog topic. Joined
    /// streams read it by key.
    pub fn table_with<K: StoreData, V: StoreData>(
        &self,
        topic: &str,
        consumed: Consumed<K, V>,
        materialized: impl Into<Materialized>,
    ) -> KTable<K, V> {
        if let Some(problem) = crate::naming::topic_name_problem(topic) {
            graph::lock(&self.graph).errors.push(format!("table topic: {problem}"));
        }
        let materialized = materialized.into();
        let topic = TopicName::External(topic.to_owned());
        let children = Children::default();
        let factory = TableSource {
            topic: topic.clone(),
            store: materialized.name.clone(),
            decoding: crate::topology::ops::source::Decoding {
                key_codec: Arc::clone(&consumed.key_codec),
                value_codec: consumed.value_codec,
                timestamp: consumed.timestamp,
            },
            children: children.clone(),
        };
        let stream = KStream::register_source(
            &self.graph,
            topic,
            Some(&format!("{}-table-source", materialized.name)),
            "TABLE-SOURCE",
            Arc::new(factory),
            children,
            crate::topology::dsl::kstream::partition_codec(&consumed.key_codec),
        );
        register_store(&stream, &materialized, StoreKind::KeyValue);
        crate::topology::dsl::grouped::register_query::<K, V, _>(&stream, &materialized.name, None);
        KTable {
            stream,
            store: materialized.name,
            key_codec: Some(consumed.key_codec),
        }
    }

    /// The Schema Registry for this topology's [`Avro`](crate::codec::Avro),
    /// [`Protobuf`](crate::codec::Protobuf) and [`JsonSchema`](crate::codec::JsonSchema)
    /// codecs: empty now, connected when the topology starts, from `schema.registry.url` (the
    /// test driver uses a mock registry without it).
    #[cfg(feature = "schema-registry")]
    pub fn schema_registry(&self) -> crate::codec::registry::SchemaRegistrySlot {
        graph::lock(&self.graph)
            .schema_registry
            .get_or_insert_with(Default::default)
            .clone()
    }

    /// What to do with records that do not decode (default: log and skip them).
    pub fn on_deserialization_error(&self, policy: ErrorPolicy) -> &Self {
        self.set_policy(policy, |p| &mut p.deserialization)
    }

    /// What to do with records on which a user function or processor fails (default: log and
    /// skip them).
    pub fn on_processing_error(&self, policy: ErrorPolicy) -> &Self {
        self.set_policy(policy, |p| &mut p.processing)
    }

    fn set_policy(
        &self,
        policy: ErrorPolicy,
        slot: impl FnOnce(&mut crate::topology::ErrorPolicies) -> &mut ErrorPolicy,
    ) -> &Self {
        let mut g = graph::lock(&self.graph);
        if let Some(problem) = policy.dead_letter_topic().and_then(crate::naming::topic_name_problem) {
            g.errors.push(format!("dead-letter topic: {problem}"));
        }
        *slot(&mut g.error_policies) = policy;
        drop(g);
        self
    }

    /// Finishes the topology, checking it (unique store names, legal topic names).
    pub fn build(self) -> Result<Topology, TopologyError> {
        Topology::from_graph(&graph::lock(&self.graph))
    }
}
