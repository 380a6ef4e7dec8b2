//! Stream-table joins: each stream record looks up its key in the table's store (of the same
//! task — the inputs are co-partitioned) and is joined with the current table value.

use std::sync::Arc;

use crate::error::Result;
use crate::processor::{Data, Record, TaskContext};
use crate::state::KeyValueStore;
use crate::topology::dsl::grouped::repartition_if_needed;
use crate::topology::dsl::kstream::KStream;
use crate::topology::dsl::ktable::KTable;
use crate::topology::graph;
use crate::topology::graph::node::{Children, Forward, Node, operator};
use crate::topology::ops::aggregate::StoreData;

/// `(key, stream value, table value if any) → joined value, or nothing` (inner joins drop
/// records whose key is not in the table).
pub(crate) type JoinFn<K, V, VT, VR> = dyn Fn(&K, &V, Option<&VT>) -> Option<VR> + Send + Sync;

struct StreamTableJoinProcessor<K, V, VT, VR> {
    table: KeyValueStore<K, VT>,
    joiner: Arc<JoinFn<K, V, VT, VR>>,
    next: Forward<K, VR>,
}

impl<K: StoreData, V: Data, VT: StoreData, VR: Data> Node<K, V> for StreamTableJoinProcessor<K, V, VT, VR> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        let table_value = self.table.get(&record.key)?;
        match (self.joiner)(&record.key, &record.value, table_value.as_ref()) {
            Some(value) => self.next.forward(
                ctx,
                Record {
                    key: record.key,
                    value,
                    timestamp: record.timestamp,
                },
            ),
            None => Ok(()),
        }
    }
}

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
        let (store, joiner): (String, Arc<JoinFn<K, V, VT, VR>>) = (table.store.clone(), Arc::new(joiner));
        input.children.add(operator(children.clone(), move |build, next| {
            Ok(StreamTableJoinProcessor {
                table: KeyValueStore::new(build.store(&store)?),
                joiner: Arc::clone(&joiner),
                next,
            })
        }));
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
