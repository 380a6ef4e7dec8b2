//! Joins in the DSL: a stream with a table (`KStream::join`, `left_join`), two tables
//! (`KTable::join`, `left_join`, `outer_join`). Each wires the graph — repartitioning, stores,
//! which sub-topology the inputs share — and attaches the operators of `ops/join/`.

use std::sync::Arc;

use crate::processor::Data;
use crate::state::StoreKind;
use crate::topology::dsl::grouped::{register_query, register_store, repartition_if_needed};
use crate::topology::dsl::kstream::KStream;
use crate::topology::dsl::ktable::KTable;
use crate::topology::dsl::materialized::Materialized;
use crate::topology::graph;
use crate::topology::graph::node::Children;
use crate::topology::ops::aggregate::StoreData;
use crate::topology::ops::join::{stream_table, table_table};

impl<K: StoreData, V: StoreData> KStream<K, V> {
    /// Inner stream-table join: each record whose key is in `table` is joined with the table's
    /// current value; the others are dropped. Keys changed upstream are repartitioned first
    /// (through `<application.id>-<table store>-join-repartition`); the stream and table topics
    /// must be co-partitioned (same partition count), which the runtime checks at start-up.
    pub fn join<VT: StoreData, VR: Data>(
        &self,
        table: &KTable<K, VT>,
        joiner: impl Fn(&K, &V, &VT) -> VR + Send + Sync + 'static,
    ) -> KStream<K, VR> {
        self.join_with(table, "JOIN", move |k, v, t| t.map(|t| joiner(k, v, t)))
    }

    /// Left stream-table join: like [`join`](Self::join), but records whose key is not in the
    /// table are joined with `None` instead of dropped.
    pub fn left_join<VT: StoreData, VR: Data>(
        &self,
        table: &KTable<K, VT>,
        joiner: impl Fn(&K, &V, Option<&VT>) -> VR + Send + Sync + 'static,
    ) -> KStream<K, VR> {
        self.join_with(table, "LEFTJOIN", move |k, v, t| Some(joiner(k, v, t)))
    }

    fn join_with<VT: StoreData, VR: Data>(
        &self,
        table: &KTable<K, VT>,
        kind: &'static str,
        joiner: impl Fn(&K, &V, Option<&VT>) -> Option<VR> + Send + Sync + 'static,
    ) -> KStream<K, VR> {
        let key_codec = table
            .key_codec
            .clone()
            .unwrap_or_else(|| Arc::new(crate::codec::Binary) as Arc<dyn crate::codec::Codec<K>>);
        let input = repartition_if_needed(self, &format!("{}-join", table.store), key_codec);
        let children = Children::default();
        let (store, joiner): (String, Arc<stream_table::JoinFn<K, V, VT, VR>>) =
            (table.store.clone(), Arc::new(joiner));
        input
            .children
            .add(stream_table::lookup(store, joiner, children.clone()));
        let mut g = graph::lock(&input.graph);
        g.require_key_value(&table.store, "a stream-table join");
        // The table's store must be in the task that joins: one sub-topology for both inputs.
        let sub = g.union(input.sub, table.stream.sub);
        let node = g.add_node(kind, None, sub, Some(input.node), format!("table: {}", table.store));
        g.nodes[node].parents.push(table.stream.node);
        drop(g);
        KStream {
            graph: Arc::clone(&input.graph),
            node,
            sub,
            children,
            key_changed: false,
            partition_codec: input.partition_codec.clone(),
        }
    }
}

impl<K: StoreData, V: StoreData> KTable<K, V> {
    /// Inner join with another table by key: the joined table has a row for each key present in
    /// both, `joiner(left, right)`, updated whenever either side changes.
    pub fn join<V2: StoreData, VR: StoreData>(
        &self,
        other: &KTable<K, V2>,
        joiner: impl Fn(&V, &V2) -> VR + Send + Sync + 'static,
        materialized: impl Into<Materialized>,
    ) -> KTable<K, VR> {
        self.join_tables(other, materialized.into(), "JOIN", move |_, l, r| match (l, r) {
            (Some(l), Some(r)) => Some(joiner(l, r)),
            _ => None,
        })
    }

    /// Left join: a row for every key of this table, with the other table's value if any.
    pub fn left_join<V2: StoreData, VR: StoreData>(
        &self,
        other: &KTable<K, V2>,
        joiner: impl Fn(&V, Option<&V2>) -> VR + Send + Sync + 'static,
        materialized: impl Into<Materialized>,
    ) -> KTable<K, VR> {
        self.join_tables(other, materialized.into(), "LEFTJOIN", move |_, l, r| {
            l.map(|l| joiner(l, r))
        })
    }

    /// Outer join: a row for every key of either table.
    pub fn outer_join<V2: StoreData, VR: StoreData>(
        &self,
        other: &KTable<K, V2>,
        joiner: impl Fn(Option<&V>, Option<&V2>) -> VR + Send + Sync + 'static,
        materialized: impl Into<Materialized>,
    ) -> KTable<K, VR> {
        self.join_tables(other, materialized.into(), "OUTERJOIN", move |_, l, r| {
            (l.is_some() || r.is_some()).then(|| joiner(l, r))
        })
    }

    fn join_tables<V2: StoreData, VR: StoreData>(
        &self,
        other: &KTable<K, V2>,
        materialized: Materialized,
        kind: &'static str,
        joiner: impl Fn(&K, Option<&V>, Option<&V2>) -> Option<VR> + Send + Sync + 'static,
    ) -> KTable<K, VR> {
        let joiner: Arc<table_table::Joiner<K, V, V2, VR>> = Arc::new(joiner);
        let children: Children<K, VR> = Children::default();
        let (left, right) = (&self.stream, &other.stream);
        let sub = {
            let mut g = graph::lock(&left.graph);
            g.require_key_value(&self.store, "a table-table join");
            g.require_key_value(&other.store, "a table-table join");
            g.union(left.sub, right.sub)
        };
        let joined = KStream {
            graph: Arc::clone(&left.graph),
            node: left.node,
            sub,
            children: children.clone(),
            key_changed: false,
            partition_codec: left.partition_codec.clone(),
        };
        register_store(&joined, &materialized, StoreKind::KeyValue);
        register_query::<K, VR, _>(&joined, &materialized.name, None);
        let node = {
            let mut g = graph::lock(&left.graph);
            let node = g.add_node(
                kind,
                None,
                sub,
                Some(left.node),
                format!(
                    "tables: [{}, {}], stores: [{}]",
                    self.store, other.store, materialized.name
                ),
            );
            g.nodes[node].parents.push(right.node);
            node
        };
        let left_joiner = Arc::clone(&joiner);
        left.children.add(table_table::join_side::<K, V, V2, VR>(
            other.store.clone(),
            materialized.name.clone(),
            Arc::new(move |k: &K, mine: Option<&V>, theirs: Option<&V2>| left_joiner(k, mine, theirs)),
            children.clone(),
        ));
        right.children.add(table_table::join_side::<K, V2, V, VR>(
            self.store.clone(),
            materialized.name.clone(),
            Arc::new(move |k: &K, mine: Option<&V2>, theirs: Option<&V>| joiner(k, theirs, mine)),
            children.clone(),
        ));
        KTable {
            stream: KStream { node, ..joined },
            store: materialized.name,
            key_codec: self.key_codec.clone(),
        }
    }
}
