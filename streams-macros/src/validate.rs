//! Checks over the whole topology: every edge resolves, there is a source, no cycles, store
//! names are unique and legal topic names. Type agreement along edges is left to rustc, with
//! the expansion placing each check on the user's tokens.

use std::collections::{BTreeMap, HashMap, HashSet};

use proc_macro2::Span;

use syn::LitStr;
use syn::spanned::Spanned;

use crate::model::{Node, NodeKind, TopologyDef, join_store_name};
use crate::parse::Errors;
use crate::resolve::Resolved;
use kafka_streams_naming::{changelog_topic, topic_name_problem};

/// The graph's nodes by name, for the checks.
struct Graph<'a> {
    def: &'a TopologyDef,
    /// Per node (in `def`'s order): its settled kind.
    resolved: &'a [Resolved],
    index: HashMap<String, usize>,
    /// "`a`, `b`, ..": the nodes, for messages naming what exists.
    names: Vec<String>,
}

impl Graph<'_> {
    fn node(&self, name: &proc_macro2::Ident) -> Option<&Node> {
        self.index.get(&name.to_string()).map(|&i| &self.def.nodes[i])
    }

    /// Whether `node` reads a table of this application (not a global one).
    fn reads_local_table(&self, node: &Node) -> bool {
        self.index
            .get(&node.name.to_string())
            .is_some_and(|&i| self.resolved[i].reads_table)
    }
}

/// Node indices in an order where every node comes after its inputs (`None` if a check failed
/// or there is a cycle; each problem is reported).
pub(crate) fn validate(
    def: &TopologyDef,
    resolved: &[Resolved],
    module_span: Span,
    errors: &mut Errors,
) -> Option<Vec<usize>> {
    let graph = Graph {
        def,
        resolved,
        index: def
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.to_string(), i))
            .collect(),
        names: def.nodes.iter().map(|n| format!("`{}`", n.name)).collect(),
    };
    // `&`, not `&&`: every rule runs, so one compilation reports every mistake.
    let mut ok = check_has_source(def, module_span, errors);
    for node in &def.nodes {
        ok &= check_inputs(&graph, node, errors)
            & check_join_shape(&graph, node, errors)
            & check_join_partner(&graph, node, errors);
    }
    ok &= check_splits(def, errors) & check_names(&graph, errors);
    if !ok {
        return None;
    }
    order(def, &graph.index, errors)
}

/// A topology reads at least one topic.
fn check_has_source(def: &TopologyDef, module_span: Span, errors: &mut Errors) -> bool {
    let mut ok = true;
    if !def
        .nodes
        .iter()
        .any(|n| matches!(n.kind, NodeKind::Source { .. } | NodeKind::Table { .. }))
    {
        errors.at(
            module_span,
            "this topology has no source: declare one with `#[source(topic = \"...\")] type Name = (Key, Value);` \
             or on a function",
        );
        ok = false;
    }
    ok
}

/// Each `#[from(..)]` names a node that emits something this node can read: not a sink, a
/// table only where a table is read, a stream where a stream is aggregated.
fn check_inputs(graph: &Graph<'_>, node: &Node, errors: &mut Errors) -> bool {
    let mut ok = true;
    for upstream in &node.from {
        match graph.node(upstream) {
            None => {
                errors.at(
                    upstream.span(),
                    format!(
                        "no node named `{upstream}` in this topology; its nodes are {}",
                        graph.names.join(", ")
                    ),
                );
                ok = false;
            }
            Some(Node {
                kind: NodeKind::Sink { .. },
                ..
            }) => {
                errors.at(
                    upstream.span(),
                    format!("`{upstream}` is a sink: it writes to a topic and emits nothing to read from"),
                );
                ok = false;
            }
            Some(Node { kind, .. }) if kind.is_local_table() || matches!(kind, NodeKind::Table { .. }) => {
                let global = &matches!(kind, NodeKind::Table { global: true, .. });
                let reads_tables = matches!(
                    node.kind,
                    NodeKind::Join {
                        window: None,
                        global_key: None,
                        ..
                    } | NodeKind::Aggregate { regroup: Some(_), .. }
                ) || node.kind.is_table_derivation()
                    || matches!(node.kind, NodeKind::Sink { .. });
                if *global || !reads_tables || node.from.len() > 1 {
                    errors.at(
                        upstream.span(),
                        format!(
                            "`{upstream}` is a table: join a stream with it via `#[join(table = {upstream})]`, \
                             or read it (alone) with `#[join(table = other_table)]` (a table-table join), \
                             `#[state_store(name = .., group_by = f, subtract = g)]` (a table aggregation), \
                             `#[table(store = ..)]` on a filter (`-> bool`) or value mapping (`-> V2`) \
                             (a table derived from it), or `#[sink(.., from = {upstream})]` (its updates){}",
                            if *global {
                                "; a global table is only looked up by `#[join(global = ..)]`"
                            } else {
                                ""
                            }
                        ),
                    );
                    ok = false;
                }
            }
            Some(_) => {
                if let NodeKind::Aggregate {
                    regroup: Some(regroup), ..
                } = &node.kind
                {
                    errors.at(
                        regroup.by.span(),
                        format!(
                            "`group_by` and `subtract` aggregate a table, but `{upstream}` is a stream; aggregate \
                             a stream without them"
                        ),
                    );
                    ok = false;
                }
            }
        }
    }
    ok
}

/// A join's parameters fit what it joins: two tables take the two values, an outer join needs
/// two tables or two streams, a foreign key joins two tables.
fn check_join_shape(graph: &Graph<'_>, node: &Node, errors: &mut Errors) -> bool {
    let mut ok = true;
    if let NodeKind::Join {
        window: None,
        global_key: None,
        key,
        outer,
        foreign_key,
        ..
    } = &node.kind
    {
        let reads_table = graph.reads_local_table(node);
        if reads_table && let Some(key) = key {
            errors.at(
                key.span,
                "a join of two tables gets the two values: `(value: &V, other: &V2)` (inner), \
                 `(.., other: Option<&V2>)` (left) or `(value: Option<&V>, other: Option<&V2>)` (outer)",
            );
            ok = false;
        }
        if !reads_table && *outer {
            errors.at(
                node.name.span(),
                "an outer join needs two tables (`#[from(table)]` + `#[join(table = ..)]`) or two streams \
                 (`#[join(stream = .., within = ..)]`); a stream-table join is inner or left",
            );
            ok = false;
        }
        if let Some(path) = foreign_key {
            if !reads_table {
                errors.at(
                    path.span(),
                    "`foreign_key` joins two tables: read a `#[table]` with `#[from(..)]`",
                );
                ok = false;
            } else if *outer {
                errors.at(
                    node.name.span(),
                    "a foreign-key join is inner `(value: &V, other: &VO)` or left `(value: &V, other: Option<&VO>)`",
                );
                ok = false;
            }
        }
    }
    ok
}

/// A join's partner exists and is what the join reads it as: a table (local or global, as
/// declared) or, within a window, a stream.
fn check_join_partner(graph: &Graph<'_>, node: &Node, errors: &mut Errors) -> bool {
    let mut ok = true;
    if let NodeKind::Join {
        table,
        window,
        global_key,
        ..
    } = &node.kind
    {
        match graph.node(table).map(|n| &n.kind) {
            Some(kind @ (NodeKind::Table { .. } | NodeKind::ToTable { .. }))
                if matches!(kind, NodeKind::Table { global: true, .. }) != global_key.is_some() =>
            {
                let global = &matches!(kind, NodeKind::Table { global: true, .. });
                errors.at(
                    table.span(),
                    if *global {
                        format!("`{table}` is a global table: join it with `#[join(global = {table}, key = fn)]`")
                    } else {
                        format!("`{table}` is not a global table: join it with `#[join(table = {table})]`")
                    },
                );
                ok = false;
            }
            Some(kind) if kind.is_local_table() && window.is_none() => {}
            Some(NodeKind::Table { global: true, .. }) => {}
            Some(kind) if kind.is_local_table() => {
                errors.at(
                    table.span(),
                    format!("`{table}` is a table: join it with `#[join(table = {table})]` (no window)"),
                );
                ok = false;
            }
            Some(NodeKind::Sink { .. }) if window.is_some() => {
                errors.at(
                    table.span(),
                    format!("`{table}` is a sink and emits nothing; join a stream node"),
                );
                ok = false;
            }
            Some(_) if window.is_some() => {}
            Some(_) => {
                errors.at(
                    table.span(),
                    format!("`{table}` is not a `#[table]`; a join reads a table by key"),
                );
                ok = false;
            }
            None => {
                errors.at(
                    table.span(),
                    format!(
                        "no node named `{table}` in this topology; its nodes are {}",
                        graph.names.join(", ")
                    ),
                );
                ok = false;
            }
        }
    }
    ok
}

/// The branches of one split read the same single stream.
fn check_splits(def: &TopologyDef, errors: &mut Errors) -> bool {
    let mut ok = true;
    let mut splits: BTreeMap<String, &Node> = BTreeMap::new();
    for node in &def.nodes {
        let NodeKind::Transform(f) = &node.kind else { continue };
        let Some(split) = &f.split else { continue };
        match splits.get(&split.value()) {
            None => {
                if node.from.len() != 1 {
                    errors.at(
                        split.span(),
                        "the branches of a split read one stream: give this branch a single `#[from(..)]` node",
                    );
                    ok = false;
                }
                splits.insert(split.value(), node);
            }
            Some(first)
                if first
                    .from
                    .iter()
                    .map(ToString::to_string)
                    .ne(node.from.iter().map(ToString::to_string)) =>
            {
                errors.at(
                    split.span(),
                    format!(
                        "the branches of split `{}` read one stream: `{}` reads `{}`, this branch another",
                        split.value(),
                        first.name,
                        first.from.first().map(ToString::to_string).unwrap_or_default()
                    ),
                );
                ok = false;
            }
            Some(_) => {}
        }
    }
    ok
}

/// Store names are unique and make legal changelog topic names; no topic is read twice.
fn check_names(graph: &Graph<'_>, errors: &mut Errors) -> bool {
    let def = graph.def;
    let mut ok = true;
    let mut stores: BTreeMap<String, Span> = BTreeMap::new();
    let mut topics: BTreeMap<String, Span> = BTreeMap::new();
    let app = def.application_id.value();
    for node in &def.nodes {
        let (store, source_topic) = match &node.kind {
            NodeKind::Aggregate { store, .. } => (Some((store.name.value(), store.name.span())), None),
            NodeKind::Table { store, topic, .. } => (Some((store.name.value(), store.name.span())), Some(topic)),
            NodeKind::ToTable { store, .. } => (Some((store.name.value(), store.name.span())), None),
            NodeKind::Source { topic, .. } => (None, Some(topic)),
            NodeKind::Join {
                window: None,
                global_key: None,
                store,
                ..
            } if graph.reads_local_table(node) => {
                let span = store.as_ref().map_or_else(|| node.name.span(), LitStr::span);
                (Some((join_store_name(&node.name, store.as_ref()), span)), None)
            }
            _ => (None, None),
        };
        let processor_stores = match &node.kind {
            NodeKind::Processor { stores, .. } => stores
                .iter()
                .map(|s| (s.store.name.value(), s.store.name.span()))
                .collect(),
            _ => Vec::new(),
        };
        for (name, span) in store.into_iter().chain(processor_stores) {
            if let Some(problem) = topic_name_problem(&changelog_topic(&app, &name)) {
                errors.at(span, format!("store `{name}` names its changelog topic, but {problem}"));
                ok = false;
            }
            if stores.insert(name.clone(), span).is_some() {
                errors.at(
                    span,
                    format!("store `{name}` is declared twice; every store needs its own name (and changelog topic)"),
                );
                ok = false;
            }
        }
        if let Some(topic) = source_topic
            && topics.insert(topic.value(), topic.span()).is_some()
        {
            errors.at(
                topic.span(),
                format!(
                    "topic `{}` is read twice; read it in one source node and take several nodes `#[from]` it",
                    topic.value()
                ),
            );
            ok = false;
        }
    }
    ok
}

/// Kahn's algorithm over `from` and join-table edges; reports a cycle at one of its edges.
fn order(def: &TopologyDef, index: &HashMap<String, usize>, errors: &mut Errors) -> Option<Vec<usize>> {
    let inputs: Vec<Vec<usize>> = def
        .nodes
        .iter()
        .map(|n| {
            let mut ins: Vec<usize> = n
                .from
                .iter()
                .filter_map(|f| index.get(&f.to_string()).copied())
                .collect();
            if let NodeKind::Join { table, .. } = &n.kind {
                ins.extend(index.get(&table.to_string()).copied());
            }
            ins
        })
        .collect();
    let mut done: HashSet<usize> = HashSet::new();
    let mut out = Vec::new();
    while out.len() < def.nodes.len() {
        let ready: Vec<usize> = (0..def.nodes.len())
            .filter(|i| !done.contains(i) && inputs[*i].iter().all(|d| done.contains(d)))
            .collect();
        if ready.is_empty() {
            let stuck = (0..def.nodes.len()).find(|i| !done.contains(i)).unwrap_or(0);
            let node = &def.nodes[stuck];
            let span = node
                .from
                .first()
                .map_or_else(|| node.name.span(), proc_macro2::Ident::span);
            let cycle: Vec<String> = (0..def.nodes.len())
                .filter(|i| !done.contains(i))
                .map(|i| format!("`{}`", def.nodes[i].name))
                .collect();
            errors.at(
                span,
                format!(
                    "these nodes form a cycle: {}; a topology is a directed acyclic graph — feed a result back \
                     through a topic (a `#[sink]` and a `#[source]`) instead",
                    cycle.join(", ")
                ),
            );
            return None;
        }
        for i in ready {
            done.insert(i);
            out.push(i);
        }
    }
    Some(out)
}
