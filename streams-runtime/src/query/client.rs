//! A typed client of the query server: keys and values are the store's types, so asking the
//! wrong store for the wrong type does not compile. The `#[topology]` macro generates a
//! `Client` with one method per store on top of this.
//!
//! Requests time out after [`DEFAULT_TIMEOUT`] (configurable, or bring your own
//! `reqwest::Client` for TLS and authentication). While a key's partition has no owner (a
//! rebalance, a restore) servers answer `503` with `Retry-After`; the client waits as told (at
//! most [`MAX_RETRY_WAIT`] each time) and asks again, [`DEFAULT_RETRIES`] times by default,
//! before returning the error.

use std::marker::PhantomData;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::answer::Answer;
use super::page::encode;
use crate::error::{Error, ErrorKind, Result};
use crate::window::TimeWindow;

/// How long a request may take by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a `503 Service Unavailable` is retried by default.
pub const DEFAULT_RETRIES: u32 = 3;
/// The longest wait for one retry, whatever `Retry-After` says.
pub const MAX_RETRY_WAIT: Duration = Duration::from_secs(5);

/// Talks to any instance of an application (it routes to the owner).
#[derive(Clone, Debug)]
pub struct QueryClient {
    base: String,
    http: reqwest::Client,
    /// Key lookups may be answered by a standby replica (possibly behind the active task).
    stale: bool,
    retries: u32,
}

impl QueryClient {
    /// A client of the instance at `base_url`, e.g. `http://127.0.0.1:8080`.
    pub fn new(base_url: impl Into<String>) -> Self {
        let base: String = base_url.into();
        let base = if base.contains("://") {
            base
        } else {
            format!("http://{base}")
        };
        let http = reqwest::Client::builder()
            .timeout(DEFAULT_TIMEOUT)
            .build()
            .unwrap_or_default();
        Self {
            base: base.trim_end_matches('/').to_owned(),
            http,
            stale: false,
            retries: DEFAULT_RETRIES,
        }
    }

    /// Sends requests through `http` (your TLS roots, client certificate, auth headers,
    /// timeouts) instead of the default client.
    #[must_use]
    pub fn with_http_client(mut self, http: reqwest::Client) -> Self {
        self.http = http;
        self
    }

    /// Retries a `503 Service Unavailable` (no owner during a rebalance or restore) up to
    /// `retries` times, waiting as its `Retry-After` says; 0 returns the 503 at once.
    #[must_use]
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// Lets key lookups be answered by a standby replica when that is closer or the active task
    /// is unavailable (during a rebalance or restore): an answer instead of a 503, possibly a
    /// little behind. Kafka Streams' `enableStaleStores()`.
    #[must_use]
    pub fn allow_stale(mut self) -> Self {
        self.stale = true;
        self
    }

    /// Typed access to key-value store `store`.
    pub fn key_value<K, V>(&self, store: &'static str) -> KeyValueClient<'_, K, V> {
        KeyValueClient {
            client: self,
            store,
            _types: PhantomData,
        }
    }

    /// Typed access to window store `store`.
    pub fn window<K, V>(&self, store: &'static str) -> WindowClient<'_, K, V> {
        WindowClient {
            client: self,
            store,
            _types: PhantomData,
        }
    }

    /// Typed access to session store `store`.
    pub fn session<K, V>(&self, store: &'static str) -> SessionClient<'_, K, V> {
        SessionClient {
            windows: self.window(store),
        }
    }

    /// The instances of the application, their endpoints, tasks and lags; and the stores.
    pub async fn metadata(&self) -> Result<Value> {
        Ok(self
            .get(&format!("{}/metadata", self.base), &[])
            .await?
            .unwrap_or(Value::Null))
    }

    /// GET `url`; `None` on 404 (no such key), an error on other failures.
    async fn get(&self, url: &str, query: &[(&str, String)]) -> Result<Option<Value>> {
        let failed = |e: reqwest::Error| Error::new(ErrorKind::Query, format!("query `{url}` failed")).with_source(e);
        let mut attempt = 0;
        let answer = loop {
            let mut request = self.http.get(url).query(query);
            if self.stale {
                request = request.query(&[("stale", "true")]);
            }
            let answer = request.send().await.map_err(failed)?;
            if answer.status() != reqwest::StatusCode::SERVICE_UNAVAILABLE || attempt >= self.retries {
                break answer;
            }
            attempt += 1;
            let wait = answer
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map_or(Duration::from_secs(1), Duration::from_secs)
                .min(MAX_RETRY_WAIT);
            tracing::debug!(url, attempt, ?wait, "query answered 503; retrying");
            tokio::time::sleep(wait).await;
        };
        let status = answer.status();
        let body: Value = answer.json().await.map_err(failed)?;
        if status.is_success() {
            return Ok(Some(body));
        }
        let message = body["error"].as_str().unwrap_or("no reason given").to_owned();
        if status.as_u16() == 404 && !message.starts_with("no store named") {
            return Ok(None);
        }
        Err(Error::new(
            ErrorKind::Query,
            format!("query `{url}` answered {status}: {message}"),
        ))
    }
}

/// The text form of a key in a URL: a string as is, anything else as JSON.
fn key_segment<K: Serialize>(key: &K) -> Result<String> {
    let value = serde_json::to_value(key)
        .map_err(|e| Error::new(ErrorKind::Query, "cannot encode the query key").with_source(e))?;
    Ok(encode(&match value {
        Value::String(s) => s,
        other => other.to_string(),
    }))
}

fn decode<V: DeserializeOwned>(value: Value) -> Result<V> {
    serde_json::from_value(value).map_err(|e| Error::new(ErrorKind::Query, "cannot decode the answer").with_source(e))
}

/// Queries of one key-value store.
pub struct KeyValueClient<'a, K, V> {
    client: &'a QueryClient,
    store: &'static str,
    _types: PhantomData<fn(&K) -> V>,
}

impl<K: Serialize + DeserializeOwned, V: DeserializeOwned> KeyValueClient<'_, K, V> {
    /// The value of `key`, from whichever instance owns it.
    pub async fn get(&self, key: &K) -> Result<Option<V>> {
        let url = format!(
            "{}/stores/{}/keys/{}",
            self.client.base,
            encode(self.store),
            key_segment(key)?
        );
        match self.client.get(&url, &[]).await? {
            Some(mut body) => decode(body["value"].take()).map(Some),
            None => Ok(None),
        }
    }

    /// Like [`get`](Self::get), with which instance answered and, if a standby did (the client
    /// [allows stale reads](QueryClient::allow_stale)), how far it trails the active task.
    pub async fn get_answer(&self, key: &K) -> Result<Option<Answer<V>>> {
        let url = format!(
            "{}/stores/{}/keys/{}",
            self.client.base,
            encode(self.store),
            key_segment(key)?
        );
        let Some(mut body) = self.client.get(&url, &[]).await? else {
            return Ok(None);
        };
        Ok(Some(Answer {
            value: decode(body["value"].take())?,
            partition: body["partition"].as_i64().unwrap_or_default() as i32,
            served_by: body["served_by"].as_str().unwrap_or_default().to_owned(),
            standby: match body.get_mut("standby") {
                Some(standby) => Some(decode(standby.take())?),
                None => None,
            },
        }))
    }

    /// Up to `limit` entries whose key text starts with `prefix` (all keys for `""`), after the
    /// key text `after` (for the next page), in key-text order, from all instances. Returns the
    /// entries and the `after` of the next page, if there is one.
    pub async fn scan(&self, prefix: &str, after: Option<&str>, limit: usize) -> Result<(Vec<(K, V)>, Option<String>)> {
        let url = format!("{}/stores/{}", self.client.base, encode(self.store));
        let mut query = vec![("prefix", prefix.to_owned()), ("limit", limit.to_string())];
        if let Some(after) = after {
            query.push(("after", after.to_owned()));
        }
        let body = self.client.get(&url, &query).await?.unwrap_or(Value::Null);
        let entries = body["entries"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|mut e| Ok((decode(e["key"].take())?, decode(e["value"].take())?)))
            .collect::<Result<Vec<_>>>()?;
        Ok((entries, body["next"].as_str().map(str::to_owned)))
    }
}

/// Queries of one window store.
pub struct WindowClient<'a, K, V> {
    client: &'a QueryClient,
    store: &'static str,
    _types: PhantomData<fn(&K) -> V>,
}

impl<K: Serialize, V: DeserializeOwned> WindowClient<'_, K, V> {
    /// The value of `key` in the window starting at `window_start_ms`.
    pub async fn get(&self, key: &K, window_start_ms: i64) -> Result<Option<V>> {
        let url = format!(
            "{}/stores/{}/keys/{}",
            self.client.base,
            encode(self.store),
            key_segment(key)?
        );
        match self
            .client
            .get(&url, &[("window_start", window_start_ms.to_string())])
            .await?
        {
            Some(mut body) => match body["windows"].as_array_mut().and_then(|w| w.first_mut()) {
                Some(window) => decode(window["value"].take()).map(Some),
                None => Ok(None),
            },
            None => Ok(None),
        }
    }

    /// The windows of `key` starting in `[from_ms, to_ms]`, oldest first.
    pub async fn fetch(&self, key: &K, from_ms: i64, to_ms: i64) -> Result<Vec<(TimeWindow, V)>> {
        let url = format!(
            "{}/stores/{}/keys/{}",
            self.client.base,
            encode(self.store),
            key_segment(key)?
        );
        let query = [("from", from_ms.to_string()), ("to", to_ms.to_string())];
        let Some(body) = self.client.get(&url, &query).await? else {
            return Ok(Vec::new());
        };
        body["windows"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|mut w| {
                let window = TimeWindow {
                    start_ms: w["window_start"].as_i64().unwrap_or_default(),
                    end_ms: w["window_end"].as_i64().unwrap_or_default(),
                };
                Ok((window, decode(w["value"].take())?))
            })
            .collect()
    }
}

/// Queries of one session store (its sessions are windows whose ends vary).
pub struct SessionClient<'a, K, V> {
    windows: WindowClient<'a, K, V>,
}

impl<K: Serialize, V: DeserializeOwned> SessionClient<'_, K, V> {
    /// The sessions of `key`, oldest first; a session's `end_ms` is its last record's time.
    pub async fn fetch(&self, key: &K) -> Result<Vec<(TimeWindow, V)>> {
        self.windows.fetch(key, i64::MIN, i64::MAX).await
    }

    /// The sessions of `key` starting in `[from_ms, to_ms]`.
    pub async fn fetch_range(&self, key: &K, from_ms: i64, to_ms: i64) -> Result<Vec<(TimeWindow, V)>> {
        self.windows.fetch(key, from_ms, to_ms).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use axum::http::{HeaderMap, StatusCode};

    use super::*;

    /// A server that answers 503 with `Retry-After: 0` `unavailable` times, then the value.
    async fn flaky_server(unavailable: u32) -> (String, Arc<AtomicU32>) {
        let calls = Arc::new(AtomicU32::new(0));
        let counter = Arc::clone(&calls);
        let app = axum::Router::new().route(
            "/stores/{store}/keys/{key}",
            axum::routing::get(move || {
                let counter = Arc::clone(&counter);
                async move {
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    let mut headers = HeaderMap::new();
                    if n < unavailable {
                        headers.insert("retry-after", "0".parse().expect("header"));
                        let body = serde_json::json!({"error": "partition 0 has no owner yet"});
                        return (StatusCode::SERVICE_UNAVAILABLE, headers, axum::Json(body));
                    }
                    (StatusCode::OK, headers, axum::Json(serde_json::json!({"value": 7})))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("http://{addr}"), calls)
    }

    #[tokio::test]
    async fn a_503_with_retry_after_is_retried_until_it_answers() {
        let (base, calls) = flaky_server(2).await;
        let client = QueryClient::new(base);
        let value = client.key_value::<String, u64>("counts").get(&"k".to_owned()).await;
        assert_eq!(value.expect("answered"), Some(7));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn retries_are_bounded() {
        let (base, calls) = flaky_server(10).await;
        let client = QueryClient::new(base).retries(1);
        let error = client
            .key_value::<String, u64>("counts")
            .get(&"k".to_owned())
            .await
            .expect_err("still unavailable");
        assert!(error.report().to_string().contains("503"), "{error}");
        assert_eq!(calls.load(Ordering::SeqCst), 2, "one try and one retry");
    }
}
