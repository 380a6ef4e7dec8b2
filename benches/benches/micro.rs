//! Criterion micro-benchmarks of the runtime's per-record building blocks.
//!
//! `cargo bench -p streams-benches --bench micro`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use kafka_streams::codec::{Binary, Codec, Json};
use kafka_streams::partitioner::partition_for_key;
use kafka_streams::window::{TimeWindows, TumblingWindows};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Click {
    user_id: String,
    url: String,
    timestamp: i64,
}

fn click() -> Click {
    Click {
        user_id: "user-123".into(),
        url: "/checkout".into(),
        timestamp: 1_704_447_600,
    }
}

fn codecs(c: &mut Criterion) {
    let value = click();
    let json = Json.to_bytes(&value).expect("encode");
    let binary = Binary.to_bytes(&value).expect("encode");
    let mut out = Vec::with_capacity(128);
    c.bench_function("codec/json/encode", |b| {
        b.iter(|| {
            out.clear();
            Json.encode(black_box(&value), &mut out).expect("encode");
        })
    });
    c.bench_function("codec/json/decode", |b| {
        b.iter(|| Codec::<Click>::decode(&Json, black_box(&json)))
    });
    c.bench_function("codec/binary/encode", |b| {
        b.iter(|| {
            out.clear();
            Binary.encode(black_box(&value), &mut out).expect("encode");
        })
    });
    c.bench_function("codec/binary/decode", |b| {
        b.iter(|| Codec::<Click>::decode(&Binary, black_box(&binary)))
    });
}

fn partitioner(c: &mut Criterion) {
    c.bench_function("partitioner/murmur2/16B", |b| {
        b.iter(|| partition_for_key(black_box(b"user-1234567890ab"), 12))
    });
}

fn windows(c: &mut Criterion) {
    let tumbling = TumblingWindows::of(Duration::from_secs(300));
    c.bench_function("window/tumbling/assign", |b| {
        b.iter(|| tumbling.window_for(black_box(1_704_447_630_123)))
    });
}

fn hopping_windows(c: &mut Criterion) {
    let hopping = TimeWindows::of(Duration::from_secs(300)).advance_by(Duration::from_secs(60));
    c.bench_function("window/hopping-5-of-1m/assign", |b| {
        b.iter(|| hopping.windows_for(black_box(1_704_447_630_123)))
    });
}

/// Get and put through a task's store: the uncommitted overlay (record cache) over RocksDB.
fn store(c: &mut Criterion) {
    use kafka_streams::config::StreamsConfig;
    use kafka_streams::testing::TestDriver;
    use kafka_streams::topology::{Materialized, StreamsBuilder};

    let builder = StreamsBuilder::new();
    builder
        .stream::<String, u64>("numbers")
        .group_by_key()
        .count(Materialized::named("counts"));
    let config = StreamsConfig::builder("bench-store").build().expect("config");
    let driver = TestDriver::new(builder.build().expect("topology"), config).expect("driver");
    let (_, store) = driver
        .key_value_store::<String, u64>("counts")
        .expect("store")
        .into_iter()
        .next()
        .expect("one partition");
    let keys: Vec<String> = (0..1_000).map(|i| format!("user-{i}")).collect();
    let mut i = 0usize;
    c.bench_function("store/put/cached", |b| {
        b.iter(|| {
            i = (i + 1) % keys.len();
            store.put(black_box(&keys[i]), &(i as u64)).expect("put");
        })
    });
    c.bench_function("store/get/cached", |b| {
        b.iter(|| {
            i = (i + 1) % keys.len();
            store.get(black_box(&keys[i])).expect("get")
        })
    });
    // Committed: the overlay is empty, reads go to RocksDB.
    driver.commit().expect("commit");
    c.bench_function("store/get/rocksdb", |b| {
        b.iter(|| {
            i = (i + 1) % keys.len();
            store.get(black_box(&keys[i])).expect("get")
        })
    });
}

criterion_group!(micro, codecs, partitioner, windows, hopping_windows, store);
criterion_main!(micro);
