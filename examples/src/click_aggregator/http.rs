//! Interactive queries over HTTP: `GET /counts/{user_id}[?window_start=<epoch ms>]`.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::ClickCounts;

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

/// Query parameters of `/counts/{user_id}`.
#[derive(Debug, Deserialize)]
struct WindowFilter {
    window_start: Option<i64>,
}

/// The query API over `counts`.
pub fn router(counts: Arc<ClickCounts>) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { "GET /counts/{user_id}[?window_start=<epoch ms>]\n" }),
        )
        .route("/counts/{user_id}", get(counts_of_user))
        .with_state(counts)
}

async fn counts_of_user(
    State(counts): State<Arc<ClickCounts>>,
    Path(user_id): Path<String>,
    filter: Result<Query<WindowFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<WindowCount>>, (StatusCode, String)> {
    let Query(filter) = filter.map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            format!("invalid query: {e}; expected `window_start=<epoch milliseconds>`\n"),
        )
    })?;
    let windows: Vec<WindowCount> = counts
        .windows_of(&user_id)
        .into_iter()
        .filter(|(w, _)| filter.window_start.is_none_or(|start| start == w.start_ms))
        .map(|(w, count)| WindowCount {
            window_start: w.start_ms,
            window_end: w.end_ms,
            window: w.to_string(),
            count,
        })
        .collect();
    if windows.is_empty() {
        let what = match filter.window_start {
            Some(start) => format!("in the window starting at {start}"),
            None => "yet".to_owned(),
        };
        return Err((
            StatusCode::NOT_FOUND,
            format!("no clicks counted for user `{user_id}` {what}\n"),
        ));
    }
    Ok(Json(windows))
}
