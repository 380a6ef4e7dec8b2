//! The arguments of `#[topology(..)]`: the application id, the error policy and the path of the
//! runtime crate.

use proc_macro2::Span;
use syn::LitStr;

use crate::model::ErrorPolicyDef;

use super::args::once;

/// `#[topology(..)]`'s arguments.
pub(crate) struct TopologyArgs {
    pub(crate) application_id: LitStr,
    pub(crate) error_policy: ErrorPolicyDef,
    /// `crate = "::path"`: where generated code finds the runtime (`::kafka_streams` unless
    /// the dependency is renamed or re-exported, as serde's and tokio's `crate` arguments).
    pub(crate) runtime: syn::Path,
}

/// The runtime crate's path in generated code when `crate = ".."` is not given.
pub(crate) fn default_runtime_path() -> syn::Path {
    syn::parse_quote!(::kafka_streams)
}

/// `#[topology(application_id = "..", on_error = "..", dead_letter_topic = "..", crate = "..")]`.
pub(crate) fn parse_topology_args(args: proc_macro2::TokenStream) -> syn::Result<TopologyArgs> {
    let mut application_id = None;
    let mut on_error: Option<LitStr> = None;
    let mut dead_letter_topic: Option<LitStr> = None;
    let mut runtime: Option<LitStr> = None;
    let mut seen = Vec::new();
    let parser = syn::meta::parser(|meta| {
        once(&mut seen, &meta.path, "#[topology]")?;
        let slot = if meta.path.is_ident("crate") {
            &mut runtime
        } else if meta.path.is_ident("application_id") {
            &mut application_id
        } else if meta.path.is_ident("on_error") {
            &mut on_error
        } else if meta.path.is_ident("dead_letter_topic") {
            &mut dead_letter_topic
        } else {
            return Err(meta.error(
                "unknown `#[topology]` argument; expected `application_id = \"...\"`, `on_error = \"...\"`, \
                 `dead_letter_topic = \"...\"` or `crate = \"...\"`",
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
    if let Some(problem) = kafka_streams_naming::topic_name_problem(&application_id.value()) {
        return Err(syn::Error::new(
            application_id.span(),
            format!("`application_id` prefixes internal topic names, but {problem}"),
        ));
    }
    let policy = match (on_error.as_ref().map(LitStr::value).as_deref(), dead_letter_topic) {
        (None | Some("dead_letter"), Some(topic)) => {
            if let Some(problem) = kafka_streams_naming::topic_name_problem(&topic.value()) {
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
    let runtime = match runtime {
        None => default_runtime_path(),
        Some(path) => path.parse::<syn::Path>().map_err(|_| {
            syn::Error::new(
                path.span(),
                "`crate` takes the path of the kafka-streams crate as generated code should name it, \
                 e.g. `crate = \"::streams\"` for a dependency renamed to `streams`",
            )
        })?,
    };
    Ok(TopologyArgs {
        application_id,
        error_policy: policy,
        runtime,
    })
}
