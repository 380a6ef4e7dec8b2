//! `KStream::process` and `Stores`: a hand-written processor (the Processor API) added to a
//! topology, with the stores it is connected to (registered, changelogged and queryable like
//! the DSL's). The node itself is `ops/process.rs`.

use std::sync::Arc;
use std::time::Duration;

use crate::processor::{Data, Processor};
use crate::state::{StoreKind, StoreSpec};
use crate::topology::dsl::grouped::register_query;
use crate::topology::dsl::kstream::KStream;
use crate::topology::dsl::materialized::Materialized;
use crate::topology::graph;
use crate::topology::graph::node::Children;
use crate::topology::ops::aggregate::StoreData;
use crate::topology::ops::process;

/// A store declared for a hand-written processor: `Stores::key_value::<K, V>("name")`.
///
/// The types are those the processor reads and writes; they also make the store queryable
/// (`GET /stores/{name}/…`) and typed in `KafkaStreams::key_value_store`.
pub struct StoreBuilder {
    materialized: Materialized,
    /// `Some(window size)` for a window store.
    window_size_ms: Option<i64>,
    kind: StoreKind,
    register_query: Box<dyn FnOnce(&QueryTarget<'_>) + Send>,
}

/// Where a store's query adapter is registered: the processor's input stream.
struct QueryTarget<'a> {
    graph: &'a graph::SharedGraph,
    node: usize,
    sub: usize,
    partition_codec: Option<crate::topology::dsl::kstream::PartitionCodec>,
}

/// Declares the stores hand-written processors use.
pub struct Stores;

impl Stores {
    /// A key-value store of `K` → `V` (RocksDB with a changelog unless `materialized` says
    /// otherwise).
    pub fn key_value<K: StoreData, V: StoreData>(materialized: impl Into<Materialized>) -> StoreBuilder {
        let materialized = materialized.into();
        let name = materialized.name.clone();
        StoreBuilder {
            materialized,
            window_size_ms: None,
            kind: StoreKind::KeyValue,
            register_query: Box::new(move |target| register::<K, V>(target, &name, None)),
        }
    }

    /// A window store of (`K`, window of `size`) → `V`, keeping windows for `retention` after
    /// they start.
    pub fn window<K: StoreData, V: StoreData>(
        materialized: impl Into<Materialized>,
        size: Duration,
        retention: Duration,
    ) -> StoreBuilder {
        let materialized = materialized.into();
        let name = materialized.name.clone();
        let size_ms = i64::try_from(size.as_millis()).unwrap_or(i64::MAX).max(1);
        let retention_ms = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX).max(size_ms);
        StoreBuilder {
            materialized,
            window_size_ms: Some(size_ms),
            kind: StoreKind::Window { retention_ms },
            register_query: Box::new(move |target| register::<K, V>(target, &name, Some(size_ms))),
        }
    }
}

fn register<K: StoreData, V: StoreData>(target: &QueryTarget<'_>, name: &str, window_size_ms: Option<i64>) {
    // The adapter routes keys as the processor's input topic encodes them.
    let stream: KStream<K, ()> = KStream {
        graph: Arc::clone(target.graph),
        node: target.node,
        sub: target.sub,
        children: Children::default(),
        key_changed: false,
        partition_codec: target.partition_codec.clone(),
    };
    register_query::<K, V, ()>(&stream, name, window_size_ms);
}

impl<K: Data, V: Data> KStream<K, V> {
    /// Runs a hand-written [`Processor`] on every record: `supplier` creates one instance per
    /// task; `stores` are declared here and connected to it (reach them in `init`). Its output
    /// may have new keys, so grouping or joining it repartitions first.
    ///
    /// ```
    /// # use kafka_streams::processor::{Processor, ProcessorContext, Record};
    /// # use kafka_streams::topology::{Stores, StreamsBuilder};
    /// # #[derive(Default)] struct Dedup;
    /// # impl Processor<String, String> for Dedup {
    /// #     type KeyOut = String; type ValueOut = String;
    /// #     fn process(&mut self, ctx: &mut ProcessorContext<'_, String, String>, r: Record<String, String>) -> kafka_streams::Result<()> { ctx.forward(r) }
    /// # }
    /// let builder = StreamsBuilder::new();
    /// builder
    ///     .stream::<String, String>("clicks")
    ///     .process(Dedup::default, [Stores::key_value::<String, i64>("seen")])
    ///     .to("unique-clicks");
    /// ```
    pub fn process<P: Processor<K, V>>(
        &self,
        supplier: impl Fn() -> P + Send + Sync + 'static,
        stores: impl IntoIterator<Item = StoreBuilder>,
    ) -> KStream<P::KeyOut, P::ValueOut> {
        let stores: Vec<StoreBuilder> = stores.into_iter().collect();
        let connected: Vec<(String, Option<i64>)> = stores
            .iter()
            .map(|s| (s.materialized.name.clone(), s.window_size_ms))
            .collect();
        let detail = format!(
            "stores: [{}]",
            connected.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
        );
        for store in stores {
            let spec = StoreSpec {
                name: store.materialized.name.clone(),
                kind: store.kind,
                backend: store.materialized.backend,
                logged: store.materialized.logged,
            };
            graph::lock(&self.graph).add_store(spec, self.sub);
            (store.register_query)(&QueryTarget {
                graph: &self.graph,
                node: self.node,
                sub: self.sub,
                partition_codec: self.partition_codec.clone(),
            });
        }
        self.attach("PROCESSOR", detail, true, |children| {
            process::hand_written(supplier, connected, children)
        })
    }
}
