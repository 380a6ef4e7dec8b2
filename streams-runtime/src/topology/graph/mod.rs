//! The topology under construction: node descriptions, sub-topology grouping, sources, stores.

pub(crate) mod node;
pub(crate) mod topic;

use std::sync::{Arc, Mutex, MutexGuard};

use crate::naming;
use crate::state::StoreSpec;
use crate::topology::graph::node::RawNodeFactory;
use crate::topology::graph::topic::TopicName;

pub(crate) type SharedGraph = Arc<Mutex<Graph>>;

pub(crate) fn lock(graph: &SharedGraph) -> MutexGuard<'_, Graph> {
    graph.lock().unwrap_or_else(|e| e.into_inner())
}

/// One node, for `describe()`.
#[derive(Clone, Debug)]
pub(crate) struct NodeInfo {
    pub(crate) name: String,
    pub(crate) kind: &'static str,
    pub(crate) sub: usize,
    pub(crate) detail: String,
    pub(crate) parents: Vec<usize>,
}

pub(crate) struct SourceEntry {
    pub(crate) topic: TopicName,
    pub(crate) sub: usize,
    pub(crate) factory: Arc<dyn RawNodeFactory>,
}

/// A repartition topic and the sub-topology that writes it.
#[derive(Clone, Debug)]
pub(crate) struct RepartitionEntry {
    pub(crate) name: String,
    pub(crate) upstream_sub: usize,
    pub(crate) partitions: Option<i32>,
}

#[derive(Default)]
pub(crate) struct Graph {
    pub(crate) nodes: Vec<NodeInfo>,
    /// Union-find over provisional sub-topology ids: operations reading two streams merge them.
    sub_parent: Vec<usize>,
    pub(crate) sources: Vec<SourceEntry>,
    pub(crate) stores: Vec<(StoreSpec, usize)>,
    pub(crate) repartitions: Vec<RepartitionEntry>,
    /// Typed query access per store, for the HTTP query server.
    pub(crate) queries: Vec<(String, Arc<dyn crate::state::query_adapter::StoreQuery>)>,
    pub(crate) errors: Vec<String>,
    pub(crate) error_policies: crate::topology::ErrorPolicies,
    pub(crate) globals: Vec<crate::topology::ops::join::global::GlobalSpec>,
    /// The registry handed to Schema Registry codecs, once one asked for it.
    #[cfg(feature = "schema-registry")]
    pub(crate) schema_registry: Option<crate::codec::registry::SchemaRegistrySlot>,
}

impl Graph {
    pub(crate) fn new_sub(&mut self) -> usize {
        self.sub_parent.push(self.sub_parent.len());
        self.sub_parent.len() - 1
    }

    pub(crate) fn find(&self, mut sub: usize) -> usize {
        while self.sub_parent[sub] != sub {
            sub = self.sub_parent[sub];
        }
        sub
    }

    /// Puts the sub-topologies of `a` and `b` together (an operation reads from both).
    pub(crate) fn union(&mut self, a: usize, b: usize) -> usize {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.sub_parent[rb] = ra;
        }
        ra
    }

    pub(crate) fn add_node(
        &mut self,
        kind: &'static str,
        name: Option<&str>,
        sub: usize,
        parent: Option<usize>,
        detail: String,
    ) -> usize {
        let id = self.nodes.len();
        let name = name.map_or_else(|| format!("KSTREAM-{kind}-{id:010}"), str::to_owned);
        self.nodes.push(NodeInfo {
            name,
            kind,
            sub,
            detail,
            parents: parent.into_iter().collect(),
        });
        id
    }

    /// Records a build error unless `store` holds one value per key: joins look table rows up
    /// by key, which a windowed or session table's store cannot answer (every look-up would miss
    /// and the join would silently produce nothing).
    pub(crate) fn require_key_value(&mut self, store: &str, operation: &str) {
        let kind = self.stores.iter().find(|(s, _)| s.name == store).map(|(s, _)| s.kind);
        let layout = match kind {
            Some(crate::state::StoreKind::Window { .. }) => "window",
            Some(crate::state::StoreKind::Session { .. }) => "session",
            _ => return,
        };
        self.errors.push(format!(
            "{operation} looks rows up by key in `{store}`, but `{store}` is a {layout} store (a windowed \
             aggregation's table); {operation} needs a table of one row per key: convert it with \
             `to_stream().map(..).to_table(..)` (e.g. keyed by window) or aggregate without windows"
        ));
    }

    pub(crate) fn add_store(&mut self, spec: StoreSpec, sub: usize) {
        if self.stores.iter().any(|(s, _)| s.name == spec.name) {
            self.errors.push(format!(
                "store `{}` is declared twice; store names must be unique",
                spec.name
            ));
        }
        if let Some(problem) = naming::topic_name_problem(&spec.name) {
            self.errors.push(format!(
                "store name `{}` also names its changelog topic, but {problem}",
                spec.name
            ));
        }
        self.stores.push((spec, sub));
    }
}
