//! Restoration: replaying a store's changelog partition tail into its local state.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};

use super::TaskEnv;
use crate::config::ProcessingGuarantee;
use crate::error::{Error, ErrorKind, Result};
use crate::state::{ChangelogPartition, Store};

/// Records applied per RocksDB write batch while restoring.
const RESTORE_BATCH: usize = 10_000;
/// Give up if the changelog yields nothing for this long while records are still missing.
const STALL_TIMEOUT: Duration = Duration::from_secs(60);

/// How much a restore replayed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Restored {
    pub(crate) records: u64,
    pub(crate) bytes: u64,
}

/// Brings `store` up to the end of its changelog partition, starting after the offset the store
/// already reflects (or from the beginning for a new or rebuilt store). `None` if the local
/// checkpoint does not fit the changelog (recreated, truncated, or compacted away past it): the
/// local state must then be wiped and rebuilt.
pub(crate) fn restore(env: &TaskEnv, store: &mut Store, changelog: &ChangelogPartition) -> Result<Option<Restored>> {
    let store_name = store.name().to_owned();
    let failed = |what: &str| {
        format!(
            "failed to restore store `{store_name}` from `{}` ({what})",
            changelog.topic
        )
    };
    let mut config = env.client_config.clone();
    config
        .set("group.id", format!("{}-restore", env.application_id))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false");
    if env.guarantee == ProcessingGuarantee::ExactlyOnceV2 {
        config.set("isolation.level", "read_committed");
    }
    let consumer: BaseConsumer = config.create().map_err(|e| Error::kafka(failed("consumer"), e))?;
    let (low, high) = consumer
        .fetch_watermarks(&changelog.topic, changelog.partition, Duration::from_secs(30))
        .map_err(|e| Error::kafka(failed("watermarks"), e))?;
    let checkpoint = store.changelog_offset();
    if let Some(offset) = checkpoint
        && (offset >= high || offset + 1 < low)
    {
        tracing::warn!(
            store = store.name(),
            changelog = %changelog.topic,
            partition = changelog.partition,
            checkpoint = offset,
            low,
            high,
            "local state does not match its changelog (recreated or truncated?)"
        );
        return Ok(None);
    }
    let start = checkpoint.map_or(low, |offset| offset + 1);
    if start >= high {
        tracing::debug!(store = store.name(), changelog = %changelog.topic, partition = changelog.partition, "store is up to date");
        return Ok(Some(Restored::default()));
    }
    tracing::info!(
        store = store.name(),
        changelog = %changelog.topic,
        partition = changelog.partition,
        from = start,
        to = high,
        checkpoint = ?checkpoint,
        "restoring"
    );
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset(&changelog.topic, changelog.partition, Offset::Offset(start))
        .map_err(|e| Error::kafka(failed("assign"), e))?;
    consumer
        .assign(&assignment)
        .map_err(|e| Error::kafka(failed("assign"), e))?;

    let began = Instant::now();
    let mut restored = Restored::default();
    let mut batch = Vec::with_capacity(RESTORE_BATCH);
    let mut last_offset = start - 1;
    let mut last_progress = Instant::now();
    let mut last_log = Instant::now();
    while last_offset + 1 < high {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(message)) => {
                let key = message.key().unwrap_or_default().to_vec();
                let value = message.payload().map(<[u8]>::to_vec);
                restored.bytes += (key.len() + value.as_ref().map_or(0, Vec::len)) as u64;
                batch.push((key, value));
                last_offset = message.offset();
                restored.records += 1;
                last_progress = Instant::now();
                if batch.len() >= RESTORE_BATCH {
                    store.restore_batch(&batch, last_offset)?;
                    batch.clear();
                }
            }
            Some(Err(e)) => tracing::warn!(store = store.name(), error = %e, "changelog read failed; retrying"),
            None => {
                // Transaction markers and aborted records take offsets but yield no message.
                let position = consumer.position().ok().and_then(|p| {
                    p.find_partition(&changelog.topic, changelog.partition)
                        .map(|e| e.offset())
                });
                if let Some(Offset::Offset(position)) = position
                    && position >= high
                {
                    break;
                }
                if last_progress.elapsed() > STALL_TIMEOUT {
                    return Err(Error::new(
                        ErrorKind::State,
                        failed(&format!(
                            "no progress for {STALL_TIMEOUT:?} at offset {last_offset} of {high}"
                        )),
                    ));
                }
            }
        }
        if last_log.elapsed() > Duration::from_secs(5) {
            last_log = Instant::now();
            tracing::info!(
                store = store.name(),
                restored = restored.records,
                at = last_offset,
                to = high,
                "restoring…"
            );
        }
    }
    if !batch.is_empty() || restored.records == 0 {
        // Record the end offset even if only markers were left, so the next restore skips them.
        store.restore_batch(&batch, last_offset.max(high - 1))?;
    }
    let elapsed = began.elapsed();
    env.metrics.record_restore(restored.records, elapsed);
    tracing::info!(
        store = store.name(),
        changelog = %changelog.topic,
        partition = changelog.partition,
        records = restored.records,
        bytes = restored.bytes,
        ms = elapsed.as_millis() as u64,
        "restored"
    );
    Ok(Some(restored))
}
