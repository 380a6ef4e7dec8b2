//! The codecs of topics: explicit formats, or picked by type; and the `Consumed` of a source
//! with its timestamp extractor.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::{Expr, LitStr, Type};

use crate::model::{Format, Formats};
use crate::parse::single_generic;

pub(super) fn consumed(
    rt: &syn::Path,
    key: &Type,
    value: &Type,
    key_codec: &TokenStream,
    value_codec: &TokenStream,
    timestamp: Option<&Expr>,
) -> TokenStream {
    let base = quote! { #rt::topology::Consumed::<#key, #value>::new(#key_codec, #value_codec) };
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

/// Codecs for a topic: the explicit format, or by type (String → UTF-8, `Vec<u8>` → bytes,
/// anything else JSON).
pub(super) fn codecs(
    rt: &syn::Path,
    formats: &Formats,
    topic: &LitStr,
    key: Option<&Type>,
    value: Option<&Type>,
) -> (TokenStream, TokenStream) {
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
    (
        codec(rt, key_format, key_span, Subject { topic, is_key: true }, key),
        codec(rt, value_format, value_span, Subject { topic, is_key: false }, value),
    )
}

pub(super) fn default_format(ty: &Type) -> Format {
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

/// Whose codec it is: a Schema Registry codec registers under `<topic>-key` or `<topic>-value`.
pub(super) struct Subject<'a> {
    topic: &'a LitStr,
    is_key: bool,
}

/// The codec of a format, spanned at the type (or format) it was chosen for: a value type that
/// does not implement serde's traits is reported there, not on the `#[topology]` attribute.
/// A Schema Registry codec is made on the builder's registry (connected when the app starts).
fn codec(rt: &syn::Path, format: Format, span: Option<Span>, subject: Subject<'_>, ty: Option<&Type>) -> TokenStream {
    let span = span.unwrap_or_else(Span::call_site);
    let rt = respanned(rt, span);
    let registry_codec = |name: &str| {
        let name = syn::Ident::new(name, span);
        let ty = ty.map(|ty| quote_spanned! {span=> ::<#ty> });
        let constructor = syn::Ident::new(if subject.is_key { "topic_key" } else { "topic_value" }, span);
        let topic = subject.topic;
        // The builder's binding is the macro's own (call-site), whatever span the format has.
        let builder = syn::Ident::new("__builder", Span::call_site());
        quote_spanned! {span=> #rt::codec::#name #ty ::#constructor(&#builder.schema_registry(), #topic) }
    };
    match format {
        Format::Json => quote_spanned! {span=> #rt::codec::Json },
        Format::Utf8 => quote_spanned! {span=> #rt::codec::Utf8 },
        Format::Binary => quote_spanned! {span=> #rt::codec::Binary },
        Format::Bytes => quote_spanned! {span=> #rt::codec::Bytes },
        Format::Avro => registry_codec("Avro"),
        Format::Protobuf => registry_codec("Protobuf"),
        Format::JsonSchema => registry_codec("JsonSchema"),
    }
}

/// The runtime path with every token at `span` (interpolated tokens keep their own span).
fn respanned(path: &syn::Path, span: Span) -> TokenStream {
    quote::ToTokens::to_token_stream(path)
        .into_iter()
        .map(|mut token| {
            token.set_span(span);
            token
        })
        .collect()
}
