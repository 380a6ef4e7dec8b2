use std::collections::BTreeMap;
use std::ops::Bound;

use super::backend::{Backend, Write};
use crate::error::Result;

/// A `BTreeMap` backend; starts empty, so its task always restores from the changelog.
#[derive(Debug, Default)]
pub(crate) struct MemoryBackend {
    data: BTreeMap<Vec<u8>, Vec<u8>>,
    offset: Option<i64>,
    bytes: u64,
}

impl Backend for MemoryBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.data.get(key).cloned())
    }

    fn range(&self, from: &[u8], to: Option<&[u8]>) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let upper = to.map_or(Bound::Unbounded, Bound::Excluded);
        Ok(self
            .data
            .range::<[u8], _>((Bound::Included(from), upper))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn apply(&mut self, writes: &[Write], changelog_offset: Option<i64>) -> Result<()> {
        for (key, value) in writes {
            let old = match value {
                Some(v) => {
                    self.bytes += (key.len() + v.len()) as u64;
                    self.data.insert(key.clone(), v.clone())
                }
                None => self.data.remove(key),
            };
            if let Some(old) = old {
                self.bytes -= (key.len() + old.len()) as u64;
            }
        }
        if changelog_offset.is_some() {
            self.offset = changelog_offset;
        }
        Ok(())
    }

    fn changelog_offset(&self) -> Result<Option<i64>> {
        Ok(self.offset)
    }

    fn size_bytes(&self) -> u64 {
        self.bytes
    }
}
