//! The subscriptions of a foreign-key join: which left-table keys refer to each right-table key,
//! kept in the task of the right table's partition.
//!
//! Layout: `[foreign key length: u32][foreign key][left key]` → the hash of the left row's value
//! when it subscribed (8 bytes, big-endian), so the subscribers of a foreign key are one
//! contiguous range and each answer carries the hash that tells the left task whether it is stale.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::key_layout::{push_key, split_key};
use super::key_value::{decode_key, encode_key};
use super::{SharedStore, Store};
use crate::error::Result;

pub(crate) struct SubscriptionStore {
    store: SharedStore,
    name: String,
}

impl SubscriptionStore {
    pub(crate) fn new(store: SharedStore) -> Self {
        let name = Store::lock(&store).name().to_owned();
        Self { store, name }
    }

    /// A key's encoding (the registry stores keys only; its values are hashes).
    pub(crate) fn encode<T: Serialize + DeserializeOwned>(&self, key: &T) -> Result<Vec<u8>> {
        encode_key(&self.name, key)
    }

    pub(crate) fn decode<T: Serialize + DeserializeOwned>(&self, bytes: &[u8]) -> Result<T> {
        decode_key(&self.name, bytes)
    }

    /// Records that the left row `key`, whose value hashes to `hash`, refers to `foreign_key`
    /// (both encoded).
    pub(crate) fn subscribe(&self, foreign_key: &[u8], key: &[u8], hash: u64) {
        Store::lock(&self.store).put(entry_key(foreign_key, key), Some(hash.to_be_bytes().to_vec()));
    }

    /// Forgets that subscription.
    pub(crate) fn unsubscribe(&self, foreign_key: &[u8], key: &[u8]) {
        Store::lock(&self.store).put(entry_key(foreign_key, key), None);
    }

    /// The (encoded) left keys referring to `foreign_key`, each with the hash of the value it
    /// subscribed with.
    pub(crate) fn subscribers(&self, foreign_key: &[u8]) -> Result<Vec<(Vec<u8>, u64)>> {
        let mut from = Vec::with_capacity(foreign_key.len() + 4);
        push_key(&mut from, foreign_key);
        let to = successor(&from);
        let entries = Store::lock(&self.store).range(&from, to.as_deref())?;
        Ok(entries
            .into_iter()
            .filter_map(|(k, hash)| {
                let hash = u64::from_be_bytes(hash.get(..8)?.try_into().ok()?);
                split_key(&k).map(|(_, key)| (key.to_vec(), hash))
            })
            .collect())
    }
}

fn entry_key(foreign_key: &[u8], key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(foreign_key.len() + key.len() + 4);
    push_key(&mut out, foreign_key);
    out.extend_from_slice(key);
    out
}

/// The smallest byte string greater than every string starting with `prefix`, if any.
fn successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut out = prefix.to_vec();
    while let Some(last) = out.pop() {
        if last < u8::MAX {
            out.push(last + 1);
            return Some(out);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_foreign_keys_subscribers_are_one_range() {
        assert_eq!(successor(&[1, 2, 0xff]), Some(vec![1, 3]));
        assert_eq!(successor(&[0xff, 0xff]), None);
        // "a" and "ab" as foreign keys: the length prefix keeps their subscribers apart.
        let a = entry_key(b"a", b"x");
        let ab = entry_key(b"ab", b"y");
        let mut prefix = Vec::new();
        push_key(&mut prefix, b"a");
        let end = successor(&prefix).expect("end");
        assert!(a.as_slice() >= prefix.as_slice() && a.as_slice() < end.as_slice());
        assert!(!(ab.as_slice() >= prefix.as_slice() && ab.as_slice() < end.as_slice()));
    }
}
