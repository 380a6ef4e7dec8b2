//! Criterion micro-benchmarks of the runtime's per-record building blocks.
//!
//! `cargo bench -p streams-benches --bench micro`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use serde::{Deserialize, Serialize};
use streams_runtime::codec::{Binary, Codec, Json};
use streams_runtime::partitioner::partition_for_key;
use streams_runtime::window::TumblingWindows;

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

criterion_group!(micro, codecs, partitioner, windows);
criterion_main!(micro);
