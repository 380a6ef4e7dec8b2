//! The query routes of the instance's HTTP server.
//!
//! `GET /stores/{store}/keys/{key}` — a key-value store's value for `key`; for a window (or
//! session) store the windows (sessions) of `key` starting in `?from=&to=` (epoch ms), or the
//! one starting at `?window_start=`.
//! `?stale=true` accepts an answer from a standby replica (local first, or another instance's
//! while the partition has no active owner); such answers carry `standby.changelog_offset` and
//! `standby.offset_lag` (how many changelog offsets the active task has written beyond it).
//! `GET /stores/{store}` — entries of a store across all instances (`?prefix=`, `?from=`,
//! `?to=` on the key's text, `?after=` + `?limit=` to page; `?scope=local` for this instance's
//! partitions only; `?stale=true` lets standbys answer for partitions whose active task no
//! instance can answer for — none runs it, or its instance serves no queries —, their entries
//! marked `standby`). `GET /metadata` — instances, their endpoints, tasks and lags.
//!
//! A key is routed like a record: murmur2 of its encoding on the store's input topic picks the
//! partition, the membership topic says which instance runs that task; requests for keys
//! owned elsewhere are proxied there once (`hops=1`). While nobody owns the partition
//! (rebalancing, restoring) the answer is 503 with `Retry-After`, never a wrong value.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::KafkaStreams;
use crate::error::report;
use crate::query::page::{KeyFilter, Page, PageEntry, encode};
use crate::state::SharedStore;
use crate::state::query_adapter::{QueryLayout, StoreQuery, key_text};
use crate::task::StandbyRead;
use crate::task::TaskId;

/// Shared by the query handlers.
pub(crate) struct QueryState {
    pub(crate) streams: Arc<KafkaStreams>,
    pub(crate) http: reqwest::Client,
}

const MAX_LIMIT: usize = 1_000;
const DEFAULT_LIMIT: usize = 100;

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

fn unavailable(message: String) -> Response {
    let mut response = error(StatusCode::SERVICE_UNAVAILABLE, message);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// Where a partition of a store is answered.
enum Owner {
    Local(SharedStore),
    /// A local standby (the caller accepts stale reads).
    Standby(StandbyRead),
    Remote(String),
    Nobody(String),
}

fn owner(streams: &KafkaStreams, store: &str, partition: i32, subtopology: u32, hops: u32, stale: bool) -> Owner {
    if let Some(local) = streams
        .registry()
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(&(store.to_owned(), partition))
    {
        return Owner::Local(Arc::clone(local));
    }
    // Not active here: a stale read may be answered by a local standby.
    if stale && let Some((_, standby)) = streams.standby_reads(store).into_iter().find(|(p, _)| *p == partition) {
        return Owner::Standby(standby);
    }
    let task = TaskId { subtopology, partition };
    let why = format!("partition {partition} of store `{store}` (task {task}) has no active owner right now");
    if hops > 0 {
        return Owner::Nobody(format!(
            "{why} (this instance was named its owner; a rebalance is under way); retry"
        ));
    }
    match streams.membership().remote_owner(task).and_then(|m| m.endpoint) {
        Some(endpoint) => Owner::Remote(endpoint),
        // No active owner: a stale read may still be served by another instance's standby.
        None if stale => match streams
            .members()
            .into_iter()
            .find(|m| m.process_id != streams.process_id() && m.standby_tasks.contains(&task.to_string()))
            .and_then(|m| m.endpoint)
        {
            Some(endpoint) => Owner::Remote(endpoint),
            None => Owner::Nobody(format!(
                "{why} and no standby of it is known (rebalancing or restoring); retry"
            )),
        },
        None => Owner::Nobody(format!("{why} (rebalancing or restoring); retry")),
    }
}

/// What an answer read from a standby carries: the changelog offset it reflects and how many
/// offsets the changelog has beyond it now (`offset_lag`; null if the broker could not say).
async fn standby_marker(streams: &Arc<KafkaStreams>, read: StandbyRead) -> (SharedStore, Value) {
    let offset = read.changelog_offset;
    let (streams, store) = (Arc::clone(streams), Arc::clone(&read.store));
    let lag = tokio::task::spawn_blocking(move || streams.standby_lag(&read))
        .await
        .ok()
        .and_then(|lag| {
            lag.inspect_err(|e| tracing::warn!(error = %report(&e), "cannot tell a standby's lag"))
                .ok()
        });
    (store, json!({ "changelog_offset": offset, "offset_lag": lag }))
}

/// Marks an answer read from a standby (the active task may be further).
fn with_standby(mut body: Value, standby: Option<Value>) -> Value {
    if let Some(standby) = standby {
        body["standby"] = standby;
    }
    body
}

/// Forwards this request to `endpoint` once.
async fn proxy(state: &QueryState, endpoint: &str, path: &str, query: Option<&str>) -> Response {
    let separator = if query.is_some_and(|q| !q.is_empty()) { "&" } else { "" };
    let url = format!("http://{endpoint}{path}?{}{separator}hops=1", query.unwrap_or(""));
    match state.http.get(&url).send().await {
        Ok(answer) => {
            let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            let retry = answer.headers().get(header::RETRY_AFTER).cloned();
            let body = answer.bytes().await.unwrap_or_default();
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            if let Some(retry) = retry {
                headers.insert(header::RETRY_AFTER, retry);
            }
            (status, headers, body).into_response()
        }
        Err(e) => unavailable(format!(
            "the owner at {endpoint} did not answer ({}); retry",
            report(&e)
        )),
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct KeyQuery {
    from: Option<i64>,
    to: Option<i64>,
    window_start: Option<i64>,
    #[serde(default)]
    hops: u32,
    /// Accept an answer from a standby replica, which may lag behind the active task.
    #[serde(default)]
    stale: bool,
}

/// The store's query adapter and its sub-topology, or a 404 naming the stores there are.
#[allow(clippy::result_large_err)] // the error is the response itself, built once per request
fn store_info(streams: &KafkaStreams, store: &str) -> Result<(Arc<dyn StoreQuery>, u32), Response> {
    let topology = streams.topology();
    let Some(query) = topology.queries.get(store) else {
        let mut known: Vec<&String> = topology.queries.keys().collect();
        known.sort();
        let known: Vec<String> = known.iter().map(|s| format!("`{s}`")).collect();
        return Err(error(
            StatusCode::NOT_FOUND,
            format!("no store named `{store}`; this application has {}", known.join(", ")),
        ));
    };
    let subtopology = topology
        .stores()
        .find(|(spec, _)| spec.name == store)
        .map_or(0, |(_, sub)| sub);
    Ok((Arc::clone(query), subtopology))
}

pub(crate) async fn get_key(
    State(state): State<Arc<QueryState>>,
    Path((store, key)): Path<(String, String)>,
    Query(params): Query<KeyQuery>,
    RawQuery(raw): RawQuery,
) -> Response {
    let streams = &state.streams;
    let (query, subtopology) = match store_info(streams, &store) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Some(partitions) = streams.partitions(subtopology) else {
        return unavailable(format!("store `{store}` is not set up yet; retry"));
    };
    let partition = match query.partition(&key, partitions) {
        Ok(p) => p,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let (local, standby) = match owner(streams, &store, partition, subtopology, params.hops, params.stale) {
        Owner::Local(local) => (local, None),
        Owner::Standby(read) => {
            let (store, marker) = standby_marker(streams, read).await;
            (store, Some(marker))
        }
        Owner::Remote(endpoint) => {
            return proxy(
                &state,
                &endpoint,
                &format!("/stores/{}/keys/{}", encode(&store), encode(&key)),
                raw.as_deref(),
            )
            .await;
        }
        Owner::Nobody(why) => return unavailable(why),
    };
    let served_by = streams.process_id();
    match query.layout() {
        QueryLayout::KeyValue => {
            if params.from.is_some() || params.to.is_some() || params.window_start.is_some() {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "`{store}` is a key-value store; `from`, `to` and `window_start` apply to window and session \
                         stores"
                    ),
                );
            }
            match query.get(&local, &key) {
                Ok(Ok(Some(value))) => Json(with_standby(
                    json!({ "key": key, "value": value, "partition": partition, "served_by": served_by }),
                    standby,
                ))
                .into_response(),
                Ok(Ok(None)) => error(StatusCode::NOT_FOUND, format!("no value for key `{key}` in `{store}`")),
                Ok(Err(bad)) => error(StatusCode::BAD_REQUEST, bad),
                Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.report().to_string()),
            }
        }
        QueryLayout::Window(_) | QueryLayout::Session => {
            let (from, to) = match (params.window_start, params.from, params.to) {
                (Some(start), None, None) => (start, start),
                (None, from, to) => (from.unwrap_or(i64::MIN), to.unwrap_or(i64::MAX)),
                _ => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "give either `window_start` or a `from`/`to` range, not both",
                    );
                }
            };
            if from > to {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("empty range: `from` {from} is after `to` {to}"),
                );
            }
            match query.fetch(&local, &key, from, to) {
                Ok(Ok(windows)) if params.window_start.is_some() && windows.is_empty() => error(
                    StatusCode::NOT_FOUND,
                    format!("no value for key `{key}` in the window starting at {from} in `{store}`"),
                ),
                Ok(Ok(windows)) => Json(with_standby(
                    json!({ "key": key, "windows": windows, "partition": partition, "served_by": served_by }),
                    standby,
                ))
                .into_response(),
                Ok(Err(bad)) => error(StatusCode::BAD_REQUEST, bad),
                Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.report().to_string()),
            }
        }
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct ScanQuery {
    prefix: Option<String>,
    from: Option<String>,
    to: Option<String>,
    after: Option<String>,
    limit: Option<usize>,
    scope: Option<String>,
    /// Let standby replicas answer for partitions no instance runs actively right now.
    #[serde(default)]
    stale: bool,
}

pub(crate) async fn scan(
    State(state): State<Arc<QueryState>>,
    Path(store): Path<String>,
    Query(params): Query<ScanQuery>,
) -> Response {
    let streams = &state.streams;
    let (query, subtopology) = match store_info(streams, &store) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return error(
            StatusCode::BAD_REQUEST,
            format!("`limit` must be between 1 and {MAX_LIMIT}"),
        );
    }
    if let (Some(from), Some(to)) = (&params.from, &params.to)
        && from > to
    {
        return error(
            StatusCode::BAD_REQUEST,
            format!("empty range: `from` `{from}` is after `to` `{to}`"),
        );
    }
    let local_only = match params.scope.as_deref() {
        None | Some("all") => false,
        Some("local") => true,
        Some(other) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("unknown scope `{other}`; use `all` or `local`"),
            );
        }
    };
    let filter = KeyFilter {
        prefix: params.prefix.clone(),
        from: params.from.clone(),
        to: params.to.clone(),
        after: params.after.clone(),
    };
    let local: Vec<(i32, SharedStore)> = streams
        .registry()
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|((name, _), _)| *name == store)
        .map(|((_, partition), s)| (*partition, Arc::clone(s)))
        .collect();
    let mut sources: Vec<(SharedStore, Option<Value>)> = Vec::new();
    if params.stale {
        let members = streams.members();
        for (partition, read) in streams.standby_reads(&store) {
            let task = TaskId { subtopology, partition }.to_string();
            // Only where no active copy can answer this scan: none runs here, and the instance
            // running it (if any) serves no queries.
            let answered_actively = local.iter().any(|(p, _)| *p == partition)
                || members
                    .iter()
                    .any(|m| m.endpoint.is_some() && m.active_tasks.contains(&task));
            if !answered_actively {
                sources.push({
                    let (store, marker) = standby_marker(streams, read).await;
                    (store, Some(marker))
                });
            }
        }
    }
    sources.extend(local.into_iter().map(|(_, s)| (s, None)));
    // Reading the stores blocks (RocksDB): off the async workers, one chunk per lock.
    let scanned = tokio::task::spawn_blocking(move || {
        let mut page = Page::new(filter, limit);
        for (partition, standby) in sources {
            query.for_each_entry(&partition, &mut |text, key, value| {
                page.offer(
                    text,
                    PageEntry {
                        key,
                        value,
                        standby: standby.clone(),
                    },
                );
            })?;
        }
        Ok::<_, crate::Error>(page)
    })
    .await;
    let mut page = match scanned {
        Ok(Ok(page)) => page,
        Ok(Err(e)) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.report().to_string()),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, format!("the store scan failed: {e}")),
    };
    if !local_only {
        let mut query_string: Vec<(String, String)> =
            vec![("scope".into(), "local".into()), ("limit".into(), limit.to_string())];
        if params.stale {
            query_string.push(("stale".into(), "true".into()));
        }
        for (name, value) in [
            ("prefix", &params.prefix),
            ("from", &params.from),
            ("to", &params.to),
            ("after", &params.after),
        ] {
            if let Some(value) = value {
                query_string.push((name.to_owned(), value.clone()));
            }
        }
        for member in streams
            .members()
            .into_iter()
            .filter(|m| m.process_id != streams.process_id())
        {
            let Some(endpoint) = member.endpoint else { continue };
            let url = format!("http://{endpoint}/stores/{}", encode(&store));
            let answer = match state.http.get(&url).query(&query_string).send().await {
                Ok(answer) if answer.status().is_success() => answer.json::<Value>().await,
                Ok(answer) => {
                    return unavailable(format!("instance {endpoint} answered {}; retry", answer.status()));
                }
                Err(e) => return unavailable(format!("instance {endpoint} did not answer ({}); retry", report(&e))),
            };
            let Ok(answer) = answer else {
                return unavailable(format!("instance {endpoint} sent an unreadable answer; retry"));
            };
            for entry in answer["entries"].as_array().cloned().unwrap_or_default() {
                let key = entry["key"].clone();
                let text = entry["key_text"].as_str().map_or_else(|| key_text(&key), str::to_owned);
                page.offer(
                    text,
                    PageEntry {
                        key,
                        value: entry["value"].clone(),
                        standby: entry.get("standby").cloned(),
                    },
                );
            }
        }
    }
    let (entries, next) = page.finish();
    Json(json!({
        "entries": entries
            .into_iter()
            .map(|(text, e)| with_standby(json!({ "key": e.key, "key_text": text, "value": e.value }), e.standby))
            .collect::<Vec<_>>(),
        "next": next,
    }))
    .into_response()
}

pub(crate) async fn metadata(State(state): State<Arc<QueryState>>) -> Response {
    let streams = &state.streams;
    let topology = streams.topology();
    let stores: HashMap<String, Value> = topology
        .stores()
        .map(|(spec, sub)| {
            (
                spec.name.clone(),
                json!({
                    "subtopology": sub,
                    "partitions": streams.partitions(sub),
                    "windowed": topology.queries.get(&spec.name).is_some_and(|q| q.layout() != QueryLayout::KeyValue),
                    "layout": topology.queries.get(&spec.name).map(|q| q.layout().name()),
                }),
            )
        })
        .collect();
    Json(json!({
        "application_id": streams.application_id(),
        "process_id": streams.process_id(),
        "endpoint": streams.endpoint(),
        "members": streams.members(),
        "stores": stores,
    }))
    .into_response()
}
