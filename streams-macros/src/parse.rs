//! Reading a `#[topology]` module: node attributes and function signatures → [`TopologyDef`].
//!
//! Node attributes are removed from the items, which are otherwise emitted unchanged, so the
//! user's functions stay ordinary Rust functions (callable and testable on their own).

use proc_macro2::Span;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    Attribute, Expr, FnArg, GenericArgument, Ident, Item, ItemFn, ItemType, LitBool, LitStr, PathArguments, ReturnType,
    Token, Type,
};

use crate::duration::{parse_duration, parse_positive_duration};
use crate::model::{
    ErrorPolicyDef, Format, Formats, JoinWindowDef, Node, NodeKind, Param, ProcessorStore, Regroup, Shape, StatelessFn,
    Store, TopologyDef, Window, WindowKind,
};

/// The attributes that make an item a node; `from` goes on parameters.
const NODE_ATTRIBUTES: &[&str] = &[
    "source",
    "table",
    "sink",
    "windowed",
    "state_store",
    "join",
    "processor",
    "repartition",
    "branch",
];

/// Collects errors so one compilation reports every mistake, not just the first.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn at(&mut self, span: Span, message: impl std::fmt::Display) {
        self.push(syn::Error::new(span, message));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    pub(crate) fn into_result(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// `#[topology(application_id = "..", on_error = "..", dead_letter_topic = "..")]`'s arguments.
pub(crate) fn parse_topology_args(args: proc_macro2::TokenStream) -> syn::Result<(LitStr, ErrorPolicyDef)> {
    let mut application_id = None;
    let mut on_error: Option<LitStr> = None;
    let mut dead_letter_topic: Option<LitStr> = None;
    let parser = syn::meta::parser(|meta| {
        let slot = if meta.path.is_ident("application_id") {
            &mut application_id
        } else if meta.path.is_ident("on_error") {
            &mut on_error
        } else if meta.path.is_ident("dead_letter_topic") {
            &mut dead_letter_topic
        } else {
            return Err(meta.error(
                "unknown `#[topology]` argument; expected `application_id = \"...\"`, `on_error = \"...\"` or \
                 `dead_letter_topic = \"...\"`",
            ));
        };
        *slot = Some(meta.value()?.parse::<LitStr>()?);
        Ok(())
    });
    syn::parse::Parser::parse2(parser, args)?;
    let application_id = application_id.ok_or_else(|| {
        syn::Error::new(
            Span::call_site(),
            "`#[topology]` needs `application_id = \"...\"`: it names the consumer group and prefixes internal topics",
        )
    })?;
    if let Some(problem) = streams_naming::topic_name_problem(&application_id.value()) {
        return Err(syn::Error::new(
            application_id.span(),
            format!("`application_id` prefixes internal topic names, but {problem}"),
        ));
    }
    let policy = match (on_error.as_ref().map(LitStr::value).as_deref(), dead_letter_topic) {
        (None | Some("dead_letter"), Some(topic)) => {
            if let Some(problem) = streams_naming::topic_name_problem(&topic.value()) {
                return Err(syn::Error::new(topic.span(), format!("`dead_letter_topic`: {problem}")));
            }
            ErrorPolicyDef::DeadLetter(topic)
        }
        (Some("dead_letter"), None) => {
            return Err(syn::Error::new(
                on_error.as_ref().map_or_else(Span::call_site, LitStr::span),
                "`on_error = \"dead_letter\"` needs `dead_letter_topic = \"...\"`",
            ));
        }
        (None | Some("continue"), None) => ErrorPolicyDef::Continue,
        (Some("fail"), None) => ErrorPolicyDef::Fail,
        (Some("continue" | "fail"), Some(topic)) => {
            return Err(syn::Error::new(
                topic.span(),
                "`dead_letter_topic` is used only with `on_error = \"dead_letter\"` (or without `on_error`)",
            ));
        }
        (Some(other), _) => {
            return Err(syn::Error::new(
                on_error.as_ref().map_or_else(Span::call_site, LitStr::span),
                format!(
                    "unknown `on_error` policy `{other}`; use `\"continue\"` (log and skip, the default), `\"fail\"` \
                     (stop at the record) or `\"dead_letter\"` (skip, and send it to `dead_letter_topic`)"
                ),
            ));
        }
    };
    Ok((application_id, policy))
}

/// Parses the module's items, strips node attributes from them and returns the topology.
pub(crate) fn parse_items(application_id: LitStr, items: &mut [Item], errors: &mut Errors) -> TopologyDef {
    let mut nodes = Vec::new();
    for item in items.iter() {
        if let Some(ident) = item_ident(item)
            && RESERVED.contains(&ident.to_string().as_str())
        {
            errors.at(
                ident.span(),
                format!("`{ident}` is generated by `#[topology]` in this module; rename this item"),
            );
        }
    }
    for item in items.iter_mut() {
        let node = match item {
            Item::Fn(f) => parse_fn(f, errors),
            Item::Type(t) => parse_type_alias(t, errors),
            other => {
                if let Some(attrs) = item_attrs(other) {
                    for attr in attrs.iter().filter(|a| is_node_attribute(a)) {
                        errors.at(
                            attr_span(attr),
                            "node attributes go on functions (or, for `#[source]` and `#[table]`, on `type Name = (Key, Value);`)",
                        );
                    }
                }
                None
            }
        };
        nodes.extend(node);
    }
    TopologyDef {
        application_id,
        error_policy: ErrorPolicyDef::default(),
        nodes,
    }
}

/// Names the expansion defines in the module.
const RESERVED: &[&str] = &[
    "APPLICATION_ID",
    "Client",
    "topology",
    "describe",
    "app",
    "topics",
    "stores",
];

fn item_ident(item: &Item) -> Option<&Ident> {
    match item {
        Item::Fn(i) => Some(&i.sig.ident),
        Item::Type(i) => Some(&i.ident),
        Item::Struct(i) => Some(&i.ident),
        Item::Enum(i) => Some(&i.ident),
        Item::Const(i) => Some(&i.ident),
        Item::Static(i) => Some(&i.ident),
        Item::Mod(i) => Some(&i.ident),
        Item::Trait(i) => Some(&i.ident),
        _ => None,
    }
}

fn item_attrs(item: &Item) -> Option<&Vec<Attribute>> {
    match item {
        Item::Struct(i) => Some(&i.attrs),
        Item::Enum(i) => Some(&i.attrs),
        Item::Const(i) => Some(&i.attrs),
        Item::Static(i) => Some(&i.attrs),
        Item::Mod(i) => Some(&i.attrs),
        Item::Impl(i) => Some(&i.attrs),
        Item::Use(i) => Some(&i.attrs),
        _ => None,
    }
}

/// Where to point at an attribute: its name (`windowed` in `#[windowed(..)]`).
fn attr_span(attr: &Attribute) -> Span {
    attr.path().span()
}

fn attr_name(attr: &Attribute) -> Option<String> {
    attr.path().get_ident().map(ToString::to_string)
}

fn is_node_attribute(attr: &Attribute) -> bool {
    attr_name(attr).is_some_and(|n| NODE_ATTRIBUTES.contains(&n.as_str()))
}

/// Removes and returns the node attributes of an item.
fn take_node_attributes(attrs: &mut Vec<Attribute>) -> Vec<Attribute> {
    let (ours, theirs): (Vec<_>, Vec<_>) = std::mem::take(attrs).into_iter().partition(is_node_attribute);
    *attrs = theirs;
    ours
}

fn find<'a>(attrs: &'a [Attribute], name: &str) -> Option<&'a Attribute> {
    attrs.iter().find(|a| attr_name(a).as_deref() == Some(name))
}

fn parse_type_alias(item: &mut ItemType, errors: &mut Errors) -> Option<Node> {
    let attrs = take_node_attributes(&mut item.attrs);
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

fn parse_fn(item: &mut ItemFn, errors: &mut Errors) -> Option<Node> {
    let attrs = take_node_attributes(&mut item.attrs);
    let from_params = take_from_attributes(item, errors);
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

fn merge_from(from: &mut Vec<Ident>, attr_from: Vec<Ident>, errors: &mut Errors) {
    if !from.is_empty() && !attr_from.is_empty() {
        errors.at(
            attr_from[0].span(),
            "the input is given twice: use either `from = ..` or `#[from(..)]` on the first parameter",
        );
    }
    from.extend(attr_from);
}

/// Removes `#[from(a, b)]` from the parameters; returns the listed nodes, if any.
fn take_from_attributes(item: &mut ItemFn, errors: &mut Errors) -> Option<Vec<Ident>> {
    let mut found: Option<Vec<Ident>> = None;
    for (index, input) in item.sig.inputs.iter_mut().enumerate() {
        let FnArg::Typed(pat) = input else { continue };
        let (ours, theirs): (Vec<_>, Vec<_>) = std::mem::take(&mut pat.attrs)
            .into_iter()
            .partition(|a| a.path().is_ident("from"));
        pat.attrs = theirs;
        for attr in ours {
            if index != 0 {
                errors.at(attr_span(&attr), "`#[from(..)]` goes on the first parameter");
                continue;
            }
            match attr.parse_args_with(Punctuated::<Ident, Token![,]>::parse_terminated) {
                Ok(list) if !list.is_empty() => found.get_or_insert_with(Vec::new).extend(list),
                Ok(_) => errors.at(
                    attr_span(&attr),
                    "`#[from(..)]` names the upstream node, e.g. `#[from(user_clicks)]`",
                ),
                Err(e) => errors.push(e),
            }
        }
    }
    found
}

fn params(item: &ItemFn, errors: &mut Errors) -> Option<Vec<(Param, bool)>> {
    let mut out = Vec::new();
    for input in &item.sig.inputs {
        let FnArg::Typed(pat) = input else {
            errors.at(input.span(), "node functions are free functions; remove `self`");
            return None;
        };
        out.push(param(&pat.ty));
    }
    Some(out)
}

/// A parameter's type with a leading `&`/`&mut` removed; the flag says `&mut`.
fn param(ty: &Type) -> (Param, bool) {
    match ty {
        Type::Reference(r) => (
            Param {
                ty: (*r.elem).clone(),
                by_ref: true,
                span: ty.span(),
            },
            r.mutability.is_some(),
        ),
        other => (
            Param {
                ty: other.clone(),
                by_ref: false,
                span: other.span(),
            },
            false,
        ),
    }
}

/// A stateless function: `(value)` or `(key, value)`, with its output shape.
fn stateless(item: &ItemFn, params: &[(Param, bool)], what: &str, errors: &mut Errors) -> Option<StatelessFn> {
    let (key, value) = match params {
        [(value, false)] => (None, value.clone()),
        [(key, false), (value, false)] => (Some(key.clone()), value.clone()),
        _ => {
            errors.at(
                item.sig.paren_token.span.join(),
                format!("{what} takes `(value)` or `(key, value)`, by value or by shared reference"),
            );
            return None;
        }
    };
    let (shape, fallible) = shape(&item.sig.output);
    Some(StatelessFn {
        key,
        value,
        shape,
        fallible,
        repartition: None,
        split: None,
    })
}

/// The operation a return type means, and whether it is wrapped in `Result<_, E>`.
fn shape(output: &ReturnType) -> (Shape, bool) {
    let ReturnType::Type(_, ty) = output else {
        return (Shape::Peek, false);
    };
    match result_ok_type(ty) {
        Some(ok) => (shape_of(&ok), true),
        None => (shape_of(ty), false),
    }
}

/// `T` of `Result<T, E>` (by the last path segment, two type arguments).
fn result_ok_type(ty: &Type) -> Option<Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match (args.args.len(), args.args.first()?) {
        (2, GenericArgument::Type(t)) => Some(t.clone()),
        _ => None,
    }
}

fn shape_of(ty: &Type) -> Shape {
    match ty {
        Type::Tuple(t) if t.elems.is_empty() => Shape::Peek,
        Type::Tuple(t) if t.elems.len() == 2 => Shape::KeyValue(t.elems[0].clone(), t.elems[1].clone()),
        Type::Path(p) if p.qself.is_none() && p.path.is_ident("bool") => Shape::Filter,
        other => {
            if let Some(inner) = single_generic(other, "Option") {
                match pair(&inner) {
                    Some((k, v)) => Shape::OptionKeyValue(k, v),
                    None => Shape::OptionValue(inner),
                }
            } else if let Some(inner) = single_generic(other, "Vec") {
                match pair(&inner) {
                    Some((k, v)) => Shape::ManyKeyValues(k, v),
                    None => Shape::ManyValues(inner),
                }
            } else {
                Shape::Value(other.clone())
            }
        }
    }
}

fn pair(ty: &Type) -> Option<(Type, Type)> {
    match ty {
        Type::Tuple(t) if t.elems.len() == 2 => Some((t.elems[0].clone(), t.elems[1].clone())),
        _ => None,
    }
}

/// `T` of `Wrapper<T>` (by the last path segment).
pub(crate) fn single_generic(ty: &Type, wrapper: &str) -> Option<Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != wrapper {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(t) if args.args.len() == 1 => Some(t.clone()),
        _ => None,
    }
}

fn parse_aggregate(
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
struct JoinPartner {
    node: Ident,
    window: Option<JoinWindowDef>,
    global_key: Option<syn::Path>,
    foreign_key: Option<syn::Path>,
    store: Option<LitStr>,
}

fn parse_join(item: &ItemFn, params: &[(Param, bool)], partner: JoinPartner, errors: &mut Errors) -> Option<NodeKind> {
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

struct SourceArgs {
    topic: LitStr,
    formats: Formats,
    timestamp: Option<Expr>,
}

fn parse_format(lit: &LitStr) -> syn::Result<Format> {
    match lit.value().as_str() {
        "json" => Ok(Format::Json),
        "utf8" => Ok(Format::Utf8),
        "binary" => Ok(Format::Binary),
        "bytes" => Ok(Format::Bytes),
        other => Err(syn::Error::new(
            lit.span(),
            format!("unknown format `{other}`; use \"json\", \"utf8\", \"binary\" or \"bytes\""),
        )),
    }
}

fn check_topic(lit: &LitStr, errors: &mut Errors) {
    if let Some(problem) = streams_naming::topic_name_problem(&lit.value()) {
        errors.at(lit.span(), format!("not a legal topic name: {problem}"));
    }
}

/// Runs `parse` over the attribute's arguments; a syntax error is recorded (`None`).
fn parse_args(
    attr: &Attribute,
    errors: &mut Errors,
    parse: impl FnMut(syn::meta::ParseNestedMeta<'_>) -> syn::Result<()>,
) -> Option<()> {
    attr.parse_nested_meta(parse).map_err(|e| errors.push(e)).ok()
}

/// Reads `key_format = ".."` / `value_format = ".."` into `formats`; `false` for other arguments.
fn parse_format_arg(meta: &syn::meta::ParseNestedMeta<'_>, formats: &mut Formats) -> syn::Result<bool> {
    let slot = if meta.path.is_ident("key_format") {
        &mut formats.key
    } else if meta.path.is_ident("value_format") {
        &mut formats.value
    } else {
        return Ok(false);
    };
    let lit = meta.value()?.parse::<LitStr>()?;
    *slot = Some((parse_format(&lit)?, lit.span()));
    Ok(true)
}

fn parse_source_args(attr: &Attribute, errors: &mut Errors) -> Option<SourceArgs> {
    let mut topic = None;
    let mut formats = Formats::default();
    let mut timestamp = None;
    let parsed = parse_args(attr, errors, |meta| {
        if parse_format_arg(&meta, &mut formats)? {
            return Ok(());
        }
        if meta.path.is_ident("topic") {
            topic = Some(meta.value()?.parse::<LitStr>()?);
        } else if meta.path.is_ident("timestamp") {
            timestamp = Some(meta.value()?.parse::<Expr>()?);
        } else {
            return Err(meta
                .error("unknown `#[source]` argument; expected `topic`, `key_format`, `value_format` or `timestamp`"));
        }
        Ok(())
    });
    parsed?;
    let Some(topic) = topic else {
        errors.at(attr_span(attr), "`#[source]` needs `topic = \"...\"`");
        return None;
    };
    check_topic(&topic, errors);
    Some(SourceArgs {
        topic,
        formats,
        timestamp,
    })
}

fn parse_sink_args(attr: &Attribute, errors: &mut Errors) -> Option<(LitStr, Formats, Vec<Ident>)> {
    let mut topic = None;
    let mut formats = Formats::default();
    let mut from = Vec::new();
    let parsed = parse_args(attr, errors, |meta| {
        if parse_format_arg(&meta, &mut formats)? {
            return Ok(());
        }
        if meta.path.is_ident("topic") {
            topic = Some(meta.value()?.parse::<LitStr>()?);
        } else if meta.path.is_ident("from") {
            from.push(meta.value()?.parse::<Ident>()?);
        } else {
            return Err(
                meta.error("unknown `#[sink]` argument; expected `topic`, `from`, `key_format` or `value_format`")
            );
        }
        Ok(())
    });
    parsed?;
    let Some(topic) = topic else {
        errors.at(attr_span(attr), "`#[sink]` needs `topic = \"...\"`");
        return None;
    };
    check_topic(&topic, errors);
    Some((topic, formats, from))
}

/// `#[join(table = T)]` or `#[join(stream = S, within = "10s", grace = "..")]`, plus `from`.
fn parse_join_args(attr: &Attribute, errors: &mut Errors) -> Option<(JoinPartner, Vec<Ident>)> {
    let mut table = None;
    let mut stream = None;
    let mut global = None;
    let mut key: Option<syn::Path> = None;
    let mut within: Option<u64> = None;
    let mut grace: Option<u64> = None;
    let mut foreign_key: Option<syn::Path> = None;
    let mut store: Option<LitStr> = None;
    let mut from = Vec::new();
    let parsed = parse_args(attr, errors, |meta| {
        if meta.path.is_ident("foreign_key") {
            foreign_key = Some(meta.value()?.parse::<syn::Path>()?);
        } else if meta.path.is_ident("store") {
            store = Some(meta.value()?.parse::<LitStr>()?);
        } else if meta.path.is_ident("table") {
            table = Some(meta.value()?.parse::<Ident>()?);
        } else if meta.path.is_ident("stream") {
            stream = Some(meta.value()?.parse::<Ident>()?);
        } else if meta.path.is_ident("global") {
            global = Some(meta.value()?.parse::<Ident>()?);
        } else if meta.path.is_ident("key") {
            key = Some(meta.value()?.parse::<syn::Path>()?);
        } else if meta.path.is_ident("within") {
            within = Some(parse_positive_duration(&meta.value()?.parse::<LitStr>()?)?);
        } else if meta.path.is_ident("grace") {
            grace = Some(parse_duration(&meta.value()?.parse::<LitStr>()?)?);
        } else if meta.path.is_ident("from") {
            from.push(meta.value()?.parse::<Ident>()?);
        } else {
            return Err(meta.error(
                "unknown `#[join]` argument; expected `table = node` (and, joining two tables, optional \
                 `foreign_key = fn` and `store = \"..\"`), `stream = node, within = \"..\"` (and optional \
                 `grace`), or `global = node, key = fn`, and optional `from = node`",
            ));
        }
        Ok(())
    });
    parsed?;
    if table.is_none()
        && let Some(span) = foreign_key
            .as_ref()
            .map(Spanned::span)
            .or_else(|| store.as_ref().map(LitStr::span))
    {
        errors.at(
            span,
            "`foreign_key` and `store` apply to a join of two tables: `#[join(table = ..)]` on a function reading a table",
        );
        return None;
    }
    if let Some(global) = global {
        if table.is_some() || stream.is_some() || within.is_some() || grace.is_some() {
            errors.at(
                attr_span(attr),
                "`#[join(global = ..)]` takes `key = fn` (and optional `from`) only",
            );
            return None;
        }
        let Some(key) = key else {
            errors.at(
                global.span(),
                "a global table is looked up by a key computed from each record: add `key = fn_name`, a \
                 `fn(&K, &V) -> GK` returning the global table's key",
            );
            return None;
        };
        return Some((
            JoinPartner {
                node: global,
                window: None,
                global_key: Some(key),
                foreign_key: None,
                store: None,
            },
            from,
        ));
    }
    if let Some(key) = &key {
        errors.at(key.span(), "`key` applies to `#[join(global = ..)]` only");
        return None;
    }
    match (table, stream, within) {
        (Some(table), None, None) if grace.is_none() => Some((
            JoinPartner {
                node: table,
                window: None,
                global_key: None,
                foreign_key,
                store,
            },
            from,
        )),
        (None, Some(stream), Some(within_ms)) => Some((
            JoinPartner {
                node: stream,
                window: Some(JoinWindowDef {
                    within_ms,
                    grace_ms: grace.unwrap_or(0),
                }),
                global_key: None,
                foreign_key: None,
                store: None,
            },
            from,
        )),
        (None, Some(_), None) => {
            errors.at(
                attr_span(attr),
                "a stream-stream join needs a window: `#[join(stream = .., within = \"10s\")]` (records at most that far apart join)",
            );
            None
        }
        (Some(_), _, _) => {
            errors.at(
                attr_span(attr),
                "`#[join]` takes either `table = ..` (stream-table) or `stream = .., within = ..` (stream-stream); \
                 `within` and `grace` apply to stream joins only",
            );
            None
        }
        (None, None, _) => {
            errors.at(
                attr_span(attr),
                "`#[join]` needs `table = <a #[table] node>` or `stream = <a stream node>, within = \"..\"`",
            );
            None
        }
    }
}

/// `#[table(store = "..")]` on a function: only the store (the input is the function's).
fn parse_to_table_args(attr: &Attribute, errors: &mut Errors) -> Option<Store> {
    let mut name = None;
    let mut in_memory = false;
    let parsed = parse_args(attr, errors, |meta| {
        if meta.path.is_ident("store") {
            name = Some(meta.value()?.parse::<LitStr>()?);
        } else if meta.path.is_ident("in_memory") {
            in_memory = true;
        } else {
            return Err(meta.error(
                "a table made of a node's output takes `store = \"..\"` (and optional `in_memory`); a table of a \
                 topic is declared on `type Name = (Key, Value);`",
            ));
        }
        Ok(())
    });
    parsed?;
    let Some(name) = name else {
        errors.at(attr_span(attr), "`#[table]` needs `store = \"...\"`");
        return None;
    };
    Some(Store {
        name,
        in_memory,
        logged: true,
    })
}

/// `#[branch(split = "name")]`.
fn parse_branch_args(attr: &Attribute, errors: &mut Errors) -> Option<LitStr> {
    let mut split = None;
    let parsed = parse_args(attr, errors, |meta| {
        if meta.path.is_ident("split") {
            split = Some(meta.value()?.parse::<LitStr>()?);
            Ok(())
        } else {
            Err(meta.error("unknown `#[branch]` argument; expected `split = \"name\"`"))
        }
    });
    parsed?;
    if split.is_none() {
        errors.at(
            attr_span(attr),
            "`#[branch]` names its split: `#[branch(split = \"by_size\")]` (branches of one split share it)",
        );
    }
    split
}

/// `#[repartition]` or `#[repartition(partitions = n)]`.
fn parse_repartition_args(attr: &Attribute, errors: &mut Errors) -> Option<Option<i32>> {
    if matches!(attr.meta, syn::Meta::Path(_)) {
        return Some(None);
    }
    let mut partitions = None;
    let parsed = parse_args(attr, errors, |meta| {
        if meta.path.is_ident("partitions") {
            let lit = meta.value()?.parse::<syn::LitInt>()?;
            let n: i32 = lit.base10_parse()?;
            if n < 1 {
                return Err(syn::Error::new(lit.span(), "a topic has at least 1 partition"));
            }
            partitions = Some(n);
            Ok(())
        } else {
            Err(meta.error("unknown `#[repartition]` argument; expected `partitions = n`"))
        }
    });
    parsed?;
    Some(partitions)
}

/// `#[processor(from = a, from = b, stores(key_value(..), window(..)))]`.
fn parse_processor_args(attr: &Attribute, errors: &mut Errors) -> Option<(Vec<Ident>, Vec<ProcessorStore>)> {
    let mut from = Vec::new();
    let mut stores = Vec::new();
    let parsed = parse_args(attr, errors, |meta| {
        if meta.path.is_ident("from") {
            from.push(meta.value()?.parse::<Ident>()?);
            return Ok(());
        }
        if !meta.path.is_ident("stores") {
            return Err(meta.error("unknown `#[processor]` argument; expected `from = node` and `stores(..)`"));
        }
        meta.parse_nested_meta(|store| {
            let window = if store.path.is_ident("window") {
                true
            } else if store.path.is_ident("key_value") {
                false
            } else {
                return Err(store.error(
                    "a processor's store is `key_value(name = \"..\", key = K, value = V)` or \
                     `window(name = \"..\", key = K, value = V, size = \"..\", retention = \"..\")`",
                ));
            };
            let (mut name, mut key, mut value, mut size, mut retention) = (None, None, None, None, None);
            let kind_span = store.path.span();
            store.parse_nested_meta(|arg| {
                if arg.path.is_ident("name") {
                    name = Some(arg.value()?.parse::<LitStr>()?);
                } else if arg.path.is_ident("key") {
                    key = Some(arg.value()?.parse::<Type>()?);
                } else if arg.path.is_ident("value") {
                    value = Some(arg.value()?.parse::<Type>()?);
                } else if window && arg.path.is_ident("size") {
                    size = Some(parse_positive_duration(&arg.value()?.parse::<LitStr>()?)?);
                } else if window && arg.path.is_ident("retention") {
                    retention = Some(parse_positive_duration(&arg.value()?.parse::<LitStr>()?)?);
                } else {
                    return Err(arg.error(if window {
                        "a window store takes `name`, `key`, `value`, `size` and `retention`"
                    } else {
                        "a key-value store takes `name`, `key` and `value`"
                    }));
                }
                Ok(())
            })?;
            let (Some(name), Some(key), Some(value)) = (name, key, value) else {
                return Err(syn::Error::new(
                    kind_span,
                    "a processor's store needs `name = \"..\"`, `key = Type` and `value = Type`",
                ));
            };
            let window = match (window, size, retention) {
                (false, ..) => None,
                (true, Some(size), retention) => Some((size, retention.unwrap_or(size).max(size))),
                (true, None, _) => {
                    return Err(syn::Error::new(kind_span, "a window store needs `size = \"..\"`"));
                }
            };
            stores.push(ProcessorStore {
                store: Store {
                    name,
                    in_memory: false,
                    logged: true,
                },
                key,
                value,
                window,
            });
            Ok(())
        })
    });
    parsed?;
    Some((from, stores))
}

fn parse_store_args(attr: &Attribute, errors: &mut Errors) -> Option<(Store, Option<Regroup>)> {
    let mut name = None;
    let mut in_memory = false;
    let mut logged = true;
    let mut group_by: Option<syn::Path> = None;
    let mut subtract: Option<syn::Path> = None;
    let parsed = parse_args(attr, errors, |meta| {
        if meta.path.is_ident("group_by") {
            group_by = Some(meta.value()?.parse::<syn::Path>()?);
        } else if meta.path.is_ident("subtract") {
            subtract = Some(meta.value()?.parse::<syn::Path>()?);
        } else if meta.path.is_ident("name") {
            name = Some(meta.value()?.parse::<LitStr>()?);
        } else if meta.path.is_ident("in_memory") {
            in_memory = true;
        } else if meta.path.is_ident("logged") {
            logged = meta.value()?.parse::<LitBool>()?.value;
        } else {
            return Err(meta.error(
                "unknown `#[state_store]` argument; expected `name`, `in_memory`, `logged`, or (aggregating a \
                 table) `group_by` and `subtract`",
            ));
        }
        Ok(())
    });
    parsed?;
    let Some(name) = name else {
        errors.at(attr_span(attr), "`#[state_store]` needs `name = \"...\"`");
        return None;
    };
    let regroup = match (group_by, subtract) {
        (Some(by), Some(subtract)) => Some(Regroup { by, subtract }),
        (None, None) => None,
        (Some(path), None) | (None, Some(path)) => {
            errors.at(
                path.span(),
                "aggregating a table takes both `group_by = f` (`fn(&K, &V) -> (K2, V2)`, the row's group) and \
                 `subtract = g` (like the aggregation function, removing a row's old value from its group)",
            );
            return None;
        }
    };
    Some((
        Store {
            name,
            in_memory,
            logged,
        },
        regroup,
    ))
}

fn parse_table_args(attr: &Attribute, errors: &mut Errors) -> Option<(LitStr, Store, Formats, bool)> {
    let mut topic = None;
    let mut store = None;
    let mut formats = Formats::default();
    let mut in_memory = false;
    let mut global = false;
    let parsed = parse_args(attr, errors, |meta| {
        if parse_format_arg(&meta, &mut formats)? {
            return Ok(());
        }
        if meta.path.is_ident("topic") {
            topic = Some(meta.value()?.parse::<LitStr>()?);
        } else if meta.path.is_ident("store") {
            store = Some(meta.value()?.parse::<LitStr>()?);
        } else if meta.path.is_ident("in_memory") {
            in_memory = true;
        } else if meta.path.is_ident("global") {
            global = true;
        } else {
            return Err(meta.error(
                "unknown `#[table]` argument; expected `topic`, `store`, `in_memory`, `global`, `key_format` or \
                 `value_format`",
            ));
        }
        Ok(())
    });
    parsed?;
    let (Some(topic), Some(store)) = (topic, store) else {
        errors.at(
            attr_span(attr),
            "`#[table]` needs `topic = \"...\"` and `store = \"...\"`",
        );
        return None;
    };
    check_topic(&topic, errors);
    Some((
        topic,
        Store {
            name: store,
            in_memory: in_memory || global,
            // A global table's topic is its changelog.
            logged: !global,
        },
        formats,
        global,
    ))
}

/// `#[windowed(tumbling = "5m", grace = "30s")]`, `hopping(size = .., advance = ..)`,
/// `sliding(time_difference = ..)`, `session(inactivity_gap = ..)`; plus `emit = "final"` and
/// `retention = ".."`.
fn parse_window(attr: &Attribute, errors: &mut Errors) -> Option<Window> {
    let mut kind: Option<(WindowKind, Span)> = None;
    let mut grace: Option<(u64, Span)> = None;
    let mut emit_final = false;
    let mut retention: Option<(u64, Span)> = None;
    let mut merge: Option<syn::Path> = None;
    let parsed = parse_args(attr, errors, |meta| {
        let path = meta.path.clone();
        let ident = path.get_ident().map(ToString::to_string).unwrap_or_default();
        let set_kind = |kind: &mut Option<(WindowKind, Span)>, k: WindowKind| {
            if kind.is_some() {
                return Err(syn::Error::new(path.span(), "a window has one kind"));
            }
            *kind = Some((k, path.span()));
            Ok(())
        };
        match ident.as_str() {
            "grace" => {
                let lit = meta.value()?.parse::<LitStr>()?;
                grace = Some((parse_duration(&lit)?, path.span()));
            }
            "retention" => {
                let lit = meta.value()?.parse::<LitStr>()?;
                retention = Some((parse_positive_duration(&lit)?, lit.span()));
            }
            "merge" => {
                merge = Some(meta.value()?.parse::<syn::Path>()?);
            }
            "emit" => {
                let lit = meta.value()?.parse::<LitStr>()?;
                emit_final = match lit.value().as_str() {
                    "final" => true,
                    "update" => false,
                    other => {
                        return Err(syn::Error::new(
                            lit.span(),
                            format!(
                                "unknown emit strategy `{other}`; use `emit = \"update\"` (every change, the default) \
                                 or `emit = \"final\"` (once per window, when it closes)"
                            ),
                        ));
                    }
                };
            }
            "tumbling" if meta.input.peek(Token![=]) => {
                let size_ms = parse_positive_duration(&meta.value()?.parse::<LitStr>()?)?;
                set_kind(&mut kind, WindowKind::Tumbling { size_ms })?;
            }
            "tumbling" | "hopping" | "sliding" | "session" => {
                let mut durations: Vec<(String, u64, Span)> = Vec::new();
                meta.parse_nested_meta(|inner| {
                    let name = inner.path.get_ident().map(ToString::to_string).unwrap_or_default();
                    let lit = inner.value()?.parse::<LitStr>()?;
                    durations.push((name, parse_positive_duration(&lit)?, inner.path.span()));
                    Ok(())
                })?;
                let find = |name: &str| durations.iter().find(|(n, _, _)| n == name).map(|(_, ms, _)| *ms);
                let expected: &[&str] = match ident.as_str() {
                    "tumbling" => &["size"],
                    "hopping" => &["size", "advance"],
                    "sliding" => &["time_difference"],
                    _ => &["inactivity_gap"],
                };
                if let Some((name, _, span)) = durations.iter().find(|(n, _, _)| !expected.contains(&n.as_str())) {
                    return Err(syn::Error::new(
                        *span,
                        format!(
                            "`{name}` is not a {ident} window setting; expected {}",
                            expected.join(" and ")
                        ),
                    ));
                }
                let missing: Vec<&str> = expected.iter().copied().filter(|n| find(n).is_none()).collect();
                if !missing.is_empty() {
                    return Err(syn::Error::new(
                        path.span(),
                        format!("{ident} windows need {}", missing.join(" and ")),
                    ));
                }
                let get = |name: &str| find(name).unwrap_or_default();
                let k = match ident.as_str() {
                    "tumbling" => WindowKind::Tumbling { size_ms: get("size") },
                    "hopping" => {
                        let (size_ms, advance_ms) = (get("size"), get("advance"));
                        if advance_ms > size_ms {
                            return Err(syn::Error::new(
                                path.span(),
                                "a hopping window's `advance` must not exceed its `size` (records would fall between windows)",
                            ));
                        }
                        WindowKind::Hopping { size_ms, advance_ms }
                    }
                    "sliding" => WindowKind::Sliding {
                        time_difference_ms: get("time_difference"),
                    },
                    _ => WindowKind::Session {
                        inactivity_gap_ms: get("inactivity_gap"),
                    },
                };
                set_kind(&mut kind, k)?;
            }
            _ => {
                return Err(syn::Error::new(
                    path.span(),
                    format!(
                        "unknown window kind `{}`; use `tumbling = \"5m\"`, `hopping(size = .., advance = ..)`, \
                         `sliding(time_difference = ..)` or `session(inactivity_gap = ..)`, plus optional `grace = ..`, \
                         `emit = \"final\"` and `retention = ..`",
                        quote::ToTokens::to_token_stream(&path)
                    ),
                ));
            }
        }
        Ok(())
    });
    parsed?;
    let Some((kind, span)) = kind else {
        errors.at(
            attr_span(attr),
            "`#[windowed]` needs a window kind, e.g. `#[windowed(tumbling = \"5m\")]`",
        );
        return None;
    };
    match (&kind, &merge) {
        (WindowKind::Session { .. }, None) => {
            errors.at(
                span,
                "a record can bridge two sessions, which then merge: add `merge = fn_name`, a `fn(A, A) -> A` \
                 combining two sessions' aggregates (e.g. adding counts)",
            );
            return None;
        }
        (WindowKind::Session { .. }, Some(_)) | (_, None) => {}
        (_, Some(path)) => {
            errors.at(
                path.span(),
                "`merge` applies to session windows only (time windows never merge)",
            );
            return None;
        }
    }
    if let Some((retention_ms, retention_span)) = retention {
        let size_ms = match kind {
            WindowKind::Tumbling { size_ms } | WindowKind::Hopping { size_ms, .. } => size_ms,
            WindowKind::Sliding { time_difference_ms } => time_difference_ms,
            WindowKind::Session { inactivity_gap_ms } => inactivity_gap_ms,
        };
        let grace_ms = grace.map_or(0, |(ms, _)| ms);
        if let WindowKind::Sliding { .. } = kind {
            let needed = size_ms.saturating_mul(2).saturating_add(grace_ms).saturating_add(1);
            if retention_ms < needed {
                errors.at(
                    retention_span,
                    format!(
                        "`retention` of sliding windows must be at least twice the time difference plus `grace` plus 1 ms \
                         ({needed} ms): records look back that far"
                    ),
                );
                return None;
            }
        }
        let needed = size_ms.saturating_add(grace_ms);
        if retention_ms < needed {
            errors.at(
                retention_span,
                format!(
                    "`retention` must be at least the window size plus `grace` ({needed} ms): windows would be \
                     deleted before they close"
                ),
            );
            return None;
        }
    }
    Some(Window {
        kind,
        grace_ms: grace.map(|(ms, _)| ms),
        emit_final,
        merge,
        retention_ms: retention.map(|(ms, _)| ms),
    })
}
