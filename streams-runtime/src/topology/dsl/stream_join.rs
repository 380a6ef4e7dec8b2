//! Stream-stream windowed joins in the DSL (`join_stream`, `left_join_stream`,
//! `outer_join_stream`): repartitioning, the join's buffer stores in one sub-topology with both
//! inputs, and the two sides of `ops/join/stream_stream.rs`, where the semantics are described.

use std::sync::Arc;

use crate::codec::{Binary, Codec};
use crate::processor::Data;
use crate::state::{StoreBackend, StoreKind, StoreSpec};
use crate::topology::dsl::grouped::repartition_if_needed;
use crate::topology::dsl::kstream::{KStream, key_codec_of};
use crate::topology::graph;
use crate::topology::graph::node::Children;
use crate::topology::ops::aggregate::StoreData;
use crate::topology::ops::join::stream_stream;
use crate::window::JoinWindows;

impl<K: StoreData, V: StoreData> KStream<K, V> {
    /// Inner windowed join with another stream: every pair of records with the same key at
    /// most `windows` apart yields `joiner(key, left, right)`. `name` names the join's stores
    /// (`<name>-this-join`, `<name>-other-join`) and repartition topics. Both streams must be
    /// co-partitioned; re-keyed ones are repartitioned first.
    pub fn join_stream<V2: StoreData, VR: Data>(
        &self,
        other: &KStream<K, V2>,
        windows: JoinWindows,
        name: &str,
        joiner: impl Fn(&K, &V, &V2) -> VR + Send + Sync + 'static,
    ) -> KStream<K, VR> {
        let joiner = move |k: &K, l: Option<&V>, r: Option<&V2>| match (l, r) {
            (Some(l), Some(r)) => Some(joiner(k, l, r)),
            _ => None,
        };
        self.windowed_join(other, windows, name, (false, false), Arc::new(joiner))
    }

    /// Left windowed join: like [`join_stream`](Self::join_stream), and a left record that
    /// found no partner by the time its window closed yields `joiner(key, left, None)`.
    pub fn left_join_stream<V2: StoreData, VR: Data>(
        &self,
        other: &KStream<K, V2>,
        windows: JoinWindows,
        name: &str,
        joiner: impl Fn(&K, &V, Option<&V2>) -> VR + Send + Sync + 'static,
    ) -> KStream<K, VR> {
        let joiner = move |k: &K, l: Option<&V>, r: Option<&V2>| l.map(|l| joiner(k, l, r));
        self.windowed_join(other, windows, name, (true, false), Arc::new(joiner))
    }

    /// Outer windowed join: like [`left_join_stream`](Self::left_join_stream), for both sides.
    pub fn outer_join_stream<V2: StoreData, VR: Data>(
        &self,
        other: &KStream<K, V2>,
        windows: JoinWindows,
        name: &str,
        joiner: impl Fn(&K, Option<&V>, Option<&V2>) -> VR + Send + Sync + 'static,
    ) -> KStream<K, VR> {
        let joiner = move |k: &K, l: Option<&V>, r: Option<&V2>| Some(joiner(k, l, r));
        self.windowed_join(other, windows, name, (true, true), Arc::new(joiner))
    }

    fn windowed_join<V2: StoreData, VR: Data>(
        &self,
        other: &KStream<K, V2>,
        windows: JoinWindows,
        name: &str,
        (left_outer, right_outer): (bool, bool),
        joiner: Arc<stream_stream::Joiner<K, V, V2, VR>>,
    ) -> KStream<K, VR> {
        // A re-keyed side is repartitioned with the key encoding of the other side's topic (if
        // that one is read as produced), so equal keys land in equal partitions.
        let left = repartition_if_needed(self, &format!("{name}-left"), codec_of_stream(other));
        let right = repartition_if_needed(other, &format!("{name}-right"), codec_of_stream(self));
        let stores = stream_stream::JoinStores {
            this: format!("{name}-this-join"),
            other: format!("{name}-other-join"),
            unmatched: (left_outer || right_outer).then(|| format!("{name}-outer-join")),
        };
        let children: Children<K, VR> = Children::default();
        let kind = match (left_outer, right_outer) {
            (false, false) => "JOIN",
            (true, false) => "LEFTJOIN",
            _ => "OUTERJOIN",
        };
        let mut g = graph::lock(&left.graph);
        let sub = g.union(left.sub, right.sub);
        for store in [Some(&stores.this), Some(&stores.other), stores.unmatched.as_ref()]
            .into_iter()
            .flatten()
        {
            g.add_store(
                StoreSpec {
                    name: store.clone(),
                    kind: StoreKind::KeyValue,
                    backend: StoreBackend::RocksDb,
                    logged: true,
                },
                sub,
            );
        }
        let node = g.add_node(
            kind,
            None,
            sub,
            Some(left.node),
            format!("stores: [{}, {}], windows: {windows:?}", stores.this, stores.other),
        );
        g.nodes[node].parents.push(right.node);
        drop(g);
        let (left_side, right_side) =
            stream_stream::sides(&stores, windows, (left_outer, right_outer), joiner, &children);
        left.children.add(left_side);
        right.children.add(right_side);
        KStream {
            graph: Arc::clone(&left.graph),
            node,
            sub,
            children,
            key_changed: false,
            partition_codec: left.partition_codec.clone(),
        }
    }
}

/// How `stream`'s keys are encoded in the topic its task reads (binary once re-keyed).
fn codec_of_stream<K: StoreData, V>(stream: &KStream<K, V>) -> Arc<dyn Codec<K>> {
    key_codec_of::<K>(stream.partition_codec.as_ref()).unwrap_or_else(|| Arc::new(Binary))
}
