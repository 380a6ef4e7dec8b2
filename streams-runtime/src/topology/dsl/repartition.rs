//! Repartition topics: `<application.id>-<name>-repartition`, written by one sub-topology and
//! read by the next, so records are partitioned by their current key. Inserted automatically
//! before aggregations and joins of re-keyed streams, or explicitly with `KStream::repartition`.

use std::sync::Arc;

use crate::codec::{Binary, Codec};
use crate::topology::dsl::kstream::KStream;
use crate::topology::graph::topic::TopicName;
use crate::topology::graph::{self, RepartitionEntry};
use crate::topology::ops::aggregate::StoreData;
use crate::topology::ops::stateless::Sink;

/// Name and partition count of an explicit repartition topic.
#[derive(Clone, Debug)]
pub struct Repartitioned {
    name: String,
    partitions: Option<i32>,
}

impl Repartitioned {
    /// The topic `<application.id>-<name>-repartition`, with as many partitions as the input.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            partitions: None,
        }
    }

    /// With `partitions` partitions (and so as many tasks downstream).
    #[must_use]
    pub fn with_partitions(mut self, partitions: i32) -> Self {
        self.partitions = Some(partitions);
        self
    }
}

impl From<&str> for Repartitioned {
    fn from(name: &str) -> Self {
        Self::named(name)
    }
}

impl<K: StoreData, V: StoreData> KStream<K, V> {
    /// Writes the stream through a repartition topic and reads it back: records are then
    /// partitioned by their current key (murmur2 of its binary encoding), into as many
    /// partitions as `repartitioned` says. Downstream operations form a new sub-topology.
    #[must_use]
    pub fn repartition(&self, repartitioned: impl Into<Repartitioned>) -> KStream<K, V> {
        let repartitioned = repartitioned.into();
        {
            let mut g = graph::lock(&self.graph);
            let topic = crate::naming::repartition_topic("app", &repartitioned.name);
            if let Some(problem) = crate::naming::topic_name_problem(&topic) {
                g.errors
                    .push(format!("repartition `{}`: {problem}", repartitioned.name));
            }
            if repartitioned.partitions.is_some_and(|p| p < 1) {
                g.errors.push(format!(
                    "repartition `{}`: the partition count must be at least 1",
                    repartitioned.name
                ));
            }
        }
        through_topic(self, &repartitioned.name, Arc::new(Binary), repartitioned.partitions)
    }
}

/// Sends `stream` to the repartition topic `name` (keys encoded with `key_codec`, which decides
/// partitions) and returns the stream read back from it.
pub(crate) fn through_topic<K: StoreData, V: StoreData>(
    stream: &KStream<K, V>,
    name: &str,
    key_codec: Arc<dyn Codec<K>>,
    partitions: Option<i32>,
) -> KStream<K, V> {
    let topic = TopicName::Repartition(name.to_owned());
    stream.children.add(Arc::new(Sink {
        topic: topic.clone(),
        key_codec: Arc::clone(&key_codec),
        value_codec: Arc::new(Binary),
    }));
    {
        let mut g = graph::lock(&stream.graph);
        if g.repartitions.iter().any(|r| r.name == name) {
            g.errors.push(format!(
                "repartition topic `{name}` is declared twice; names of repartitions, stores and joins must be unique"
            ));
        }
        g.add_node(
            "SINK",
            Some(&format!("{name}-repartition-sink")),
            stream.sub,
            Some(stream.node),
            format!("topic: {topic}"),
        );
        g.repartitions.push(RepartitionEntry {
            name: name.to_owned(),
            upstream_sub: stream.sub,
            partitions,
        });
    }
    KStream::source(
        &stream.graph,
        topic,
        Some(&format!("{name}-repartition-source")),
        key_codec,
        Arc::new(Binary),
        None,
    )
}
