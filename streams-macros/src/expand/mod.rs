//! Code generation: the builder calls for every node (in dependency order), store accessors,
//! topic-name constants, `describe()` and the app entry point.
//!
//! Generated code names only `::kafka_streams`'s public API and `::kafka_streams::__private`.
//! Edge checks are spanned at the user's tokens, so a type mismatch between two nodes is
//! reported on the `#[from(..)]` that connects them.
//!
//! One file per node kind (`source`, `transform`, `aggregate`, `join`, `processor`, `sink`)
//! appends to an [`Expansion`]: the node's builder statement, what it emits (for the nodes
//! downstream), and the module items it brings (store accessors, client methods, topic
//! names). `items` turns those into the module's public items. On an error the same
//! expansion runs as a [`fallback`]: the items are generated, `topology()` is a stub, so a
//! mistake gives its own error and not one more at every use of `app()`, `topics::*` or
//! `stores::*`.

mod aggregate;
mod calls;
mod codecs;
mod edges;
mod items;
mod join;
mod processor;
mod sink;
mod source;
mod stores;
mod transform;
mod windows;

use proc_macro2::TokenStream;
use syn::{LitStr, Type};

use crate::model::{Node, NodeKind, Store, TopologyDef};
use crate::resolve::{JoinKind, Resolved};
use edges::Output;
use items::Items;
use stores::StoreLayout;

/// The expansion so far: per node what it emits, the builder statements, the module items.
struct Expansion<'a> {
    def: &'a TopologyDef,
    /// Per node: its settled kind.
    resolved: &'a [Resolved],
    /// Per node: its output types, once expanded.
    outputs: Vec<Option<Output>>,
    /// Per node: whether its records were re-keyed and not yet repartitioned (a store fed by it
    /// reads through a repartition topic).
    rekeyed: Vec<bool>,
    statements: Vec<TokenStream>,
    items: Items,
}

/// What a node sees of its upstream nodes.
struct Upstream {
    /// The first upstream node's output.
    output: Option<Output>,
    /// Any upstream re-keyed.
    rekeyed: bool,
    /// An upstream is a table of this application.
    reads_table: bool,
}

impl<'a> Expansion<'a> {
    fn new(def: &'a TopologyDef, resolved: &'a [Resolved]) -> Self {
        Self {
            def,
            resolved,
            outputs: vec![None; def.nodes.len()],
            rekeyed: vec![false; def.nodes.len()],
            statements: Vec::new(),
            items: Items::default(),
        }
    }

    fn app(&self) -> &'a LitStr {
        &self.def.application_id
    }

    /// The runtime crate's path in generated code.
    fn rt(&self) -> &'a syn::Path {
        &self.def.runtime
    }

    fn nodes(&self) -> &'a [Node] {
        &self.def.nodes
    }

    fn upstream(&self, i: usize, node: &Node) -> Upstream {
        let upstream: Vec<usize> = node
            .from
            .iter()
            .filter_map(|name| self.def.nodes.iter().position(|n| n.name == *name))
            .collect();
        Upstream {
            output: upstream.first().and_then(|&u| self.outputs[u].clone()),
            rekeyed: upstream.iter().any(|&u| self.rekeyed[u]),
            reads_table: self.resolved[i].reads_table,
        }
    }

    /// Records what node `i` emits, and whether it is re-keyed.
    fn emits(&mut self, i: usize, output: Output, rekeyed: bool) {
        self.outputs[i] = Some(output);
        self.rekeyed[i] = rekeyed;
    }

    /// A store's typed accessor (`stores::<Name>`, its topics in `topics::*`) and, if it is
    /// `served` by the query server, its method on `Client`.
    fn store(
        &mut self,
        store: &Store,
        key: &Type,
        value: &Type,
        layout: StoreLayout,
        repartitioned: bool,
        served: bool,
    ) {
        // A store name declared twice is an error (validation); the fallback then generates
        // the first one only, not a second definition of the same items.
        if self.items.store_names.contains(&store.name.value()) {
            return;
        }
        self.items.store_names.push(store.name.value());
        if served {
            self.items
                .client_methods
                .push(stores::client_method(self.rt(), store, key, value, &layout));
        }
        let accessor = stores::store_accessor(
            self.def,
            store,
            key,
            value,
            layout,
            repartitioned,
            &mut self.items.topic_consts,
        );
        self.items.stores.push(accessor);
    }

    /// Which join node `i` is (`None` if it is not a join).
    fn join_kind(&self, i: usize) -> Option<JoinKind> {
        self.resolved[i].join
    }

    /// Expands node `i` (its upstream nodes are expanded already).
    fn node(&mut self, i: usize) {
        let node = &self.def.nodes[i];
        let upstream = self.upstream(i, node);
        match &node.kind {
            NodeKind::Source { .. } | NodeKind::Table { .. } => source::expand(self, i, node),
            NodeKind::Transform(f) if f.split.is_some() => transform::branch(self, i, node, f, &upstream),
            NodeKind::Transform(f) => transform::expand(self, i, node, f, &upstream),
            NodeKind::ToTable { store, transform } => transform::to_table(self, i, node, store, transform, &upstream),
            NodeKind::Aggregate { .. } => aggregate::expand(self, i, node, &upstream),
            NodeKind::Join { .. } => join::expand(self, i, node, &upstream),
            NodeKind::Processor { processor, stores } => processor::expand(self, i, node, processor, stores, &upstream),
            NodeKind::Sink { .. } => sink::expand(self, node, &upstream),
        }
    }
}

/// The module's generated items for a valid topology; `order` lists every node after its inputs.
pub(crate) fn expand(def: &TopologyDef, resolved: &[Resolved], order: &[usize]) -> TokenStream {
    let mut expansion = Expansion::new(def, resolved);
    for &i in order {
        expansion.node(i);
    }
    items::module(def, expansion.items, items::Mode::Build(expansion.statements))
}

/// The module's generated items when the macro reported errors: the nodes that parsed are
/// expanded (for their store accessors, client methods and topic names) where their inputs
/// resolve; `topology()`, `describe()` and `app()` are stubs that are never run, since the
/// program does not compile; names in `taken` (the user's own items) are left out.
pub(crate) fn fallback(def: &TopologyDef, resolved: &[Resolved], taken: &[String]) -> TokenStream {
    let mut expansion = Expansion::new(def, resolved);
    for i in lenient_order(def) {
        expansion.node(i);
    }
    items::module(def, expansion.items, items::Mode::Fallback { taken })
}

/// Nodes in an order where each comes after its inputs, leaving out those with an input that is
/// missing, inside a cycle, or downstream of either (errors reported elsewhere).
fn lenient_order(def: &TopologyDef) -> Vec<usize> {
    let mut done = vec![false; def.nodes.len()];
    let mut order = Vec::new();
    loop {
        let ready = (0..def.nodes.len()).find(|&i| {
            let node = &def.nodes[i];
            let reads_nothing = matches!(node.kind, NodeKind::Source { .. } | NodeKind::Table { .. });
            !done[i]
                && (reads_nothing || !node.from.is_empty())
                && node
                    .from
                    .iter()
                    .all(|name| def.nodes.iter().position(|n| n.name == *name).is_some_and(|u| done[u]))
        });
        let Some(i) = ready else { return order };
        done[i] = true;
        order.push(i);
    }
}
