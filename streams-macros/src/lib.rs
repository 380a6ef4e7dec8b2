//! Attribute macros for kafka-streams: `#[topology]` and the node attributes inside it.
//!
//! Use them through `kafka_streams` (`use kafka_streams::topology;`). A `#[topology]` module
//! holds ordinary functions and type declarations; node attributes on them (`#[source]`,
//! `#[table]`, `#[sink]`, `#[join]`, `#[state_store]`, `#[windowed]`, and `#[from(..)]` on a
//! first parameter) make them typed processor nodes. The macro reads them (parse, which leaves
//! the items as they are), settles each node's kind once (resolve: does it read a table, which
//! join is it), checks the graph (validate), expands into the runtime's public builder API
//! plus `__private` of the runtime path (`::kafka_streams`, or `crate = ".."`) — never
//! anything else — and emits the
//! user's items as written, minus the node attributes (a separate strip pass).
//!
//! Generated in the module: `APPLICATION_ID`, `topology()`, `describe()`, `app()` (the entry
//! point: `fn main() -> kafka_streams::Result<()> { my_topology::app().run() }`),
//! `topics::*` (every topic name, changelogs and repartition topics included) and
//! `stores::<StoreName>` (typed accessors). These names are reserved inside the module.
//!
//! On a mistake the errors are reported and the same items are still generated, from the nodes
//! that parsed, with functions that are never run (`expand::fallback`): one typo gives one
//! error, not one more at every use of the module's items.

mod duration;
mod expand;
mod model;
mod names;
mod parse;
mod resolve;
mod validate;

use proc_macro::TokenStream;
use quote::quote;

/// Turns a module into a topology; see the crate docs for the node attributes.
///
/// ```ignore
/// #[kafka_streams::topology(application_id = "click-aggregator")]
/// pub mod clicks {
///     use super::*;
///
///     #[source(topic = "user-clicks", timestamp = |c: &Click| c.timestamp_ms)]
///     pub type UserClicks = (String, Click);
///
///     #[windowed(tumbling = "5m", grace = "30s")]
///     #[state_store(name = "click-counts")]
///     pub fn count_clicks(#[from(UserClicks)] _user: &String, _click: &Click, count: &mut u64) {
///         *count += 1;
///     }
///
///     #[sink(topic = "aggregated-clicks", from = count_clicks)]
///     pub fn publish(key: Windowed<String>, count: u64) -> (String, u64) {
///         (key.to_string(), count)
///     }
/// }
/// ```
///
/// Arguments: `application_id` (required), `on_error = "continue" | "fail" | "dead_letter"`
/// with `dead_letter_topic`, and `crate = "::path"`: where generated code finds the runtime
/// when the `kafka-streams` dependency is renamed (`streams = { package = "kafka-streams" }`
/// → `crate = "::streams"`) or re-exported by another crate. The path must resolve inside the
/// module and in nested modules, so give it absolute (`::name` or `crate::..`).
#[proc_macro_attribute]
pub fn topology(args: TokenStream, input: TokenStream) -> TokenStream {
    match topology_impl(args.into(), input.into()) {
        Ok(tokens) | Err(tokens) => tokens.into(),
    }
}

fn topology_impl(
    args: proc_macro2::TokenStream,
    input: proc_macro2::TokenStream,
) -> Result<proc_macro2::TokenStream, proc_macro2::TokenStream> {
    let mut module: syn::ItemMod = syn::parse2(input.clone()).map_err(|_| {
        syn::Error::new(
            proc_macro2::Span::call_site(),
            "`#[topology]` goes on a module: `#[topology(application_id = \"...\")] mod my_app { ... }`",
        )
        .to_compile_error()
    })?;
    let mut errors = parse::Errors::default();
    let args = parse::parse_topology_args(args).unwrap_or_else(|e| {
        errors.push(e);
        // Only for the fallback's stubs: the program does not compile.
        parse::TopologyArgs {
            application_id: syn::LitStr::new("invalid-application-id", proc_macro2::Span::call_site()),
            error_policy: model::ErrorPolicyDef::default(),
            runtime: parse::default_runtime_path(),
        }
    });
    let Some((_, items)) = module.content.as_ref() else {
        errors.push(syn::Error::new(
            module.ident.span(),
            "`#[topology]` needs the module's items inline: `mod name { ... }`, not `mod name;`",
        ));
        let errors = errors.into_result().err().map(|e| e.to_compile_error());
        return Err(quote! { #module #errors });
    };
    let taken = parse::reserved_names_taken(items);
    let def = parse::parse_items(args, items, &mut errors);
    // Each node's kind (reads a table? which join?), settled once for the checks and the expansion.
    let resolved = resolve::resolve(&def);
    // Graph checks only on nodes that parsed: a broken declaration would cascade (a source with
    // a typo must not also be reported as "no source").
    let order = if errors.is_empty() {
        validate::validate(&def, &resolved, module.ident.span(), &mut errors)
    } else {
        None
    };
    let generated = match (errors.into_result(), order) {
        (Ok(()), Some(order)) => expand::expand(&def, &resolved, &order),
        // The errors, and the module's items as stubs: one mistake, one error, not one more at
        // every use of `app()`, `topics::*`, `stores::*` or `Client` outside the module.
        (Err(e), _) => {
            let error = e.to_compile_error();
            let stubs = expand::fallback(&def, &resolved, &taken);
            quote! { #error #stubs }
        }
        (Ok(()), None) => expand::fallback(&def, &resolved, &taken),
    };
    if let Some((_, items)) = module.content.as_mut() {
        parse::strip_node_attributes(items);
        items.push(syn::Item::Verbatim(generated));
    }
    Ok(quote! { #module })
}

macro_rules! node_attribute {
    ($name:ident, $doc:literal) => {
        #[doc = $doc]
        ///
        /// Only meaningful inside a `#[topology]` module, which reads and removes it; anywhere
        /// else it is a compile error.
        #[proc_macro_attribute]
        pub fn $name(_args: TokenStream, input: TokenStream) -> TokenStream {
            let input = proc_macro2::TokenStream::from(input);
            let message = concat!(
                "`#[",
                stringify!($name),
                "]` only works inside a `#[topology(application_id = \"...\")]` module"
            );
            let error = syn::Error::new(proc_macro2::Span::call_site(), message).to_compile_error();
            quote! { #error #input }.into()
        }
    };
}

node_attribute!(
    source,
    "Reads a topic: `#[source(topic = \"..\")]` on `type Name = (K, V);` or a function of `(key, value)`."
);
node_attribute!(
    table,
    "Reads a topic as a table: `#[table(topic = \"..\", store = \"..\")]` on `type Name = (K, V);`."
);
node_attribute!(
    sink,
    "Writes a node's output to a topic: `#[sink(topic = \"..\", from = node)]` on a function."
);
node_attribute!(
    join,
    "Joins a stream with a table by key: `#[join(table = node)]` on `fn(value: &V, table: &T) -> R`."
);
node_attribute!(
    state_store,
    "Aggregates into a named store: `#[state_store(name = \"..\")]` on `fn(&K, &V, &mut A)`."
);
node_attribute!(
    windowed,
    "Windows an aggregation: `#[windowed(tumbling = \"5m\", grace = \"30s\")]`; `emit = \"final\"` sends \
     each window once when it closes, `retention = \"7d\"` keeps windows that long."
);

#[cfg(test)]
mod tests {
    use quote::quote;

    /// `crate = ".."` is the only runtime path in the expansion: a renamed dependency works
    /// only if no generated token still says `kafka_streams`.
    #[test]
    fn generated_code_names_the_runtime_by_the_given_crate_path() {
        let args = quote!(application_id = "app", crate = "::renamed");
        let module = quote! {
            mod app {
                #[source(topic = "in")]
                pub type Input = (String, String);

                #[windowed(tumbling = "5m")]
                #[state_store(name = "counts")]
                pub fn count(#[from(Input)] _key: &String, _value: &String, count: &mut u64) {
                    *count += 1;
                }

                #[sink(topic = "out", from = count)]
                pub fn publish(key: Windowed<String>, count: u64) -> (String, u64) {
                    (key.to_string(), count)
                }
            }
        };
        let expanded = super::topology_impl(args, module)
            .expect("a valid topology")
            .to_string();
        assert!(
            expanded.contains(":: renamed :: topology :: StreamsBuilder"),
            "{expanded}"
        );
        assert!(expanded.contains(":: renamed :: app :: App"), "{expanded}");
        assert!(!expanded.contains("kafka_streams"), "{expanded}");
    }

    #[test]
    fn without_a_crate_path_generated_code_names_kafka_streams() {
        let module = quote! {
            mod app {
                #[source(topic = "in")]
                pub type Input = (String, String);

                #[sink(topic = "out", from = Input)]
                pub fn publish(value: String) -> String {
                    value
                }
            }
        };
        let expanded = super::topology_impl(quote!(application_id = "app"), module)
            .expect("a valid topology")
            .to_string();
        assert!(expanded.contains(":: kafka_streams :: app :: App"), "{expanded}");
    }
}
