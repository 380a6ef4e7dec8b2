//! `#[sink]`: a node's output (a stream, or a table's updates), maybe transformed, to a topic.

use quote::quote;

use super::calls::stateless_op;
use super::codecs::codecs;
use super::edges::{edge_input, output_of, table_input};
use super::{Expansion, Upstream};
use crate::model::{Node, NodeKind};

pub(super) fn expand(x: &mut Expansion<'_>, node: &Node, upstream: &Upstream) {
    let NodeKind::Sink {
        topic,
        formats,
        transform,
    } = &node.kind
    else {
        unreachable!("sink::expand on a sink");
    };
    x.items.sink_topic(topic);
    let input = if upstream.reads_table {
        // A table's updates, deletes included (value-mapping sinks pass them on).
        let table = table_input(x.rt(), node, transform);
        quote! { #table.to_stream() }
    } else {
        edge_input(x.rt(), node, x.nodes(), transform.key.as_ref(), &transform.value)
    };
    let op = stateless_op(&node.name, transform);
    let out = output_of(transform, upstream.output.as_ref());
    let (key_codec, value_codec) = codecs(x.rt(), formats, topic, out.key.as_ref(), out.value.as_ref());
    x.statements.push(quote! {
        {
            let __in = #input;
            __in #op .to_with(#topic, #key_codec, #value_codec);
        }
    });
}
