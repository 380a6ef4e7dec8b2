//! The instance's HTTP server: interactive queries (`/stores/..`, `/metadata`; see
//! [`query`](crate::query)), `/metrics` (OpenMetrics text, which Prometheus scrapes), `/topology` (text,
//! `?format=mermaid` or `?format=dot`) and the probes `/health/live` and `/health/ready`.
//!
//! Probes (for Kubernetes): live unless the instance stopped or failed
//! ([`State::Error`](crate::State::Error), `PENDING_ERROR`, `NOT_RUNNING`) — a pod whose
//! threads died is restarted; ready only while [`State::Running`](crate::State::Running),
//! which comes after the tasks' stores are restored — no traffic during a rebalance. Both
//! answer `{"state": "<STATE>"}` with 200 or 503.

mod prometheus;
mod query_routes;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Deserialize;

use crate::KafkaStreams;
use crate::error::{Error, ErrorKind, Result, report};

struct AppState {
    streams: Arc<KafkaStreams>,
}

/// The routes, for embedding in a larger axum app.
pub fn router(streams: Arc<KafkaStreams>) -> Router {
    let queries = Arc::new(query_routes::QueryState {
        streams: Arc::clone(&streams),
        http: reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap_or_default(),
    });
    let state = Arc::new(AppState { streams });
    let query_routes = Router::new()
        .route("/stores/{store}", get(query_routes::scan))
        .route("/stores/{store}/keys/{key}", get(query_routes::get_key))
        .route("/metadata", get(query_routes::metadata))
        .with_state(queries);
    Router::new()
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/topology", get(topology))
        .with_state(state)
        .merge(query_routes)
}

async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, prometheus::CONTENT_TYPE)],
        prometheus::render(&state.streams),
    )
}

/// The instance's state as a probe answer: 200 if `ok`, else 503.
fn probe(state: crate::State, ok: bool) -> impl IntoResponse {
    let status = if ok {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(serde_json::json!({ "state": state.as_str() })))
}

async fn live(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let now = state.streams.state();
    probe(
        now,
        now.is_running_or_rebalancing() || now == crate::State::PendingShutdown,
    )
}

async fn ready(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let now = state.streams.state();
    probe(now, now == crate::State::Running)
}

#[derive(Deserialize)]
struct TopologyQuery {
    format: Option<String>,
}

async fn topology(State(state): State<Arc<AppState>>, Query(query): Query<TopologyQuery>) -> impl IntoResponse {
    let topology = state.streams.topology();
    match query.format.as_deref() {
        None | Some("text") => (axum::http::StatusCode::OK, topology.describe().to_owned()),
        Some("mermaid") => (axum::http::StatusCode::OK, topology.describe_mermaid()),
        Some("dot") => (axum::http::StatusCode::OK, topology.describe_dot()),
        Some(other) => (
            axum::http::StatusCode::BAD_REQUEST,
            format!("unknown format `{other}`; use text, mermaid or dot\n"),
        ),
    }
}

/// The routes [`router`] serves, for an app to print.
pub const ROUTES: &[&str] = &[
    "GET /health/live",
    "GET /health/ready",
    "GET /stores/{store}",
    "GET /stores/{store}/keys/{key}",
    "GET /metadata",
    "GET /metrics",
    "GET /topology",
];

/// Serves [`router`] on `addr` until `shutdown` resolves; returns the bound address once
/// listening (port 0 picks a free port).
pub async fn serve(
    streams: Arc<KafkaStreams>,
    addr: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<SocketAddr> {
    serve_with(streams, addr, |_, _| Router::new(), shutdown).await
}

/// Like [`serve`], with the app's own routes beside the standard ones: `extra` gets the
/// streams handle and the bound address (e.g. to query through the routing client).
pub async fn serve_with(
    streams: Arc<KafkaStreams>,
    addr: SocketAddr,
    extra: impl FnOnce(Arc<KafkaStreams>, SocketAddr) -> Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::new(ErrorKind::Io, format!("failed to listen on {addr}")).with_source(e))?;
    let bound = listener
        .local_addr()
        .map_err(|e| Error::new(ErrorKind::Io, "failed to read the bound address").with_source(e))?;
    let app = router(Arc::clone(&streams)).merge(extra(streams, bound));
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
            tracing::error!(error = %report(&e), "HTTP server failed");
        }
    });
    Ok(bound)
}
