//! State stores: their `Materialized`, the typed `stores::<Name>` accessors with their topic
//! names, and the query client's method per store.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Ident, Type};

use crate::model::{Store, TopologyDef};
use crate::names::{camel_case, screaming_snake_case};

pub(super) fn materialized(rt: &syn::Path, store: &Store) -> TokenStream {
    let name = &store.name;
    let in_memory = store.in_memory.then(|| quote!(.in_memory()));
    let without_logging = (!store.logged).then(|| quote!(.without_logging()));
    quote! { #rt::topology::Materialized::named(#name) #in_memory #without_logging }
}

/// How an aggregation's store is laid out (what its generated accessor offers).
pub(super) enum StoreLayout {
    KeyValue,
    /// Time windows of this size (ms).
    Window(u64),
    Session,
}

/// `stores::<CamelName>` with the store's name, changelog (and repartition) topic and typed
/// accessors.
pub(super) fn store_accessor(
    def: &TopologyDef,
    store: &Store,
    key: &Type,
    value: &Type,
    layout: StoreLayout,
    repartitioned: bool,
    topic_consts: &mut Vec<TokenStream>,
) -> TokenStream {
    let (rt, app) = (&def.runtime, &def.application_id);
    let name = store.name.value();
    let ident = format_ident!("{}", camel_case(&name));
    let changelog = kafka_streams_naming::changelog_topic(&app.value(), &name);
    let const_base = screaming_snake_case(&name);
    if store.logged {
        let c = format_ident!("{const_base}_CHANGELOG");
        let doc = format!("Changelog topic of store `{name}`.");
        topic_consts.push(quote! { #[doc = #doc] pub const #c: &str = #changelog; });
    }
    let repartition = kafka_streams_naming::repartition_topic(&app.value(), &name);
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
    let topics = quote! { #changelog_const #repartition_const };
    match layout {
        StoreLayout::Session => session_accessor(rt, &ident, &name, key, value, &topics),
        StoreLayout::Window(size) => window_accessor(rt, &ident, &name, key, value, &topics, size),
        StoreLayout::KeyValue => key_value_accessor(rt, &ident, &name, key, value, &topics),
    }
}

/// A session store's accessor: its partitions, the sessions of a key.
fn session_accessor(
    rt: &syn::Path,
    ident: &Ident,
    name: &str,
    key: &Type,
    value: &Type,
    topics: &TokenStream,
) -> TokenStream {
    let result = quote!(#rt::Result);
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
            #topics

            /// The local partitions of the store.
            pub fn partitions(
                app: &impl #rt::state::QueryableStores,
            ) -> #result<::std::vec::Vec<(i32, #rt::state::SessionStore<#key, #value>)>> {
                app.session_store::<#key, #value>(Self::NAME)
            }

            /// The sessions of `key` (window end = its last record's time), from whichever local
            /// partition holds the key.
            pub fn fetch(
                app: &impl #rt::state::QueryableStores,
                key: &#key,
            ) -> #result<::std::vec::Vec<(#rt::TimeWindow, #value)>> {
                let mut out = ::std::vec::Vec::new();
                for (_, partition) in Self::partitions(app)? {
                    out.extend(partition.fetch(key)?);
                }
                ::core::result::Result::Ok(out)
            }
        }
    }
}

/// A window store's accessor: its partitions, a key's window, every entry.
fn window_accessor(
    rt: &syn::Path,
    ident: &Ident,
    name: &str,
    key: &Type,
    value: &Type,
    topics: &TokenStream,
    size: u64,
) -> TokenStream {
    let result = quote!(#rt::Result);
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
            #topics

            /// The local partitions of the store.
            pub fn partitions(
                app: &impl #rt::state::QueryableStores,
            ) -> #result<::std::vec::Vec<(i32, #rt::state::WindowStore<#key, #value>)>> {
                app.window_store::<#key, #value>(Self::NAME, Self::WINDOW_SIZE_MS)
            }

            /// The value of `key` in the window starting at `window_start_ms`, from whichever
            /// local partition holds the key.
            pub fn fetch(
                app: &impl #rt::state::QueryableStores,
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
                app: &impl #rt::state::QueryableStores,
            ) -> #result<::std::vec::Vec<(#rt::Windowed<#key>, #value)>> {
                let mut out = ::std::vec::Vec::new();
                for (_, partition) in Self::partitions(app)? {
                    out.extend(partition.all()?);
                }
                ::core::result::Result::Ok(out)
            }
        }
    }
}

/// A key-value store's accessor: its partitions, a key's value, every entry.
fn key_value_accessor(
    rt: &syn::Path,
    ident: &Ident,
    name: &str,
    key: &Type,
    value: &Type,
    topics: &TokenStream,
) -> TokenStream {
    let result = quote!(#rt::Result);
    let doc = format!("Key-value store `{name}`: `{}` → `{}`.", quote!(#key), quote!(#value));
    quote! {
        #[doc = #doc]
        pub struct #ident;

        impl #ident {
            /// The store's name.
            pub const NAME: &'static str = #name;
            #topics

            /// The local partitions of the store.
            pub fn partitions(
                app: &impl #rt::state::QueryableStores,
            ) -> #result<::std::vec::Vec<(i32, #rt::state::KeyValueStore<#key, #value>)>> {
                app.key_value_store::<#key, #value>(Self::NAME)
            }

            /// The value of `key`, from whichever local partition holds it.
            pub fn get(
                app: &impl #rt::state::QueryableStores,
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
                app: &impl #rt::state::QueryableStores,
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

/// `Client::<store_name>()`: the typed query handle of one store.
pub(super) fn client_method(
    rt: &syn::Path,
    store: &Store,
    key: &Type,
    value: &Type,
    layout: &StoreLayout,
) -> TokenStream {
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
            pub fn #method(&self) -> #rt::query::WindowClient<'_, #key, #value> {
                self.inner.window(#name)
            }
        },
        StoreLayout::Session => quote! {
            #[doc = #doc]
            pub fn #method(&self) -> #rt::query::SessionClient<'_, #key, #value> {
                self.inner.session(#name)
            }
        },
        StoreLayout::KeyValue => quote! {
            #[doc = #doc]
            pub fn #method(&self) -> #rt::query::KeyValueClient<'_, #key, #value> {
                self.inner.key_value(#name)
            }
        },
    }
}
