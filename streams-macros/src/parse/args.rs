//! Attribute arguments, one parser per attribute; an argument given twice is an error.

use syn::spanned::Spanned;
use syn::{Attribute, Expr, Ident, LitBool, LitStr, Type};

use crate::duration::{parse_duration, parse_positive_duration};
use crate::model::{Format, Formats, JoinWindowDef, ProcessorStore, Regroup, Store};

use super::errors::Errors;
use super::nodes::JoinPartner;
use super::{attr_name, attr_span};

pub(super) struct SourceArgs {
    pub(super) topic: LitStr,
    pub(super) formats: Formats,
    pub(super) timestamp: Option<Expr>,
}

pub(super) fn parse_format(lit: &LitStr) -> syn::Result<Format> {
    match lit.value().as_str() {
        "json" => Ok(Format::Json),
        "utf8" => Ok(Format::Utf8),
        "binary" => Ok(Format::Binary),
        "bytes" => Ok(Format::Bytes),
        "avro" => Ok(Format::Avro),
        "protobuf" => Ok(Format::Protobuf),
        "json_schema" => Ok(Format::JsonSchema),
        other => Err(syn::Error::new(
            lit.span(),
            format!(
                "unknown format `{other}`; use \"json\", \"utf8\", \"binary\", \"bytes\", or with the Schema \
                 Registry \"avro\", \"protobuf\" or \"json_schema\""
            ),
        )),
    }
}

pub(super) fn check_topic(lit: &LitStr, errors: &mut Errors) {
    if let Some(problem) = kafka_streams_naming::topic_name_problem(&lit.value()) {
        errors.at(lit.span(), format!("not a legal topic name: {problem}"));
    }
}

/// Runs `parse` over the attribute's arguments; a syntax error or an argument given twice is
/// recorded (`None`).
pub(super) fn parse_args(
    attr: &Attribute,
    errors: &mut Errors,
    mut parse: impl FnMut(syn::meta::ParseNestedMeta<'_>) -> syn::Result<()>,
) -> Option<()> {
    let what = format!("#[{}]", attr_name(attr).unwrap_or_default());
    let mut seen = Vec::new();
    attr.parse_nested_meta(|meta| {
        once(&mut seen, &meta.path, &what)?;
        parse(meta)
    })
    .map_err(|e| errors.push(e))
    .ok()
}

/// Arguments an attribute may repeat: `from = a, from = b` merges two streams.
pub(super) const REPEATABLE_ARGUMENTS: &[&str] = &["from"];

/// An error at the second `name = ..` of one attribute (or of one nested group, `what`):
/// without it, `topic = "a", topic = "b"` silently meant `"b"`.
pub(super) fn once(seen: &mut Vec<String>, path: &syn::Path, what: &str) -> syn::Result<()> {
    let name = path.get_ident().map(ToString::to_string).unwrap_or_default();
    if REPEATABLE_ARGUMENTS.contains(&name.as_str()) {
        return Ok(());
    }
    if seen.contains(&name) {
        return Err(syn::Error::new(
            path.span(),
            format!("`{name}` is given twice in `{what}`; give it once"),
        ));
    }
    seen.push(name);
    Ok(())
}

/// Reads `key_format = ".."` / `value_format = ".."` into `formats`; `false` for other arguments.
pub(super) fn parse_format_arg(meta: &syn::meta::ParseNestedMeta<'_>, formats: &mut Formats) -> syn::Result<bool> {
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

pub(super) fn parse_source_args(attr: &Attribute, errors: &mut Errors) -> Option<SourceArgs> {
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

pub(super) fn parse_sink_args(attr: &Attribute, errors: &mut Errors) -> Option<(LitStr, Formats, Vec<Ident>)> {
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
pub(super) fn parse_join_args(attr: &Attribute, errors: &mut Errors) -> Option<(JoinPartner, Vec<Ident>)> {
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
pub(super) fn parse_to_table_args(attr: &Attribute, errors: &mut Errors) -> Option<Store> {
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
pub(super) fn parse_branch_args(attr: &Attribute, errors: &mut Errors) -> Option<LitStr> {
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
pub(super) fn parse_repartition_args(attr: &Attribute, errors: &mut Errors) -> Option<Option<i32>> {
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
pub(super) fn parse_processor_args(attr: &Attribute, errors: &mut Errors) -> Option<(Vec<Ident>, Vec<ProcessorStore>)> {
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
            let mut seen = Vec::new();
            let what = format!("{}(..)", if window { "window" } else { "key_value" });
            store.parse_nested_meta(|arg| {
                once(&mut seen, &arg.path, &what)?;
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

pub(super) fn parse_store_args(attr: &Attribute, errors: &mut Errors) -> Option<(Store, Option<Regroup>)> {
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

pub(super) fn parse_table_args(attr: &Attribute, errors: &mut Errors) -> Option<(LitStr, Store, Formats, bool)> {
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
