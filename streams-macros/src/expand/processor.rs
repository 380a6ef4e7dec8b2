//! `#[processor]`: a hand-written `Processor` over its input streams, with the stores it uses.

use quote::{format_ident, quote, quote_spanned};
use syn::Type;

use super::edges::{Output, node_var};
use super::stores::{StoreLayout, materialized};
use super::{Expansion, Upstream};
use crate::model::{Node, ProcessorStore};

pub(super) fn expand(
    x: &mut Expansion<'_>,
    i: usize,
    node: &Node,
    processor: &Type,
    stores: &[ProcessorStore],
    upstream: &Upstream,
) {
    let rt = x.rt();
    let var = node_var(&node.name);
    let mut inputs = node.from.iter().map(|upstream| {
        let upstream_var = node_var(upstream);
        quote_spanned! {upstream.span()=> #rt::__private::edge::<_, _, _>(&#upstream_var) }
    });
    let first = inputs.next().unwrap_or_default();
    let input = inputs.fold(first, |acc, next| quote! { #acc.merge(#next) });
    let mut builders = Vec::new();
    for s in stores {
        let (key, value) = (&s.key, &s.value);
        let materialized = materialized(x.rt(), &s.store);
        builders.push(match s.window {
            None => {
                quote! { #rt::topology::Stores::key_value::<#key, #value>(#materialized) }
            }
            Some((size_ms, retention_ms)) => quote! {
                #rt::topology::Stores::window::<#key, #value>(
                    #materialized,
                    ::std::time::Duration::from_millis(#size_ms),
                    ::std::time::Duration::from_millis(#retention_ms),
                )
            },
        });
        let layout = s
            .window
            .map_or(StoreLayout::KeyValue, |(size_ms, _)| StoreLayout::Window(size_ms));
        x.store(&s.store, key, value, layout, false, true);
    }
    let supplier = quote_spanned! {syn::spanned::Spanned::span(processor)=>
        <#processor as ::core::default::Default>::default
    };
    x.statements.push(quote! {
        let #var = {
            let __in = #input;
            __in.process(#supplier, [#(#builders),*])
        };
    });
    // What it forwards, where its input types are known.
    let output = upstream.output.as_ref().and_then(|o| {
        let (k, v) = (o.key.as_ref()?, o.value.as_ref()?);
        let projection = |item: &str| -> Type {
            let item = format_ident!("{item}");
            syn::parse_quote!(<#processor as #rt::processor::Processor<#k, #v>>::#item)
        };
        Some(Output {
            key: Some(projection("KeyOut")),
            value: Some(projection("ValueOut")),
        })
    });
    x.outputs[i] = output;
    // Its output keys are its own: whatever aggregates them reads through a repartition topic.
    x.rekeyed[i] = true;
}
