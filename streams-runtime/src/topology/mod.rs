//! The typed builder API (`StreamsBuilder`, `KStream`, `KTable`, …) and the built `Topology`.
//!
//! The macros expand into exactly this API; a topology can also be written by hand with it.
//!
//! Three layers: `graph` is the topology under construction (nodes, edges, topics, stores,
//! sub-topologies) and the node traits with the `operator` helper; `dsl` the typed API users
//! write (`StreamsBuilder`, `KStream`, `KTable`, grouped streams and tables, `WindowedKStream`,
//! `GlobalKTable`, joins, `process`, `Materialized`, `Repartitioned`), which wires the graph;
//! `ops` the operators each operation adds: `source`, `stateless`, `process`, the table
//! operations, `aggregate` (per key, and of a table's re-keyed rows), `join/` (`stream_table`,
//! `stream_stream`, `table_table`, `foreign_key`, `global`) and `windowed/` (`time`,
//! `sliding`, `session` and the windows' `lifecycle`).

mod dsl;
pub(crate) mod graph;
pub(crate) mod ops;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

pub use dsl::branch::BranchedKStream;
pub use dsl::builder::{Consumed, StreamsBuilder};
pub use dsl::error_policy::{ErrorPolicies, ErrorPolicy};
pub use dsl::global_ktable::GlobalKTable;
pub use dsl::grouped::KGroupedStream;
pub use dsl::grouped_table::KGroupedTable;
pub use dsl::kstream::KStream;
pub use dsl::ktable::KTable;
pub use dsl::materialized::Materialized;
pub use dsl::process::{StoreBuilder, Stores};
pub use dsl::repartition::Repartitioned;
pub use dsl::windowed::{
    FixedWindows, SessionWindowedKStream, SlidingWindowedKStream, TimeWindowedKStream, WindowKind, WindowedKStream,
};
pub use ops::aggregate::StoreData;
pub use ops::source::TimestampExtractor;

use crate::state::StoreSpec;
use graph::Graph;
use graph::node::RawNodeFactory;
use graph::topic::TopicName;

/// A topology that failed its checks; every problem found is listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid topology: {}", .problems.join("; "))]
pub struct TopologyError {
    problems: Vec<String>,
}

impl From<TopologyError> for crate::Error {
    fn from(err: TopologyError) -> Self {
        Self::new(crate::ErrorKind::Config, "the topology was rejected").with_source(err)
    }
}

/// One connected piece of a topology: its source topics and stores. Tasks are instances of a
/// sub-topology for one partition.
pub(crate) struct Subtopology {
    pub(crate) id: u32,
    pub(crate) sources: Vec<(TopicName, Arc<dyn RawNodeFactory>)>,
    pub(crate) stores: Vec<StoreSpec>,
}

/// A repartition topic, its writer sub-topology and partition count (None: as its writer).
#[derive(Clone, Debug)]
pub(crate) struct Repartition {
    pub(crate) name: String,
    pub(crate) upstream: u32,
    pub(crate) partitions: Option<i32>,
}

/// A checked, runnable topology.
pub struct Topology {
    pub(crate) subtopologies: Vec<Subtopology>,
    pub(crate) repartitions: Vec<Repartition>,
    description: String,
    /// Nodes with their resolved sub-topology, for the diagram renderings.
    nodes: Vec<(graph::NodeInfo, u32)>,
    /// Typed query access per store name.
    pub(crate) queries: std::collections::HashMap<String, Arc<dyn crate::state::query_adapter::StoreQuery>>,
    pub(crate) error_policies: ErrorPolicies,
    /// Global tables: replicated on every instance by the global thread.
    pub(crate) globals: Vec<ops::join::global::GlobalSpec>,
    /// The registry of the topology's Schema Registry codecs, if it has any.
    #[cfg(feature = "schema-registry")]
    schema_registry: Option<crate::codec::registry::SchemaRegistrySlot>,
}

impl Topology {
    /// The resolved names of the repartition topics the sub-topologies read.
    pub(crate) fn repartition_sources(&self, application_id: &str) -> impl Iterator<Item = String> {
        self.subtopologies
            .iter()
            .flat_map(|s| s.sources.iter())
            .filter(|(topic, _)| matches!(topic, TopicName::Repartition(_)))
            .map(move |(topic, _)| topic.resolve(application_id))
    }

    fn from_graph(graph: &Graph) -> Result<Self, TopologyError> {
        if !graph.errors.is_empty() {
            return Err(TopologyError {
                problems: graph.errors.clone(),
            });
        }
        if graph.sources.is_empty() {
            return Err(TopologyError {
                problems: vec!["the topology has no source; add one with `StreamsBuilder::stream`".to_owned()],
            });
        }
        // Number sub-topologies in the order their first source was declared.
        let mut ids: BTreeMap<usize, u32> = BTreeMap::new();
        let mut order: Vec<usize> = Vec::new();
        for source in &graph.sources {
            let root = graph.find(source.sub);
            if let std::collections::btree_map::Entry::Vacant(entry) = ids.entry(root) {
                entry.insert(order.len() as u32);
                order.push(root);
            }
        }
        let id_of = |sub: usize| ids.get(&graph.find(sub)).copied().unwrap_or(0);
        let mut subtopologies: Vec<Subtopology> = (0..order.len())
            .map(|i| Subtopology {
                id: i as u32,
                sources: Vec::new(),
                stores: Vec::new(),
            })
            .collect();
        for source in &graph.sources {
            subtopologies[id_of(source.sub) as usize]
                .sources
                .push((source.topic.clone(), Arc::clone(&source.factory)));
        }
        for (spec, sub) in &graph.stores {
            subtopologies[id_of(*sub) as usize].stores.push(spec.clone());
        }
        let repartitions = graph
            .repartitions
            .iter()
            .map(|r| Repartition {
                name: r.name.clone(),
                upstream: id_of(r.upstream_sub),
                partitions: r.partitions,
            })
            .collect();
        Ok(Self {
            subtopologies,
            repartitions,
            description: describe(graph, &id_of),
            nodes: graph.nodes.iter().map(|n| (n.clone(), id_of(n.sub))).collect(),
            queries: graph.queries.iter().cloned().collect(),
            error_policies: graph.error_policies.clone(),
            globals: graph.globals.clone(),
            #[cfg(feature = "schema-registry")]
            schema_registry: graph.schema_registry.clone(),
        })
    }

    /// Whether the topology has Schema Registry codecs (a codec asked the builder for the
    /// registry).
    #[cfg(feature = "schema-registry")]
    pub(crate) fn uses_schema_registry(&self) -> bool {
        self.schema_registry.is_some()
    }

    /// Connects the topology's Schema Registry codecs to `registry` (once: the first stays).
    #[cfg(feature = "schema-registry")]
    pub(crate) fn connect_schema_registry(&self, registry: crate::codec::registry::SchemaRegistry) {
        if let Some(slot) = &self.schema_registry {
            slot.connect(registry);
        }
    }

    /// What happens to records that fail to decode or to process.
    pub fn error_policies(&self) -> &ErrorPolicies {
        &self.error_policies
    }

    /// A text description in the style of Kafka Streams' `Topology#describe()`. Internal
    /// topics read `<application.id>-…`: the topology does not know its application yet; see
    /// [`describe_for`](Self::describe_for).
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// [`describe`](Self::describe) with the internal topic names as application
    /// `application_id` creates them on the broker.
    pub fn describe_for(&self, application_id: &str) -> String {
        with_application_id(&self.description, application_id)
    }

    /// The topology as a Mermaid flowchart (one subgraph per sub-topology), e.g. for Markdown.
    pub fn describe_mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        let mut subs: Vec<u32> = self.nodes.iter().map(|(_, s)| *s).collect();
        subs.sort_unstable();
        subs.dedup();
        for sub in subs {
            let _ = writeln!(out, "  subgraph sub{sub}[\"Sub-topology {sub}\"]");
            for (id, (node, _)) in self.nodes.iter().enumerate().filter(|(_, (_, s))| *s == sub) {
                let label = diagram_label(node).replace('"', "'");
                let shape = match node.kind {
                    "SOURCE" | "TABLE-SOURCE" => format!("n{id}[/\"{label}\"/]"),
                    "SINK" => format!("n{id}[\\\"{label}\"\\]"),
                    _ => format!("n{id}[\"{label}\"]"),
                };
                let _ = writeln!(out, "    {shape}");
            }
            out.push_str("  end\n");
        }
        for (id, (node, _)) in self.nodes.iter().enumerate() {
            for parent in &node.parents {
                let _ = writeln!(out, "  n{parent} --> n{id}");
            }
        }
        out
    }

    /// The topology as a Graphviz `digraph` (one cluster per sub-topology).
    pub fn describe_dot(&self) -> String {
        let mut out = String::from("digraph topology {\n  rankdir=LR;\n  node [shape=box];\n");
        let mut subs: Vec<u32> = self.nodes.iter().map(|(_, s)| *s).collect();
        subs.sort_unstable();
        subs.dedup();
        for sub in subs {
            let _ = writeln!(out, "  subgraph cluster_{sub} {{\n    label=\"Sub-topology {sub}\";");
            for (id, (node, _)) in self.nodes.iter().enumerate().filter(|(_, (_, s))| *s == sub) {
                let shape = match node.kind {
                    "SOURCE" | "TABLE-SOURCE" | "SINK" => "cds",
                    _ => "box",
                };
                let label = diagram_label(node).replace('"', "\\\"");
                let _ = writeln!(out, "    n{id} [label=\"{label}\", shape={shape}];");
            }
            out.push_str("  }\n");
        }
        for (id, (node, _)) in self.nodes.iter().enumerate() {
            for parent in &node.parents {
                let _ = writeln!(out, "  n{parent} -> n{id};");
            }
        }
        out.push_str("}\n");
        out
    }

    /// Every store, with the sub-topology that owns it.
    pub fn stores(&self) -> impl Iterator<Item = (&StoreSpec, u32)> {
        self.subtopologies
            .iter()
            .flat_map(|s| s.stores.iter().map(move |spec| (spec, s.id)))
    }
}

/// `name (detail)` for diagrams.
fn diagram_label(node: &graph::NodeInfo) -> String {
    if node.detail.is_empty() {
        node.name.clone()
    } else {
        format!("{} ({})", node.name, node.detail)
    }
}

fn describe(graph: &Graph, id_of: &dyn Fn(usize) -> u32) -> String {
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); graph.nodes.len()];
    for (id, node) in graph.nodes.iter().enumerate() {
        for &parent in &node.parents {
            children[parent].push(id);
        }
    }
    let mut by_sub: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (id, node) in graph.nodes.iter().enumerate() {
        by_sub.entry(id_of(node.sub)).or_default().push(id);
    }
    let mut out = String::from("Topologies:\n");
    for (sub, nodes) in by_sub {
        let _ = writeln!(out, "   Sub-topology: {sub}");
        for id in nodes {
            let node = &graph.nodes[id];
            let role = match node.kind {
                "SOURCE" => "Source",
                "SINK" => "Sink",
                _ => "Processor",
            };
            let _ = writeln!(out, "    {role}: {} ({})", node.name, node.detail);
            let names = |ids: &[usize]| {
                ids.iter()
                    .map(|&i| graph.nodes[i].name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = writeln!(
                out,
                "      --> {}",
                if children[id].is_empty() {
                    "none".to_owned()
                } else {
                    names(&children[id])
                }
            );
            if !node.parents.is_empty() {
                let _ = writeln!(out, "      <-- {}", names(&node.parents));
            }
        }
    }
    out
}

/// `text` with the `<application.id>` placeholder of internal topic names resolved.
pub(crate) fn with_application_id(text: &str, application_id: &str) -> String {
    text.replace("<application.id>", application_id)
}
