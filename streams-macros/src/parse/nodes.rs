//! Items as nodes: a type alias (`#[source]`, `#[table]`, `#[processor]`) or a function, with
//! its role attribute, its `#[from(..)]` inputs and its signature.

use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, FnArg, Ident, ItemFn, ItemType, LitStr, ReturnType, Token, Type};

use crate::model::{JoinWindowDef, Node, NodeKind, Param, Regroup, Shape, Store, Window};

use super::args::{
    parse_branch_args, parse_join_args, parse_processor_args, parse_repartition_args, parse_sink_args,
    parse_source_args, parse_store_args, parse_table_args, parse_to_table_args,
};
use super::errors::Errors;
use super::signature::{param, params, single_generic, stateless};
use super::window::parse_window;
use super::{attr_name, attr_span, find, is_from_attribute, node_attributes};

pub(super) fn parse_type_alias(item: &ItemType, errors: &mut Errors) -> Option<Node> {
    let attrs = node_attributes(&item.attrs);
    let first = attrs.first()?;
    for extra in attrs.iter().skip(1) {
        errors.at(
            attr_span(extra),
            "a source, table or processor declaration takes exactly one node attribute",
        );
    }
    if attr_name(first).as_deref() == Some("processor") {
        let (from, stores) = parse_processor_args(first, errors)?;
        if from.is_empty() {
            errors.at(
                attr_span(first),
                "a processor reads a stream: add `from = node` to `#[processor(..)]`",
            );
            return None;
        }
        return Some(Node {
            name: item.ident.clone(),
            kind: NodeKind::Processor {
                processor: (*item.ty).clone(),
                stores,
            },
            from,
        });
    }
    let Type::Tuple(tuple) = &*item.ty else {
        errors.at(
            item.ty.span(),
            "declare a source or table as `type Name = (Key, Value);`",
        );
        return None;
    };
    if tuple.elems.len() != 2 {
        errors.at(
            item.ty.span(),
            "declare a source or table as `type Name = (Key, Value);`",
        );
        return None;
    }
    let key = tuple.elems[0].clone();
    let value = tuple.elems[1].clone();
    let name = item.ident.clone();
    let kind = match attr_name(first).as_deref() {
        Some("source") => {
            let args = parse_source_args(first, errors)?;
            NodeKind::Source {
                topic: args.topic,
                formats: args.formats,
                timestamp: args.timestamp,
                key,
                value,
                transform: None,
            }
        }
        Some("table") => {
            let (topic, store, formats, global) = parse_table_args(first, errors)?;
            NodeKind::Table {
                topic,
                store,
                formats,
                key,
                value,
                global,
            }
        }
        _ => {
            errors.at(
                attr_span(first),
                "only `#[source]`, `#[table]` and `#[processor]` go on a type declaration; the other node attributes go \
                 on functions",
            );
            return None;
        }
    };
    Some(Node {
        name,
        kind,
        from: Vec::new(),
    })
}

pub(super) fn parse_fn(item: &ItemFn, errors: &mut Errors) -> Option<Node> {
    let attrs = node_attributes(&item.attrs);
    let from_params = from_attributes(item, errors);
    if attrs.is_empty() && from_params.is_none() {
        return None; // a helper function, not a node
    }
    let name = item.sig.ident.clone();
    if let Some(asyncness) = &item.sig.asyncness {
        errors.at(
            asyncness.span(),
            "node functions run on the stream thread and cannot be `async`",
        );
        return None;
    }
    if !item.sig.generics.params.is_empty() {
        errors.at(
            item.sig.generics.span(),
            "node functions cannot be generic: every edge of a topology has concrete key and value types",
        );
        return None;
    }
    if let Some(FnArg::Receiver(receiver)) = item.sig.inputs.first() {
        errors.at(receiver.span(), "node functions are free functions; remove `self`");
        return None;
    }
    let role = |n: &str| find(&attrs, n);
    let roles: Vec<&Attribute> = ["source", "table", "sink", "join", "state_store"]
        .iter()
        .filter_map(|r| role(r))
        .collect();
    if roles.len() > 1 {
        errors.at(
            attr_span(roles[1]),
            "a node has one role: `#[source]`, `#[sink]`, `#[join]` or `#[state_store]` (with `#[windowed]`)",
        );
        return None;
    }
    let params = params(item, errors)?;
    let mut from = from_params.unwrap_or_default();
    if let Some(table) = role("table") {
        if from.is_empty() {
            errors.at(
                attr_span(table),
                "`#[table]` goes on a declaration `type Name = (Key, Value);` (a table of a topic), or on a \
                 function with `#[from(..)]` (its output as a table)",
            );
            return None;
        }
        let store = parse_to_table_args(table, errors)?;
        let transform = stateless(item, &params, "a table function", errors)?;
        return Some(Node {
            name,
            kind: NodeKind::ToTable { store, transform },
            from,
        });
    }

    let kind = if let Some(source) = role("source") {
        if !from.is_empty() {
            errors.at(from[0].span(), "a source reads a topic; it has no `from` node");
        }
        let args = parse_source_args(source, errors)?;
        let transform = stateless(item, &params, "a source function", errors)?;
        let key = transform
            .key
            .as_ref()
            .map_or_else(|| syn::parse_quote!(::std::vec::Vec<u8>), |k| k.ty.clone());
        let value = transform.value.ty.clone();
        NodeKind::Source {
            topic: args.topic,
            formats: args.formats,
            timestamp: args.timestamp,
            key,
            value,
            transform: Some(transform),
        }
    } else if let Some(sink) = role("sink") {
        let (topic, formats, attr_from) = parse_sink_args(sink, errors)?;
        merge_from(&mut from, attr_from, errors);
        NodeKind::Sink {
            topic,
            formats,
            transform: stateless(item, &params, "a sink function", errors)?,
        }
    } else if let Some(join) = role("join") {
        let (partner, attr_from) = parse_join_args(join, errors)?;
        merge_from(&mut from, attr_from, errors);
        parse_join(item, &params, partner, errors)?
    } else if let Some(store_attr) = role("state_store") {
        let (store, regroup) = parse_store_args(store_attr, errors)?;
        let window = role("windowed").and_then(|w| parse_window(w, errors));
        if let (Some(_), Some(windowed)) = (&regroup, role("windowed")) {
            errors.at(
                attr_span(windowed),
                "a table aggregation (`group_by` + `subtract`) is not windowed: a table holds the latest row per key",
            );
            return None;
        }
        parse_aggregate(item, &params, store, window, role("windowed"), regroup, errors)?
    } else if let Some(windowed) = role("windowed") {
        errors.at(
            attr_span(windowed),
            "`#[windowed]` marks a windowed aggregation: add `#[state_store(name = \"...\")]` and take \
             `(key: &K, value: &V, aggregate: &mut A)`",
        );
        return None;
    } else {
        let mut transform = stateless(item, &params, "a node function", errors)?;
        if let Some(attr) = role("repartition") {
            transform.repartition = Some(parse_repartition_args(attr, errors)?);
        }
        if let Some(attr) = role("branch") {
            if !matches!(transform.shape, Shape::Filter) || transform.fallible || transform.repartition.is_some() {
                errors.at(
                    attr_span(attr),
                    "a branch is a predicate: `fn([key: &K,] value: &V) -> bool` (records it accepts, and no \
                     earlier branch of the split took, go to it)",
                );
                return None;
            }
            transform.split = Some(parse_branch_args(attr, errors)?);
        }
        NodeKind::Transform(transform)
    };
    if let Some(attr) = role("branch")
        && !matches!(kind, NodeKind::Transform(_))
    {
        errors.at(
            attr_span(attr),
            "`#[branch(split = \"..\")]` goes on a predicate function reading a stream (`#[from(..)]`, no other role)",
        );
        return None;
    }
    if let Some(attr) = role("repartition")
        && !matches!(kind, NodeKind::Transform(_))
    {
        errors.at(
            attr_span(attr),
            "`#[repartition]` goes on a transform function (a node with `#[from(..)]` and no other role): its \
             output is written to a repartition topic and read back, partitioned by its key",
        );
        return None;
    }
    if !matches!(kind, NodeKind::Source { .. }) && from.is_empty() {
        errors.at(
            name.span(),
            format!("node `{name}` has no input: mark its first parameter `#[from(upstream_node)]`"),
        );
        return None;
    }
    Some(Node { name, kind, from })
}

pub(super) fn merge_from(from: &mut Vec<Ident>, attr_from: Vec<Ident>, errors: &mut Errors) {
    if !from.is_empty() && !attr_from.is_empty() {
        errors.at(
            attr_from[0].span(),
            "the input is given twice: use either `from = ..` or `#[from(..)]` on the first parameter",
        );
    }
    from.extend(attr_from);
}

/// The nodes `#[from(a, b)]` on the first parameter lists, if any.
pub(super) fn from_attributes(item: &ItemFn, errors: &mut Errors) -> Option<Vec<Ident>> {
    let mut found: Option<Vec<Ident>> = None;
    for (index, input) in item.sig.inputs.iter().enumerate() {
        let FnArg::Typed(pat) = input else { continue };
        for attr in pat.attrs.iter().filter(|a| is_from_attribute(a)) {
            if index != 0 {
                errors.at(attr_span(attr), "`#[from(..)]` goes on the first parameter");
                continue;
            }
            match attr.parse_args_with(Punctuated::<Ident, Token![,]>::parse_terminated) {
                Ok(list) if !list.is_empty() => found.get_or_insert_with(Vec::new).extend(list),
                Ok(_) => errors.at(
                    attr_span(attr),
                    "`#[from(..)]` names the upstream node, e.g. `#[from(user_clicks)]`",
                ),
                Err(e) => errors.push(e),
            }
        }
    }
    found
}

pub(super) fn parse_aggregate(
    item: &ItemFn,
    params: &[(Param, bool)],
    store: Store,
    window: Option<Window>,
    windowed_attr: Option<&Attribute>,
    regroup: Option<Regroup>,
    errors: &mut Errors,
) -> Option<NodeKind> {
    let [(key, false), (value, false), (aggregate, true)] = params else {
        let span = windowed_attr.map_or_else(|| item.sig.ident.span(), attr_span);
        let what = if windowed_attr.is_some() {
            "`#[windowed]` aggregates"
        } else {
            "a `#[state_store]` aggregation"
        };
        errors.at(
            span,
            format!(
                "{what}: the function must take `(key: &K, value: &V, aggregate: &mut A)` and update `aggregate` \
                 (it starts from `A::default()`)"
            ),
        );
        return None;
    };
    if let ReturnType::Type(_, ty) = &item.sig.output {
        errors.at(
            ty.span(),
            "an aggregation updates its `&mut` aggregate parameter and returns nothing",
        );
        return None;
    }
    Some(NodeKind::Aggregate {
        store,
        window,
        key: key.clone(),
        value: value.clone(),
        aggregate: aggregate.ty.clone(),
        regroup,
    })
}

/// What a `#[join]` reads besides its input: a table, a stream (with a window) or a global table
/// (with a key function).
pub(super) struct JoinPartner {
    pub(super) node: Ident,
    pub(super) window: Option<JoinWindowDef>,
    pub(super) global_key: Option<syn::Path>,
    pub(super) foreign_key: Option<syn::Path>,
    pub(super) store: Option<LitStr>,
}

pub(super) fn parse_join(
    item: &ItemFn,
    params: &[(Param, bool)],
    partner: JoinPartner,
    errors: &mut Errors,
) -> Option<NodeKind> {
    let JoinPartner {
        node: table,
        window,
        global_key,
        foreign_key,
        store,
    } = partner;
    let (key, value, table_param) = match params {
        [(value, false), (t, false)] => (None, value.clone(), t.clone()),
        [(key, false), (value, false), (t, false)] => (Some(key.clone()), value.clone(), t.clone()),
        _ => {
            errors.at(
                item.sig.ident.span(),
                if window.is_some() {
                    "a stream join takes `([key: &K,] value: &V, other: &V2)` (inner), `(.., other: Option<&V2>)` \
                     (left) or `(.., value: Option<&V>, other: Option<&V2>)` (outer)"
                } else {
                    "a join takes `([key: &K,] value: &V, table_value: &T)` (inner join) or \
                     `(.., table_value: Option<&T>)` (left join); a join of two tables also \
                     `(value: Option<&V>, other: Option<&T>)` (outer join)"
                },
            );
            return None;
        }
    };
    let unwrap_option = |p: &Param| {
        single_generic(&p.ty, "Option").map(|inner| {
            let (inner, _) = param(&inner);
            Param { span: p.span, ..inner }
        })
    };
    let (table_value, left) = match unwrap_option(&table_param) {
        Some(inner) => (inner, true),
        None => (table_param, false),
    };
    // Whether an outer join fits its partners is checked with the whole topology (validate).
    let (value, outer) = match unwrap_option(&value) {
        Some(inner) if global_key.is_none() => {
            if !left {
                errors.at(
                    value.span,
                    "an outer join takes both values as `Option`: `(value: Option<&V>, other: Option<&V2>)`",
                );
                return None;
            }
            (inner, true)
        }
        _ => (value, false),
    };
    let ReturnType::Type(_, output) = &item.sig.output else {
        errors.at(item.sig.ident.span(), "a join returns the joined value");
        return None;
    };
    Some(NodeKind::Join {
        table,
        window,
        key,
        value,
        table_value,
        left,
        outer,
        global_key,
        foreign_key,
        store,
        output: (**output).clone(),
    })
}
