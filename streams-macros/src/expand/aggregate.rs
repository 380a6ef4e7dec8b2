//! `#[state_store]` aggregations: of a stream per key (maybe `#[windowed]`: time, sliding or
//! session windows), or of a table's rows re-keyed by `group_by` (with `subtract`).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Type;

use super::calls::accumulator;
use super::edges::{Output, edge_input, node_var};
use super::stores::{StoreLayout, materialized};
use super::windows::{window_expr, window_size_ms};
use super::{Expansion, Upstream};
use crate::model::{Node, NodeKind, Param, Regroup, Store, Window, WindowKind};

/// The parts of an aggregation every kind uses.
struct Aggregation<'a> {
    node: &'a Node,
    store: &'a Store,
    key: &'a Param,
    value: &'a Param,
    aggregate: &'a Type,
}

pub(super) fn expand(x: &mut Expansion<'_>, i: usize, node: &Node, upstream: &Upstream) {
    let NodeKind::Aggregate {
        store,
        window,
        key,
        value,
        aggregate,
        regroup,
    } = &node.kind
    else {
        unreachable!("aggregate::expand on an aggregation");
    };
    let aggregation = Aggregation {
        node,
        store,
        key,
        value,
        aggregate,
    };
    match regroup {
        Some(regroup) => table(x, i, &aggregation, regroup, upstream),
        None => stream(x, i, &aggregation, window.as_ref(), upstream),
    }
}

/// `<A as Default>::default`, spanned at the aggregate type (where a missing `Default` is
/// reported).
fn initializer(aggregate: &Type) -> TokenStream {
    quote_spanned! {syn::spanned::Spanned::span(aggregate)=> <#aggregate as ::core::default::Default>::default }
}

/// A table aggregation: rows re-keyed by `group_by`, added and subtracted.
fn table(x: &mut Expansion<'_>, i: usize, a: &Aggregation<'_>, regroup: &Regroup, upstream: &Upstream) {
    let rt = x.rt();
    let Aggregation {
        node,
        store,
        key,
        value,
        aggregate,
    } = a;
    let var = node_var(&node.name);
    let table = node_var(&node.from[0]);
    let (row_key, row_value) = upstream
        .output
        .as_ref()
        .map(|o| (o.key.clone(), o.value.clone()))
        .unwrap_or_default();
    let (row_key, row_value) = (
        row_key.map_or_else(|| quote!(_), |t| quote!(#t)),
        row_value.map_or_else(|| quote!(_), |t| quote!(#t)),
    );
    let name = &node.name;
    let key_ty = &key.ty;
    let value_ty = &value.ty;
    let (by, subtract) = (&regroup.by, &regroup.subtract);
    let rows = quote_spanned! {node.from[0].span()=>
        #rt::__private::table_rows::<#row_key, #row_value, _>(&#table)
    };
    let selector = quote_spanned! {syn::spanned::Spanned::span(by)=>
        move |k: &#row_key, v: &#row_value| -> (#key_ty, #value_ty) { #by(k, v) }
    };
    let materialized = materialized(x.rt(), store);
    let default = initializer(aggregate);
    let (adder, subtractor) = (
        accumulator(name, key, value, aggregate),
        accumulator(subtract, key, value, aggregate),
    );
    x.statements.push(quote! {
        let #var = #rows
            .group_by(#selector)
            .aggregate(
                #default,
                #adder,
                #subtractor,
                #materialized,
            )
            .to_stream();
    });
    x.store(store, key_ty, aggregate, StoreLayout::KeyValue, true, true);
    let output = Output {
        key: Some(key_ty.clone()),
        value: Some((*aggregate).clone()),
    };
    x.emits(i, output, false);
}

/// A stream aggregation per key, maybe windowed.
fn stream(x: &mut Expansion<'_>, i: usize, a: &Aggregation<'_>, window: Option<&Window>, upstream: &Upstream) {
    let rt = x.rt();
    let Aggregation {
        node,
        store,
        key,
        value,
        aggregate,
    } = a;
    let var = node_var(&node.name);
    let input = edge_input(x.rt(), node, x.nodes(), Some(key), value);
    let name = &node.name;
    let key_ty = &key.ty;
    let session = window.is_some_and(|w| matches!(w.kind, WindowKind::Session { .. }));
    let sliding = window.is_some_and(|w| matches!(w.kind, WindowKind::Sliding { .. }));
    let emit = window
        .filter(|w| w.emit_final)
        .map(|_| quote! { .emit_strategy(#rt::window::EmitStrategy::OnWindowClose) });
    let windowed_by = window.map(|w| window_expr(rt, w)).map(|w| {
        if session {
            quote! { .windowed_by_session(#w) #emit }
        } else if sliding {
            quote! { .windowed_by_sliding(#w) #emit }
        } else {
            quote! { .windowed_by(#w) #emit }
        }
    });
    let merger = window.and_then(|w| w.merge.as_ref()).map(|merge| {
        quote_spanned! {syn::spanned::Spanned::span(merge)=>
            move |_: &#key_ty, a: #aggregate, b: #aggregate| -> #aggregate { #merge(a, b) },
        }
    });
    let retention = window
        .and_then(|w| w.retention_ms)
        .map(|ms| quote! { .with_retention(::std::time::Duration::from_millis(#ms)) });
    let materialized = materialized(x.rt(), store);
    let materialized = quote! { #materialized #retention };
    let default = initializer(aggregate);
    let adder = accumulator(name, key, value, aggregate);
    x.statements.push(quote! {
        let #var = {
            let __in = #input;
            __in.group_by_key()
                #windowed_by
                .aggregate(
                    #default,
                    #adder,
                    #merger
                    #materialized,
                )
                .to_stream()
        };
    });
    let layout = match window {
        None => StoreLayout::KeyValue,
        Some(_) if session => StoreLayout::Session,
        Some(w) => StoreLayout::Window(window_size_ms(w)),
    };
    x.store(store, key_ty, aggregate, layout, upstream.rekeyed, true);
    let out_key: Type = if window.is_some() {
        syn::parse_quote!(#rt::Windowed<#key_ty>)
    } else {
        key_ty.clone()
    };
    let output = Output {
        key: Some(out_key),
        value: Some((*aggregate).clone()),
    };
    x.emits(i, output, false);
}
