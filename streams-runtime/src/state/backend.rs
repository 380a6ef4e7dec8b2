use super::Checkpoint;
use crate::error::Result;

/// One write: `None` deletes the key.
pub(crate) type Write = (Vec<u8>, Option<Vec<u8>>);

/// Byte-level local storage of one store of one task.
pub(crate) trait Backend: Send {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Entries with `from <= key < to` (`to = None`: to the end), ascending by key.
    fn range(&self, from: &[u8], to: Option<&[u8]>) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.scan(from, to, usize::MAX)
    }
    /// The first `limit` entries of [`range`](Self::range).
    fn scan(&self, from: &[u8], to: Option<&[u8]>, limit: usize) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;
    /// Applies `writes` atomically together with the checkpoint they bring the store to.
    fn apply(&mut self, writes: &[Write], checkpoint: &Checkpoint) -> Result<()>;
    /// Restoration: collects one changelog record (`None` deletes the key) for the next
    /// [`restore_commit`](Self::restore_commit), copied once into the backend's own batch
    /// rather than into an owned [`Write`] first.
    fn restore_put(&mut self, key: &[u8], value: Option<&[u8]>);
    /// Applies the records collected by [`restore_put`](Self::restore_put) atomically together
    /// with the checkpoint they bring the store to.
    fn restore_commit(&mut self, checkpoint: &Checkpoint) -> Result<()>;
    /// Drops the records collected since the last commit (a restore that failed half-way).
    fn restore_discard(&mut self);
    /// The checkpoint of the state on disk (empty for a new store).
    fn checkpoint(&self) -> Result<Checkpoint>;
    /// Approximate bytes on disk or in memory.
    fn size_bytes(&self) -> u64;
}
