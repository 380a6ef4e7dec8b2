//! `#[windowed(..)]`: the window kind, grace, retention, emit strategy and session merge.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Attribute, LitStr, Token};

use crate::duration::{parse_duration, parse_positive_duration};
use crate::model::{Window, WindowKind};

use super::args::{once, parse_args};
use super::attr_span;
use super::errors::Errors;

/// `#[windowed(tumbling = "5m", grace = "30s")]`, `hopping(size = .., advance = ..)`,
/// `sliding(time_difference = ..)`, `session(inactivity_gap = ..)`; plus `emit = "final"` and
/// `retention = ".."`.
pub(super) fn parse_window(attr: &Attribute, errors: &mut Errors) -> Option<Window> {
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
                let k = parse_window_kind(&ident, &meta, &path)?;
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
    check_window(&kind, span, merge.as_ref(), retention, grace.map(|(ms, _)| ms), errors)?;
    Some(Window {
        kind,
        grace_ms: grace.map(|(ms, _)| ms),
        emit_final,
        merge,
        retention_ms: retention.map(|(ms, _)| ms),
    })
}

/// A window's settings agree: `merge` exactly on session windows, a `retention` long enough for
/// windows to close (and for sliding windows, to look back).
pub(super) fn check_window(
    kind: &WindowKind,
    span: Span,
    merge: Option<&syn::Path>,
    retention: Option<(u64, Span)>,
    grace_ms: Option<u64>,
    errors: &mut Errors,
) -> Option<()> {
    match (kind, merge) {
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
        let grace_ms = grace_ms.unwrap_or(0);
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
    Some(())
}

/// `tumbling(size = ..)`, `hopping(size = .., advance = ..)`, `sliding(time_difference = ..)` or
/// `session(inactivity_gap = ..)`: the settings of window kind `ident` at `path`.
pub(super) fn parse_window_kind(
    ident: &str,
    meta: &syn::meta::ParseNestedMeta<'_>,
    path: &syn::Path,
) -> syn::Result<WindowKind> {
    let mut durations: Vec<(String, u64, Span)> = Vec::new();
    let mut seen = Vec::new();
    let what = format!("{ident}(..)");
    meta.parse_nested_meta(|inner| {
        once(&mut seen, &inner.path, &what)?;
        let name = inner.path.get_ident().map(ToString::to_string).unwrap_or_default();
        let lit = inner.value()?.parse::<LitStr>()?;
        durations.push((name, parse_positive_duration(&lit)?, inner.path.span()));
        Ok(())
    })?;
    let find = |name: &str| durations.iter().find(|(n, _, _)| n == name).map(|(_, ms, _)| *ms);
    let expected: &[&str] = match ident {
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
    Ok(match ident {
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
    })
}
