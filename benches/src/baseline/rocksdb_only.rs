//! RocksDB alone: the get + put per record a windowed count needs, batched — the ceiling for
//! any stateful pipeline on this machine.

use std::time::Instant;

use crate::cpu::CpuSnapshot;
use crate::data::{USERS, WINDOW_MS, click};
use crate::report::Run;

/// `n` read-modify-writes of per-user-window counters in RocksDB at `dir`, written in batches.
pub fn rocksdb_get_put(dir: &std::path::Path, n: u64) -> Run {
    let db = rocksdb::DB::open_default(dir).expect("RocksDB");
    let (started, cpu) = (Instant::now(), CpuSnapshot::now());
    let mut batch = rocksdb::WriteBatch::default();
    let mut pending = std::collections::HashMap::<Vec<u8>, u64>::new();
    for i in 0..n {
        let c = click(i);
        let start = c.timestamp_ms - c.timestamp_ms.rem_euclid(WINDOW_MS);
        let mut key = c.user_id.into_bytes();
        key.extend_from_slice(&start.to_be_bytes());
        let count = match pending.get(&key) {
            Some(count) => *count,
            None => db
                .get(&key)
                .expect("get")
                .and_then(|b| b.try_into().ok().map(u64::from_be_bytes))
                .unwrap_or(0),
        } + 1;
        pending.insert(key, count);
        if pending.len() as u64 >= USERS * 10 {
            for (key, count) in pending.drain() {
                batch.put(key, count.to_be_bytes());
            }
            db.write(std::mem::take(&mut batch)).expect("write");
        }
    }
    for (key, count) in pending.drain() {
        batch.put(key, count.to_be_bytes());
    }
    db.write(batch).expect("write");
    let (elapsed, cpu) = (started.elapsed(), CpuSnapshot::now().since(&cpu).total);
    Run {
        name: "RocksDB get + put (batched), no framework".to_owned(),
        records: n,
        elapsed,
        cpu,
        // Single-threaded: this thread's work is the process's.
        thread_cpu: cpu,
    }
}
