//! Records of a left or outer stream-stream join that found no partner yet, ordered by time, so
//! those whose window closed are found with one range scan and emitted with `None`.
//!
//! Layout: `[timestamp, sign-flipped BE][side: u8][key length: u32][key][seq: u32 BE]` → value.

use super::key_layout::{push_key, split_key, time_bytes, time_from};
use super::{SharedStore, Store};
use crate::error::Result;

pub(crate) struct UnmatchedBuffer {
    store: SharedStore,
}

/// One waiting record.
pub(crate) struct Unmatched {
    pub(crate) timestamp: i64,
    pub(crate) side: u8,
    pub(crate) key: Vec<u8>,
    pub(crate) seq: u32,
    pub(crate) value: Vec<u8>,
}

impl UnmatchedBuffer {
    pub(crate) fn new(store: SharedStore) -> Self {
        Self { store }
    }

    pub(crate) fn put(&self, entry: &Unmatched) {
        Store::lock(&self.store).put(
            entry_key(entry.timestamp, entry.side, &entry.key, entry.seq),
            Some(entry.value.clone()),
        );
    }

    pub(crate) fn delete(&self, timestamp: i64, side: u8, key: &[u8], seq: u32) {
        Store::lock(&self.store).put(entry_key(timestamp, side, key, seq), None);
    }

    /// Removes and returns the records with timestamps up to `to` (inclusive), oldest first.
    pub(crate) fn take_until(&self, to: i64) -> Result<Vec<Unmatched>> {
        let mut store = Store::lock(&self.store);
        let bound = time_bytes(to.saturating_add(1));
        let entries = store.range(&[], Some(&bound))?;
        let taken: Vec<Unmatched> = entries.into_iter().filter_map(|(k, v)| split(&k, v)).collect();
        for e in &taken {
            store.put(entry_key(e.timestamp, e.side, &e.key, e.seq), None);
        }
        Ok(taken)
    }
}

fn entry_key(timestamp: i64, side: u8, key: &[u8], seq: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + 1 + 4 + key.len() + 4);
    out.extend_from_slice(&time_bytes(timestamp));
    out.push(side);
    push_key(&mut out, key);
    out.extend_from_slice(&seq.to_be_bytes());
    out
}

fn split(bytes: &[u8], value: Vec<u8>) -> Option<Unmatched> {
    let timestamp = time_from(bytes.get(..8)?)?;
    let side = *bytes.get(8)?;
    let (key, rest) = split_key(bytes.get(9..)?)?;
    let seq: [u8; 4] = rest.try_into().ok()?;
    Some(Unmatched {
        timestamp,
        side,
        key: key.to_vec(),
        seq: u32::from_be_bytes(seq),
        value,
    })
}
