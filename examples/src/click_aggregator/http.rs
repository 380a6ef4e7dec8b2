//! Interactive queries over HTTP: `GET /counts/{user_id}[?window_start=<epoch ms>]`, served from
//! this instance's local partitions of the `click-counts` window store.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use streams_runtime::KafkaStreams;

use super::{STORE, WINDOW_SIZE};

/// One window's count in a query answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowCount {
    /// Window start, epoch milliseconds.
    pub window_start: i64,
    /// Window end (exclusive), epoch milliseconds.
    pub window_end: i64,
    /// The window as an ISO 8601 interval.
    pub window: String,
    /// Clicks counted so far.
    pub count: u64,
}

#[derive(Debug, Deserialize)]
struct WindowFilter {
    window_start: Option<i64>,
}

type Answer = Result<Json<Vec<WindowCount>>, (StatusCode, String)>;

/// The query API over `streams`' local state.
pub fn router(streams: Arc<KafkaStreams>) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { "GET /counts/{user_id}[?window_start=<epoch ms>]\n" }),
        )
        .route("/counts/{user_id}", get(counts_of_user))
        .with_state(streams)
}

async fn counts_of_user(
    State(streams): State<Arc<KafkaStreams>>,
    Path(user_id): Path<String>,
    filter: Result<Query<WindowFilter>, axum::extract::rejection::QueryRejection>,
) -> Answer {
    let Query(filter) = filter.map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            format!("invalid query: {e}; expected `window_start=<epoch milliseconds>`\n"),
        )
    })?;
    let internal = |e: streams_runtime::Error| (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n"));
    let (from, to) = filter.window_start.map_or((i64::MIN, i64::MAX), |start| (start, start));
    let mut windows = Vec::new();
    for (_, store) in streams
        .window_store::<String, u64>(STORE, WINDOW_SIZE.as_millis() as i64)
        .map_err(internal)?
    {
        for (window, count) in store.fetch_range(&user_id, from, to).map_err(internal)? {
            windows.push(WindowCount {
                window_start: window.start_ms,
                window_end: window.end_ms,
                window: window.to_string(),
                count,
            });
        }
    }
    if windows.is_empty() {
        let what = filter
            .window_start
            .map_or_else(|| "yet".to_owned(), |s| format!("in the window starting at {s}"));
        return Err((
            StatusCode::NOT_FOUND,
            format!("no clicks counted for user `{user_id}` {what} on this instance\n"),
        ));
    }
    windows.sort_by_key(|w| w.window_start);
    Ok(Json(windows))
}
