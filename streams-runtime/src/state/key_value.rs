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
        let key = encode_key(self.name(), key)?;
        Store::lock(&self.store)
            .get(&key)?
            .map(|bytes| decode_value(self.name(), &bytes))
            .transpose()
    }

    /// Sets `key` to `value`; durable (locally and in the changelog) at the next commit.
    pub fn put(&self, key: &K, value: &V) -> Result<()> {
        let (key, value) = (encode_key(self.name(), key)?, encode_value(self.name(), value)?);
        Store::lock(&self.store).put(key, Some(value));
        Ok(())
    }

    /// The value for `key` and the timestamp it was stored with ([`put_timestamped`]), or
    /// `i64::MIN` for a value stored without one.
    ///
    /// [`put_timestamped`]: Self::put_timestamped
    pub(crate) fn get_timestamped(&self, key: &K) -> Result<Option<(V, i64)>> {
        let key = encode_key(self.name(), key)?;
        Store::lock(&self.store)
            .get_ref(&key)?
            .map(|bytes| decode_timestamped_value(self.name(), &bytes))
            .transpose()
    }

    /// Sets `key` to `value` stamped with `timestamp` (the event time of what it reflects, as
    /// Kafka Streams' timestamped stores keep it: a result derived from it is stamped from it).
    pub(crate) fn put_timestamped(&self, key: &K, value: &V, timestamp: i64) -> Result<()> {
        let key = encode_key(self.name(), key)?;
        let value = encode_timestamped_value(self.name(), value, timestamp)?;
        Store::lock(&self.store).put(key, Some(value));
        Ok(())
    }

    /// Removes `key`; a tombstone goes to the changelog at the next commit.
    pub fn delete(&self, key: &K) -> Result<()> {
        let key = encode_key(self.name(), key)?;
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
                .try_for_each(|(k, v)| visit(decode_key(self.name(), k)?, decode_value(self.name(), v)?))
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

/// The format of stored values, and so of changelog records: this byte, then the value's
/// [`Binary`] encoding. A later format gets the next number, so a build meeting values it cannot
/// read says so instead of misreading them. Keys carry no version byte: their encoded bytes are
/// what lookups compare and scans order.
pub(crate) const VALUE_FORMAT_VERSION: u8 = 1;

/// The format of a stored value kept with its timestamp: this byte, the timestamp (8 bytes,
/// big-endian), then the value's [`Binary`] encoding. Readers that want the value only (queries,
/// `all()`) read both formats.
pub(crate) const TIMESTAMPED_VALUE_FORMAT_VERSION: u8 = 2;

/// A store key's encoding.
pub(super) fn encode_key<T: Serialize + DeserializeOwned>(store: impl std::fmt::Display, key: &T) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    encode_key_into(store, key, &mut out)?;
    Ok(out)
}

/// [`encode_key`], appended to `out`.
pub(super) fn encode_key_into<T: Serialize + DeserializeOwned>(
    store: impl std::fmt::Display,
    key: &T,
    out: &mut Vec<u8>,
) -> Result<()> {
    Binary
        .encode(key, out)
        .map_err(|e| Error::new(ErrorKind::Codec, format!("failed to encode a key for store `{store}`")).with_source(e))
}

pub(super) fn decode_key<T: Serialize + DeserializeOwned>(store: impl std::fmt::Display, bytes: &[u8]) -> Result<T> {
    Binary.decode(bytes).map_err(|e| {
        Error::new(ErrorKind::Codec, format!("failed to decode a key from store `{store}`")).with_source(e)
    })
}

/// A stored value's encoding: [`VALUE_FORMAT_VERSION`], then the value.
pub(super) fn encode_value<T: Serialize + DeserializeOwned>(
    store: impl std::fmt::Display,
    value: &T,
) -> Result<Vec<u8>> {
    encode_after(store, vec![VALUE_FORMAT_VERSION], value)
}

/// A stored value's encoding with its timestamp: [`TIMESTAMPED_VALUE_FORMAT_VERSION`], the
/// timestamp, then the value.
pub(super) fn encode_timestamped_value<T: Serialize + DeserializeOwned>(
    store: impl std::fmt::Display,
    value: &T,
    timestamp: i64,
) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(16);
    encode_timestamped_value_into(store, value, timestamp, &mut out)?;
    Ok(out)
}

/// [`encode_timestamped_value`], appended to `out`.
pub(super) fn encode_timestamped_value_into<T: Serialize + DeserializeOwned>(
    store: impl std::fmt::Display,
    value: &T,
    timestamp: i64,
    out: &mut Vec<u8>,
) -> Result<()> {
    out.push(TIMESTAMPED_VALUE_FORMAT_VERSION);
    out.extend_from_slice(&timestamp.to_be_bytes());
    encode_into(store, value, out)
}

/// `header`, then the value's [`Binary`] encoding.
fn encode_after<T: Serialize + DeserializeOwned>(
    store: impl std::fmt::Display,
    mut header: Vec<u8>,
    value: &T,
) -> Result<Vec<u8>> {
    encode_into(store, value, &mut header)?;
    Ok(header)
}

/// The value's [`Binary`] encoding, appended to `out`.
fn encode_into<T: Serialize + DeserializeOwned>(
    store: impl std::fmt::Display,
    value: &T,
    out: &mut Vec<u8>,
) -> Result<()> {
    Binary.encode(value, out).map_err(|e| {
        Error::new(
            ErrorKind::Codec,
            format!("failed to encode a value for store `{store}`"),
        )
        .with_source(e)
    })
}

pub(super) fn decode_value<T: Serialize + DeserializeOwned>(store: impl std::fmt::Display, bytes: &[u8]) -> Result<T> {
    decode_timestamped_value(store, bytes).map(|(value, _)| value)
}

/// A stored value of either format, with its timestamp (`i64::MIN` when stored without one).
pub(super) fn decode_timestamped_value<T: Serialize + DeserializeOwned>(
    store: impl std::fmt::Display,
    bytes: &[u8],
) -> Result<(T, i64)> {
    let decode = |value: &[u8]| {
        Binary.decode(value).map_err(|e| {
            Error::new(
                ErrorKind::Codec,
                format!("failed to decode a value from store `{store}`"),
            )
            .with_source(e)
        })
    };
    match bytes.split_first() {
        Some((&VALUE_FORMAT_VERSION, value)) => Ok((decode(value)?, i64::MIN)),
        Some((&TIMESTAMPED_VALUE_FORMAT_VERSION, rest)) if rest.len() >= 8 => {
            let (timestamp, value) = rest.split_at(8);
            let timestamp = i64::from_be_bytes(timestamp.try_into().unwrap_or_default());
            Ok((decode(value)?, timestamp))
        }
        Some((version, _)) => Err(Error::new(
            ErrorKind::Codec,
            format!(
                "store `{store}` holds a value in format version {version}; this build reads versions \
                 {VALUE_FORMAT_VERSION} and {TIMESTAMPED_VALUE_FORMAT_VERSION} (written by another version of \
                 kafka-streams: run the version that wrote it, or reset the application)"
            ),
        )),
        None => Err(Error::new(
            ErrorKind::Codec,
            format!("store `{store}` holds an empty value (no format version byte)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::MemoryBackend;

    /// Values (and so changelog records) start with the format version; keys do not, so their
    /// bytes stay what lookups compare. A value of another format is refused with a message
    /// that says what happened, not misread.
    #[test]
    fn values_carry_their_format_version_and_another_version_is_refused_clearly() {
        let value = encode_value("counts", &7u64).unwrap();
        assert_eq!(value, [VALUE_FORMAT_VERSION, 7]);
        assert_eq!(encode_key("counts", &7u64).unwrap(), [7]);
        assert_eq!(decode_value::<u64>("counts", &value).unwrap(), 7);
        let error = decode_value::<u64>("counts", &[3, 7]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Codec);
        assert!(error.report().to_string().contains("format version 3"), "{error}");
        assert!(decode_value::<u64>("counts", &[]).is_err());
        assert!(
            decode_value::<u64>("counts", &[2, 7]).is_err(),
            "a timestamped value too short"
        );

        // Timestamped: the version, the timestamp, the value; value-only readers read it too.
        let stamped = encode_timestamped_value("counts", &7u64, 0x0102).unwrap();
        assert_eq!(stamped, [TIMESTAMPED_VALUE_FORMAT_VERSION, 0, 0, 0, 0, 0, 0, 1, 2, 7]);
        assert_eq!(
            decode_timestamped_value::<u64>("counts", &stamped).unwrap(),
            (7, 0x0102)
        );
        assert_eq!(decode_value::<u64>("counts", &stamped).unwrap(), 7);
        assert_eq!(
            decode_timestamped_value::<u64>("counts", &value).unwrap(),
            (7, i64::MIN)
        );
    }

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
