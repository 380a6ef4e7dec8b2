//! Without the `rocksdb` feature: stores declared persistent live in memory, as in-memory stores
//! do, and are rebuilt from their changelogs at every start (no local state survives a restart;
//! standbys and changelogs still keep failover fast). It stands in for `rocks.rs` (same names), so
//! the tasks open stores the same way with or without RocksDB.

use std::path::Path;

use super::MemoryBackend;
use crate::config::RocksDbConfig;
use crate::error::Result;

/// No block cache or write buffers to share without RocksDB.
#[derive(Clone)]
pub(crate) struct RocksResources;

impl RocksResources {
    pub(crate) fn new(_: &RocksDbConfig) -> Self {
        Self
    }
}

/// Opens a persistent store's backend: memory, without RocksDB.
pub(crate) struct RocksBackend;

impl RocksBackend {
    pub(crate) fn open(_: &Path, _: &RocksResources) -> Result<MemoryBackend> {
        Ok(MemoryBackend::default())
    }
}
