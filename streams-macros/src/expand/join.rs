//! `#[join]`: of two tables (by key, or by a foreign key), or of a stream with a table, a
//! global table (by a computed key) or another stream (within a window).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::{LitStr, Type};

use super::edges::{Output, edge_input, node_var};
use super::stores::{StoreLayout, materialized};
use super::{Expansion, Upstream};
use crate::model::{Node, NodeKind, Store, join_store_name};
use crate::resolve::JoinKind;

pub(super) fn expand(x: &mut Expansion<'_>, i: usize, node: &Node, upstream: &Upstream) {
    match x.join_kind(i) {
        Some(JoinKind::TableTable | JoinKind::ForeignKey) => tables(x, i, node, upstream),
        Some(JoinKind::StreamTable | JoinKind::StreamStream | JoinKind::StreamGlobal) => {
            stream(x, i, node, upstream);
        }
        None => unreachable!("join::expand on a join"),
    }
}

/// An argument of the user's joiner from the closure's `var` (`&T`, or `Option<&T>` if
/// `optional`): passed as is to a `&T` parameter, cloned to a `T` one.
fn joiner_arg(by_ref: bool, optional: bool, var: TokenStream) -> TokenStream {
    match (by_ref, optional) {
        (true, _) => var,
        (false, false) => quote!(::core::clone::Clone::clone(#var)),
        (false, true) => quote!(#var.cloned()),
    }
}

/// Two tables: by key (inner, left, outer) or by a foreign key (inner, left).
fn tables(x: &mut Expansion<'_>, i: usize, node: &Node, upstream: &Upstream) {
    let rt = x.rt();
    let NodeKind::Join {
        table,
        value,
        table_value,
        left,
        outer,
        foreign_key,
        store,
        output,
        ..
    } = &node.kind
    else {
        unreachable!("join::tables on a join");
    };
    let var = node_var(&node.name);
    let rows = node_var(&node.from[0]);
    let other = node_var(table);
    let row_key = upstream
        .output
        .as_ref()
        .and_then(|o| o.key.clone())
        .map_or_else(|| quote!(_), |t| quote!(#t));
    let value_ty = &value.ty;
    let other_ty = &table_value.ty;
    let name = &node.name;
    let value_arg = joiner_arg(value.by_ref, *outer, quote!(v));
    let other_arg = joiner_arg(table_value.by_ref, *left, quote!(o));
    let value_param = if *outer {
        quote!(::core::option::Option<&#value_ty>)
    } else {
        quote!(&#value_ty)
    };
    let other_param = if *left {
        quote!(::core::option::Option<&#other_ty>)
    } else {
        quote!(&#other_ty)
    };
    let store_name = join_store_name(name, store.as_ref());
    let result_store = Store {
        name: LitStr::new(&store_name, store.as_ref().map_or_else(|| name.span(), LitStr::span)),
        in_memory: false,
        logged: true,
    };
    let materialized = materialized(x.rt(), &result_store);
    let rows_check = quote_spanned! {node.from[0].span()=>
        #rt::__private::table_rows::<#row_key, #value_ty, _>(&#rows)
    };
    let joiner = quote! { move |v: #value_param, o: #other_param| -> #output { #name(#value_arg, #other_arg) } };
    let join = match foreign_key {
        Some(fk) => {
            let method = if *left {
                quote!(left_join_foreign_key)
            } else {
                quote!(join_foreign_key)
            };
            let extractor = quote_spanned! {syn::spanned::Spanned::span(fk)=> move |v: &#value_ty| #fk(v) };
            quote! { .#method(&#other, #extractor, #joiner, #materialized) }
        }
        None => {
            let method = match (*outer, *left) {
                (true, _) => quote!(outer_join),
                (false, true) => quote!(left_join),
                (false, false) => quote!(join),
            };
            let other_check = quote_spanned! {table.span()=>
                #rt::__private::table_rows::<#row_key, #other_ty, _>(&#other)
            };
            quote! { .#method(#other_check, #joiner, #materialized) }
        }
    };
    x.statements.push(quote! {
        let #var = #rows_check #join.to_stream();
    });
    let key_ty: Type = upstream
        .output
        .as_ref()
        .and_then(|o| o.key.clone())
        .unwrap_or_else(|| syn::parse_quote!(()));
    x.store(&result_store, &key_ty, output, StoreLayout::KeyValue, false, true);
    let output = Output {
        key: Some(key_ty),
        value: Some(output.clone()),
    };
    x.emits(i, output, false);
}

/// A stream joined with a global table, another stream or a table.
fn stream(x: &mut Expansion<'_>, i: usize, node: &Node, upstream: &Upstream) {
    let rt = x.rt();
    let NodeKind::Join {
        table,
        window,
        key,
        value,
        table_value,
        left,
        outer,
        global_key,
        output,
        ..
    } = &node.kind
    else {
        unreachable!("join::stream on a join");
    };
    let var = node_var(&node.name);
    let input = edge_input(x.rt(), node, x.nodes(), key.as_ref(), value);
    let table_var = node_var(table);
    let name = &node.name;
    let table_ty = &table_value.ty;
    let key_arg = key.as_ref().map(|k| {
        if k.by_ref {
            quote!(k,)
        } else {
            quote!(::core::clone::Clone::clone(k),)
        }
    });
    let k = if key.is_some() { quote!(k) } else { quote!(_) };
    // A table lookup: `join`/`left_join` (or `..._global`) with the table value `t`.
    let lookup = |method: TokenStream, global_method: TokenStream| match (*left, table_value.by_ref) {
        (false, true) => (method, quote!(t)),
        (false, false) => (method, quote!(::core::clone::Clone::clone(t))),
        (true, true) => (global_method, quote!(t)),
        (true, false) => (global_method, quote!(t.cloned())),
    };
    let value_arg = joiner_arg(value.by_ref, false, quote!(v));
    if let Some(key_fn) = global_key {
        // Stream-global: the key function's output is the global table's key.
        let (method, table_arg) = lookup(quote!(join_global), quote!(left_join_global));
        let key_ty = key.as_ref().map_or_else(
            || quote!(_),
            |k| {
                let ty = &k.ty;
                quote!(#ty)
            },
        );
        let value_ty = &value.ty;
        let mapper = quote_spanned! {syn::spanned::Spanned::span(key_fn)=>
            move |k: &#key_ty, v: &#value_ty| #key_fn(k, v)
        };
        x.statements.push(quote! {
            let #var = {
                let __in = #input;
                __in.#method(&#table_var, #mapper, move |#k, v, t| -> #output { #name(#key_arg #value_arg, #table_arg) })
            };
        });
    } else if let Some(window) = window {
        // Stream-stream: `v`/`o` are `&V`/`&V2`, or `Option<&..>` on an outer side.
        let value_arg = joiner_arg(value.by_ref, *outer, quote!(v));
        let other_arg = joiner_arg(table_value.by_ref, *left, quote!(o));
        let method = match (*outer, *left) {
            (true, _) => quote!(outer_join_stream),
            (false, true) => quote!(left_join_stream),
            (false, false) => quote!(join_stream),
        };
        let other = quote_spanned! {table.span()=>
            #rt::__private::edge::<_, #table_ty, _>(&#table_var)
        };
        let (within, grace) = (window.within_ms, window.grace_ms);
        let join_name = name.to_string().replace('_', "-");
        x.statements.push(quote! {
            let #var = {
                let __in = #input;
                __in.#method(
                    #other,
                    #rt::window::JoinWindows::of(::std::time::Duration::from_millis(#within))
                        .grace(::std::time::Duration::from_millis(#grace)),
                    #join_name,
                    move |#k, v, o| -> #output { #name(#key_arg #value_arg, #other_arg) },
                )
            };
        });
    } else {
        let join_check = quote_spanned! {table.span()=>
            #rt::__private::join_table::<_, _, #table_ty, _>(&__in, &#table_var)
        };
        let (method, table_arg) = lookup(quote!(join), quote!(left_join));
        x.statements.push(quote! {
            let #var = {
                let __in = #input;
                let __table = #join_check;
                __in.#method(__table, move |#k, v, t| -> #output { #name(#key_arg #value_arg, #table_arg) })
            };
        });
    }
    let key_ty = key
        .as_ref()
        .map(|k| k.ty.clone())
        .or_else(|| upstream.output.as_ref().and_then(|o| o.key.clone()));
    let output = Output {
        key: key_ty,
        value: Some(output.clone()),
    };
    x.emits(i, output, false);
}
