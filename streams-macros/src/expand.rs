//! Code generation: the builder calls for every node (in dependency order), store accessors,
//! topic-name constants, `describe()` and the app entry point.
//!
//! Generated code names only `::streams_runtime`'s public API and `::streams_runtime::__private`.
//! Edge checks are spanned at the user's tokens, so a type mismatch between two nodes is
//! reported on the `#[from(..)]` that connects them.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::{Expr, Ident, LitStr, Type};

use crate::model::{
    ErrorPolicyDef, Format, Formats, Node, NodeKind, Param, Shape, StatelessFn, Store, TopologyDef, Window, WindowKind,
    join_store_name,
};
use crate::names::{camel_case, screaming_snake_case};
use crate::parse::single_generic;

/// Key and value types a node emits, where they are known from signatures.
#[derive(Clone)]
struct Output {
    key: Option<Type>,
    value: Option<Type>,
}

pub(crate) fn expand(def: &TopologyDef, order: &[usize]) -> TokenStream {
    let app = &def.application_id;
    let mut outputs: Vec<Option<Output>> = vec![None; def.nodes.len()];
    let mut rekeyed: Vec<bool> = vec![false; def.nodes.len()];
    let mut statements = Vec::new();
    let mut store_items = Vec::new();
    let mut client_methods = Vec::new();
    let mut topic_consts = Vec::new();
    let mut source_topics = Vec::new();
    let mut sink_topics = Vec::new();
    let index_of = |name: &Ident| def.nodes.iter().position(|n| n.name == *name);

    for &i in order {
        let node = &def.nodes[i];
        let var = node_var(&node.name);
        let upstream: Vec<usize> = node.from.iter().filter_map(index_of).collect();
        let upstream_output = upstream.first().and_then(|&u| outputs[u].clone());
        let upstream_rekeyed = upstream.iter().any(|&u| rekeyed[u]);
        match &node.kind {
            NodeKind::Source {
                topic,
                formats,
                timestamp,
                key,
                value,
                transform,
            } => {
                source_topics.push(topic.clone());
                topic_consts.push(topic_const(topic));
                let (key_codec, value_codec) = codecs(formats, Some(key), Some(value));
                let consumed = consumed(key, value, &key_codec, &value_codec, timestamp.as_ref());
                let source = quote! { __builder.stream_with::<#key, #value>(#topic, #consumed) };
                let (expr, output) = match transform {
                    None => (
                        source,
                        Output {
                            key: Some(key.clone()),
                            value: Some(value.clone()),
                        },
                    ),
                    Some(f) => {
                        let input = Output {
                            key: Some(key.clone()),
                            value: Some(value.clone()),
                        };
                        let op = stateless_op(&node.name, f);
                        (quote! { #source #op }, shaped_output(f, &input))
                    }
                };
                rekeyed[i] = transform.as_ref().is_some_and(|f| f.shape.rekeys());
                statements.push(quote! { let #var = #expr; });
                outputs[i] = Some(output);
            }
            NodeKind::Table {
                topic,
                store,
                formats,
                key,
                value,
                global,
            } => {
                source_topics.push(topic.clone());
                topic_consts.push(topic_const(topic));
                let (key_codec, value_codec) = codecs(formats, Some(key), Some(value));
                let consumed = consumed(key, value, &key_codec, &value_codec, None);
                if *global {
                    let name = &store.name;
                    statements.push(quote! {
                        let #var = __builder.global_table_with::<#key, #value>(#topic, #consumed, #name);
                    });
                    // Readable locally (every instance has all of it); not served over HTTP.
                    store_items.push(store_accessor(
                        app,
                        store,
                        key,
                        value,
                        StoreLayout::KeyValue,
                        false,
                        &mut topic_consts,
                    ));
                    outputs[i] = Some(Output {
                        key: Some(key.clone()),
                        value: Some(value.clone()),
                    });
                    continue;
                }
                let materialized = materialized(store);
                statements.push(quote! {
                    let #var = __builder.table_with::<#key, #value>(#topic, #consumed, #materialized);
                });
                store_items.push(store_accessor(
                    app,
                    store,
                    key,
                    value,
                    StoreLayout::KeyValue,
                    false,
                    &mut topic_consts,
                ));
                client_methods.push(client_method(store, key, value, &StoreLayout::KeyValue));
                outputs[i] = Some(Output {
                    key: Some(key.clone()),
                    value: Some(value.clone()),
                });
            }
            NodeKind::Transform(f) if f.split.is_some() => {
                // A branch of a first-match split: the whole split is built at its first branch
                // (all branches read the same stream, so none is needed before that).
                let split = f.split.as_ref().map(LitStr::value);
                let branch_of = |n: &Node| match &n.kind {
                    NodeKind::Transform(g) => g.split.as_ref().map(LitStr::value) == split,
                    _ => false,
                };
                if !def.nodes.iter().take(i).any(branch_of) {
                    let branches: Vec<&Node> = def.nodes.iter().filter(|n| branch_of(n)).collect();
                    let input = edge_input(node, &def.nodes, f.key.as_ref(), &f.value);
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
                    statements.push(quote! {
                        let [#(#vars),*]: [_; #count] = {
                            let __in = #input;
                            __in.split() #(#predicates)* .no_default_branch()
                                .try_into()
                                .unwrap_or_else(|_| ::core::unreachable!("one stream per branch"))
                        };
                    });
                }
                outputs[i] = Some(shaped_output(
                    f,
                    &declared_or(upstream_output.as_ref(), f.key.as_ref(), &f.value),
                ));
                rekeyed[i] = upstream_rekeyed;
            }
            NodeKind::Transform(f) => {
                let input = edge_input(node, &def.nodes, f.key.as_ref(), &f.value);
                let op = stateless_op(&node.name, f);
                let repartition = f.repartition.map(|partitions| {
                    let name = node.name.to_string().replace('_', "-");
                    let partitions = partitions.map(|n| quote!(.with_partitions(#n)));
                    let topic = streams_naming::repartition_topic(&app.value(), &name);
                    let constant = format_ident!("{}_REPARTITION", screaming_snake_case(&name));
                    let doc = format!("Repartition topic of node `{}`.", node.name);
                    topic_consts.push(quote! { #[doc = #doc] pub const #constant: &str = #topic; });
                    quote! { .repartition(::streams_runtime::topology::Repartitioned::named(#name) #partitions) }
                });
                statements.push(quote! { let #var = { let __in = #input; __in #op #repartition }; });
                outputs[i] = Some(shaped_output(
                    f,
                    &declared_or(upstream_output.as_ref(), f.key.as_ref(), &f.value),
                ));
                rekeyed[i] = (upstream_rekeyed || f.shape.rekeys()) && f.repartition.is_none();
            }
            NodeKind::Aggregate {
                store,
                window: _,
                key,
                value,
                aggregate,
                regroup: Some(regroup),
            } => {
                // A table aggregation: rows re-keyed by `group_by`, added and subtracted.
                let table = node_var(&node.from[0]);
                let (row_key, row_value) = upstream_output
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
                let (key_arg, value_arg) = aggregate_args(key, value);
                let (by, subtract) = (&regroup.by, &regroup.subtract);
                let rows = quote_spanned! {node.from[0].span()=>
                    ::streams_runtime::__private::table_rows::<#row_key, #row_value, _>(&#table)
                };
                let selector = quote_spanned! {syn::spanned::Spanned::span(by)=>
                    move |k: &#row_key, v: &#row_value| -> (#key_ty, #value_ty) { #by(k, v) }
                };
                let materialized = materialized(store);
                let default =
                    quote_spanned! {aggregate_span(aggregate)=> <#aggregate as ::core::default::Default>::default };
                statements.push(quote! {
                    let #var = #rows
                        .group_by(#selector)
                        .aggregate(
                            #default,
                            move |k: &#key_ty, v: #value_ty, mut acc: #aggregate| -> #aggregate {
                                #name(#key_arg, #value_arg, &mut acc);
                                acc
                            },
                            move |k: &#key_ty, v: #value_ty, mut acc: #aggregate| -> #aggregate {
                                #subtract(#key_arg, #value_arg, &mut acc);
                                acc
                            },
                            #materialized,
                        )
                        .to_stream();
                });
                client_methods.push(client_method(store, key_ty, aggregate, &StoreLayout::KeyValue));
                store_items.push(store_accessor(
                    app,
                    store,
                    key_ty,
                    aggregate,
                    StoreLayout::KeyValue,
                    true,
                    &mut topic_consts,
                ));
                outputs[i] = Some(Output {
                    key: Some(key_ty.clone()),
                    value: Some(aggregate.clone()),
                });
            }
            NodeKind::Aggregate {
                store,
                window,
                key,
                value,
                aggregate,
                regroup: None,
            } => {
                let input = edge_input(node, &def.nodes, Some(key), value);
                let name = &node.name;
                let key_ty = &key.ty;
                let value_ty = &value.ty;
                let (key_arg, value_arg) = aggregate_args(key, value);
                let windowing = window.as_ref().map(window_expr);
                let session = window
                    .as_ref()
                    .is_some_and(|w| matches!(w.kind, WindowKind::Session { .. }));
                let emit = window
                    .as_ref()
                    .filter(|w| w.emit_final)
                    .map(|_| quote! { .emit_strategy(::streams_runtime::window::EmitStrategy::OnWindowClose) });
                let sliding = window
                    .as_ref()
                    .is_some_and(|w| matches!(w.kind, WindowKind::Sliding { .. }));
                let windowed_by = windowing.as_ref().map(|w| {
                    if session {
                        quote! { .windowed_by_session(#w) #emit }
                    } else if sliding {
                        quote! { .windowed_by_sliding(#w) #emit }
                    } else {
                        quote! { .windowed_by(#w) #emit }
                    }
                });
                let merger = window.as_ref().and_then(|w| w.merge.as_ref()).map(|merge| {
                    quote_spanned! {syn::spanned::Spanned::span(merge)=>
                        move |_: &#key_ty, a: #aggregate, b: #aggregate| -> #aggregate { #merge(a, b) },
                    }
                });
                let retention = window
                    .as_ref()
                    .and_then(|w| w.retention_ms)
                    .map(|ms| quote! { .with_retention(::std::time::Duration::from_millis(#ms)) });
                let materialized = materialized(store);
                let materialized = quote! { #materialized #retention };
                let default =
                    quote_spanned! {aggregate_span(aggregate)=> <#aggregate as ::core::default::Default>::default };
                statements.push(quote! {
                    let #var = {
                        let __in = #input;
                        __in.group_by_key()
                            #windowed_by
                            .aggregate(
                                #default,
                                move |k: &#key_ty, v: #value_ty, mut acc: #aggregate| -> #aggregate {
                                    #name(#key_arg, #value_arg, &mut acc);
                                    acc
                                },
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
                client_methods.push(client_method(store, key_ty, aggregate, &layout));
                store_items.push(store_accessor(
                    app,
                    store,
                    key_ty,
                    aggregate,
                    layout,
                    upstream_rekeyed,
                    &mut topic_consts,
                ));
                let out_key: Type = if window.is_some() {
                    syn::parse_quote!(::streams_runtime::Windowed<#key_ty>)
                } else {
                    key_ty.clone()
                };
                outputs[i] = Some(Output {
                    key: Some(out_key),
                    value: Some(aggregate.clone()),
                });
            }
            NodeKind::Join {
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
                output,
            } if reads_table(node, &def.nodes) => {
                // Two tables: by key (inner, left, outer) or by a foreign key (inner, left).
                let rows = node_var(&node.from[0]);
                let other = node_var(table);
                let row_key = upstream_output
                    .as_ref()
                    .and_then(|o| o.key.clone())
                    .map_or_else(|| quote!(_), |t| quote!(#t));
                let value_ty = &value.ty;
                let other_ty = &table_value.ty;
                let name = &node.name;
                let arg = |by_ref: bool, optional: bool, var: TokenStream| match (by_ref, optional) {
                    (true, _) => var,
                    (false, false) => quote!(::core::clone::Clone::clone(#var)),
                    (false, true) => quote!(#var.cloned()),
                };
                let value_arg = arg(value.by_ref, *outer, quote!(v));
                let other_arg = arg(table_value.by_ref, *left, quote!(o));
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
                let materialized = materialized(&result_store);
                let rows_check = quote_spanned! {node.from[0].span()=>
                    ::streams_runtime::__private::table_rows::<#row_key, #value_ty, _>(&#rows)
                };
                let joiner =
                    quote! { move |v: #value_param, o: #other_param| -> #output { #name(#value_arg, #other_arg) } };
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
                            ::streams_runtime::__private::table_rows::<#row_key, #other_ty, _>(&#other)
                        };
                        quote! { .#method(#other_check, #joiner, #materialized) }
                    }
                };
                statements.push(quote! {
                    let #var = #rows_check #join.to_stream();
                });
                let key_ty: Type = upstream_output
                    .as_ref()
                    .and_then(|o| o.key.clone())
                    .unwrap_or_else(|| syn::parse_quote!(()));
                client_methods.push(client_method(&result_store, &key_ty, output, &StoreLayout::KeyValue));
                store_items.push(store_accessor(
                    app,
                    &result_store,
                    &key_ty,
                    output,
                    StoreLayout::KeyValue,
                    false,
                    &mut topic_consts,
                ));
                outputs[i] = Some(Output {
                    key: Some(key_ty),
                    value: Some(output.clone()),
                });
                rekeyed[i] = false;
            }
            NodeKind::Join {
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
            } => {
                let input = edge_input(node, &def.nodes, key.as_ref(), value);
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
                if let Some(key_fn) = global_key {
                    // Stream-global: the key function's output is the global table's key.
                    let value_arg = if value.by_ref {
                        quote!(v)
                    } else {
                        quote!(::core::clone::Clone::clone(v))
                    };
                    let (method, table_arg) = match (*left, table_value.by_ref) {
                        (false, true) => (quote!(join_global), quote!(g)),
                        (false, false) => (quote!(join_global), quote!(::core::clone::Clone::clone(g))),
                        (true, true) => (quote!(left_join_global), quote!(g)),
                        (true, false) => (quote!(left_join_global), quote!(g.cloned())),
                    };
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
                    statements.push(quote! {
                        let #var = {
                            let __in = #input;
                            __in.#method(&#table_var, #mapper, move |#k, v, g| -> #output { #name(#key_arg #value_arg, #table_arg) })
                        };
                    });
                } else if let Some(window) = window {
                    // Stream-stream: `v`/`o` are `&V`/`&V2`, or `Option<&..>` on an outer side.
                    let arg = |by_ref: bool, optional: bool, var: TokenStream| match (by_ref, optional) {
                        (true, _) => var,
                        (false, false) => quote!(::core::clone::Clone::clone(#var)),
                        (false, true) => quote!(#var.cloned()),
                    };
                    let value_arg = arg(value.by_ref, *outer, quote!(v));
                    let other_arg = arg(table_value.by_ref, *left, quote!(o));
                    let method = match (*outer, *left) {
                        (true, _) => quote!(outer_join_stream),
                        (false, true) => quote!(left_join_stream),
                        (false, false) => quote!(join_stream),
                    };
                    let other = quote_spanned! {table.span()=>
                        ::streams_runtime::__private::edge::<_, #table_ty, _>(&#table_var)
                    };
                    let (within, grace) = (window.within_ms, window.grace_ms);
                    let join_name = name.to_string().replace('_', "-");
                    statements.push(quote! {
                        let #var = {
                            let __in = #input;
                            __in.#method(
                                #other,
                                ::streams_runtime::window::JoinWindows::of(::std::time::Duration::from_millis(#within))
                                    .grace(::std::time::Duration::from_millis(#grace)),
                                #join_name,
                                move |#k, v, o| -> #output { #name(#key_arg #value_arg, #other_arg) },
                            )
                        };
                    });
                } else {
                    let join_check = quote_spanned! {table.span()=>
                        ::streams_runtime::__private::join_table::<_, _, #table_ty, _>(&__in, &#table_var)
                    };
                    let value_arg = if value.by_ref {
                        quote!(v)
                    } else {
                        quote!(::core::clone::Clone::clone(v))
                    };
                    let (method, table_arg) = match (*left, table_value.by_ref) {
                        (false, true) => (quote!(join), quote!(t)),
                        (false, false) => (quote!(join), quote!(::core::clone::Clone::clone(t))),
                        (true, true) => (quote!(left_join), quote!(t)),
                        (true, false) => (quote!(left_join), quote!(t.cloned())),
                    };
                    statements.push(quote! {
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
                    .or_else(|| upstream_output.as_ref().and_then(|o| o.key.clone()));
                outputs[i] = Some(Output {
                    key: key_ty,
                    value: Some(output.clone()),
                });
                rekeyed[i] = false;
            }
            NodeKind::ToTable { store, transform } => {
                let out = shaped_output(
                    transform,
                    &declared_or(upstream_output.as_ref(), transform.key.as_ref(), &transform.value),
                );
                let materialized = materialized(store);
                if reads_table(node, &def.nodes) {
                    // Validation let only a filter or a value mapping read a table.
                    let table = table_input(node, transform);
                    let op = table_op(&node.name, transform, &materialized);
                    statements.push(quote! { let #var = #table #op; });
                } else {
                    let input = edge_input(node, &def.nodes, transform.key.as_ref(), &transform.value);
                    let op = stateless_op(&node.name, transform);
                    statements.push(quote! { let #var = { let __in = #input; __in #op .to_table(#materialized) }; });
                }
                let rekeys = upstream_rekeyed || transform.shape.rekeys();
                if let (Some(key), Some(value)) = (&out.key, &out.value) {
                    client_methods.push(client_method(store, key, value, &StoreLayout::KeyValue));
                    store_items.push(store_accessor(
                        app,
                        store,
                        key,
                        value,
                        StoreLayout::KeyValue,
                        rekeys,
                        &mut topic_consts,
                    ));
                }
                outputs[i] = Some(out);
            }
            NodeKind::Processor { processor, stores } => {
                let mut inputs = node.from.iter().map(|upstream| {
                    let upstream_var = node_var(upstream);
                    quote_spanned! {upstream.span()=> ::streams_runtime::__private::edge::<_, _, _>(&#upstream_var) }
                });
                let first = inputs.next().unwrap_or_default();
                let input = inputs.fold(first, |acc, next| quote! { #acc.merge(#next) });
                let mut builders = Vec::new();
                for s in stores {
                    let (key, value) = (&s.key, &s.value);
                    let materialized = materialized(&s.store);
                    builders.push(match s.window {
                        None => {
                            quote! { ::streams_runtime::topology::Stores::key_value::<#key, #value>(#materialized) }
                        }
                        Some((size_ms, retention_ms)) => quote! {
                            ::streams_runtime::topology::Stores::window::<#key, #value>(
                                #materialized,
                                ::std::time::Duration::from_millis(#size_ms),
                                ::std::time::Duration::from_millis(#retention_ms),
                            )
                        },
                    });
                    let layout = s
                        .window
                        .map_or(StoreLayout::KeyValue, |(size_ms, _)| StoreLayout::Window(size_ms));
                    client_methods.push(client_method(&s.store, key, value, &layout));
                    store_items.push(store_accessor(
                        app,
                        &s.store,
                        key,
                        value,
                        layout,
                        false,
                        &mut topic_consts,
                    ));
                }
                let supplier = quote_spanned! {syn::spanned::Spanned::span(processor)=>
                    <#processor as ::core::default::Default>::default
                };
                statements.push(quote! {
                    let #var = {
                        let __in = #input;
                        __in.process(#supplier, [#(#builders),*])
                    };
                });
                // What it forwards, where its input types are known.
                outputs[i] = upstream_output.as_ref().and_then(|o| {
                    let (k, v) = (o.key.as_ref()?, o.value.as_ref()?);
                    let projection = |item: &str| -> Type {
                        let item = format_ident!("{item}");
                        syn::parse_quote!(<#processor as ::streams_runtime::processor::Processor<#k, #v>>::#item)
                    };
                    Some(Output {
                        key: Some(projection("KeyOut")),
                        value: Some(projection("ValueOut")),
                    })
                });
                rekeyed[i] = true;
            }
            NodeKind::Sink {
                topic,
                formats,
                transform,
            } => {
                sink_topics.push(topic.clone());
                topic_consts.push(topic_const(topic));
                let input = if reads_table(node, &def.nodes) {
                    // A table's updates, deletes included (value-mapping sinks pass them on).
                    let table = table_input(node, transform);
                    quote! { #table.to_stream() }
                } else {
                    edge_input(node, &def.nodes, transform.key.as_ref(), &transform.value)
                };
                let op = stateless_op(&node.name, transform);
                let out = shaped_output(
                    transform,
                    &declared_or(upstream_output.as_ref(), transform.key.as_ref(), &transform.value),
                );
                let (key_codec, value_codec) = codecs(formats, out.key.as_ref(), out.value.as_ref());
                statements.push(quote! {
                    {
                        let __in = #input;
                        __in #op .to_with(#topic, #key_codec, #value_codec);
                    }
                });
            }
        }
    }

    let error_policy = match &def.error_policy {
        ErrorPolicyDef::Continue => quote! {},
        ErrorPolicyDef::Fail => quote! {
            __builder
                .on_deserialization_error(::streams_runtime::topology::ErrorPolicy::LogAndFail)
                .on_processing_error(::streams_runtime::topology::ErrorPolicy::LogAndFail);
        },
        ErrorPolicyDef::DeadLetter(topic) => {
            sink_topics.push(topic.clone());
            topic_consts.push(quote! {
                /// Where records that do not decode or fail in a node go (`on_error = "dead_letter"`).
                pub const DEAD_LETTER: &str = #topic;
            });
            quote! {
                __builder
                    .on_deserialization_error(::streams_runtime::topology::ErrorPolicy::dead_letter(#topic))
                    .on_processing_error(::streams_runtime::topology::ErrorPolicy::dead_letter(#topic));
            }
        }
    };
    let topic_consts = dedup_consts(topic_consts);
    quote! {
        /// The application id: the consumer group and the prefix of every internal topic.
        pub const APPLICATION_ID: &str = #app;

        /// Builds the topology with the typed builder API.
        #[allow(non_snake_case, clippy::redundant_clone)]
        pub fn topology() -> ::core::result::Result<
            ::streams_runtime::topology::Topology,
            ::streams_runtime::topology::TopologyError,
        > {
            let __builder = ::streams_runtime::topology::StreamsBuilder::new();
            #error_policy
            #(#statements)*
            __builder.build()
        }

        /// The topology's description, in the style of Kafka Streams' `Topology#describe()`.
        pub fn describe() -> ::std::string::String {
            match topology() {
                ::core::result::Result::Ok(topology) => topology.describe_for(APPLICATION_ID),
                ::core::result::Result::Err(error) => ::std::string::ToString::to_string(&error),
            }
        }

        /// The runnable application: `app().run()` starts it with configuration from command-line
        /// flags and environment variables (`--help` lists them).
        pub fn app() -> ::streams_runtime::app::App {
            ::streams_runtime::app::App::new(APPLICATION_ID, topology)
                .source_topics(&[#(#source_topics),*])
                .sink_topics(&[#(#sink_topics),*])
        }

        /// A typed client of the application's query servers: ask any instance, it routes to
        /// the one that owns the key. Store, key and value types are checked at compile time.
        #[derive(Clone, Debug)]
        pub struct Client {
            inner: ::streams_runtime::query::QueryClient,
        }

        impl Client {
            /// A client of the instance at `base_url` (e.g. `http://127.0.0.1:8080`).
            pub fn new(base_url: impl ::core::convert::Into<::std::string::String>) -> Self {
                Self { inner: ::streams_runtime::query::QueryClient::new(base_url) }
            }

            /// A client over a configured [`QueryClient`](::streams_runtime::query::QueryClient)
            /// (your own `reqwest::Client` for TLS or auth, timeouts, retries, stale reads).
            pub fn with(inner: ::streams_runtime::query::QueryClient) -> Self {
                Self { inner }
            }

            /// The instances, their endpoints, tasks and lags.
            pub async fn metadata(&self) -> ::streams_runtime::Result<::streams_runtime::__private::serde_json::Value> {
                self.inner.metadata().await
            }

            #(#client_methods)*
        }

        /// Names of the topics this topology reads and writes, internal topics included.
        pub mod topics {
            #(#topic_consts)*
        }

        /// Typed accessors of the topology's state stores (local partitions of a running
        /// `KafkaStreams` or a `TestDriver`).
        pub mod stores {
            #[allow(unused_imports)]
            use super::*;
            #(#store_items)*
        }
    }
}

/// `Client::<store_name>()`: the typed query handle of one store.
fn client_method(store: &Store, key: &Type, value: &Type, layout: &StoreLayout) -> TokenStream {
    let name = store.name.value();
    let mut method = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect::<String>();
    if method.starts_with(|c: char| c.is_ascii_digit()) {
        method = format!("store_{method}");
    }
    let method = format_ident!("{method}");
    let doc = format!("Queries of store `{name}`.");
    match layout {
        StoreLayout::Window(_) => quote! {
            #[doc = #doc]
            pub fn #method(&self) -> ::streams_runtime::query::WindowClient<'_, #key, #value> {
                self.inner.window(#name)
            }
        },
        StoreLayout::Session => quote! {
            #[doc = #doc]
            pub fn #method(&self) -> ::streams_runtime::query::SessionClient<'_, #key, #value> {
                self.inner.session(#name)
            }
        },
        StoreLayout::KeyValue => quote! {
            #[doc = #doc]
            pub fn #method(&self) -> ::streams_runtime::query::KeyValueClient<'_, #key, #value> {
                self.inner.key_value(#name)
            }
        },
    }
}

/// How an aggregation closure `(k: &K, v: V, ..)` passes its key and value to the user's
/// function, by its parameter types.
fn aggregate_args(key: &Param, value: &Param) -> (TokenStream, TokenStream) {
    let key_arg = if key.by_ref {
        quote!(k)
    } else {
        quote!(::core::clone::Clone::clone(k))
    };
    let value_arg = if value.by_ref { quote!(&v) } else { quote!(v) };
    (key_arg, value_arg)
}

/// Whether a node reads a table (a table-table join, a derived table, a sink of a table's
/// updates) rather than a stream.
fn reads_table(node: &Node, nodes: &[Node]) -> bool {
    node.from
        .iter()
        .any(|f| nodes.iter().any(|n| n.name == *f && n.kind.is_local_table()))
}

fn node_var(name: &Ident) -> Ident {
    format_ident!("__node_{}", name)
}

fn aggregate_span(ty: &Type) -> Span {
    syn::spanned::Spanned::span(ty)
}

fn topic_const(topic: &LitStr) -> TokenStream {
    let name = format_ident!("{}", screaming_snake_case(&topic.value()));
    let doc = format!("Topic `{}`.", topic.value());
    quote! { #[doc = #doc] pub const #name: &str = #topic; }
}

fn dedup_consts(consts: Vec<TokenStream>) -> Vec<TokenStream> {
    let mut seen = std::collections::HashSet::new();
    consts.into_iter().filter(|c| seen.insert(c.to_string())).collect()
}

/// The node's input stream: its upstream node(s) with the declared key and value types
/// checked, merged if there are several.
fn edge_input(node: &Node, nodes: &[Node], key: Option<&Param>, value: &Param) -> TokenStream {
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
            ::streams_runtime::__private::edge::<#key_ty, #value_ty, _>(&#upstream_var)
        }
    });
    let first = streams.next().unwrap_or_default();
    streams.fold(first, |acc, next| quote! { #acc.merge(#next) })
}

/// The table a node reads row by row (a `#[table(store = ..)]` filter or value mapping, a
/// sink), checked against its parameter types at the `#[from(..)]` ident.
fn table_input(node: &Node, f: &StatelessFn) -> TokenStream {
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
        ::streams_runtime::__private::table_rows::<#key_ty, #value_ty, _>(&#upstream_var)
    }
}

/// The `KTable` call deriving a table with a user function: `filter` or `map_values`.
fn table_op(name: &Ident, f: &StatelessFn, materialized: &TokenStream) -> TokenStream {
    let CallArgs {
        k,
        owned_value,
        borrowed_key,
        borrowed_value,
        ..
    } = call_args(f);
    if matches!(f.shape, Shape::Filter) {
        quote! { .filter(move |#k, v| #name(#borrowed_key #borrowed_value), #materialized) }
    } else {
        quote! { .map_values(move |#k, v| #name(#borrowed_key #owned_value), #materialized) }
    }
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
fn shaped_output(f: &StatelessFn, input: &Output) -> Output {
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

/// The builder call applying a stateless user function.
/// How a builder closure over `k`, `v` passes them to a stateless user function, by its
/// parameter types.
struct CallArgs {
    /// The closure's key pattern: `k`, or `_` where the function takes no key (no unused
    /// variables in user builds).
    k: TokenStream,
    /// From owned `k`, `v` (map-like operations).
    owned_key: Option<TokenStream>,
    owned_value: TokenStream,
    /// From `&K`, `&V` (filter, peek, and the key of value-only operations).
    borrowed_key: Option<TokenStream>,
    borrowed_value: TokenStream,
}

fn call_args(f: &StatelessFn) -> CallArgs {
    CallArgs {
        k: if f.key.is_some() { quote!(k) } else { quote!(_) },
        owned_key: f.key.as_ref().map(|k| if k.by_ref { quote!(&k,) } else { quote!(k,) }),
        owned_value: if f.value.by_ref { quote!(&v) } else { quote!(v) },
        borrowed_key: f.key.as_ref().map(|k| {
            if k.by_ref {
                quote!(k,)
            } else {
                quote!(::core::clone::Clone::clone(k),)
            }
        }),
        borrowed_value: if f.value.by_ref {
            quote!(v)
        } else {
            quote!(::core::clone::Clone::clone(v))
        },
    }
}

fn stateless_op(name: &Ident, f: &StatelessFn) -> TokenStream {
    let CallArgs {
        k,
        owned_key,
        owned_value,
        borrowed_key,
        borrowed_value,
    } = call_args(f);
    if f.fallible {
        // `Err` is a processing error of the record, handled by the topology's `on_error`.
        return match &f.shape {
            Shape::KeyValue(..) => quote! { .try_map(move |#k, v| #name(#owned_key #owned_value)) },
            Shape::OptionKeyValue(..) | Shape::ManyKeyValues(..) => {
                quote! { .try_flat_map(move |#k, v| #name(#owned_key #owned_value)) }
            }
            Shape::Value(_) => match &f.key {
                None => quote! { .try_map_values(move |v| #name(#owned_value)) },
                Some(_) => quote! { .try_map_values_with_key(move |k, v| #name(#borrowed_key #owned_value)) },
            },
            Shape::OptionValue(_) | Shape::ManyValues(_) => match &f.key {
                None => quote! { .try_flat_map_values(move |v| #name(#owned_value)) },
                Some(_) => quote! { .try_flat_map_values_with_key(move |k, v| #name(#borrowed_key #owned_value)) },
            },
            Shape::Filter => quote! { .try_filter(move |#k, v| #name(#borrowed_key #borrowed_value)) },
            Shape::Peek => quote! {
                .try_filter(move |#k, v| #name(#borrowed_key #borrowed_value).map(|()| true))
            },
        };
    }
    match &f.shape {
        Shape::KeyValue(..) => quote! { .map(move |#k, v| #name(#owned_key #owned_value)) },
        Shape::OptionKeyValue(..) | Shape::ManyKeyValues(..) => {
            quote! { .flat_map(move |#k, v| #name(#owned_key #owned_value)) }
        }
        Shape::Value(_) => match &f.key {
            None => quote! { .map_values(move |v| #name(#owned_value)) },
            Some(_) => quote! { .map_values_with_key(move |k, v| #name(#borrowed_key #owned_value)) },
        },
        Shape::OptionValue(_) | Shape::ManyValues(_) => match &f.key {
            None => quote! { .flat_map_values(move |v| #name(#owned_value)) },
            Some(_) => quote! { .flat_map_values_with_key(move |k, v| #name(#borrowed_key #owned_value)) },
        },
        Shape::Filter => quote! { .filter(move |#k, v| #name(#borrowed_key #borrowed_value)) },
        Shape::Peek => quote! { .peek(move |#k, v| #name(#borrowed_key #borrowed_value)) },
    }
}

fn consumed(
    key: &Type,
    value: &Type,
    key_codec: &TokenStream,
    value_codec: &TokenStream,
    timestamp: Option<&Expr>,
) -> TokenStream {
    let base = quote! { ::streams_runtime::topology::Consumed::<#key, #value>::new(#key_codec, #value_codec) };
    let Some(timestamp) = timestamp else {
        return base;
    };
    let call = match timestamp {
        Expr::Closure(c) if c.inputs.len() == 2 => quote! { __extract(k, v) },
        Expr::Closure(c) if c.inputs.len() == 3 => quote! { __extract(k, v, ts) },
        _ => quote! { __extract(v) },
    };
    quote! {
        #base.with_timestamp({
            let __extract = #timestamp;
            move |k: &#key, v: &#value, ts: i64| -> i64 {
                let _ = (&k, &ts);
                #call
            }
        })
    }
}

fn materialized(store: &Store) -> TokenStream {
    let name = &store.name;
    let in_memory = store.in_memory.then(|| quote!(.in_memory()));
    let without_logging = (!store.logged).then(|| quote!(.without_logging()));
    quote! { ::streams_runtime::topology::Materialized::named(#name) #in_memory #without_logging }
}

fn window_expr(window: &Window) -> TokenStream {
    let grace = window
        .grace_ms
        .map(|ms| quote! { .grace(::std::time::Duration::from_millis(#ms)) });
    match &window.kind {
        WindowKind::Tumbling { size_ms } => quote! {
            ::streams_runtime::window::TimeWindows::of(::std::time::Duration::from_millis(#size_ms)) #grace
        },
        WindowKind::Hopping { size_ms, advance_ms } => quote! {
            ::streams_runtime::window::TimeWindows::of(::std::time::Duration::from_millis(#size_ms))
                .advance_by(::std::time::Duration::from_millis(#advance_ms))
                #grace
        },
        WindowKind::Session { inactivity_gap_ms } => quote! {
            ::streams_runtime::window::SessionWindows::with_inactivity_gap(::std::time::Duration::from_millis(#inactivity_gap_ms))
                #grace
        },
        WindowKind::Sliding { time_difference_ms } => quote! {
            ::streams_runtime::window::SlidingWindows::with_time_difference(::std::time::Duration::from_millis(#time_difference_ms))
                #grace
        },
    }
}

/// How an aggregation's store is laid out (what its generated accessor offers).
enum StoreLayout {
    KeyValue,
    /// Time windows of this size (ms).
    Window(u64),
    Session,
}

fn window_size_ms(window: &Window) -> u64 {
    match window.kind {
        WindowKind::Tumbling { size_ms } | WindowKind::Hopping { size_ms, .. } => size_ms,
        WindowKind::Sliding { time_difference_ms } => time_difference_ms,
        WindowKind::Session { inactivity_gap_ms } => inactivity_gap_ms,
    }
}

/// Codecs for a topic: the explicit format, or by type (String → UTF-8, `Vec<u8>` → bytes,
/// anything else JSON).
fn codecs(formats: &Formats, key: Option<&Type>, value: Option<&Type>) -> (TokenStream, TokenStream) {
    let key_format = formats
        .key
        .map(|(f, _)| f)
        .unwrap_or_else(|| key.map_or(Format::Json, default_format));
    let value_format = formats
        .value
        .map(|(f, _)| f)
        .unwrap_or_else(|| value.map_or(Format::Json, default_format));
    let key_span = formats
        .key
        .map(|(_, s)| s)
        .or_else(|| key.map(syn::spanned::Spanned::span));
    let value_span = formats
        .value
        .map(|(_, s)| s)
        .or_else(|| value.map(syn::spanned::Spanned::span));
    (codec(key_format, key_span), codec(value_format, value_span))
}

fn default_format(ty: &Type) -> Format {
    let Type::Path(path) = ty else { return Format::Json };
    let Some(last) = path.path.segments.last() else {
        return Format::Json;
    };
    if last.ident == "String" {
        Format::Utf8
    } else if single_generic(ty, "Vec").is_some_and(|inner| quote!(#inner).to_string() == "u8") {
        Format::Bytes
    } else {
        Format::Json
    }
}

fn codec(format: Format, span: Option<Span>) -> TokenStream {
    let span = span.unwrap_or_else(Span::call_site);
    match format {
        Format::Json => quote_spanned! {span=> ::streams_runtime::codec::Json },
        Format::Utf8 => quote_spanned! {span=> ::streams_runtime::codec::Utf8 },
        Format::Binary => quote_spanned! {span=> ::streams_runtime::codec::Binary },
        Format::Bytes => quote_spanned! {span=> ::streams_runtime::codec::Bytes },
    }
}

/// `stores::<CamelName>` with the store's name, changelog (and repartition) topic and typed
/// accessors.
fn store_accessor(
    app: &LitStr,
    store: &Store,
    key: &Type,
    value: &Type,
    layout: StoreLayout,
    repartitioned: bool,
    topic_consts: &mut Vec<TokenStream>,
) -> TokenStream {
    let name = store.name.value();
    let ident = format_ident!("{}", camel_case(&name));
    let changelog = streams_naming::changelog_topic(&app.value(), &name);
    let const_base = screaming_snake_case(&name);
    if store.logged {
        let c = format_ident!("{const_base}_CHANGELOG");
        let doc = format!("Changelog topic of store `{name}`.");
        topic_consts.push(quote! { #[doc = #doc] pub const #c: &str = #changelog; });
    }
    let repartition = streams_naming::repartition_topic(&app.value(), &name);
    let repartition_const = repartitioned.then(|| {
        let c = format_ident!("{const_base}_REPARTITION");
        let doc = format!("Repartition topic feeding store `{name}`.");
        topic_consts.push(quote! { #[doc = #doc] pub const #c: &str = #repartition; });
        quote! {
            /// The repartition topic its aggregation reads through.
            pub const REPARTITION_TOPIC: &'static str = #repartition;
        }
    });
    let changelog_const = store.logged.then(|| {
        quote! {
            /// Its compacted changelog topic.
            pub const CHANGELOG_TOPIC: &'static str = #changelog;
        }
    });
    let result = quote!(::streams_runtime::Result);
    match layout {
        StoreLayout::Session => {
            let doc = format!(
                "Session store `{name}`: `{}` → `{}` per session.",
                quote!(#key),
                quote!(#value)
            );
            quote! {
                #[doc = #doc]
                pub struct #ident;

                impl #ident {
                    /// The store's name.
                    pub const NAME: &'static str = #name;
                    #changelog_const
                    #repartition_const

                    /// The local partitions of the store.
                    pub fn partitions(
                        app: &impl ::streams_runtime::state::QueryableStores,
                    ) -> #result<::std::vec::Vec<(i32, ::streams_runtime::state::SessionStore<#key, #value>)>> {
                        app.session_store::<#key, #value>(Self::NAME)
                    }

                    /// The sessions of `key` (window end = its last record's time), from whichever local
                    /// partition holds the key.
                    pub fn fetch(
                        app: &impl ::streams_runtime::state::QueryableStores,
                        key: &#key,
                    ) -> #result<::std::vec::Vec<(::streams_runtime::TimeWindow, #value)>> {
                        let mut out = ::std::vec::Vec::new();
                        for (_, partition) in Self::partitions(app)? {
                            out.extend(partition.fetch(key)?);
                        }
                        ::core::result::Result::Ok(out)
                    }
                }
            }
        }
        StoreLayout::Window(size) => {
            let size = size as i64;
            let doc = format!(
                "Window store `{name}`: `{}` → `{}` per window of {size} ms.",
                quote!(#key),
                quote!(#value)
            );
            quote! {
                #[doc = #doc]
                pub struct #ident;

                impl #ident {
                    /// The store's name.
                    pub const NAME: &'static str = #name;
                    /// Window size in milliseconds.
                    pub const WINDOW_SIZE_MS: i64 = #size;
                    #changelog_const
                    #repartition_const

                    /// The local partitions of the store.
                    pub fn partitions(
                        app: &impl ::streams_runtime::state::QueryableStores,
                    ) -> #result<::std::vec::Vec<(i32, ::streams_runtime::state::WindowStore<#key, #value>)>> {
                        app.window_store::<#key, #value>(Self::NAME, Self::WINDOW_SIZE_MS)
                    }

                    /// The value of `key` in the window starting at `window_start_ms`, from whichever
                    /// local partition holds the key.
                    pub fn fetch(
                        app: &impl ::streams_runtime::state::QueryableStores,
                        key: &#key,
                        window_start_ms: i64,
                    ) -> #result<::core::option::Option<#value>> {
                        for (_, partition) in Self::partitions(app)? {
                            if let ::core::option::Option::Some(value) = partition.fetch(key, window_start_ms)? {
                                return ::core::result::Result::Ok(::core::option::Option::Some(value));
                            }
                        }
                        ::core::result::Result::Ok(::core::option::Option::None)
                    }

                    /// Every entry of every local partition.
                    pub fn all(
                        app: &impl ::streams_runtime::state::QueryableStores,
                    ) -> #result<::std::vec::Vec<(::streams_runtime::Windowed<#key>, #value)>> {
                        let mut out = ::std::vec::Vec::new();
                        for (_, partition) in Self::partitions(app)? {
                            out.extend(partition.all()?);
                        }
                        ::core::result::Result::Ok(out)
                    }
                }
            }
        }
        StoreLayout::KeyValue => {
            let doc = format!("Key-value store `{name}`: `{}` → `{}`.", quote!(#key), quote!(#value));
            quote! {
                #[doc = #doc]
                pub struct #ident;

                impl #ident {
                    /// The store's name.
                    pub const NAME: &'static str = #name;
                    #changelog_const
                    #repartition_const

                    /// The local partitions of the store.
                    pub fn partitions(
                        app: &impl ::streams_runtime::state::QueryableStores,
                    ) -> #result<::std::vec::Vec<(i32, ::streams_runtime::state::KeyValueStore<#key, #value>)>> {
                        app.key_value_store::<#key, #value>(Self::NAME)
                    }

                    /// The value of `key`, from whichever local partition holds it.
                    pub fn get(
                        app: &impl ::streams_runtime::state::QueryableStores,
                        key: &#key,
                    ) -> #result<::core::option::Option<#value>> {
                        for (_, partition) in Self::partitions(app)? {
                            if let ::core::option::Option::Some(value) = partition.get(key)? {
                                return ::core::result::Result::Ok(::core::option::Option::Some(value));
                            }
                        }
                        ::core::result::Result::Ok(::core::option::Option::None)
                    }

                    /// Every entry of every local partition.
                    pub fn all(
                        app: &impl ::streams_runtime::state::QueryableStores,
                    ) -> #result<::std::vec::Vec<(#key, #value)>> {
                        let mut out = ::std::vec::Vec::new();
                        for (_, partition) in Self::partitions(app)? {
                            out.extend(partition.all()?);
                        }
                        ::core::result::Result::Ok(out)
                    }
                }
            }
        }
    }
}
