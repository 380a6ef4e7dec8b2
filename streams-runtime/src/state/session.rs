//! Typed access to a session store of one task: one aggregate per (key, session), a session
//! being `[start, end]` (inclusive event times of its first and last record).
//!
//! Layout: `[key length: u32][key][end, sign-flipped BE][start, sign-flipped BE]`, so a key's
//! sessions are contiguous and ordered by end (and, as they never overlap, by start).

use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::key_layout::{push_key, split_key, time_bytes, time_from};
use super::key_value::{collect_all, decode_key, decode_value, encode_key, encode_value};
use super::store::SCAN_CHUNK;
use super::{SharedStore, Store};
use crate::error::Result;
use crate::window::{TimeWindow, Windowed};

/// Typed access to a session store.
pub struct SessionStore<K, V> {
    store: SharedStore,
    name: String,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K, V> Clone for SessionStore<K, V> {
    fn clone(&self) -> Self {
        Self {
            store: SharedStore::clone(&self.store),
            name: self.name.clone(),
            _types: PhantomData,
        }
    }
}

/// A session as stored: its window holds `[start, end]` as `start_ms`/`end_ms` (end inclusive).
pub(crate) struct RawSession {
    pub(crate) key: Vec<u8>,
    pub(crate) start: i64,
    pub(crate) end: i64,
    pub(crate) value: Vec<u8>,
}

impl<K, V> SessionStore<K, V>
where
    K: Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
{
    pub(crate) fn new(store: SharedStore) -> Self {
        let name = Store::lock(&store).name().to_owned();
        Self {
            store,
            name,
            _types: PhantomData,
        }
    }

    /// The sessions of `key`, oldest first; each window's `end_ms` is its last record's time.
    pub fn fetch(&self, key: &K) -> Result<Vec<(TimeWindow, V)>> {
        let key = encode_key(&self.name, key)?;
        self.sessions_ending_from(&key, i64::MIN)?
            .into_iter()
            .map(|s| Ok((window(s.start, s.end), decode_value(&self.name, &s.value)?)))
            .collect()
    }

    /// Every (key, session).
    pub fn all(&self) -> Result<Vec<(Windowed<K>, V)>> {
        collect_all(|visit| self.for_each(visit))
    }

    /// Calls `visit` with every session in key order, reading the store a chunk at a time.
    pub(crate) fn for_each(&self, mut visit: impl FnMut(Windowed<K>, V) -> Result<()>) -> Result<()> {
        Store::for_each_chunk(&self.store, SCAN_CHUNK, |entries| {
            for (k, v) in entries {
                if let Some(s) = split(&k, v) {
                    let key = decode_key(&self.name, &s.key)?;
                    visit(
                        Windowed {
                            key,
                            window: window(s.start, s.end),
                        },
                        decode_value(&self.name, &s.value)?,
                    )?;
                }
            }
            Ok(())
        })
    }

    pub(crate) fn encode_key(&self, key: &K) -> Result<Vec<u8>> {
        encode_key(&self.name, key)
    }

    pub(crate) fn decode_key(&self, key: &[u8]) -> Result<K> {
        decode_key(&self.name, key)
    }

    pub(crate) fn decode_value(&self, value: &[u8]) -> Result<V> {
        decode_value(&self.name, value)
    }

    /// The sessions of `key` ending at or after `from`, oldest first.
    pub(crate) fn sessions_ending_from(&self, key: &[u8], from: i64) -> Result<Vec<RawSession>> {
        let upper = key_prefix_end(key);
        let entries = Store::lock(&self.store).range(&session_key(key, from, i64::MIN), upper.as_deref())?;
        Ok(entries.into_iter().filter_map(|(k, v)| split(&k, v)).collect())
    }

    pub(crate) fn put(&self, key: &[u8], start: i64, end: i64, value: &V) -> Result<()> {
        let value = encode_value(&self.name, value)?;
        Store::lock(&self.store).put(session_key(key, end, start), Some(value));
        Ok(())
    }

    pub(crate) fn remove(&self, key: &[u8], start: i64, end: i64) {
        Store::lock(&self.store).put(session_key(key, end, start), None);
    }

    /// Every (encoded key, start, end), for rebuilding a time index.
    pub(crate) fn sessions(&self) -> Result<Vec<(Vec<u8>, i64, i64)>> {
        let entries = Store::lock(&self.store).range(&[], None)?;
        Ok(entries
            .into_iter()
            .filter_map(|(k, v)| split(&k, v).map(|s| (s.key, s.start, s.end)))
            .collect())
    }

    /// A number the owning processor keeps with the data, under a key no session can have.
    pub(crate) fn marker(&self, name: &str) -> Result<Option<i64>> {
        Store::lock(&self.store).marker(name)
    }

    pub(crate) fn set_marker(&self, name: &str, value: i64) {
        Store::lock(&self.store).set_marker(name, value);
    }

    pub(crate) fn generation(&self) -> u64 {
        Store::lock(&self.store).generation()
    }
}

/// A session's window: `end_ms` is the last record's time (inclusive, unlike time windows).
fn window(start: i64, end: i64) -> TimeWindow {
    TimeWindow {
        start_ms: start,
        end_ms: end,
    }
}

fn session_key(key: &[u8], end: i64, start: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + key.len() + 16);
    push_key(&mut out, key);
    out.extend_from_slice(&time_bytes(end));
    out.extend_from_slice(&time_bytes(start));
    out
}

/// The first byte string after every session key of `key` (`None`: nothing after).
fn key_prefix_end(key: &[u8]) -> Option<Vec<u8>> {
    let mut prefix = Vec::with_capacity(4 + key.len());
    push_key(&mut prefix, key);
    while let Some(last) = prefix.pop() {
        if last < 0xff {
            prefix.push(last + 1);
            return Some(prefix);
        }
    }
    None
}

fn split(bytes: &[u8], value: Vec<u8>) -> Option<RawSession> {
    let (key, times) = split_key(bytes)?;
    Some(RawSession {
        key: key.to_vec(),
        end: time_from(times.get(..8)?)?,
        start: time_from(times.get(8..)?)?,
        value,
    })
}
