//! The records of one side of a stream-stream join, kept for the join window: by key, then
//! time, duplicates allowed (a sequence number per key and time).
//!
//! Layout: `[key length: u32][key][timestamp, sign-flipped BE][seq: u32 BE]` → the value, so a
//! key's records in a time range are one contiguous range.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::key_layout::{push_key, split_key, time_bytes, time_from};
use super::key_value::{decode_key, decode_value, encode_key, encode_value};
use super::{SharedStore, Store};
use crate::error::Result;

pub(crate) struct JoinBuffer {
    store: SharedStore,
    name: String,
}

/// One buffered record: encoded key, timestamp, sequence number, encoded value.
pub(crate) struct Buffered {
    pub(crate) key: Vec<u8>,
    pub(crate) timestamp: i64,
    pub(crate) seq: u32,
    pub(crate) value: Vec<u8>,
}

impl JoinBuffer {
    pub(crate) fn new(store: SharedStore) -> Self {
        let name = Store::lock(&store).name().to_owned();
        Self { store, name }
    }

    pub(crate) fn encode_key<T: Serialize + DeserializeOwned>(&self, key: &T) -> Result<Vec<u8>> {
        encode_key(&self.name, key)
    }

    pub(crate) fn decode_key<T: Serialize + DeserializeOwned>(&self, bytes: &[u8]) -> Result<T> {
        decode_key(&self.name, bytes)
    }

    pub(crate) fn encode_value<T: Serialize + DeserializeOwned>(&self, value: &T) -> Result<Vec<u8>> {
        encode_value(&self.name, value)
    }

    pub(crate) fn decode_value<T: Serialize + DeserializeOwned>(&self, bytes: &[u8]) -> Result<T> {
        decode_value(&self.name, bytes)
    }

    /// Buffers a record; returns its sequence number (the next free one for key and time).
    pub(crate) fn put(&self, key: &[u8], timestamp: i64, value: Vec<u8>) -> Result<u32> {
        let mut store = Store::lock(&self.store);
        let taken = store.range(
            &entry_key(key, timestamp, 0),
            Some(&entry_key(key, timestamp.saturating_add(1), 0)),
        )?;
        let seq = u32::try_from(taken.len()).unwrap_or(u32::MAX);
        store.put(entry_key(key, timestamp, seq), Some(value));
        Ok(seq)
    }

    /// The records of `key` with timestamps in `[from, to]`, oldest first.
    pub(crate) fn range(&self, key: &[u8], from: i64, to: i64) -> Result<Vec<Buffered>> {
        let entries =
            Store::lock(&self.store).range(&entry_key(key, from, 0), Some(&entry_key(key, to.saturating_add(1), 0)))?;
        Ok(entries.into_iter().filter_map(|(k, v)| split(&k, v)).collect())
    }

    pub(crate) fn delete(&self, key: &[u8], timestamp: i64, seq: u32) {
        Store::lock(&self.store).put(entry_key(key, timestamp, seq), None);
    }

    /// Every buffered (key, timestamp, seq), for rebuilding a time index.
    pub(crate) fn entries(&self) -> Result<Vec<(Vec<u8>, i64, u32)>> {
        let entries = Store::lock(&self.store).range(&[], None)?;
        Ok(entries
            .into_iter()
            .filter_map(|(k, v)| split(&k, v).map(|b| (b.key, b.timestamp, b.seq)))
            .collect())
    }

    pub(crate) fn generation(&self) -> u64 {
        Store::lock(&self.store).generation()
    }
}

fn entry_key(key: &[u8], timestamp: i64, seq: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + key.len() + 12);
    push_key(&mut out, key);
    out.extend_from_slice(&time_bytes(timestamp));
    out.extend_from_slice(&seq.to_be_bytes());
    out
}

fn split(bytes: &[u8], value: Vec<u8>) -> Option<Buffered> {
    let (key, rest) = split_key(bytes)?;
    let seq: [u8; 4] = rest.get(8..)?.try_into().ok()?;
    Some(Buffered {
        key: key.to_vec(),
        timestamp: time_from(rest.get(..8)?)?,
        seq: u32::from_be_bytes(seq),
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::MemoryBackend;

    #[test]
    fn duplicates_get_their_own_sequence_and_ranges_are_inclusive() {
        let store = Store::new("buf".into(), None, Box::new(MemoryBackend::default()))
            .unwrap()
            .shared();
        let buffer = JoinBuffer::new(store);
        assert_eq!(buffer.put(b"k", 10, b"a".to_vec()).unwrap(), 0);
        assert_eq!(buffer.put(b"k", 10, b"b".to_vec()).unwrap(), 1);
        buffer.put(b"k", -5, b"c".to_vec()).unwrap();
        buffer.put(b"k", 20, b"d".to_vec()).unwrap();
        buffer.put(b"kk", 10, b"e".to_vec()).unwrap();
        let values = |from, to| -> Vec<Vec<u8>> {
            buffer
                .range(b"k", from, to)
                .unwrap()
                .into_iter()
                .map(|b| b.value)
                .collect()
        };
        assert_eq!(values(-5, 10), [b"c".to_vec(), b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(values(11, 20), [b"d".to_vec()]);
        buffer.delete(b"k", 10, 0);
        assert_eq!(values(10, 10), [b"b".to_vec()]);
        assert_eq!(buffer.entries().unwrap().len(), 4);
    }
}
