//! A typed client of the query server: keys and values are the store's types, so asking the
//! wrong store for the wrong type does not compile. The `#[topology]` macro generates a
//! `Client` with one method per store on top of this.

use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::answer::Answer;
use super::routes::encode;
use crate::error::{Error, ErrorKind, Result};
use crate::window::TimeWindow;

/// Talks to any instance of an application (it routes to the owner).
#[derive(Clone, Debug)]
pub struct QueryClient {
    base: String,
    http: reqwest::Client,
    /// Key lookups may be answered by a standby replica (possibly behind the active task).
    stale: bool,
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
        Self {
            base: base.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            stale: false,
        }
    }

    /// Lets key lookups be answered by a standby replica when that is closer or the active task
    /// is unavailable (during a rebalance or restore): an answer instead of a 503, possibly a
    /// little behind. Kafka Streams' `enableStaleStores()`.
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
        let mut request = self.http.get(url).query(query);
        if self.stale {
            request = request.query(&[("stale", "true")]);
        }
        let answer = request.send().await.map_err(failed)?;
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
