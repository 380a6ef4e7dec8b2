//! Restoration: replaying a store's changelog partition tail into its local state.

use std::time::{Duration, Instant};

use super::TaskEnv;
use crate::error::{Error, ErrorKind, Result};
use crate::state::{ChangelogPartition, Store};

/// Records applied per RocksDB write batch while restoring.
const RESTORE_BATCH: usize = 10_000;
const PROGRESS_LOG_INTERVAL: Duration = Duration::from_secs(5);

/// How much a restore replayed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Restored {
    pub(crate) records: u64,
    pub(crate) bytes: u64,
    /// Offsets the store was behind its changelog's end when the replay began (transaction
    /// markers included): a standby's offset lag.
    pub(crate) behind: i64,
}

/// Who replays a changelog: an active task opening (logged at info, counted in the restore
/// metrics) or a standby catching up (debug logs, not counted: it is not a restore).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Restore,
    Standby,
}

/// How long a restore waits for an open transaction that holds the changelog's last stable
/// offset at or below the local checkpoint (a crashed producer's, until the broker aborts it
/// at its `transaction.timeout.ms`) before giving up with an error — never a wipe.
const OPEN_TRANSACTION_WAIT: Duration = Duration::from_secs(60);

/// The changelog's low watermark and readable end. Under exactly-once the end is the last
/// stable offset; a checkpoint at or past it but inside the log means another producer's
/// transaction is still open below records this store already applied (its own later
/// commits), not that the store is foreign: wait for the transaction to end rather than
/// judging the store corrupt and rebuilding it without its own committed tail.
fn readable_range(
    env: &TaskEnv,
    name: &str,
    changelog: &ChangelogPartition,
    checkpoint: Option<i64>,
) -> Result<(i64, i64)> {
    let (topic, partition) = (changelog.topic.as_str(), changelog.partition);
    let context = || format!("failed to restore store `{name}`");
    let began = Instant::now();
    // Asked once: the log's end only grows, so a checkpoint inside it stays inside it.
    let mut inside_log = false;
    loop {
        let (low, high) = env
            .reader
            .watermarks(topic, partition)
            .map_err(|e| e.context(context()))?;
        let Some(offset) = checkpoint.filter(|offset| *offset >= high) else {
            return Ok((low, high));
        };
        if !inside_log {
            let log_end = env.reader.log_end(topic, partition).map_err(|e| e.context(context()))?;
            if offset >= log_end {
                // Past the end of the log itself: the store does not belong to this changelog.
                return Ok((low, high));
            }
            tracing::info!(
                store = name,
                changelog = topic,
                partition,
                checkpoint = offset,
                stable = high,
                end = log_end,
                "waiting for an open transaction on the changelog to end"
            );
            inside_log = true;
        }
        if began.elapsed() > OPEN_TRANSACTION_WAIT {
            return Err(Error::new(
                ErrorKind::Kafka,
                format!(
                    "{}: an open transaction has held the last stable offset of `{topic}` partition \
                     {partition} at {high}, below the local checkpoint {offset}, for \
                     {OPEN_TRANSACTION_WAIT:?}; the store is kept",
                    context()
                ),
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Brings `store` up to the end of its changelog partition, starting after the offset the store
/// already reflects (or from the beginning for a new or rebuilt store). `None` if the local
/// checkpoint does not fit the changelog (recreated, truncated, or compacted away past it): the
/// local state must then be wiped and rebuilt.
pub(crate) fn replay(
    env: &TaskEnv,
    store: &mut Store,
    changelog: &ChangelogPartition,
    mode: Mode,
) -> Result<Option<Restored>> {
    let (topic, partition) = (changelog.topic.as_str(), changelog.partition);
    let checkpoint = store.changelog_offset();
    let (low, high) = readable_range(env, store.name(), changelog, checkpoint)?;
    if let Some(offset) = checkpoint
        && (offset >= high || offset + 1 < low)
    {
        tracing::warn!(
            store = store.name(),
            changelog = topic,
            partition,
            checkpoint = offset,
            low,
            high,
            "local state does not match its changelog (recreated or truncated?)"
        );
        return Ok(None);
    }
    let start = checkpoint.map_or(low, |offset| offset + 1);
    let behind = (high - start).max(0);
    if start >= high {
        tracing::debug!(
            store = store.name(),
            changelog = topic,
            partition,
            "store is up to date"
        );
        return Ok(Some(Restored::default()));
    }
    if mode == Mode::Restore {
        tracing::info!(store = store.name(), changelog = topic, partition, from = start, to = high, checkpoint = ?checkpoint, "restoring");
    }

    let began = Instant::now();
    let mut restored = Restored {
        behind,
        ..Restored::default()
    };
    let mut last_log = Instant::now();
    let name = store.name().to_owned();
    env.reader
        .read(topic, partition, start, high, &mut |offset, key, value| {
            restored.bytes += (key.len() + value.map_or(0, <[u8]>::len)) as u64;
            restored.records += 1;
            store.restore_put(key, value);
            // A batch ends with every RESTORE_BATCH-th record this replay read.
            if restored.records.is_multiple_of(RESTORE_BATCH as u64) {
                store.restore_commit(offset)?;
            }
            // The clock is read every 1 024 records, not for each one.
            if restored.records.is_multiple_of(1024) && last_log.elapsed() > PROGRESS_LOG_INTERVAL {
                last_log = Instant::now();
                tracing::info!(store = %name, restored = restored.records, at = offset, to = high, "restoring…");
            }
            Ok(())
        })
        .map_err(|e| {
            // Records read after the last commit stay out: the next restore reads them again.
            store.restore_discard();
            e.context(format!("failed to restore store `{name}`"))
        })?;
    // Record the end offset even if only markers were left, so the next restore skips them.
    store.restore_commit(high - 1)?;
    let elapsed = began.elapsed();
    if mode == Mode::Standby {
        tracing::debug!(
            store = store.name(),
            changelog = topic,
            partition,
            records = restored.records,
            "standby caught up"
        );
        return Ok(Some(restored));
    }
    env.metrics.record_restore(restored.records, restored.bytes, elapsed);
    tracing::info!(
        store = store.name(),
        changelog = topic,
        partition,
        records = restored.records,
        bytes = restored.bytes,
        ms = elapsed.as_millis() as u64,
        "restored"
    );
    Ok(Some(restored))
}

/// Offsets between the end of `changelog` now and the position of `store` (which reflects
/// everything before `changelog_offset + 1`): how far a standby is behind the active task.
pub(crate) fn offset_lag(env: &TaskEnv, changelog: &ChangelogPartition, changelog_offset: Option<i64>) -> Result<i64> {
    let (low, high) = env.reader.watermarks(&changelog.topic, changelog.partition)?;
    Ok((high - changelog_offset.map_or(low, |offset| offset + 1)).max(0))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;
    use crate::state::RocksBackend;
    use crate::task::{ApplyRecord, PartitionReader};

    type Record = (Vec<u8>, Option<Vec<u8>>);

    /// A changelog partition in memory whose first read fails (the broker went away) when it
    /// reaches offset `fail_at`.
    struct FlakyChangelog {
        records: Vec<Record>,
        fail_at: i64,
        failed: AtomicBool,
    }

    impl PartitionReader for FlakyChangelog {
        fn watermarks(&self, _: &str, _: i32) -> Result<(i64, i64)> {
            Ok((0, self.records.len() as i64))
        }

        fn log_end(&self, _: &str, _: i32) -> Result<i64> {
            Ok(self.records.len() as i64)
        }

        fn partitions(&self, _: &str) -> Result<i32> {
            Ok(1)
        }

        fn read(&self, _: &str, _: i32, from: i64, to: i64, apply: &mut ApplyRecord<'_>) -> Result<()> {
            let failing = !self.failed.swap(true, Ordering::SeqCst);
            for offset in from..to {
                if failing && offset == self.fail_at {
                    return Err(Error::new(ErrorKind::Kafka, "the broker went away"));
                }
                let (key, value) = &self.records[offset as usize];
                apply(offset, key, value.as_deref())?;
            }
            Ok(())
        }
    }

    /// What a store holds after applying `records` in order: the independent oracle.
    fn applied(records: &[Record]) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut state = BTreeMap::new();
        for (key, value) in records {
            match value {
                Some(value) => state.insert(key.clone(), value.clone()),
                None => state.remove(key),
            };
        }
        state.into_iter().collect()
    }

    /// A restore whose read fails half-way keeps what it committed (whole batches, with their
    /// checkpoint) and nothing after it; the next restore resumes after that checkpoint and
    /// ends with exactly the changelog's state: nothing lost, no stale value left over. In
    /// process (the failure is injected), on RocksDB.
    #[test]
    fn a_restore_that_fails_half_way_resumes_after_its_last_batch_and_ends_exact() {
        // 2.5 batches over 3 000 keys, every seventh record a tombstone.
        let records: Vec<Record> = (0..25_000u32)
            .map(|i| {
                let key = (i.wrapping_mul(7_919) % 3_000).to_be_bytes().to_vec();
                (key, (i % 7 != 0).then(|| i.to_be_bytes().to_vec()))
            })
            .collect();
        let fail_at = RESTORE_BATCH as i64 + 5_000;
        let dir = tempfile::tempdir().expect("dir");
        let reader = Arc::new(FlakyChangelog {
            records: records.clone(),
            fail_at,
            failed: AtomicBool::new(false),
        });
        let env = TaskEnv::for_tests("restore", dir.path(), reader);
        let changelog = ChangelogPartition {
            topic: "app-store-changelog".to_owned(),
            partition: 0,
        };
        let backend = RocksBackend::open(&dir.path().join("store"), &env.rocks).expect("rocks");
        let mut store = Store::new("store".into(), Some(changelog.clone()), Box::new(backend)).expect("store");

        let failed = replay(&env, &mut store, &changelog, Mode::Restore);
        assert!(failed.is_err(), "the injected read failure is reported");
        assert_eq!(store.changelog_offset(), Some(RESTORE_BATCH as i64 - 1));
        assert_eq!(
            store.range(&[], None).expect("range"),
            applied(&records[..RESTORE_BATCH]),
            "the committed batch and nothing read after it"
        );

        let restored = replay(&env, &mut store, &changelog, Mode::Restore)
            .expect("restore")
            .expect("the checkpoint fits the changelog");
        assert_eq!(restored.records, (records.len() - RESTORE_BATCH) as u64);
        assert_eq!(store.changelog_offset(), Some(records.len() as i64 - 1));
        assert_eq!(store.range(&[], None).expect("range"), applied(&records));
    }
}
