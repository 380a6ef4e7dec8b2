use std::path::{Path, PathBuf};

use rocksdb::{BlockBasedOptions, Cache, ColumnFamilyDescriptor, DB, Direction, IteratorMode, Options, WriteBatch};

use super::Checkpoint;
use super::backend::{Backend, Write};
use crate::config::RocksDbConfig;
use crate::error::{Error, ErrorKind, Result};

/// Column family holding the checkpoint, written in the same batch as the data.
const OFFSETS_CF: &str = "streams-changelog-offset";
const CHECKPOINT_KEY: &[u8] = b"checkpoint";

/// Memory shared by every RocksDB store of one instance.
#[derive(Clone)]
pub(crate) struct RocksResources {
    block_cache: Cache,
    config: RocksDbConfig,
}

impl RocksResources {
    pub(crate) fn new(config: &RocksDbConfig) -> Self {
        static ADVISED: std::sync::Once = std::sync::Once::new();
        ADVISED.call_once(|| {
            if let Some(advice) = crc_advice(built_with_sse42(), cpu_has_sse42()) {
                tracing::warn!("{advice}");
            }
        });
        Self {
            block_cache: Cache::new_lru_cache(config.block_cache_size),
            config: config.clone(),
        }
    }

    fn options(&self) -> Options {
        let mut table = BlockBasedOptions::default();
        table.set_block_cache(&self.block_cache);
        let mut options = Options::default();
        options.create_if_missing(true);
        options.create_missing_column_families(true);
        options.set_block_based_table_factory(&table);
        options.set_write_buffer_size(self.config.write_buffer_size);
        options.set_max_write_buffer_number(self.config.max_write_buffers as i32);
        options.set_compression_type(rocksdb::DBCompressionType::Lz4);
        // As Kafka Streams sets its stores: RocksDB's informational log (a file per store, per
        // task) only gets errors.
        options.set_log_level(rocksdb::LogLevel::Error);
        options
    }
}

/// RocksDB checksums every write-ahead-log record with CRC32C, and `librocksdb-sys` compiles the
/// SSE 4.2 instruction for it only when the build's target has that feature (the same target
/// features this crate sees). Without it the software CRC took a fifth of a restore's CPU: worth
/// one warning per process when the CPU running it has the instruction.
fn crc_advice(built_with_sse42: bool, cpu_has_sse42: bool) -> Option<&'static str> {
    (!built_with_sse42 && cpu_has_sse42).then_some(
        "RocksDB was built without SSE 4.2, so it checksums its write-ahead log in software \
         (slower commits and restores) on a CPU that has the instruction; build with \
         `-C target-cpu=x86-64-v2` (or `native`) in `.cargo/config.toml` (README, \"Deploying\")",
    )
}

fn built_with_sse42() -> bool {
    cfg!(any(not(target_arch = "x86_64"), target_feature = "sse4.2"))
}

fn cpu_has_sse42() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("sse4.2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

impl std::fmt::Debug for RocksResources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksResources").field("config", &self.config).finish()
    }
}

/// How long an open waits for another handle to release a store's lock before giving up with
/// [`ErrorKind::Locked`] (the stream thread then keeps the task pending and retries, so a long
/// hold never blocks the thread's other tasks for longer than this).
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);
const LOCK_RETRY_BACKOFF: std::time::Duration = std::time::Duration::from_millis(50);

/// Whether RocksDB refused an open because the store's `LOCK` file is held: in this process
/// ("lock hold by current process") or by another one ("While lock file: …/LOCK").
fn is_lock_error(e: &rocksdb::Error) -> bool {
    let message = e.to_string();
    message.contains("lock hold by current process") || message.contains("While lock file")
}

/// One RocksDB database per (task, store).
pub(crate) struct RocksBackend {
    db: DB,
    path: PathBuf,
    /// Restored records not yet committed, written into the batch as they arrive.
    restoring: WriteBatch,
}

impl RocksBackend {
    /// Opens (or creates) the store at `path`.
    pub(crate) fn open(path: &Path, resources: &RocksResources) -> Result<Self> {
        std::fs::create_dir_all(path)
            .map_err(|e| Error::io(format!("failed to create state directory `{}`", path.display()), e))?;
        let options = resources.options();
        let families = || {
            vec![
                ColumnFamilyDescriptor::new(rocksdb::DEFAULT_COLUMN_FAMILY_NAME, options.clone()),
                ColumnFamilyDescriptor::new(OFFSETS_CF, Options::default()),
            ]
        };
        let started = std::time::Instant::now();
        let db = loop {
            match DB::open_cf_descriptors(&options, path, families()) {
                Ok(db) => break db,
                // Another handle of this process (a stream thread giving the task up, a standby
                // being promoted, a query) or another process holds the store: it is live, not
                // broken, so wait for it and never report it as unreadable (which would wipe it).
                Err(e) if is_lock_error(&e) && started.elapsed() < LOCK_WAIT => {
                    std::thread::sleep(LOCK_RETRY_BACKOFF);
                }
                Err(e) if is_lock_error(&e) => {
                    return Err(Error::new(
                        ErrorKind::Locked,
                        format!(
                            "RocksDB store at `{}` is still locked by another handle after {:?}; \
                             left as it is",
                            path.display(),
                            LOCK_WAIT
                        ),
                    )
                    .with_source(e));
                }
                Err(e) => {
                    return Err(Error::new(
                        ErrorKind::State,
                        format!("failed to open RocksDB store at `{}`", path.display()),
                    )
                    .with_source(e));
                }
            }
        };
        Ok(Self {
            db,
            path: path.to_owned(),
            restoring: WriteBatch::default(),
        })
    }

    fn offsets_cf(&self) -> Result<&rocksdb::ColumnFamily> {
        self.db.cf_handle(OFFSETS_CF).ok_or_else(|| {
            Error::new(
                ErrorKind::State,
                format!("`{}` lacks its checkpoint column family", self.path.display()),
            )
        })
    }

    /// Writes `batch` together with the checkpoint it brings the store to.
    fn write_with_checkpoint(&self, mut batch: WriteBatch, checkpoint: &Checkpoint) -> Result<()> {
        let encoded = serde_json::to_vec(checkpoint)
            .map_err(|e| Error::new(ErrorKind::State, "failed to encode a checkpoint").with_source(e))?;
        batch.put_cf(self.offsets_cf()?, CHECKPOINT_KEY, encoded);
        self.db.write(batch).map_err(|e| self.state_error("write", e))
    }

    fn state_error(&self, op: &str, e: rocksdb::Error) -> Error {
        Error::new(
            ErrorKind::State,
            format!("RocksDB {op} failed in `{}`", self.path.display()),
        )
        .with_source(e)
    }
}

impl Backend for RocksBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.db.get(key).map_err(|e| self.state_error("get", e))
    }

    fn scan(&self, from: &[u8], to: Option<&[u8]>, limit: usize) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut out = Vec::new();
        for entry in self
            .db
            .iterator(IteratorMode::From(from, Direction::Forward))
            .take(limit)
        {
            let (key, value) = entry.map_err(|e| self.state_error("range scan", e))?;
            if to.is_some_and(|to| &*key >= to) {
                break;
            }
            out.push((key.into_vec(), value.into_vec()));
        }
        Ok(out)
    }

    fn apply(&mut self, writes: &[Write], checkpoint: &Checkpoint) -> Result<()> {
        let mut batch = WriteBatch::default();
        for (key, value) in writes {
            match value {
                Some(value) => batch.put(key, value),
                None => batch.delete(key),
            }
        }
        self.write_with_checkpoint(batch, checkpoint)
    }

    fn restore_put(&mut self, key: &[u8], value: Option<&[u8]>) {
        match value {
            Some(value) => self.restoring.put(key, value),
            None => self.restoring.delete(key),
        }
    }

    fn restore_commit(&mut self, checkpoint: &Checkpoint) -> Result<()> {
        let batch = std::mem::take(&mut self.restoring);
        self.write_with_checkpoint(batch, checkpoint)
    }

    fn restore_discard(&mut self) {
        self.restoring.clear();
    }

    fn checkpoint(&self) -> Result<Checkpoint> {
        let raw = self
            .db
            .get_cf(self.offsets_cf()?, CHECKPOINT_KEY)
            .map_err(|e| self.state_error("get checkpoint", e))?;
        match raw {
            None => Ok(Checkpoint::default()),
            Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::new(
                    ErrorKind::State,
                    format!("corrupt checkpoint in `{}`", self.path.display()),
                )
                .with_source(e)
            }),
        }
    }

    /// Files on disk plus what is still in memtables (Kafka Streams' `total-sst-files-size`
    /// alone reads 0 until the first flush).
    fn size_bytes(&self) -> u64 {
        [
            rocksdb::properties::TOTAL_SST_FILES_SIZE,
            rocksdb::properties::CUR_SIZE_ALL_MEM_TABLES,
        ]
        .into_iter()
        .filter_map(|p| self.db.property_int_value(p).ok().flatten())
        .sum()
    }
}

#[cfg(test)]
mod tests {
    //! A held lock must never look like a broken store: `open_store` wipes stores whose open
    //! fails with `ErrorKind::State`, so a lock error reported that way deleted live data.
    use super::*;

    /// The warning is given exactly when the build lacks SSE 4.2 and the CPU has it; this
    /// workspace's own build (`.cargo/config.toml`) never gives it.
    #[test]
    fn a_build_without_sse42_on_a_cpu_with_it_is_told_how_to_get_the_hardware_crc() {
        let advice = crc_advice(false, true).expect("advice");
        assert!(advice.contains("target-cpu=x86-64-v2"), "{advice}");
        assert_eq!(crc_advice(true, true), None);
        assert_eq!(crc_advice(false, false), None, "no instruction to gain");
        assert_eq!(crc_advice(true, false), None);
        assert!(built_with_sse42(), "the workspace builds for x86-64-v2");
    }

    /// As Kafka Streams' stores: RocksDB's informational messages (the options dump, an open's
    /// recovery steps, a flush's progress) stay out of the store's `LOG` file.
    #[test]
    fn the_rocksdb_log_of_a_store_gets_no_informational_messages() {
        let (dir, _resources, holder) = held_store();
        holder.db.flush().expect("flush");
        drop(holder);
        let log = std::fs::read_to_string(dir.path().join("LOG")).expect("LOG");
        for informational in ["Options.write_buffer_size", "DB pointer", "Flushing memtable"] {
            assert!(!log.contains(informational), "`{informational}` in the LOG:\n{log}");
        }
    }

    /// A store holding `k` = `v`, open (and so locked) through the returned handle.
    fn held_store() -> (tempfile::TempDir, RocksResources, RocksBackend) {
        let dir = tempfile::tempdir().expect("dir");
        let resources = RocksResources::new(&RocksDbConfig::default());
        let holder = RocksBackend::open(dir.path(), &resources).expect("first open");
        holder.db.put(b"k", b"v").expect("put");
        (dir, resources, holder)
    }

    #[test]
    fn an_open_waits_for_a_held_lock_and_keeps_the_data() {
        let (dir, resources, holder) = held_store();
        let release = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            drop(holder);
        });
        let reopened = RocksBackend::open(dir.path(), &resources).expect("open after the release");
        release.join().expect("holder thread");
        assert_eq!(reopened.db.get(b"k").expect("get").as_deref(), Some(&b"v"[..]));
    }

    #[test]
    fn a_lock_that_stays_held_is_not_reported_as_an_unreadable_store() {
        let (dir, resources, holder) = held_store();
        let error = RocksBackend::open(dir.path(), &resources)
            .err()
            .expect("the second open must fail while the first handle lives");
        assert_eq!(error.kind(), ErrorKind::Locked, "{error}");
        assert!(error.report().to_string().contains("locked"), "{error}");
        assert_eq!(holder.db.get(b"k").expect("get").as_deref(), Some(&b"v"[..]));
    }
}
