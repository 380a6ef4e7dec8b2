use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::Checkpoint;
use super::backend::{Backend, Write};
use super::pending_writes::PendingWrites;
use crate::error::Result;

/// The changelog partition a task's store writes to (partition = the task's partition).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ChangelogPartition {
    pub(crate) topic: String,
    pub(crate) partition: i32,
}

/// One store of one task: committed state in the backend, uncommitted writes in an overlay.
pub(crate) struct Store {
    name: String,
    changelog: Option<ChangelogPartition>,
    backend: Box<dyn Backend>,
    dirty: PendingWrites,
    dirty_bytes: usize,
    /// A pending value [`update`](Self::update) replaced, kept to encode the next one into.
    spare_value: Vec<u8>,
    checkpoint: Checkpoint,
    /// Bumped by every rollback, so processors holding derived in-memory state (a window index)
    /// know to rebuild it.
    generation: u64,
    /// The stream time of the operator owning this store, once read or moved (see
    /// [`observe_stream_time`](Self::observe_stream_time)); `None`: read it from the marker.
    stream_time: Option<i64>,
    /// The stream time moved since it was last written to `dirty`: it is written there when the
    /// pending writes are taken for a commit, not for every record that moves it.
    stream_time_unsaved: bool,
    /// Whether an operator keeps its stream time here (the driver's `advance_stream_time`
    /// moves exactly these).
    tracks_stream_time: bool,
}

/// Moves the byte count of the pending writes for one write of `value_len` bytes under a key of
/// `key_len` bytes that had the pending write `previous` (`None`: the key was not pending yet,
/// so it is counted too; otherwise only the value size changes).
fn count_pending(bytes: &mut usize, key_len: usize, previous: Option<&Option<Vec<u8>>>, value_len: usize) {
    match previous {
        Some(old) => *bytes = *bytes + value_len - old.as_ref().map_or(0, Vec::len),
        None => *bytes += key_len + value_len,
    }
}

/// The marker key of an operator's stream time: `[0xff; 4]` + name, as every marker.
const STREAM_TIME_KEY: &[u8] = b"\xff\xff\xff\xffstream-time";

/// Entries a whole-store scan reads per lock of the store.
pub(crate) const SCAN_CHUNK: usize = 1024;

/// A store shared between its task's processors and interactive queries.
pub(crate) type SharedStore = Arc<Mutex<Store>>;

impl Store {
    pub(crate) fn new(name: String, changelog: Option<ChangelogPartition>, backend: Box<dyn Backend>) -> Result<Self> {
        let checkpoint = backend.checkpoint()?;
        Ok(Self {
            name,
            changelog,
            backend,
            dirty: PendingWrites::default(),
            dirty_bytes: 0,
            spare_value: Vec::new(),
            checkpoint,
            generation: 0,
            stream_time: None,
            stream_time_unsaved: false,
            tracks_stream_time: false,
        })
    }

    pub(crate) fn shared(self) -> SharedStore {
        Arc::new(Mutex::new(self))
    }

    /// Locks a shared store; a panic in another holder cannot leave the overlay half-written
    /// (every mutation is a single map operation), so poisoning is ignored.
    pub(crate) fn lock(store: &SharedStore) -> MutexGuard<'_, Store> {
        store.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn changelog(&self) -> Option<&ChangelogPartition> {
        self.changelog.as_ref()
    }

    pub(crate) fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.get_ref(key)?.map(std::borrow::Cow::into_owned))
    }

    /// [`get`](Self::get) without copying a pending write (the common case within a commit
    /// interval: the record cache answers).
    pub(crate) fn get_ref(&self, key: &[u8]) -> Result<Option<std::borrow::Cow<'_, [u8]>>> {
        match self.dirty.get(key) {
            Some(pending) => Ok(pending.as_deref().map(std::borrow::Cow::Borrowed)),
            None => Ok(self.backend.get(key)?.map(std::borrow::Cow::Owned)),
        }
    }

    pub(crate) fn put(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        let (key_len, value_len) = (key.len(), value.as_ref().map_or(0, Vec::len));
        let previous = self.dirty.insert(key, value);
        count_pending(&mut self.dirty_bytes, key_len, previous.as_ref(), value_len);
    }

    /// Replaces the value of `key` with what `update` writes into an empty buffer, given the
    /// current value (a pending write, else the committed value), with one search of the pending
    /// writes instead of a `get` and a `put`'s two (the per-record path of an aggregation).
    /// `update` returns what the caller wants back. The key is copied only when it was not
    /// pending, and the buffer is a replaced pending value's, recycled: updating a pending key
    /// allocates nothing.
    pub(crate) fn update<R>(
        &mut self,
        key: &[u8],
        update: impl FnOnce(Option<&[u8]>, &mut Vec<u8>) -> Result<R>,
    ) -> Result<R> {
        let mut value = std::mem::take(&mut self.spare_value);
        value.clear();
        if let Some(pending) = self.dirty.get_mut(key) {
            let result = update(pending.as_deref(), &mut value)?;
            count_pending(&mut self.dirty_bytes, key.len(), Some(pending), value.len());
            if let Some(replaced) = pending.replace(value) {
                self.spare_value = replaced;
            }
            return Ok(result);
        }
        let committed = self.backend.get(key)?;
        let result = update(committed.as_deref(), &mut value)?;
        count_pending(&mut self.dirty_bytes, key.len(), None, value.len());
        self.dirty.insert_new(key, Some(value));
        Ok(result)
    }

    /// Entries with `from <= key < to`, committed state overlaid with pending writes.
    pub(crate) fn range(&self, from: &[u8], to: Option<&[u8]>) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        Ok(self.overlay(self.backend.range(from, to)?, from, to))
    }

    /// Calls `visit` with the whole store, committed state overlaid with pending writes, in
    /// ascending chunks of about `chunk` entries, locking the store for one chunk at a time: a
    /// scan of a large store (an interactive query) holds neither the whole store in memory nor
    /// the lock the stream thread needs. Entries written meanwhile behind the scan's position
    /// are not seen; ahead of it they are.
    pub(crate) fn for_each_chunk(
        store: &SharedStore,
        chunk: usize,
        mut visit: impl FnMut(Vec<(Vec<u8>, Vec<u8>)>) -> Result<()>,
    ) -> Result<()> {
        let mut from = Vec::new();
        loop {
            let (entries, next) = {
                let store = Self::lock(store);
                let base = store.backend.scan(&from, None, chunk.max(1))?;
                // A full chunk ends at its last key; the next one starts right after it.
                let next = (base.len() >= chunk.max(1))
                    .then(|| base.last().map(|(key, _)| [key.as_slice(), &[0]].concat()))
                    .flatten();
                (store.overlay(base, &from, next.as_deref()), next)
            };
            visit(entries)?;
            match next {
                Some(next) => from = next,
                None => return Ok(()),
            }
        }
    }

    /// `base` (the backend's entries in `[from, to)`) with the pending writes in that range.
    fn overlay(&self, base: Vec<(Vec<u8>, Vec<u8>)>, from: &[u8], to: Option<&[u8]>) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = base.into_iter().collect();
        for (key, value) in self.dirty.range(from, to) {
            match value {
                Some(value) => merged.insert(key.to_vec(), value.clone()),
                None => merged.remove(key),
            };
        }
        merged.into_iter().collect()
    }

    /// Bytes of uncommitted writes (the record cache's fill level).
    pub(crate) fn dirty_bytes(&self) -> usize {
        self.dirty_bytes
    }

    /// Pending writes for the commit in progress; they stay visible until applied or discarded.
    pub(crate) fn pending_writes(&mut self) -> Vec<Write> {
        self.save_stream_time();
        self.dirty.iter().map(|(k, v)| (k.to_vec(), v.clone())).collect()
    }

    /// Makes the commit durable locally: applies `writes` with the changelog offset they reach
    /// and the input positions of the commit.
    pub(crate) fn apply_committed(
        &mut self,
        writes: &[Write],
        changelog_offset: Option<i64>,
        input_positions: &BTreeMap<String, i64>,
    ) -> Result<()> {
        let mut checkpoint = self.checkpoint.clone();
        if changelog_offset.is_some() {
            checkpoint.changelog_offset = changelog_offset;
        }
        checkpoint.input_positions.clone_from(input_positions);
        self.backend.apply(writes, &checkpoint)?;
        self.checkpoint = checkpoint;
        self.dirty.clear();
        self.dirty_bytes = 0;
        Ok(())
    }

    /// Rolls back to the last commit.
    pub(crate) fn discard_uncommitted(&mut self) {
        self.dirty.clear();
        self.dirty_bytes = 0;
        self.generation += 1;
        self.stream_time = None;
        self.stream_time_unsaved = false;
    }

    /// The stream time of the operator owning this store: the largest event time of the records
    /// that reached it (`i64::MIN` before the first). It is kept in the store as a marker, so it
    /// commits, changelogs and restores with the data it governs: after a crash, a failover or
    /// a standby promotion the operator resumes with the clock of its last commit, and drops as
    /// late exactly what an uninterrupted run drops.
    pub(crate) fn stream_time(&mut self) -> Result<i64> {
        if let Some(time) = self.stream_time {
            return Ok(time);
        }
        let time = self
            .get(STREAM_TIME_KEY)?
            .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
            .map_or(i64::MIN, i64::from_be_bytes);
        self.stream_time = Some(time);
        Ok(time)
    }

    /// Moves the operator's stream time forward to `timestamp` (never back); returns it.
    pub(crate) fn observe_stream_time(&mut self, timestamp: i64) -> Result<i64> {
        let current = self.stream_time()?;
        if timestamp <= current {
            return Ok(current);
        }
        self.stream_time = Some(timestamp);
        self.stream_time_unsaved = true;
        Ok(timestamp)
    }

    /// Writes a moved stream time into the pending writes (once per commit, not per record).
    fn save_stream_time(&mut self) {
        if let (true, Some(time)) = (self.stream_time_unsaved, self.stream_time) {
            self.stream_time_unsaved = false;
            self.put(STREAM_TIME_KEY.to_vec(), Some(time.to_be_bytes().to_vec()));
        }
    }

    /// Marks this store as holding an operator's stream time (before any record reached it).
    pub(crate) fn track_stream_time(&mut self) {
        self.tracks_stream_time = true;
    }

    /// Whether an operator keeps its stream time in this store.
    #[cfg(any(test, feature = "test-util"))]
    pub(crate) fn tracks_stream_time(&self) -> bool {
        self.tracks_stream_time
    }

    /// A number a processor keeps with its data (committed, changelogged and restored with it),
    /// under a key no entry of a layout with a 4-byte length prefix can have: `[0xff; 4]` + name
    /// would announce a 4 GiB key.
    pub(crate) fn marker(&self, name: &str) -> Result<Option<i64>> {
        self.marker_at(name.as_bytes())
    }

    pub(crate) fn set_marker(&mut self, name: &str, value: i64) {
        self.set_marker_at(name.as_bytes(), Some(value));
    }

    /// A marker named by bytes (e.g. one per window, named after the window's key).
    pub(crate) fn marker_at(&self, name: &[u8]) -> Result<Option<i64>> {
        Ok(self
            .get(&marker_key(name))?
            .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
            .map(i64::from_be_bytes))
    }

    /// Sets (or with `None` deletes) a marker named by bytes.
    pub(crate) fn set_marker_at(&mut self, name: &[u8], value: Option<i64>) {
        self.put(marker_key(name), value.map(|v| v.to_be_bytes().to_vec()));
    }

    /// How many rollbacks this store has seen.
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// Collects a restored changelog record for the next [`restore_commit`](Self::restore_commit)
    /// (restoration bypasses the overlay).
    pub(crate) fn restore_put(&mut self, key: &[u8], value: Option<&[u8]>) {
        self.backend.restore_put(key, value);
    }

    /// Drops the restored records collected since the last commit (the restore failed).
    pub(crate) fn restore_discard(&mut self) {
        self.backend.restore_discard();
    }

    /// Applies the restored records collected since the last call, which bring the store to
    /// `changelog_offset`.
    pub(crate) fn restore_commit(&mut self, changelog_offset: i64) -> Result<()> {
        let mut checkpoint = self.checkpoint.clone();
        checkpoint.changelog_offset = Some(changelog_offset);
        self.backend.restore_commit(&checkpoint)?;
        self.checkpoint = checkpoint;
        // The batch may carry the stream-time marker (a reused task catching up).
        self.stream_time = None;
        Ok(())
    }

    /// Offset of the last changelog record reflected in the local state.
    pub(crate) fn changelog_offset(&self) -> Option<i64> {
        self.checkpoint.changelog_offset
    }

    /// Input positions of the commit the local state reflects.
    pub(crate) fn input_positions(&self) -> &BTreeMap<String, i64> {
        &self.checkpoint.input_positions
    }

    pub(crate) fn size_bytes(&self) -> u64 {
        self.backend.size_bytes()
    }
}

fn marker_key(name: &[u8]) -> Vec<u8> {
    let mut out = vec![0xff; 4];
    out.extend_from_slice(name);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::MemoryBackend;

    fn key(i: u32) -> Vec<u8> {
        i.to_be_bytes().to_vec()
    }

    /// An empty store on the memory backend and one on RocksDB (in the returned directory).
    fn a_store_on_each_backend() -> (tempfile::TempDir, [Store; 2]) {
        let dir = tempfile::tempdir().expect("dir");
        let resources = crate::state::RocksResources::new(&crate::config::RocksDbConfig::default());
        let rocks = crate::state::RocksBackend::open(dir.path(), &resources).expect("rocks");
        let store = |backend: Box<dyn Backend>| Store::new("s".into(), None, backend).expect("store");
        (dir, [store(Box::<MemoryBackend>::default()), store(Box::new(rocks))])
    }

    /// `update` sees the pending write, else the committed value, else nothing, and leaves the
    /// store as `get` + `put` would (pending bytes included).
    #[test]
    fn update_reads_pending_then_committed_and_counts_like_put() {
        let mut store = Store::new("s".into(), None, Box::new(MemoryBackend::default())).expect("store");
        let committed = [(key(1), Some(b"one".to_vec()))];
        store
            .apply_committed(&committed, None, &BTreeMap::new())
            .expect("apply");
        let mut twin = Store::new("t".into(), None, Box::new(MemoryBackend::default())).expect("store");
        twin.apply_committed(&committed, None, &BTreeMap::new()).expect("apply");
        // Values that grow and shrink: the buffer each update writes into is a recycled one.
        for (k, value) in [
            (1, b"uno".to_vec()),
            (1, b"eins!".to_vec()),
            (1, b"1".to_vec()),
            (2, b"two".to_vec()),
            (2, b"deux".to_vec()),
        ] {
            let before = store.get(&key(k)).expect("get");
            let seen = store
                .update(&key(k), |current, out| {
                    assert!(out.is_empty(), "update writes into an empty buffer");
                    out.extend_from_slice(&value);
                    Ok(current.map(<[u8]>::to_vec))
                })
                .expect("update");
            assert_eq!(seen, before);
            twin.put(key(k), Some(value));
            assert_eq!(store.get(&key(k)).expect("get"), twin.get(&key(k)).expect("get"));
            assert_eq!(store.dirty_bytes(), twin.dirty_bytes());
        }
        assert_eq!(store.get(&key(1)).expect("get"), Some(b"1".to_vec()));
        // A failing update changes nothing.
        let failed = store.update(&key(3), |_, _| {
            Err::<(), _>(crate::error::Error::new(crate::error::ErrorKind::Codec, "no"))
        });
        assert!(failed.is_err());
        assert_eq!(store.get(&key(3)).expect("get"), None);
        assert_eq!(store.dirty_bytes(), twin.dirty_bytes());
    }

    /// A chunked scan sees exactly what a whole-store range sees (committed state overlaid with
    /// pending puts and deletes, also across chunk borders), and the store is not locked while
    /// the visitor runs. On both backends: each implements the limited scan itself.
    #[test]
    fn a_chunked_scan_equals_the_whole_range_and_releases_the_lock_between_chunks() {
        let (_dir, stores) = a_store_on_each_backend();
        for mut store in stores {
            let committed: Vec<Write> = (0..2_500).step_by(2).map(|i| (key(i), Some(vec![1]))).collect();
            store
                .apply_committed(&committed, None, &BTreeMap::new())
                .expect("apply");
            for i in (1..2_500).step_by(7) {
                store.put(key(i), Some(vec![2]));
            }
            for i in (0..2_500).step_by(10) {
                store.put(key(i), None);
            }
            let whole = store.range(&[], None).expect("range");
            assert!(whole.len() > 1_000, "{}", whole.len());
            let shared = store.shared();
            for chunk in [1, 99, 100, 1_024, 10_000] {
                let mut seen = Vec::new();
                Store::for_each_chunk(&shared, chunk, |entries| {
                    assert!(shared.try_lock().is_ok(), "the store is free while visiting");
                    seen.extend(entries);
                    Ok(())
                })
                .expect("scan");
                assert_eq!(seen, whole, "chunk {chunk}");
            }
        }
    }

    /// Restored records reach the backend only with a commit, which also records the changelog
    /// offset (in the backend's checkpoint, so a reopened store resumes after it); records of a
    /// failed read that were never committed are discarded, and deletes restore as deletes. On
    /// both backends: each collects restored records in a batch of its own.
    #[test]
    fn restored_records_land_with_their_commit_and_a_failed_reads_tail_is_discarded() {
        let (_dir, stores) = a_store_on_each_backend();
        for mut store in stores {
            store.restore_put(&key(1), Some(b"one"));
            store.restore_put(&key(2), Some(b"two"));
            assert_eq!(store.get(&key(1)).expect("get"), None, "not before its commit");
            store.restore_commit(1).expect("commit");
            assert_eq!(store.changelog_offset(), Some(1));
            assert_eq!(
                store.backend.checkpoint().expect("checkpoint").changelog_offset,
                Some(1)
            );
            // A read that fails after two more records: they are dropped with the batch.
            store.restore_put(&key(3), Some(b"three"));
            store.restore_put(&key(1), None);
            store.restore_discard();
            store.restore_put(&key(2), None);
            store.restore_commit(5).expect("commit");
            let entries: Vec<_> = store.range(&[], None).expect("range");
            assert_eq!(entries, vec![(key(1), b"one".to_vec())]);
            assert_eq!(
                store.backend.checkpoint().expect("checkpoint").changelog_offset,
                Some(5)
            );
        }
    }
}
