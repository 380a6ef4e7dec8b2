use std::collections::BTreeMap;
use std::ops::Bound;

use super::Checkpoint;
use super::backend::{Backend, Write};
use crate::error::Result;

/// A `BTreeMap` backend; starts empty, so its task always restores from the changelog.
#[derive(Debug, Default)]
pub(crate) struct MemoryBackend {
    data: BTreeMap<Vec<u8>, Vec<u8>>,
    checkpoint: Checkpoint,
    bytes: u64,
    /// Restored records not yet committed.
    restoring: Vec<Write>,
}

impl MemoryBackend {
    /// One write (`None` deletes), taking its bytes, with the size kept up to date.
    fn write(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        let key_len = key.len() as u64;
        let old = match value {
            Some(v) => {
                self.bytes += key_len + v.len() as u64;
                self.data.insert(key, v)
            }
            None => self.data.remove(&key),
        };
        if let Some(old) = old {
            self.bytes -= key_len + old.len() as u64;
        }
    }
}

impl Backend for MemoryBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.data.get(key).cloned())
    }

    fn scan(&self, from: &[u8], to: Option<&[u8]>, limit: usize) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let upper = to.map_or(Bound::Unbounded, Bound::Excluded);
        Ok(self
            .data
            .range::<[u8], _>((Bound::Included(from), upper))
            .take(limit)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn apply(&mut self, writes: &[Write], checkpoint: &Checkpoint) -> Result<()> {
        for (key, value) in writes {
            self.write(key.clone(), value.clone());
        }
        self.checkpoint = checkpoint.clone();
        Ok(())
    }

    fn restore_put(&mut self, key: &[u8], value: Option<&[u8]>) {
        self.restoring.push((key.to_vec(), value.map(<[u8]>::to_vec)));
    }

    fn restore_commit(&mut self, checkpoint: &Checkpoint) -> Result<()> {
        // The collected records are moved into the map, not copied a second time.
        for (key, value) in std::mem::take(&mut self.restoring) {
            self.write(key, value);
        }
        self.checkpoint = checkpoint.clone();
        Ok(())
    }

    fn restore_discard(&mut self) {
        self.restoring.clear();
    }

    fn checkpoint(&self) -> Result<Checkpoint> {
        Ok(self.checkpoint.clone())
    }

    fn size_bytes(&self) -> u64 {
        self.bytes
    }
}
