//! The module's public items: `APPLICATION_ID`, `topology()`, `describe()`, `app()`, `Client`,
//! `topics::*` and `stores::*`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::LitStr;

use crate::model::{ErrorPolicyDef, TopologyDef};
use crate::names::screaming_snake_case;

/// What the nodes bring to the module's items.
#[derive(Default)]
pub(super) struct Items {
    /// `stores::<Name>` accessors.
    pub(super) stores: Vec<TokenStream>,
    /// Their names.
    pub(super) store_names: Vec<String>,
    /// `Client::<store>()` methods.
    pub(super) client_methods: Vec<TokenStream>,
    /// `topics::*` constants (possibly repeated: deduplicated at the end).
    pub(super) topic_consts: Vec<TokenStream>,
    pub(super) source_topics: Vec<LitStr>,
    pub(super) sink_topics: Vec<LitStr>,
}

impl Items {
    /// A topic the topology reads.
    pub(super) fn source_topic(&mut self, topic: &LitStr) {
        self.source_topics.push(topic.clone());
        self.topic_consts.push(topic_const(topic));
    }

    /// A topic the topology writes.
    pub(super) fn sink_topic(&mut self, topic: &LitStr) {
        self.sink_topics.push(topic.clone());
        self.topic_consts.push(topic_const(topic));
    }
}

/// How the module's items are generated.
pub(super) enum Mode<'a> {
    /// A valid topology: these statements build it.
    Build(Vec<TokenStream>),
    /// The macro reported errors: stubs whose functions are never run (the program does not
    /// compile), none of the names the user's items already take (a reserved name is one of
    /// the errors; a second definition would add another).
    Fallback { taken: &'a [String] },
}

/// The module's items.
pub(super) fn module(def: &TopologyDef, mut items: Items, mode: Mode<'_>) -> TokenStream {
    let id = &def.application_id;
    let rt = &def.runtime;
    let taken: &[String] = match &mode {
        Mode::Build(_) => &[],
        Mode::Fallback { taken } => taken,
    };
    let error_policy = error_policy(rt, &def.error_policy, &mut items);
    let Items {
        stores,
        client_methods,
        topic_consts,
        source_topics,
        sink_topics,
        ..
    } = items;
    let topic_consts = dedup_consts(topic_consts);
    let (topology, describe, app) = match mode {
        Mode::Build(statements) => (
            quote! {
                let __builder = #rt::topology::StreamsBuilder::new();
                #error_policy
                #(#statements)*
                __builder.build()
            },
            quote! {
                match topology() {
                    ::core::result::Result::Ok(topology) => topology.describe_for(APPLICATION_ID),
                    ::core::result::Result::Err(error) => ::std::string::ToString::to_string(&error),
                }
            },
            quote! {
                #rt::app::App::new(APPLICATION_ID, topology)
                    .source_topics(&[#(#source_topics),*])
                    .sink_topics(&[#(#sink_topics),*])
            },
        ),
        Mode::Fallback { .. } => {
            let stub = quote! { ::core::unreachable!("the #[topology] module did not compile") };
            (stub.clone(), stub.clone(), stub)
        }
    };
    let unless_taken = |name: &str, item: TokenStream| {
        if taken.iter().any(|t| t == name) {
            TokenStream::new()
        } else {
            item
        }
    };
    let application_id = unless_taken(
        "APPLICATION_ID",
        quote! {
            /// The application id: the consumer group and the prefix of every internal topic.
            pub const APPLICATION_ID: &str = #id;
        },
    );
    let topology = unless_taken(
        "topology",
        quote! {
            /// Builds the topology with the typed builder API.
            #[allow(non_snake_case, clippy::redundant_clone)]
            pub fn topology() -> ::core::result::Result<
                #rt::topology::Topology,
                #rt::topology::TopologyError,
            > {
                #topology
            }
        },
    );
    let describe = unless_taken(
        "describe",
        quote! {
            /// The topology's description, in the style of Kafka Streams' `Topology#describe()`.
            pub fn describe() -> ::std::string::String {
                #describe
            }
        },
    );
    let app = unless_taken(
        "app",
        quote! {
            /// The runnable application: `app().run()` starts it with configuration from command-line
            /// flags and environment variables (`--help` lists them).
            pub fn app() -> #rt::app::App {
                #app
            }
        },
    );
    let client = unless_taken("Client", client(rt, &client_methods));
    let topics = unless_taken(
        "topics",
        quote! {
            /// Names of the topics this topology reads and writes, internal topics included.
            pub mod topics {
                #(#topic_consts)*
            }
        },
    );
    let stores = unless_taken(
        "stores",
        quote! {
            /// Typed accessors of the topology's state stores (local partitions of a running
            /// `KafkaStreams` or a `TestDriver`).
            pub mod stores {
                #[allow(unused_imports)]
                use super::*;
                #(#stores)*
            }
        },
    );
    quote! { #application_id #topology #describe #app #client #topics #stores }
}

/// `Client`: the typed query client, a method per served store; only when the runtime has its
/// `http` feature (`with_http!` decides in the runtime crate, where that feature is known).
fn client(rt: &syn::Path, client_methods: &[TokenStream]) -> TokenStream {
    quote! { #rt::__private::with_http! {
        /// A typed client of the application's query servers: ask any instance, it routes to
        /// the one that owns the key. Store, key and value types are checked at compile time.
        #[derive(Clone, Debug)]
        pub struct Client {
            inner: #rt::query::QueryClient,
        }

        impl Client {
            /// A client of the instance at `base_url` (e.g. `http://127.0.0.1:8080`).
            pub fn new(base_url: impl ::core::convert::Into<::std::string::String>) -> Self {
                Self { inner: #rt::query::QueryClient::new(base_url) }
            }

            /// A client over a configured `QueryClient`
            /// (your own `reqwest::Client` for TLS or auth, timeouts, retries, stale reads).
            pub fn with(inner: #rt::query::QueryClient) -> Self {
                Self { inner }
            }

            /// The instances, their endpoints, tasks and lags.
            pub async fn metadata(&self) -> #rt::Result<#rt::__private::serde_json::Value> {
                self.inner.metadata().await
            }

            #(#client_methods)*
        }
    } }
}

/// The builder calls of `#[topology(on_error = ..)]`; a dead-letter topic is a sink topic too.
fn error_policy(rt: &syn::Path, policy: &ErrorPolicyDef, items: &mut Items) -> TokenStream {
    match policy {
        ErrorPolicyDef::Continue => quote! {},
        ErrorPolicyDef::Fail => quote! {
            __builder
                .on_deserialization_error(#rt::topology::ErrorPolicy::LogAndFail)
                .on_processing_error(#rt::topology::ErrorPolicy::LogAndFail);
        },
        ErrorPolicyDef::DeadLetter(topic) => {
            items.sink_topics.push(topic.clone());
            items.topic_consts.push(quote! {
                /// Where records that do not decode or fail in a node go (`on_error = "dead_letter"`).
                pub const DEAD_LETTER: &str = #topic;
            });
            quote! {
                __builder
                    .on_deserialization_error(#rt::topology::ErrorPolicy::dead_letter(#topic))
                    .on_processing_error(#rt::topology::ErrorPolicy::dead_letter(#topic));
            }
        }
    }
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
