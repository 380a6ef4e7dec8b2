//! Grouped streams and their aggregations.

use std::sync::Arc;

use crate::codec::{Binary, Codec};
use crate::state::{StoreKind, StoreSpec};
use crate::topology::dsl::kstream::KStream;
use crate::topology::dsl::ktable::KTable;
use crate::topology::dsl::materialized::Materialized;
use crate::topology::graph;
use crate::topology::ops::aggregate::{StoreData, aggregate, counting, folding, reducing};

/// A stream grouped by key, ready to aggregate.
pub struct KGroupedStream<K, V> {
    pub(crate) stream: KStream<K, V>,
}

impl<K: StoreData, V: StoreData> KGroupedStream<K, V> {
    /// Counts records per key.
    pub fn count(&self, materialized: impl Into<Materialized>) -> KTable<K, u64> {
        self.aggregate_with(materialized.into(), counting())
    }

    /// Combines the values of each key with `reducer(aggregate, value)`.
    pub fn reduce(
        &self,
        reducer: impl Fn(V, V) -> V + Send + Sync + 'static,
        materialized: impl Into<Materialized>,
    ) -> KTable<K, V> {
        self.aggregate_with(materialized.into(), reducing(reducer))
    }

    /// Folds the values of each key into an aggregate starting from `initializer()`.
    pub fn aggregate<A: StoreData>(
        &self,
        initializer: impl Fn() -> A + Send + Sync + 'static,
        aggregator: impl Fn(&K, V, A) -> A + Send + Sync + 'static,
        materialized: impl Into<Materialized>,
    ) -> KTable<K, A> {
        self.aggregate_with(materialized.into(), folding(initializer, aggregator))
    }

    fn aggregate_with<A: StoreData>(
        &self,
        materialized: Materialized,
        f: impl Fn(&K, V, Option<A>) -> A + Send + Sync + 'static,
    ) -> KTable<K, A> {
        let input = repartition_if_needed(&self.stream, &materialized.name, Arc::new(Binary));
        register_store(&input, &materialized, StoreKind::KeyValue);
        register_query::<K, A, _>(&input, &materialized.name, None);
        let table = input.attach(
            "AGGREGATE",
            format!("stores: [{}]", materialized.name),
            false,
            |children| aggregate(materialized.name.clone(), Arc::new(f), children),
        );
        KTable {
            stream: table,
            store: materialized.name,
            // How the table's task reads its keys (joins and foreign-key joins route by it).
            key_codec: crate::topology::dsl::kstream::key_codec_of::<K>(input.partition_codec.as_ref()),
        }
    }
}

/// The retention of a windowed store: as configured, checked against the `needed` least
/// (`what` it is, and `why`), or Kafka Streams' default of one day (never less than needed).
pub(crate) fn window_retention<K, V>(
    input: &KStream<K, V>,
    materialized: &Materialized,
    needed: i64,
    what: &str,
    why: &str,
) -> i64 {
    match materialized.retention_ms {
        Some(retention_ms) => {
            if retention_ms < needed {
                graph::lock(&input.graph).errors.push(format!(
                    "store `{}`: retention ({retention_ms} ms) must be at least {what} ({needed} ms): {why}",
                    materialized.name
                ));
            }
            retention_ms
        }
        None => needed.max(24 * 3_600_000),
    }
}

pub(crate) fn register_store<K, V>(stream: &KStream<K, V>, materialized: &Materialized, kind: StoreKind) {
    let spec = StoreSpec {
        name: materialized.name.clone(),
        kind,
        backend: materialized.backend,
        logged: materialized.logged,
    };
    graph::lock(&stream.graph).add_store(spec, stream.sub);
}

/// Makes store `name` queryable over HTTP; keys are routed by how `stream`'s topic encodes them.
pub(crate) fn register_query<K: StoreData, V: StoreData, S>(
    stream: &KStream<K, S>,
    name: &str,
    window_size_ms: Option<i64>,
) {
    let layout = window_size_ms.map_or(
        crate::state::query_adapter::QueryLayout::KeyValue,
        crate::state::query_adapter::QueryLayout::Window,
    );
    register_query_as::<K, V, S>(stream, name, layout);
}

/// [`register_query`] with any layout (session stores).
pub(crate) fn register_query_as<K: StoreData, V: StoreData, S>(
    stream: &KStream<K, S>,
    name: &str,
    layout: crate::state::query_adapter::QueryLayout,
) {
    let codec = crate::topology::dsl::kstream::key_codec_of::<K>(stream.partition_codec.as_ref())
        .unwrap_or_else(|| Arc::new(Binary) as Arc<dyn Codec<K>>);
    let query = crate::state::query_adapter::TypedStoreQuery::<K, V>::new(codec, layout);
    graph::lock(&stream.graph)
        .queries
        .push((name.to_owned(), Arc::new(query)));
}

/// Routes `stream` through `<application.id>-<name>-repartition` when its keys may have changed,
/// so every record of a key reaches the one task that aggregates (or joins) it. Keys are
/// written with `key_codec`, which decides their partition: a join passes its table's key
/// codec, so a re-keyed record lands in the partition its table key lives in.
pub(crate) fn repartition_if_needed<K: StoreData, V: StoreData>(
    stream: &KStream<K, V>,
    name: &str,
    key_codec: Arc<dyn Codec<K>>,
) -> KStream<K, V> {
    if !stream.key_changed {
        return stream.clone_handle();
    }
    crate::topology::dsl::repartition::through_topic(stream, name, key_codec, None)
}
