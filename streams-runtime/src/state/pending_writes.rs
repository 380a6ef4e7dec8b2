//! A store's uncommitted writes (its record cache): read and replaced by key on every record,
//! scanned in key order by ranges, queries and commits.
//!
//! An ordered map alone made every per-record read a tree search of about log₂(n) key
//! comparisons (a windowed count spent ~10 % of its time in `memcmp` there). Here a hash map
//! answers reads and updates of keys already pending with one hash and one comparison, and an
//! ordered set of the keys, touched only when a key is first written, serves the ordered scans.
//! Both hold the same shared key, so a key's bytes are in memory once, as the cache's byte count
//! (`cache.max.bytes.buffering`) assumes.

use std::collections::BTreeSet;
use std::ops::Bound;
use std::sync::Arc;

use rustc_hash::FxHashMap;

/// Key → pending value (`None`: a pending delete), readable by key and in key order.
#[derive(Debug, Default)]
pub(crate) struct PendingWrites {
    values: FxHashMap<Arc<[u8]>, Option<Vec<u8>>>,
    order: BTreeSet<Arc<[u8]>>,
}

impl PendingWrites {
    pub(crate) fn get(&self, key: &[u8]) -> Option<&Option<Vec<u8>>> {
        self.values.get(key)
    }

    pub(crate) fn get_mut(&mut self, key: &[u8]) -> Option<&mut Option<Vec<u8>>> {
        self.values.get_mut(key)
    }

    /// Sets `key`'s pending value; returns the one it replaces, if the key was pending.
    pub(crate) fn insert(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) -> Option<Option<Vec<u8>>> {
        // Looked up by slice first: the map's entry API would need the shared key, allocated
        // even when the key is pending already (most writes, within a commit interval).
        if let Some(pending) = self.values.get_mut(key.as_slice()) {
            return Some(std::mem::replace(pending, value));
        }
        self.insert_new(&key, value);
        None
    }

    /// Adds `key`, which the caller just found not pending (no second look-up for it); the key
    /// is copied once, into the shared key.
    pub(crate) fn insert_new(&mut self, key: &[u8], value: Option<Vec<u8>>) {
        let key: Arc<[u8]> = Arc::from(key);
        self.order.insert(Arc::clone(&key));
        let replaced = self.values.insert(key, value);
        debug_assert!(replaced.is_none(), "insert_new of a pending key");
    }

    /// The pending writes with `from <= key` and `key < to` (no upper bound: `None`), in key order.
    pub(crate) fn range<'a>(
        &'a self,
        from: &[u8],
        to: Option<&[u8]>,
    ) -> impl Iterator<Item = (&'a [u8], &'a Option<Vec<u8>>)> + 'a {
        let upper = to.map_or(Bound::Unbounded, Bound::Excluded);
        self.order
            .range::<[u8], _>((Bound::Included(from), upper))
            .filter_map(|key| Some((&**key, self.values.get(key)?)))
    }

    /// Every pending write, in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&[u8], &Option<Vec<u8>>)> {
        self.order
            .iter()
            .filter_map(|key| Some((&**key, self.values.get(key)?)))
    }

    pub(crate) fn clear(&mut self) {
        self.values.clear();
        self.order.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::PendingWrites;

    #[test]
    fn reads_see_the_last_write_and_scans_go_in_key_order() {
        let mut pending = PendingWrites::default();
        assert_eq!(pending.insert(b"b".to_vec(), Some(b"1".to_vec())), None);
        assert_eq!(pending.insert(b"a".to_vec(), None), None);
        assert_eq!(pending.insert(b"c".to_vec(), Some(b"3".to_vec())), None);
        assert_eq!(
            pending.insert(b"b".to_vec(), Some(b"2".to_vec())),
            Some(Some(b"1".to_vec()))
        );
        *pending.get_mut(b"c").expect("pending") = Some(b"4".to_vec());
        assert_eq!(pending.get(b"b"), Some(&Some(b"2".to_vec())));
        assert_eq!(pending.get(b"a"), Some(&None));
        assert_eq!(pending.get(b"z"), None);
        let all: Vec<(&[u8], Option<&[u8]>)> = pending.iter().map(|(k, v)| (k, v.as_deref())).collect();
        assert_eq!(all, [(&b"a"[..], None), (b"b", Some(&b"2"[..])), (b"c", Some(b"4"))]);
        let keys = |from: &[u8], to: Option<&[u8]>| -> Vec<Vec<u8>> {
            pending.range(from, to).map(|(k, _)| k.to_vec()).collect()
        };
        assert_eq!(keys(b"b", None), [b"b".to_vec(), b"c".to_vec()]);
        assert_eq!(keys(b"a", Some(b"c")), [b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(keys(b"bb", Some(b"c")), Vec::<Vec<u8>>::new());
        pending.clear();
        assert_eq!(pending.iter().count(), 0);
        assert_eq!(pending.get(b"b"), None);
    }
}
