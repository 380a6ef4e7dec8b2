//! Windowed-count baseline: per-user counts in 5-minute windows in RocksDB, with a write cache
//! flushed (to RocksDB and a changelog topic) at every commit, and every update produced —
//! the framework's work, by hand.

use std::collections::HashMap;
use std::time::Duration;

use kafka_streams::Windowed;
use kafka_streams::kafka::KafkaCluster;
use kafka_streams::window::TimeWindows;
use rdkafka::message::Message;

use super::kafka_loop::{forwarded_headers, run, send};
use crate::data::{Click, WINDOW_MS};

/// `n` clicks of `input` → count per user and window in RocksDB at `db_dir` → `output`, with a
/// changelog in `changelog` (partition = input partition).
#[allow(clippy::too_many_arguments)] // the same knobs as the framework run, spelled out
pub fn windowed_count(
    cluster: &KafkaCluster,
    input: &str,
    output: &str,
    changelog: &str,
    db_dir: &std::path::Path,
    n: u64,
    commit_interval: Duration,
    ready: &std::sync::atomic::AtomicBool,
) -> (std::time::Instant, crate::cpu::CpuSnapshot) {
    let db = rocksdb::DB::open_default(db_dir).expect("baseline RocksDB");
    let windows = TimeWindows::of(Duration::from_millis(WINDOW_MS as u64));
    // Uncommitted counts: (partition, key) → count; flushed at commit.
    let dirty = std::cell::RefCell::new(HashMap::<(i32, Vec<u8>), u64>::new());
    run(
        cluster,
        input,
        "baseline-windowed-count",
        n,
        commit_interval,
        ready,
        |message, producer| {
            let Some(payload) = message.payload() else { return };
            let Ok(click) = serde_json::from_slice::<Click>(payload) else {
                return;
            };
            let window = windows.window_for(click.timestamp_ms);
            let mut key = click.user_id.clone().into_bytes();
            key.extend_from_slice(&window.start_ms.to_be_bytes());
            let mut dirty = dirty.borrow_mut();
            let partition = message.partition();
            let count = match dirty.get(&(partition, key.clone())) {
                Some(c) => *c,
                None => db
                    .get(&key)
                    .expect("get")
                    .and_then(|b| b.try_into().ok().map(u64::from_be_bytes))
                    .unwrap_or(0),
            } + 1;
            dirty.insert((partition, key), count);
            let out_key = Windowed {
                key: click.user_id,
                window,
            }
            .to_string();
            let value = serde_json::to_vec(&count).expect("json");
            send(
                producer,
                output,
                None,
                (out_key.as_bytes(), &value),
                click.timestamp_ms,
                forwarded_headers(message),
            );
        },
        |producer| {
            let mut batch = rocksdb::WriteBatch::default();
            for ((partition, key), count) in dirty.borrow_mut().drain() {
                let value = count.to_be_bytes();
                send(producer, changelog, Some(partition), (&key, &value), 0, None);
                batch.put(&key, value);
            }
            db.write(batch).expect("write batch");
        },
    )
}
