use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::key_layout::{push_key, push_key_with, split_key, time_bytes, time_from};
use super::key_value::{
    collect_all, decode_key, decode_timestamped_value, decode_value, encode_key, encode_key_into,
    encode_timestamped_value, encode_timestamped_value_into, encode_value,
};
use super::store::SCAN_CHUNK;
use super::{SharedStore, Store};
use crate::error::Result;
use crate::window::{TimeWindow, Windowed};

/// Typed access to a window store of one task: one value per (key, window start).
///
/// Entries are laid out `[key length: u32][key][window start]`, so the windows of one key are
/// contiguous and ordered by start time.
pub struct WindowStore<K, V> {
    store: SharedStore,
    name: String,
    window_size_ms: i64,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K, V> Clone for WindowStore<K, V> {
    fn clone(&self) -> Self {
        Self {
            store: SharedStore::clone(&self.store),
            name: self.name.clone(),
            window_size_ms: self.window_size_ms,
            _types: PhantomData,
        }
    }
}

impl<K, V> WindowStore<K, V>
where
    K: Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
{
    pub(crate) fn new(store: SharedStore, window_size_ms: i64) -> Self {
        let name = Store::lock(&store).name().to_owned();
        Self {
            store,
            name,
            window_size_ms,
            _types: PhantomData,
        }
    }

    /// The value of `key` in the window starting at `window_start_ms`.
    pub fn fetch(&self, key: &K, window_start_ms: i64) -> Result<Option<V>> {
        let key = window_key(&encode_key(&self.name, key)?, window_start_ms);
        Store::lock(&self.store)
            .get(&key)?
            .map(|b| decode_value(&self.name, &b))
            .transpose()
    }

    /// Windows of `key` starting in `[from_ms, to_ms]`, oldest first.
    pub fn fetch_range(&self, key: &K, from_ms: i64, to_ms: i64) -> Result<Vec<(TimeWindow, V)>> {
        let key = encode_key(&self.name, key)?;
        let (from, to) = (window_key(&key, from_ms), window_key(&key, to_ms.saturating_add(1)));
        let entries = Store::lock(&self.store).range(&from, Some(&to))?;
        entries
            .iter()
            .map(|(k, v)| {
                let start = split_window_key(k).map_or(0, |(_, s)| s);
                Ok((self.window(start), decode_value(&self.name, v)?))
            })
            .collect()
    }

    /// Sets the value of `key` in the window starting at `window_start_ms`.
    pub fn put(&self, key: &K, window_start_ms: i64, value: &V) -> Result<()> {
        let key = window_key(&encode_key(&self.name, key)?, window_start_ms);
        let value = encode_value(&self.name, value)?;
        Store::lock(&self.store).put(key, Some(value));
        Ok(())
    }

    /// Every (key, window) entry.
    pub fn all(&self) -> Result<Vec<(Windowed<K>, V)>> {
        collect_all(|visit| self.for_each(visit))
    }

    /// Calls `visit` with every window in key order, reading the store a chunk at a time.
    pub(crate) fn for_each(&self, mut visit: impl FnMut(Windowed<K>, V) -> Result<()>) -> Result<()> {
        Store::for_each_chunk(&self.store, SCAN_CHUNK, |entries| {
            for (k, v) in &entries {
                if let Some((key, start)) = split_window_key(k) {
                    let key = decode_key(&self.name, key)?;
                    visit(
                        Windowed {
                            key,
                            window: self.window(start),
                        },
                        decode_value(&self.name, v)?,
                    )?;
                }
            }
            Ok(())
        })
    }

    /// The store's encoding of `key` (what the raw methods below take).
    pub(crate) fn encode_key(&self, key: &K) -> Result<Vec<u8>> {
        encode_key(&self.name, key)
    }

    pub(crate) fn decode_key(&self, key: &[u8]) -> Result<K> {
        decode_key(&self.name, key)
    }

    /// [`fetch`](Self::fetch) by encoded key, with the timestamp the window's value was stored
    /// with (`i64::MIN` for a value stored without one).
    pub(crate) fn fetch_encoded_timestamped(&self, key: &[u8], window_start_ms: i64) -> Result<Option<(V, i64)>> {
        Store::lock(&self.store)
            .get_ref(&window_key(key, window_start_ms))?
            .map(|b| decode_timestamped_value(&self.name, &b))
            .transpose()
    }

    /// Starts `keys` at `key`, encoded as this store encodes keys.
    pub(crate) fn start_keys(&self, keys: &mut WindowKeys, key: &K) -> Result<()> {
        keys.start(&self.name, key)
    }

    /// Reads and replaces the value of the key in `keys` in one window under one lock of the
    /// store (the per-record path of a windowed aggregation): `update` gets the current value
    /// with its stored timestamp (`i64::MIN` for a value stored without one), or `None` for a
    /// new window, and returns the new value and its timestamp. Returns them, and whether the
    /// window is new.
    pub(crate) fn update_encoded_timestamped(
        &self,
        keys: &mut WindowKeys,
        window_start_ms: i64,
        update: impl FnOnce(Option<(V, i64)>) -> (V, i64),
    ) -> Result<(V, i64, bool)> {
        Store::lock(&self.store).update(keys.window(window_start_ms), |current, out| {
            let current = current.map(|b| decode_timestamped_value(&self.name, b)).transpose()?;
            let created = current.is_none();
            let (value, timestamp) = update(current);
            encode_timestamped_value_into(&self.name, &value, timestamp, out)?;
            Ok((value, timestamp, created))
        })
    }

    /// [`put`](Self::put) by encoded key, with the timestamp of what the value reflects (for a
    /// windowed aggregate: its latest record), which results derived from it are stamped with.
    pub(crate) fn put_encoded_timestamped(
        &self,
        key: &[u8],
        window_start_ms: i64,
        value: &V,
        timestamp: i64,
    ) -> Result<()> {
        let value = encode_timestamped_value(&self.name, value, timestamp)?;
        Store::lock(&self.store).put(window_key(key, window_start_ms), Some(value));
        Ok(())
    }

    /// Removes one window of one key (a tombstone goes to the changelog at the next commit).
    pub(crate) fn delete_encoded(&self, key: &[u8], window_start_ms: i64) {
        Store::lock(&self.store).put(window_key(key, window_start_ms), None);
    }

    /// Windows of an encoded key starting in `[from_ms, to_ms]`, oldest first, with each value's
    /// stored timestamp (`i64::MIN` for a value stored without one).
    pub(crate) fn fetch_range_encoded_timestamped(
        &self,
        key: &[u8],
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(i64, V, i64)>> {
        let (from, to) = (window_key(key, from_ms), window_key(key, to_ms.saturating_add(1)));
        let entries = Store::lock(&self.store).range(&from, Some(&to))?;
        entries
            .iter()
            .map(|(k, v)| {
                let (value, timestamp) = decode_timestamped_value(&self.name, v)?;
                Ok((split_window_key(k).map_or(0, |(_, s)| s), value, timestamp))
            })
            .collect()
    }

    /// The largest record timestamp in one window as versions before timestamped values kept
    /// it for sliding windows: a marker beside the window (read for windows they stored).
    pub(crate) fn max_timestamp(&self, key: &[u8], window_start_ms: i64) -> Result<Option<i64>> {
        Store::lock(&self.store).marker_at(&max_timestamp_name(key, window_start_ms))
    }

    /// Sets (or with `None` deletes) [`max_timestamp`](Self::max_timestamp).
    pub(crate) fn set_max_timestamp(&self, key: &[u8], window_start_ms: i64, timestamp: Option<i64>) {
        Store::lock(&self.store).set_marker_at(&max_timestamp_name(key, window_start_ms), timestamp);
    }

    /// Every (encoded key, window start) in the store.
    pub(crate) fn windows_encoded(&self) -> Result<Vec<(Vec<u8>, i64)>> {
        let entries = Store::lock(&self.store).range(&[], None)?;
        Ok(entries
            .iter()
            .filter_map(|(k, _)| split_window_key(k).map(|(key, start)| (key.to_vec(), start)))
            .collect())
    }

    /// A number the owning processor keeps with the data (committed and restored with it),
    /// under a key no window can have.
    pub(crate) fn marker(&self, name: &str) -> Result<Option<i64>> {
        Store::lock(&self.store).marker(name)
    }

    pub(crate) fn set_marker(&self, name: &str, value: i64) {
        Store::lock(&self.store).set_marker(name, value);
    }

    /// Rollbacks seen by the store (a processor's in-memory index is stale when it changed).
    pub(crate) fn generation(&self) -> u64 {
        Store::lock(&self.store).generation()
    }

    /// The window starting at `start_ms`.
    pub(crate) fn window(&self, start_ms: i64) -> TimeWindow {
        TimeWindow {
            start_ms,
            end_ms: start_ms.saturating_add(self.window_size_ms),
        }
    }
}

/// The store keys of one record's windows, built in one buffer kept across records: the
/// record's `[length][key]` once, then each window's start put after it in place. A windowed
/// aggregation's per-record store access thus allocates no key (the store copies one only when
/// it first holds the window).
#[derive(Debug, Default)]
pub(crate) struct WindowKeys {
    buf: Vec<u8>,
    /// Where the key's bytes start, after its length.
    key_start: usize,
    /// Where the `[length][key]` prefix ends.
    key_end: usize,
}

impl WindowKeys {
    fn start<K: Serialize + DeserializeOwned>(&mut self, store: &str, key: &K) -> Result<()> {
        self.buf.clear();
        self.key_start = push_key_with(&mut self.buf, |out| encode_key_into(store, key, out))?;
        self.key_end = self.buf.len();
        Ok(())
    }

    /// The key's store encoding (what the raw methods of [`WindowStore`] take).
    pub(crate) fn key(&self) -> &[u8] {
        &self.buf[self.key_start..self.key_end]
    }

    /// The store key of the key's window starting at `start_ms`.
    fn window(&mut self, start_ms: i64) -> &[u8] {
        self.buf.truncate(self.key_end);
        self.buf.extend_from_slice(&time_bytes(start_ms));
        &self.buf
    }
}

fn window_key(key: &[u8], start_ms: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + key.len() + 8);
    push_key(&mut out, key);
    out.extend_from_slice(&time_bytes(start_ms));
    out
}

fn max_timestamp_name(key: &[u8], window_start_ms: i64) -> Vec<u8> {
    let mut name = b"max-ts/".to_vec();
    name.extend_from_slice(&window_key(key, window_start_ms));
    name
}

fn split_window_key(bytes: &[u8]) -> Option<(&[u8], i64)> {
    let (key, rest) = split_key(bytes)?;
    Some((key, time_from(rest)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_keys_sort_by_key_then_time() {
        let a = [
            window_key(b"a", -5),
            window_key(b"a", 0),
            window_key(b"a", 7),
            window_key(b"b", -100),
        ];
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, a);
        assert_eq!(split_window_key(&a[0]), Some((&b"a"[..], -5)));
    }

    /// The reused buffer builds exactly the keys `window_key` does, for keys of any length in
    /// any order.
    #[test]
    fn window_keys_are_the_store_keys() {
        let mut keys = WindowKeys::default();
        for (key, starts) in [("a-longer-key", [0, 300_000]), ("b", [-5, 7]), ("", [1, 2])] {
            keys.start("s", &key.to_owned()).expect("encode");
            let encoded = encode_key("s", &key.to_owned()).expect("encode");
            assert_eq!(keys.key(), encoded.as_slice());
            for start in starts {
                assert_eq!(keys.window(start), window_key(&encoded, start).as_slice());
            }
        }
    }
}
