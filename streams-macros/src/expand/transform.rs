//! Stateless functions: a transform (map, filter, flat-map, peek; maybe through a repartition
//! topic), a branch of a `split`, and a transform materialized as a table (`to_table`, or a
//! table derived from a table).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Ident, LitStr};

use super::calls::{stateless_op, table_op};
use super::edges::{edge_input, node_var, output_of, table_input};
use super::stores::{StoreLayout, materialized};
use super::{Expansion, Upstream};
use crate::model::{Node, NodeKind, StatelessFn, Store};
use crate::names::screaming_snake_case;

/// A transform, maybe followed by `#[repartition]`.
pub(super) fn expand(x: &mut Expansion<'_>, i: usize, node: &Node, f: &StatelessFn, upstream: &Upstream) {
    let rt = x.rt();
    let var = node_var(&node.name);
    let input = edge_input(x.rt(), node, x.nodes(), f.key.as_ref(), &f.value);
    let op = stateless_op(&node.name, f);
    let repartition = f.repartition.map(|partitions| {
        let name = node.name.to_string().replace('_', "-");
        let partitions = partitions.map(|n| quote!(.with_partitions(#n)));
        let topic = kafka_streams_naming::repartition_topic(&x.app().value(), &name);
        let constant = format_ident!("{}_REPARTITION", screaming_snake_case(&name));
        let doc = format!("Repartition topic of node `{}`.", node.name);
        x.items
            .topic_consts
            .push(quote! { #[doc = #doc] pub const #constant: &str = #topic; });
        quote! { .repartition(#rt::topology::Repartitioned::named(#name) #partitions) }
    });
    x.statements
        .push(quote! { let #var = { let __in = #input; __in #op #repartition }; });
    let output = output_of(f, upstream.output.as_ref());
    x.emits(
        i,
        output,
        (upstream.rekeyed || f.shape.rekeys()) && f.repartition.is_none(),
    );
}

/// A branch of a first-match split: the whole split is built at its first branch (all branches
/// read the same stream, so none is needed before that).
pub(super) fn branch(x: &mut Expansion<'_>, i: usize, node: &Node, f: &StatelessFn, upstream: &Upstream) {
    let split = f.split.as_ref().map(LitStr::value);
    let branch_of = |n: &Node| match &n.kind {
        NodeKind::Transform(g) => g.split.as_ref().map(LitStr::value) == split,
        _ => false,
    };
    if !x.nodes().iter().take(i).any(branch_of) {
        let branches: Vec<&Node> = x.nodes().iter().filter(|n| branch_of(n)).collect();
        let input = edge_input(x.rt(), node, x.nodes(), f.key.as_ref(), &f.value);
        let vars: Vec<Ident> = branches.iter().map(|n| node_var(&n.name)).collect();
        let predicates = branches.iter().map(|n| {
            let NodeKind::Transform(g) = &n.kind else {
                return TokenStream::new();
            };
            let filter = stateless_op(&n.name, g);
            // `.filter(closure)` → `.branch(closure)`: the same predicate.
            let closure: TokenStream = filter.into_iter().skip(2).collect();
            quote! { .branch #closure }
        });
        let count = branches.len();
        x.statements.push(quote! {
            let [#(#vars),*]: [_; #count] = {
                let __in = #input;
                __in.split() #(#predicates)* .no_default_branch()
                    .try_into()
                    .unwrap_or_else(|_| ::core::unreachable!("one stream per branch"))
            };
        });
    }
    let output = output_of(f, upstream.output.as_ref());
    x.emits(i, output, upstream.rekeyed);
}

/// `#[table(store = ..)]` on a transform: its output as a table; on a filter or value mapping
/// of a table, a table derived from it.
pub(super) fn to_table(
    x: &mut Expansion<'_>,
    i: usize,
    node: &Node,
    store: &Store,
    transform: &StatelessFn,
    upstream: &Upstream,
) {
    let var = node_var(&node.name);
    let out = output_of(transform, upstream.output.as_ref());
    let materialized = materialized(x.rt(), store);
    if upstream.reads_table {
        // Validation let only a filter or a value mapping read a table.
        let table = table_input(x.rt(), node, transform);
        let op = table_op(&node.name, transform, &materialized);
        x.statements.push(quote! { let #var = #table #op; });
    } else {
        let input = edge_input(x.rt(), node, x.nodes(), transform.key.as_ref(), &transform.value);
        let op = stateless_op(&node.name, transform);
        x.statements
            .push(quote! { let #var = { let __in = #input; __in #op .to_table(#materialized) }; });
    }
    let rekeys = upstream.rekeyed || transform.shape.rekeys();
    if let (Some(key), Some(value)) = (&out.key, &out.value) {
        x.store(store, key, value, StoreLayout::KeyValue, rekeys, true);
    }
    // Keyed as it is stored: what reads the table needs no repartition topic on its account.
    x.emits(i, out, false);
}
