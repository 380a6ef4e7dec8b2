//! Failover with and without a standby replica (issue 8), and restoration throughput.
//!
//! Two instances of a latest-value table (`reduce`, ~1 KiB values) on the embedded broker, in
//! one process: A and B share four partitions, B's store for A's partitions is either a warm
//! standby (`num.standby.replicas = 1`) or absent. A leaves (graceful close: the group reassigns at
//! once, so the time measured is rebalance + restore, not the session timeout a crash adds); the
//! time until B runs all four tasks — processing and queryable — is the failover time. Without a
//! standby B restores A's changelog partitions in full, which gives the restoration throughput.
//! `cargo bench -p streams-benches --bench failover` writes `benches/results/failover.md`; under
//! `cargo test` a small smoke version runs.

use std::time::{Duration, Instant};

use rdkafka::producer::{FutureProducer, FutureRecord};
use streams_benches::report::{machine, write};
use streams_runtime::KafkaStreams;
use streams_runtime::codec::{Bytes, Utf8};
use streams_runtime::config::StreamsConfig;
use streams_runtime::kafka::KafkaCluster;
use streams_runtime::testing::TestBroker;
use streams_runtime::topology::{Consumed, Materialized, StreamsBuilder, Topology};

const PARTITIONS: i32 = 4;
const VALUE_BYTES: usize = 1_024;

fn topology() -> Topology {
    let builder = StreamsBuilder::new();
    builder
        .stream_with("blobs", Consumed::new(Utf8, Bytes))
        .group_by_key()
        .reduce(|_, latest: Vec<u8>| latest, Materialized::named("latest-blobs"));
    builder.build().expect("topology")
}

fn config(dir: &std::path::Path, standbys: usize) -> StreamsConfig {
    StreamsConfig::builder("failover-bench")
        .state_dir(dir)
        .commit_interval(Duration::from_millis(500))
        .num_standby_replicas(standbys)
        // The embedded broker's coordinator holds every rebalance for session timeout − 1 s
        // (a real broker finishes it once the remaining members rejoined): keep it short.
        .kafka_property("consumer.session.timeout.ms", "3000")
        .kafka_property("consumer.heartbeat.interval.ms", "500")
        .build()
        .expect("config")
}

async fn wait(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn produce(cluster: &KafkaCluster, keys: usize) {
    let producer: FutureProducer = cluster
        .client_config()
        .set("partitioner", streams_runtime::partitioner::RDKAFKA_PARTITIONER)
        .set("linger.ms", "20")
        .create()
        .expect("producer");
    let value = vec![b'x'; VALUE_BYTES];
    let mut pending = Vec::new();
    for i in 0..keys {
        let key = format!("key-{i:08}");
        pending.push(
            producer
                .send_result(FutureRecord::to("blobs").key(&key).payload(&value))
                .map_err(|(e, _)| e)
                .expect("queued"),
        );
    }
    for p in pending {
        p.await.expect("delivery").map_err(|(e, _)| e).expect("delivered");
    }
}

/// One failover; returns (failover time, records restored, bytes restored, restore time).
async fn failover(cluster: &KafkaCluster, keys: usize, standbys: usize) -> (Duration, u64, u64, Duration) {
    let (dir_a, dir_b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let a = KafkaStreams::start_on(topology(), config(dir_a.path(), standbys), cluster.clone())
        .await
        .expect("start a");
    wait("a owns every task", || a.active_tasks().len() == PARTITIONS as usize).await;
    let b = KafkaStreams::start_on(topology(), config(dir_b.path(), standbys), cluster.clone())
        .await
        .expect("start b");
    wait("the tasks split", || {
        !a.active_tasks().is_empty() && a.active_tasks().len() + b.active_tasks().len() == PARTITIONS as usize
    })
    .await;
    produce(cluster, keys).await;
    wait("every record processed", || {
        a.metrics().records_processed + b.metrics().records_processed >= keys as u64
    })
    .await;
    let commits = a.metrics().commits;
    wait("a commit after that", || a.metrics().commits > commits + 1).await;
    if standbys > 0 {
        // B mirrors each of A's tasks up to the end of its changelog.
        let a_tasks = a.active_tasks();
        let ends: std::collections::BTreeMap<i32, i64> =
            streams_runtime::testing::read_topic(cluster, "failover-bench-latest-blobs-changelog")
                .await
                .expect("changelog")
                .into_iter()
                .fold(Default::default(), |mut ends, r| {
                    let end = ends.entry(r.partition).or_insert(-1);
                    *end = (*end).max(r.offset);
                    ends
                });
        wait("b's standbys caught up", || {
            let standby = b.standby_tasks();
            a_tasks.iter().all(|t| {
                standby.iter().any(|s| {
                    s.task == *t
                        && s.changelog_offsets
                            .iter()
                            .all(|(_, o)| *o == ends.get(&t.partition).copied())
                })
            })
        })
        .await;
    }
    let before = b.metrics();
    let started = Instant::now();
    a.close().await.expect("close a");
    eprintln!("  a closed after {:?}", started.elapsed());
    wait("b runs every task", || b.active_tasks().len() == PARTITIONS as usize).await;
    let took = started.elapsed();
    let after = b.metrics();
    b.close().await.expect("close b");
    (
        took,
        after.records_restored - before.records_restored,
        after.bytes_restored - before.bytes_restored,
        after.restore_time_total - before.restore_time_total,
    )
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    // ~3 MiB per partition at full size: the embedded broker keeps about 5 MB per partition.
    let keys = if full { 12_000 } else { 400 };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let report = runtime.block_on(async move {
        let mut rows = Vec::new();
        for standbys in [0, 1] {
            let broker = TestBroker::mock().expect("mock");
            broker.create_topic("blobs", PARTITIONS).await.expect("topic");
            let cluster = broker.cluster();
            eprintln!("failover with {standbys} standby replica(s), {keys} keys");
            rows.push((standbys, failover(&cluster, keys, standbys).await));
        }
        let mut out = format!(
            "# Failover with and without a standby\n\nMachine: {}\n\n{keys} keys of {VALUE_BYTES} B in a \
             latest-value store over {PARTITIONS} partitions, two instances on the embedded broker in one \
             process; instance A leaves gracefully (no session timeout), the time until B runs all \
             {PARTITIONS} tasks is the failover time. `session.timeout.ms` is 3 s because the embedded \
             broker's coordinator holds each rebalance for session timeout − 1 s; those 2 s are in every \
             failover time below. Release build (`cargo bench -p streams-benches --bench \
             failover`).\n\n| Standby replicas | Failover time | Records restored | MB restored | Restore time | \
             Restore throughput |\n|--:|--:|--:|--:|--:|--:|\n",
            machine()
        );
        for (standbys, (took, records, bytes, restore)) in rows {
            let mb = bytes as f64 / 1e6;
            let rate = if restore.is_zero() {
                "—".to_owned()
            } else {
                format!("{:.0} MB/s", mb / restore.as_secs_f64())
            };
            out.push_str(&format!(
                "| {standbys} | {:.2} s | {records} | {mb:.1} | {:.2} s | {rate} |\n",
                took.as_secs_f64(),
                restore.as_secs_f64()
            ));
        }
        out.push_str(
            "\nTargets (issue 8): failover under 2 s with a standby (the seed quotes 35 s for a rebalance \
             with restoration); restoration over 100 MB/s (the seed quotes 3 MB/s).\n",
        );
        out
    });
    println!("{report}");
    if full {
        let path = write("failover", &report).expect("write results");
        println!("written to {}", path.display());
    }
}
