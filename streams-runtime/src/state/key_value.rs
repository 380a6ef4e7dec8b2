use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::store::SCAN_CHUNK;
use super::{SharedStore, Store};
use crate::codec::{Binary, Codec};
use crate::error::{Error, ErrorKind, Result};

/// Typed access to a key-value store of one task.
pub struct KeyValueStore<K, V> {
    store: SharedStore,
    /// Kept here so error messages never need the store's lock.
    name: String,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K, V> Clone for KeyValueStore<K, V> {
    fn clone(&self) -> Self {
        Self {
            store: SharedStore::clone(&self.store),
            name: self.name.clone(),
            _types: PhantomData,
        }
    }
}

impl<K, V> KeyValueStore<K, V>
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

    /// The value for `key`, including writes not yet committed by this task.
    pub fn get(&self, key: &K) -> Result<Option<V>> {
        let key = encode(self.name(), key)?;
        Store::lock(&self.store)
            .get(&key)?
            .map(|bytes| decode(self.name(), &bytes))
            .transpose()
    }

    /// Sets `key` to `value`; durable (locally and in the changelog) at the next commit.
    pub fn put(&self, key: &K, value: &V) -> Result<()> {
        let (key, value) = (encode(self.name(), key)?, encode(self.name(), value)?);
        Store::lock(&self.store).put(key, Some(value));
        Ok(())
    }

    /// Removes `key`; a tombstone goes to the changelog at the next commit.
    pub fn delete(&self, key: &K) -> Result<()> {
        let key = encode(self.name(), key)?;
        Store::lock(&self.store).put(key, None);
        Ok(())
    }

    /// Every entry, in the order of the encoded keys.
    pub fn all(&self) -> Result<Vec<(K, V)>> {
        collect_all(|visit| self.for_each(visit))
    }

    /// Calls `visit` with every entry in key order, reading the store a chunk at a time (no
    /// copy of the whole store, and the stream thread is not locked out for the whole scan).
    pub(crate) fn for_each(&self, mut visit: impl FnMut(K, V) -> Result<()>) -> Result<()> {
        Store::for_each_chunk(&self.store, SCAN_CHUNK, |entries| {
            entries
                .iter()
                .try_for_each(|(k, v)| visit(decode(self.name(), k)?, decode(self.name(), v)?))
        })
    }

    fn name(&self) -> &str {
        &self.name
    }
}

/// Everything a typed store's `for_each` visits, in order (its `all()`).
pub(super) fn collect_all<A, B>(
    for_each: impl FnOnce(&mut dyn FnMut(A, B) -> Result<()>) -> Result<()>,
) -> Result<Vec<(A, B)>> {
    let mut out = Vec::new();
    for_each(&mut |a, b| {
        out.push((a, b));
        Ok(())
    })?;
    Ok(out)
}

pub(super) fn encode<T: Serialize + DeserializeOwned>(store: impl std::fmt::Display, value: &T) -> Result<Vec<u8>> {
    Binary
        .to_bytes(value)
        .map_err(|e| Error::new(ErrorKind::Codec, format!("failed to encode for store `{store}`")).with_source(e))
}

pub(super) fn decode<T: Serialize + DeserializeOwned>(store: impl std::fmt::Display, bytes: &[u8]) -> Result<T> {
    Binary
        .decode(bytes)
        .map_err(|e| Error::new(ErrorKind::Codec, format!("failed to decode from store `{store}`")).with_source(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::MemoryBackend;

    #[test]
    fn reads_see_uncommitted_writes_and_commits_keep_them() {
        let store = Store::new("counts".into(), None, Box::new(MemoryBackend::default()))
            .unwrap()
            .shared();
        let kv = KeyValueStore::<String, u64>::new(SharedStore::clone(&store));
        kv.put(&"a".into(), &1).unwrap();
        kv.put(&"b".into(), &2).unwrap();
        assert_eq!(kv.get(&"a".into()).unwrap(), Some(1));
        kv.delete(&"b".into()).unwrap();
        assert_eq!(kv.get(&"b".into()).unwrap(), None);

        let writes = Store::lock(&store).pending_writes();
        Store::lock(&store)
            .apply_committed(&writes, Some(7), &Default::default())
            .unwrap();
        assert_eq!(kv.all().unwrap(), vec![("a".to_owned(), 1)]);
        assert_eq!(Store::lock(&store).changelog_offset(), Some(7));

        kv.put(&"a".into(), &5).unwrap();
        Store::lock(&store).discard_uncommitted();
        assert_eq!(kv.get(&"a".into()).unwrap(), Some(1), "rolled back to the last commit");
    }
}
