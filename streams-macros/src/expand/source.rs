//! `#[source]` (a stream from a topic, maybe transformed) and `#[table]` (a table, or a
//! global table, from a topic).

use quote::quote;

use super::Expansion;
use super::calls::stateless_op;
use super::codecs::{codecs, consumed};
use super::edges::{Output, node_var, shaped_output};
use super::stores::{StoreLayout, materialized};
use crate::model::{Node, NodeKind};

pub(super) fn expand(x: &mut Expansion<'_>, i: usize, node: &Node) {
    let var = node_var(&node.name);
    match &node.kind {
        NodeKind::Source {
            topic,
            formats,
            timestamp,
            key,
            value,
            transform,
        } => {
            x.items.source_topic(topic);
            let (key_codec, value_codec) = codecs(x.rt(), formats, topic, Some(key), Some(value));
            let consumed = consumed(x.rt(), key, value, &key_codec, &value_codec, timestamp.as_ref());
            let source = quote! { __builder.stream_with::<#key, #value>(#topic, #consumed) };
            let read = Output {
                key: Some(key.clone()),
                value: Some(value.clone()),
            };
            let (expr, output) = match transform {
                None => (source, read),
                Some(f) => {
                    let op = stateless_op(&node.name, f);
                    (quote! { #source #op }, shaped_output(f, &read))
                }
            };
            x.statements.push(quote! { let #var = #expr; });
            x.emits(i, output, transform.as_ref().is_some_and(|f| f.shape.rekeys()));
        }
        NodeKind::Table {
            topic,
            store,
            formats,
            key,
            value,
            global,
        } => {
            x.items.source_topic(topic);
            let (key_codec, value_codec) = codecs(x.rt(), formats, topic, Some(key), Some(value));
            let consumed = consumed(x.rt(), key, value, &key_codec, &value_codec, None);
            if *global {
                let name = &store.name;
                x.statements.push(quote! {
                    let #var = __builder.global_table_with::<#key, #value>(#topic, #consumed, #name);
                });
            } else {
                let materialized = materialized(x.rt(), store);
                x.statements.push(quote! {
                    let #var = __builder.table_with::<#key, #value>(#topic, #consumed, #materialized);
                });
            }
            // A global table is readable locally (every instance has all of it), not served.
            x.store(store, key, value, StoreLayout::KeyValue, false, !*global);
            let output = Output {
                key: Some(key.clone()),
                value: Some(value.clone()),
            };
            x.emits(i, output, false);
        }
        _ => unreachable!("source::expand on a source or table"),
    }
}
