//! How the builder closures call the user's functions: which builder operation a function's
//! shape needs, and whether each argument is passed borrowed, cloned or owned.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{Ident, Type};

use crate::model::{Param, Shape, StatelessFn};

/// How a builder closure over `k`, `v` passes them to a stateless user function, by its
/// parameter types.
pub(super) struct CallArgs {
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

pub(super) fn call_args(f: &StatelessFn) -> CallArgs {
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

pub(super) fn stateless_op(name: &Ident, f: &StatelessFn) -> TokenStream {
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

/// The `KTable` call deriving a table with a user function: `filter` or `map_values`.
pub(super) fn table_op(name: &Ident, f: &StatelessFn, materialized: &TokenStream) -> TokenStream {
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

/// An aggregation closure `(k: &K, v: V, acc: A) -> A` calling the user's `f(key, value, &mut
/// acc)` (the adder, or a table aggregation's subtractor), passing the key and value as its
/// parameter types take them.
pub(super) fn accumulator(f: &impl ToTokens, key: &Param, value: &Param, aggregate: &Type) -> TokenStream {
    let key_arg = if key.by_ref {
        quote!(k)
    } else {
        quote!(::core::clone::Clone::clone(k))
    };
    let value_arg = if value.by_ref { quote!(&v) } else { quote!(v) };
    let (key_ty, value_ty) = (&key.ty, &value.ty);
    quote! {
        move |k: &#key_ty, v: #value_ty, mut acc: #aggregate| -> #aggregate {
            #f(#key_arg, #value_arg, &mut acc);
            acc
        }
    }
}
