//! The app's own query routes, served beside the standard ones (`/stores/..`, `/metadata`,
//! `/metrics`, `/topology`):
//! - `GET /count/{user_id}?window=<ISO time>` — the seed's answer `{count, window}` for the
//!   window containing that time (default: the user's latest), from whichever instance owns the
//!   user: it asks through the generated, routing query client.
//! - `GET /counts/{user_id}[?window_start=<epoch ms>]` — this instance's local windows of the user.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use kafka_streams::KafkaStreams;
use serde::{Deserialize, Serialize};

use super::{STORE, WINDOW_SIZE, pipeline};

/// The paths of [`routes`], as the app prints them.
pub const ROUTES: &[&str] = &[
    "GET /count/{user_id}?window=<ISO time>",
    "GET /counts/{user_id}[?window_start=<epoch ms>]",
];

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

/// The app's routes over `streams`; `addr` is where this instance's server listens.
pub fn routes(streams: Arc<KafkaStreams>, addr: SocketAddr) -> Router {
    let client = Arc::new(pipeline::Client::new(addr.to_string()));
    Router::new()
        .route("/count/{user_id}", get(count_of_user))
        .with_state(client)
        .merge(router(streams))
}

/// `/counts/..` alone, over `streams`' local state.
pub fn router(streams: Arc<KafkaStreams>) -> Router {
    Router::new()
        .route("/counts/{user_id}", get(counts_of_user))
        .with_state(streams)
}

/// The seed's answer: `{"count": 42, "window": "2024-01-05T10:00:00Z/2024-01-05T10:05:00Z"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedCount {
    /// Clicks counted so far in the window.
    pub count: u64,
    /// The window as an ISO 8601 interval.
    pub window: String,
}

#[derive(Debug, Deserialize)]
struct SeedQuery {
    window: Option<String>,
}

async fn count_of_user(
    State(client): State<Arc<pipeline::Client>>,
    Path(user_id): Path<String>,
    Query(query): Query<SeedQuery>,
) -> Result<Json<SeedCount>, (StatusCode, String)> {
    let unavailable = |e: kafka_streams::Error| (StatusCode::SERVICE_UNAVAILABLE, format!("{e}; retry\n"));
    let found = match &query.window {
        Some(text) => {
            let at = kafka_streams::window::parse_utc_ms(text).ok_or_else(|| {
                (
                    StatusCode::BAD_REQUEST,
                    format!("`window={text}` is not an ISO 8601 time such as 2024-01-05T10:00:00\n"),
                )
            })?;
            let window = kafka_streams::window::TumblingWindows::of(WINDOW_SIZE).window_for(at);
            let count = client
                .click_counts()
                .get(&user_id, window.start_ms)
                .await
                .map_err(unavailable)?;
            count.map(|count| (window, count))
        }
        None => client
            .click_counts()
            .fetch(&user_id, i64::MIN, i64::MAX)
            .await
            .map_err(unavailable)?
            .into_iter()
            .max_by_key(|(window, _)| window.start_ms),
    };
    let (window, count) = found.ok_or_else(|| {
        let what = query
            .window
            .as_deref()
            .map_or_else(String::new, |w| format!(" in the window of {w}"));
        (
            StatusCode::NOT_FOUND,
            format!("no clicks counted for user `{user_id}`{what}\n"),
        )
    })?;
    Ok(Json(SeedCount {
        count,
        window: window.to_string(),
    }))
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
    let internal = |e: kafka_streams::Error| (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n"));
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
