//! Failover with and without a standby replica (issue 8), and restoration throughput.
//!
//! Two instances of a latest-value table (`reduce`, ~1 KiB values) on the embedded broker, in
//! one process: A and B share four partitions, B's store for A's partitions is either a warm
//! standby (`num.standby.replicas = 1`) or absent. A leaves (graceful close: the group reassigns at
//! once, so the time measured is rebalance + restore, not the session timeout a crash adds); the
//! time until B runs all four tasks — processing and queryable — is the failover time. Without a
//! standby B restores A's changelog partitions in full, which gives the restoration throughput.
//!
//! On Apache Kafka (full runs) the same runs with three instances in one process, A killed with
//! `KafkaStreams::kill` (its consumer leaves at once: rebalance + restore), and then as a user
//! sees a crash: three instance processes (this binary run again with `--instance`), one
//! `kill -9`ed, so the group learns of it only when its session times out (6 s, Apache Kafka's
//! minimum); the time from the kill until the survivors run every task, and that time less the
//! session timeout.
//! `cargo bench -p streams-benches --bench failover` writes `benches/results/failover.md`; under
//! `cargo test` a small smoke version runs (the embedded broker, and one `kill -9` of three
//! instance processes on Apache Kafka).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kafka_streams::codec::{Bytes, Utf8};
use kafka_streams::config::StreamsConfig;
use kafka_streams::kafka::KafkaCluster;
use kafka_streams::task::TaskId;
use kafka_streams::testing::{TestBroker, TestInstances};
use kafka_streams::topology::{Consumed, Materialized, StreamsBuilder, Topology};
use rdkafka::producer::{FutureProducer, FutureRecord};
use streams_benches::instance_process::{InstanceProcess, InstanceStatus, now_ms, report_until_killed};
use streams_benches::report::{machine, write};

const PARTITIONS: i32 = 6;
const VALUE_BYTES: usize = 1_024;

fn topology() -> Topology {
    let builder = StreamsBuilder::new();
    builder
        .stream_with("blobs", Consumed::new(Utf8, Bytes))
        .group_by_key()
        .reduce(|_, latest: Vec<u8>| latest, Materialized::named("latest-blobs"));
    builder.build().expect("topology")
}

/// The session timeout on Apache Kafka (its `group.min.session.timeout.ms`).
const KAFKA_SESSION_TIMEOUT: Duration = Duration::from_secs(6);

fn config(dir: &std::path::Path, standbys: usize, broker: Broker) -> StreamsConfig {
    // The embedded broker's coordinator holds every rebalance for session timeout − 1 s (a real
    // broker finishes it once the remaining members rejoined): keep it short there. Apache Kafka
    // refuses a session timeout below its `group.min.session.timeout.ms` (6 s by default).
    let (session_ms, heartbeat_ms) = match broker {
        Broker::Embedded => (3_000, 500),
        Broker::Kafka => (KAFKA_SESSION_TIMEOUT.as_millis(), 1_000),
    };
    StreamsConfig::builder("failover-bench")
        .state_dir(dir)
        .commit_interval(Duration::from_millis(500))
        .num_standby_replicas(standbys)
        .kafka_property("consumer.session.timeout.ms", session_ms.to_string())
        .kafka_property("consumer.heartbeat.interval.ms", heartbeat_ms.to_string())
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
        .set("partitioner", kafka_streams::partitioner::RDKAFKA_PARTITIONER)
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

/// Where the failover runs: the embedded broker (two instances, A leaves gracefully) or Apache
/// Kafka (three instances, A is killed: it abandons its transaction and work in flight).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Broker {
    Embedded,
    Kafka,
}

/// What a failover cost: its time, and what the survivors restored meanwhile.
struct Takeover {
    took: Duration,
    records_restored: u64,
    bytes_restored: u64,
    /// The longest restore of one survivor.
    restore_time: Duration,
}

impl Takeover {
    /// A failover that took `took`, from the survivors' statuses `before` it and `after` it.
    fn new(took: Duration, before: &[InstanceStatus], after: &[InstanceStatus]) -> Self {
        let delta = |f: fn(&InstanceStatus) -> u64| after.iter().zip(before).map(|(x, y)| f(x) - f(y)).sum::<u64>();
        let restore_ms = after
            .iter()
            .zip(before)
            .map(|(x, y)| x.restore_time_ms - y.restore_time_ms)
            .max()
            .unwrap_or_default();
        Self {
            took,
            records_restored: delta(|s| s.records_restored),
            bytes_restored: delta(|s| s.bytes_restored),
            restore_time: Duration::from_millis(restore_ms),
        }
    }

    /// The restore columns of a report row: records, MB, time, MB/s.
    fn restore_cells(&self) -> String {
        let mb = self.bytes_restored as f64 / 1e6;
        let rate = if self.restore_time.is_zero() {
            "—".to_owned()
        } else {
            format!("{:.0} MB/s", mb / self.restore_time.as_secs_f64())
        };
        format!(
            "{} | {mb:.1} | {:.2} s | {rate}",
            self.records_restored,
            self.restore_time.as_secs_f64()
        )
    }
}

/// Whether each of `tasks` has a standby in `standbys` (a task and its stores' changelog
/// offsets) at the end of its changelog partition (`ends`).
fn mirrored(tasks: &[TaskId], standbys: &[(TaskId, Vec<Option<i64>>)], ends: &BTreeMap<i32, i64>) -> bool {
    tasks.iter().all(|t| {
        standbys
            .iter()
            .any(|(s, offsets)| s == t && offsets.iter().all(|o| *o == ends.get(&t.partition).copied()))
    })
}

/// One failover of instances in this process.
async fn failover(cluster: &KafkaCluster, broker: Broker, keys: usize, standbys: usize) -> Takeover {
    let instances = if broker == Broker::Kafka { 3 } else { 2 };
    let mut group = TestInstances::new(cluster, topology, move |dir| Ok(config(dir, standbys, broker)));
    for _ in 0..instances {
        group.start().await.expect("start");
        group
            .wait_for_tasks_spread(PARTITIONS as usize, Duration::from_secs(300))
            .await
            .expect("the tasks split");
    }
    let apps: Vec<_> = group.instances().cloned().collect();
    produce(cluster, keys).await;
    wait("every record processed", || {
        apps.iter().map(|a| a.metrics().records_processed).sum::<u64>() >= keys as u64
    })
    .await;
    let commits = apps[0].metrics().commits;
    wait("a commit after that", || apps[0].metrics().commits > commits + 1).await;
    let (a, survivors) = apps.split_first().expect("instances");
    if standbys > 0 {
        // The survivors mirror each of A's tasks up to the end of its changelog.
        let a_tasks = a.active_tasks();
        let ends = changelog_ends(cluster).await;
        wait("the standbys caught up", || {
            let standby: Vec<(TaskId, Vec<Option<i64>>)> = survivors
                .iter()
                .flat_map(|s| s.standby_tasks())
                .map(|s| (s.task, s.changelog_offsets.into_iter().map(|(_, o)| o).collect()))
                .collect();
            mirrored(&a_tasks, &standby, &ends)
        })
        .await;
    }
    let before: Vec<InstanceStatus> = survivors.iter().map(|s| InstanceStatus::of(s)).collect();
    let started = Instant::now();
    match broker {
        Broker::Embedded => a.close().await.expect("close a"),
        Broker::Kafka => a.kill().await.expect("kill a"),
    }
    eprintln!("  a gone after {:?}", started.elapsed());
    wait("the survivors run every task", || {
        survivors.iter().map(|s| s.active_tasks().len()).sum::<usize>() == PARTITIONS as usize
    })
    .await;
    let took = started.elapsed();
    let after: Vec<InstanceStatus> = survivors.iter().map(|s| InstanceStatus::of(s)).collect();
    for s in survivors {
        s.close().await.expect("close");
    }
    Takeover::new(took, &before, &after)
}

/// The child's side of the process runs: one instance on `bootstrap`, reporting until killed.
async fn instance(bootstrap: &str, dir: &std::path::Path, standbys: usize) {
    let cluster = KafkaCluster::remote(bootstrap);
    let streams = kafka_streams::KafkaStreams::start_on(topology(), config(dir, standbys, Broker::Kafka), cluster)
        .await
        .expect("start the instance");
    report_until_killed(&streams).await;
}

/// The last changelog offset per partition of the store.
async fn changelog_ends(cluster: &KafkaCluster) -> BTreeMap<i32, i64> {
    kafka_streams::testing::read_topic(cluster, "failover-bench-latest-blobs-changelog")
        .await
        .expect("changelog")
        .into_iter()
        .fold(Default::default(), |mut ends, r| {
            let end = ends.entry(r.partition).or_insert(-1);
            *end = (*end).max(r.offset);
            ends
        })
}

/// Three instance processes; the first is `kill -9`ed once every record is processed (and, with
/// standbys, mirrored); the survivors' reports time the takeover, from the kill.
async fn crash(broker: &TestBroker, keys: usize, standbys: usize) -> Takeover {
    let cluster = broker.cluster();
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().expect("state dir")).collect();
    let mut processes: Vec<InstanceProcess> = Vec::new();
    for dir in &dirs {
        let args = [
            "--instance".to_owned(),
            cluster.bootstrap_servers().to_owned(),
            dir.path().display().to_string(),
            standbys.to_string(),
        ];
        processes.push(InstanceProcess::spawn(&args).expect("spawn an instance process"));
        let started = processes.len();
        wait("the tasks split", || {
            let statuses: Vec<InstanceStatus> = processes.iter().map(InstanceProcess::status).collect();
            statuses.iter().all(|s| !s.active.is_empty())
                && statuses.iter().map(|s| s.active.len()).sum::<usize>() == PARTITIONS as usize
                && statuses.len() == started
        })
        .await;
    }
    produce(&cluster, keys).await;
    wait("every record processed", || {
        processes.iter().map(|p| p.status().records_processed).sum::<u64>() >= keys as u64
    })
    .await;
    let commits = processes[0].status().commits;
    wait("a commit after that", || processes[0].status().commits > commits + 1).await;
    if standbys > 0 {
        let (victim, survivors) = processes.split_first().expect("three processes");
        let task = |t: &str| t.parse::<TaskId>().expect("a task id");
        let victim_tasks: Vec<TaskId> = victim.status().active.iter().map(|t| task(t)).collect();
        let ends = changelog_ends(&cluster).await;
        wait("the standbys caught up", || {
            let standby: Vec<(TaskId, Vec<Option<i64>>)> = survivors
                .iter()
                .flat_map(|s| s.status().standby)
                .map(|(t, offsets)| (task(&t), offsets))
                .collect();
            mirrored(&victim_tasks, &standby, &ends)
        })
        .await;
    }
    let before: Vec<InstanceStatus> = processes[1..].iter().map(InstanceProcess::status).collect();
    let killed_at = now_ms();
    processes[0].kill().expect("kill -9");
    let survivors = &processes[1..];
    wait("the survivors run every task", || {
        survivors.iter().map(|s| s.status().active.len()).sum::<usize>() == PARTITIONS as usize
    })
    .await;
    let after: Vec<InstanceStatus> = survivors.iter().map(InstanceProcess::status).collect();
    // The survivors' own clocks say when they reported it (at most one report interval late).
    let running_at = after.iter().map(|s| s.at_ms).max().unwrap_or(killed_at);
    let took = Duration::from_millis(u64::try_from(running_at - killed_at).unwrap_or_default());
    Takeover::new(took, &before, &after)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    if let [_, flag, bootstrap, dir, standbys] = args.as_slice()
        && flag == "--instance"
    {
        let standbys = standbys.parse().expect("standby count");
        runtime.block_on(instance(bootstrap, std::path::Path::new(dir), standbys));
        return;
    }
    let full = args.iter().any(|a| a == "--bench");
    // The embedded broker keeps about 5 MB per partition: ~3 MiB per partition there. Apache Kafka
    // (full runs only, unless BENCH_BROKER=mock): a store of ~100 MB.
    let mut brokers = vec![(Broker::Embedded, if full { 12_000 } else { 400 })];
    if full && std::env::var("BENCH_BROKER").as_deref() != Ok("mock") {
        brokers.push((Broker::Kafka, 100_000));
    }
    for (broker, keys) in brokers {
        let report = runtime.block_on(report(broker, keys));
        println!("{report}");
        if full {
            let name = if broker == Broker::Kafka {
                "failover-kafka"
            } else {
                "failover"
            };
            let path = write(name, &report).expect("write results");
            println!("written to {}", path.display());
        }
    }
    if !full {
        // The process mode is only measured in full runs: smoke it here on a small store, so the
        // self-spawning and the status lines keep working (no timing checked).
        runtime.block_on(async {
            let broker = TestBroker::kafka().expect("Apache Kafka broker (install: scripts/setup.sh)");
            broker.create_topic("blobs", PARTITIONS).await.expect("topic");
            let crash = crash(&broker, 400, 1).await;
            println!(
                "kill -9 smoke: the survivors ran every task {:.2} s after the kill, {} records restored",
                crash.took.as_secs_f64(),
                crash.records_restored
            );
        });
    }
}

async fn report(broker: Broker, keys: usize) -> String {
    let mut rows = Vec::new();
    for standbys in [0, 1] {
        let test_broker = match broker {
            Broker::Kafka => TestBroker::kafka().expect("Apache Kafka broker (install: scripts/setup.sh)"),
            Broker::Embedded => TestBroker::mock().expect("mock"),
        };
        test_broker.create_topic("blobs", PARTITIONS).await.expect("topic");
        let cluster = test_broker.cluster();
        eprintln!("failover with {standbys} standby replica(s), {keys} keys");
        rows.push((standbys, failover(&cluster, broker, keys, standbys).await));
    }
    let setup = match broker {
        Broker::Embedded => format!(
            "two instances on the embedded broker in one process; instance A leaves gracefully (no session \
             timeout), the time until B runs all {PARTITIONS} tasks is the failover time. `session.timeout.ms` \
             is 3 s because the embedded broker's coordinator holds each rebalance for session timeout − 1 s; \
             those 2 s are in every failover time below"
        ),
        Broker::Kafka => format!(
            "three instances in one process on Apache Kafka (a single-node KRaft broker process); instance A \
             is killed (`KafkaStreams::kill`: its open transaction and uncommitted work abandoned, its \
             consumer leaves the group, so the time is measured from the moment the group learns of the \
             departure, as after a session timeout); the time until the survivors run all {PARTITIONS} tasks \
             (restored, processing and queryable) is the failover time. Standbys are placed where the group's \
             range assignor will move a task when its owner dies (predicted from the group's member ids), so \
             with a standby the tasks A leaves, and those the assignor moves along, land on warm stores"
        ),
    };
    let mut out = format!(
        "# Failover with and without a standby\n\nMachine: {}\n\n{keys} keys of {VALUE_BYTES} B in a \
         latest-value store over {PARTITIONS} partitions, {setup}. Release build (`cargo bench -p \
         streams-benches --bench failover`).\n\n| Standby replicas | Failover time | Records restored | MB \
         restored | Restore time | Restore throughput |\n|--:|--:|--:|--:|--:|--:|\n",
        machine()
    );
    for (standbys, takeover) in rows {
        out.push_str(&format!(
            "| {standbys} | {:.2} s | {} |\n",
            takeover.took.as_secs_f64(),
            takeover.restore_cells()
        ));
    }
    if broker == Broker::Kafka {
        out.push_str(&crash_table(keys).await);
    }
    out.push_str(
        "\nTargets: failover under 2 s with a standby (after the session timeout; the seed quotes 35 s for a \
         rebalance with restoration); restoration over 200 MB/s (the seed quotes 3 MB/s).\n",
    );
    out
}

/// The `kill -9` runs, as a markdown section of the report.
async fn crash_table(keys: usize) -> String {
    let session = KAFKA_SESSION_TIMEOUT.as_secs_f64();
    let mut out = format!(
        "\n## After a `kill -9`, with the session timeout\n\nThe same store and data, three instance \
         processes (this bench binary run again with `--instance`, release build), one `kill -9`ed once \
         every record was processed and committed (and, with a standby, mirrored). Nothing tells the group: it \
         learns of the crash when the member's session times out ({session:.0} s, Apache Kafka's \
         `group.min.session.timeout.ms`; heartbeats every 1 s, so the session ends 5–6 s after the kill). \
         Failover: from the kill until the survivors report every task running (restored, processing and \
         queryable; reports every 20 ms); after the session timeout: that less {session:.0} s.\n\n\
         | Standby replicas | Failover from the kill | After the session timeout | Records restored | MB restored | \
         Restore time | Restore throughput |\n|--:|--:|--:|--:|--:|--:|--:|\n"
    );
    for standbys in [0, 1] {
        let broker = TestBroker::kafka().expect("Apache Kafka broker (install: scripts/setup.sh)");
        broker.create_topic("blobs", PARTITIONS).await.expect("topic");
        eprintln!("kill -9 of one of three processes, {standbys} standby replica(s), {keys} keys");
        let crash = crash(&broker, keys, standbys).await;
        out.push_str(&format!(
            "| {standbys} | {:.2} s | {:.2} s | {} |\n",
            crash.took.as_secs_f64(),
            crash.took.as_secs_f64() - session,
            crash.restore_cells()
        ));
    }
    out
}
