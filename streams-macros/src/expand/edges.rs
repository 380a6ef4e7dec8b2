//! How a node reads its upstream: the variable of each node, the typed edge checks placed on
//! the user's `#[from(..)]` tokens, and the key and value types flowing along an edge.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::{Ident, Type};

use crate::model::{Node, Param, Shape, StatelessFn};

/// Key and value types a node emits, where they are known from signatures.
#[derive(Clone)]
pub(super) struct Output {
    pub(super) key: Option<Type>,
    pub(super) value: Option<Type>,
}

/// The node's input stream: its upstream node(s) with the declared key and value types
/// checked, merged if there are several.
pub(super) fn edge_input(
    rt: &syn::Path,
    node: &Node,
    nodes: &[Node],
    key: Option<&Param>,
    value: &Param,
) -> TokenStream {
    let key_ty = key.map_or_else(
        || quote!(_),
        |k| {
            let ty = &k.ty;
            quote!(#ty)
        },
    );
    let value_ty = &value.ty;
    let mut streams = node.from.iter().map(|upstream| {
        let upstream_var = node_var(upstream);
        let is_node = nodes.iter().any(|n| n.name == *upstream);
        debug_assert!(is_node);
        quote_spanned! {upstream.span()=>
            #rt::__private::edge::<#key_ty, #value_ty, _>(&#upstream_var)
        }
    });
    let first = streams.next().unwrap_or_default();
    streams.fold(first, |acc, next| quote! { #acc.merge(#next) })
}

/// The table a node reads row by row (a `#[table(store = ..)]` filter or value mapping, a
/// sink), checked against its parameter types at the `#[from(..)]` ident.
pub(super) fn table_input(rt: &syn::Path, node: &Node, f: &StatelessFn) -> TokenStream {
    let key_ty = f.key.as_ref().map_or_else(
        || quote!(_),
        |k| {
            let ty = &k.ty;
            quote!(#ty)
        },
    );
    let value_ty = &f.value.ty;
    let upstream = node.from.first();
    let upstream_var = upstream.map(node_var);
    quote_spanned! {upstream.map_or_else(Span::call_site, Ident::span)=>
        #rt::__private::table_rows::<#key_ty, #value_ty, _>(&#upstream_var)
    }
}

pub(super) fn node_var(name: &Ident) -> Ident {
    format_ident!("__node_{}", name)
}

/// What stateless function `f` emits: its shape applied to its declared input types, or
/// `upstream`'s output types where a parameter is absent.
pub(super) fn output_of(f: &StatelessFn, upstream: Option<&Output>) -> Output {
    shaped_output(f, &declared_or(upstream, f.key.as_ref(), &f.value))
}

/// The declared input types, falling back to the upstream's output where a parameter is absent.
fn declared_or(upstream: Option<&Output>, key: Option<&Param>, value: &Param) -> Output {
    Output {
        key: key
            .map(|k| k.ty.clone())
            .or_else(|| upstream.and_then(|o| o.key.clone())),
        value: Some(value.ty.clone()),
    }
}

/// What a stateless function emits, given its input types.
pub(super) fn shaped_output(f: &StatelessFn, input: &Output) -> Output {
    match &f.shape {
        Shape::KeyValue(k, v) | Shape::OptionKeyValue(k, v) | Shape::ManyKeyValues(k, v) => Output {
            key: Some(k.clone()),
            value: Some(v.clone()),
        },
        Shape::Value(v) | Shape::OptionValue(v) | Shape::ManyValues(v) => Output {
            key: input.key.clone(),
            value: Some(v.clone()),
        },
        Shape::Filter | Shape::Peek => input.clone(),
    }
}
