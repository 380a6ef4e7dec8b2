//! This runtime against Java Kafka Streams, side by side: the same pipelines
//! (`benches/kafka-streams-java/.../Bench.java` are the Java twins), the same Apache Kafka broker
//! process, the same pre-loaded input (JSON clicks keyed by user, 6 partitions), the same
//! settings (one stream thread, commit interval, record cache), each run in a child process of
//! its own (this binary with `--child`, or the JVM) so that its CPU time and peak RSS are its
//! own. Per pipeline and guarantee, both sides alternate for `BENCH_ROUNDS` rounds and the
//! medians are compared.
//!
//! `cargo bench -p streams-benches --bench vs_kafka_streams` writes
//! `benches/results/vs-kafka-streams.md` (`BENCH_RECORDS`, default 1 000 000; `BENCH_ROUNDS`,
//! default 3; `BENCH_PIPELINES`, a comma-separated subset; `BENCH_LATENCY_RATE` and
//! `BENCH_LATENCY_SECS`, the live stream of the latency runs, default 5 000 records/s for 20 s).
//! A restore phase then has each side process 100 000 blobs of 1 KiB into a latest-value store
//! (`BENCH_RESTORE_KEYS`), start again on an empty state directory and restore it from its
//! changelog: restore MB/s and the time until it runs again.
//! Under `cargo test` it runs each pipeline once on 2 000 records at-least-once, one live
//! latency run and a restore of 2 000 blobs, and writes nothing: both sides must finish. `BENCH_RUST_CONFIG=k=v,k=v` adds
//! properties to the Rust side, for experiments (the results file is measured without);
//! `BENCH_LOG=filter` shows the children's logs; `BENCH_PHASES`, a subset of
//! `throughput,latency,restore`, runs only those (and writes nothing).
//! Needs what `scripts/setup.sh` installs (the broker and the Java build).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use kafka_streams::KafkaStreams;
use kafka_streams::codec::{Json, Utf8};
use kafka_streams::config::{ProcessingGuarantee, StreamsConfig};
use kafka_streams::kafka::{KafkaCluster, TopicSpec};
use kafka_streams::testing::TestBroker;
use kafka_streams::topology::{Consumed, Materialized, StreamsBuilder, Topology};
use kafka_streams::window::TimeWindows;
use streams_benches::cpu::CpuSnapshot;
use streams_benches::data::{Click, START_MS, USERS, WINDOW_MS, produce_clicks};

const PARTITIONS: i32 = 6;
const CLICKS: &str = "vs-clicks";
const USERS_TOPIC: &str = "vs-users";
/// Kafka Streams' defaults for at-least-once; exactly-once uses the same here (Kafka Streams'
/// own default under exactly-once is 100 ms), so both guarantees compare at one interval.
const COMMIT_INTERVAL_MS: u64 = 1_000;
/// Kafka Streams' default `statestore.cache.max.bytes` (10 MiB), on both sides.
const CACHE_BYTES: u64 = 10 * 1024 * 1024;
const PIPELINES: [&str; 4] = ["stateless", "windowed-count", "stream-table-join", "rekeyed-count"];
/// JVM flags of the Java side (written in the result file).
const JVM_FLAGS: [&str; 3] = ["-Xms512m", "-Xmx2g", "-XX:+UseG1GC"];
/// The input of the restore runs (see [`blob`]).
const BLOBS: &str = "vs-blobs";
const BLOB_BYTES: usize = 1_024;
/// Length of a blob's key, `blob-NNNNNNNN`.
const BLOB_KEY_BYTES: usize = 13;

/// What one child process reports.
#[derive(Clone, Debug)]
struct Outcome {
    /// Since the process started: the first input record processed, the last one.
    first_ms: u64,
    done_ms: u64,
    /// The process's CPU time (user + system, all threads, start-up included).
    cpu_ms: u64,
    /// Its peak resident set (VmHWM).
    rss_kb: u64,
    /// A restore run's changelog records restored and the time restoring took.
    restored: Option<(u64, u64)>,
}

impl Outcome {
    fn parse(line: &str) -> Option<Self> {
        let field = |name: &str| -> Option<u64> {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))?
                .parse()
                .ok()
        };
        Some(Self {
            first_ms: field("first_ms")?,
            done_ms: field("done_ms")?,
            cpu_ms: field("cpu_ms")?,
            rss_kb: field("rss_kb")?,
            restored: field("restored").zip(field("restore_ms")),
        })
    }

    fn rate(&self, records: u64) -> f64 {
        records as f64 / ((self.done_ms.saturating_sub(self.first_ms)).max(1) as f64 / 1000.0)
    }

    fn cpu_us_per_record(&self, records: u64) -> f64 {
        self.cpu_ms as f64 * 1000.0 / records as f64
    }
}

/// The Rust side of each pipeline (the Java twins in `Bench.java` do the same).
fn topology(pipeline: &str, input: &str, output: &str) -> Topology {
    let builder = StreamsBuilder::new();
    let clicks = |builder: &StreamsBuilder| builder.stream_with(input, Consumed::<String, Click>::new(Utf8, Json));
    match pipeline {
        "stateless" => clicks(&builder)
            .filter(|_, c| c.url != "/home")
            .map_values(|c| c.url)
            .to_with(output, Utf8, Utf8),
        "windowed-count" => clicks(&builder)
            .group_by_key()
            .windowed_by(TimeWindows::of(Duration::from_millis(WINDOW_MS as u64)).grace(Duration::ZERO))
            .count(Materialized::named("counts"))
            .to_stream()
            .map(|w, n| (format!("{}@{}", w.key, w.window.start_ms), n.to_string()))
            .to_with(output, Utf8, Utf8),
        "stream-table-join" => {
            let users = builder.table_with(USERS_TOPIC, Consumed::new(Utf8, Utf8), Materialized::named("users"));
            clicks(&builder)
                .join(&users, |_, c: &Click, user: &String| format!("{} by {user}", c.url))
                .to_with(output, Utf8, Utf8);
        }
        "latest-blob" => {
            builder
                .stream_with(input, Consumed::new(Utf8, Utf8))
                .group_by_key()
                .reduce(|_, latest: String| latest, Materialized::named("latest-blobs"));
        }
        "rekeyed-count" => clicks(&builder)
            .select_key(|_, c| c.url.clone())
            .group_by_key()
            .count(Materialized::named("url-counts"))
            .to_stream()
            .map_values(|n| n.to_string())
            .to_with(output, Utf8, Utf8),
        other => panic!("unknown pipeline `{other}`"),
    }
    builder.build().expect("topology")
}

/// `--child PIPELINE GUARANTEE BOOTSTRAP APP_ID INPUT OUTPUT STATE_DIR RECORDS COMMIT_MS`: runs
/// the pipeline, prints `ready` once it owns its partitions, and once it processed RECORDS input
/// records its [`Outcome`].
fn child(args: &[String]) {
    let started = Instant::now();
    let [
        pipeline,
        guarantee,
        bootstrap,
        app,
        input,
        output,
        state,
        records,
        commit_ms,
    ] = args
    else {
        panic!("--child PIPELINE GUARANTEE BOOTSTRAP APP_ID INPUT OUTPUT STATE_DIR RECORDS COMMIT_MS");
    };
    let commit_ms: u64 = commit_ms.parse().expect("commit interval");
    // `restore=N`: a fresh state directory of an application that processed its input already;
    // report once its N changelog records are restored and its tasks run.
    let restoring = records.starts_with("restore=");
    let records: u64 = records.trim_start_matches("restore=").parse().expect("records");
    // The table's rows are input records too on this side; Java counts clicks only.
    let expected = records + if pipeline == "stream-table-join" { USERS } else { 0 };
    let guarantee = match guarantee.as_str() {
        "exactly_once_v2" => ProcessingGuarantee::ExactlyOnceV2,
        _ => ProcessingGuarantee::AtLeastOnce,
    };
    let mut extra = StreamsConfig::builder(app.as_str());
    for kv in std::env::var("BENCH_RUST_CONFIG")
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
    {
        let (k, v) = kv.split_once('=').expect("k=v");
        extra = extra.set(k, v);
    }
    let config = extra
        .bootstrap_servers(bootstrap.as_str())
        .state_dir(state.as_str())
        .processing_guarantee(guarantee)
        .num_stream_threads(1)
        .commit_interval(Duration::from_millis(commit_ms))
        .cache_max_bytes_buffering(CACHE_BYTES as usize)
        .build()
        .expect("config");
    if let Ok(filter) = std::env::var("BENCH_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let streams = KafkaStreams::start(topology(pipeline, input, output), config)
            .await
            .expect("start");
        if restoring {
            loop {
                let metrics = streams.metrics();
                if metrics.records_restored >= records && streams.active_tasks().len() >= PARTITIONS as usize {
                    let running_ms = started.elapsed().as_millis();
                    let cpu = CpuSnapshot::now().since(&CpuSnapshot::default()).total;
                    println!(
                        "first_ms={running_ms} done_ms={running_ms} cpu_ms={} rss_kb={} restored={} restore_ms={}",
                        cpu.as_millis(),
                        peak_rss_kb(),
                        metrics.records_restored,
                        metrics.restore_time_total.as_millis()
                    );
                    break;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            return streams.close().await.expect("close");
        }
        let mut first_ms = None;
        let mut ready = false;
        loop {
            if !ready && streams.active_tasks().len() >= PARTITIONS as usize {
                ready = true;
                println!("ready");
            }
            let processed = streams.metrics().records_processed;
            if processed > 0 && first_ms.is_none() {
                first_ms = Some(started.elapsed().as_millis() as u64);
            }
            if processed >= expected {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let done_ms = started.elapsed().as_millis() as u64;
        let cpu = CpuSnapshot::now().since(&CpuSnapshot::default()).total;
        println!(
            "first_ms={} done_ms={done_ms} cpu_ms={} rss_kb={}",
            first_ms.unwrap_or(done_ms),
            cpu.as_millis(),
            peak_rss_kb()
        );
        streams.close().await.expect("close");
    });
}

/// VmHWM of this process.
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn java_project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("kafka-streams-java")
}

struct Side<'a> {
    bootstrap: &'a str,
    cluster: &'a KafkaCluster,
}

/// What one run reads and how long it commits.
struct Load<'a> {
    input: &'a str,
    records: u64,
    commit_ms: u64,
    /// A restore run: the application processed `input` already; this run starts on an empty
    /// state directory and reports once its `records` changelog records are restored.
    restore: bool,
}

impl Side<'_> {
    /// One run of one side as a child process, on a fresh application id and state directory;
    /// `live`, if given, runs once the child is ready (it produces the input and measures).
    fn run(
        &self,
        java: bool,
        pipeline: &str,
        guarantee: &str,
        run: &str,
        load: &Load<'_>,
        live: Option<&dyn Fn(&str)>,
    ) -> Outcome {
        use std::io::BufRead;
        let state = tempfile::tempdir().expect("state dir");
        let app = format!("vs-{run}");
        let output = format!("vs-out-{run}");
        let state_dir = state.path().display().to_string();
        let records = if load.restore {
            format!("restore={}", load.records)
        } else {
            load.records.to_string()
        };
        let commit_ms = load.commit_ms.to_string();
        if live.is_some() {
            let cluster = self.cluster.clone();
            let topic = output.clone();
            tokio::runtime::Runtime::new()
                .expect("runtime")
                .block_on(async move {
                    cluster
                        .create_topics(&[TopicSpec::new(topic.as_str(), PARTITIONS)])
                        .await
                })
                .expect("output topic");
        }
        // Both sides take these first; the Java twins then the cache size and the table topic.
        let args = [
            pipeline,
            guarantee,
            self.bootstrap,
            &app,
            load.input,
            &output,
            &state_dir,
            &records,
            &commit_ms,
        ];
        let mut command = if java {
            let project = java_project();
            let classpath = format!(
                "{}:{}/*",
                project.join("target/classes").display(),
                project.join("target/lib").display()
            );
            let mut c = Command::new("java");
            c.args(JVM_FLAGS)
                .args(["-cp", &classpath, "streams.java.Bench"])
                .args(args)
                .args([&CACHE_BYTES.to_string(), USERS_TOPIC]);
            c
        } else {
            let mut c = Command::new(std::env::current_exe().expect("this benchmark"));
            c.arg("--child").args(args);
            c
        };
        let side = if java {
            "Kafka Streams (Java)"
        } else {
            "kafka-streams (Rust)"
        };
        eprintln!("  {side}: {pipeline} {guarantee}");
        let stderr = tempfile::tempfile().expect("stderr file");
        // BENCH_LOG=filter: the Rust child logs, and both children's stderr is shown.
        let child_stderr = if std::env::var_os("BENCH_LOG").is_some() {
            std::process::Stdio::inherit()
        } else {
            stderr.try_clone().expect("stderr file").into()
        };
        let mut child = command
            .stdout(std::process::Stdio::piped())
            .stderr(child_stderr)
            .spawn()
            .expect("starting a benchmark child");
        let lines = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut outcome = None;
        let mut seen = String::new();
        for line in lines {
            let line = line.unwrap_or_default();
            seen.push_str(&line);
            seen.push('\n');
            if line == "ready" {
                if let Some(live) = live {
                    live(&output);
                }
            } else if let Some(o) = Outcome::parse(&line) {
                outcome = Some(o);
                break;
            }
        }
        let status = child.wait().expect("benchmark child");
        let outcome = outcome.unwrap_or_else(|| {
            let mut err = String::new();
            let _ = std::io::Read::read_to_string(&mut &stderr, &mut err);
            panic!("{side} {pipeline} {guarantee} reported nothing ({status}):\n{seen}\n{err}")
        });
        if let Some((restored, restore_ms)) = outcome.restored {
            eprintln!(
                "    restored {restored} records in {restore_ms} ms, running after {} ms, {} MB peak RSS",
                outcome.done_ms,
                outcome.rss_kb / 1024
            );
            return outcome;
        }
        eprintln!(
            "    {:.0} records/s, {:.2} µs CPU/record, {} MB peak RSS, first record after {} ms",
            outcome.rate(load.records),
            outcome.cpu_us_per_record(load.records),
            outcome.rss_kb / 1024,
            outcome.first_ms
        );
        outcome
    }
}

/// Produces `records` clicks to `input` at `rate` per second, each stamped with the time it is
/// sent, while a `read_committed` consumer of `output` takes each output record's age when it
/// becomes visible: end-to-end latencies in milliseconds, sorted.
fn live_latencies(cluster: &KafkaCluster, input: &str, output: &str, records: u64, rate: u64) -> Vec<u64> {
    use rdkafka::Message;
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
    let consumer: BaseConsumer = cluster
        .client_config()
        .set("group.id", format!("latency-{output}"))
        .set("isolation.level", "read_committed")
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "5")
        .create()
        .expect("latency consumer");
    consumer.subscribe(&[output]).expect("subscribe");
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let done = std::sync::Arc::clone(&done);
        std::thread::spawn(move || {
            let mut latencies = Vec::new();
            let mut idle_since = Instant::now();
            loop {
                match consumer.poll(Duration::from_millis(50)) {
                    Some(Ok(message)) => {
                        let now = now_ms();
                        if let Some(sent) = message.timestamp().to_millis() {
                            latencies.push(now.saturating_sub(sent as u64));
                        }
                        idle_since = Instant::now();
                    }
                    _ if done.load(std::sync::atomic::Ordering::Relaxed)
                        && idle_since.elapsed() > Duration::from_secs(5) =>
                    {
                        break latencies;
                    }
                    _ => {}
                }
            }
        })
    };
    let producer: ThreadedProducer<DefaultProducerContext> = cluster
        .client_config()
        .set("partitioner", kafka_streams::partitioner::RDKAFKA_PARTITIONER)
        .set("linger.ms", "1")
        .create()
        .expect("live producer");
    let started = Instant::now();
    for i in 0..records {
        // Paced: record i goes out at i / rate seconds.
        let due = Duration::from_micros(i * 1_000_000 / rate);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
        let sent = now_ms();
        let mut c = streams_benches::data::click(i);
        c.timestamp_ms = sent as i64;
        let payload = serde_json::to_vec(&c).expect("json");
        let mut record = BaseRecord::to(input)
            .key(&c.user_id)
            .payload(&payload)
            .timestamp(sent as i64);
        while let Err((_, back)) = producer.send(record) {
            record = back;
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    producer.flush(Duration::from_secs(60)).expect("live input flushed");
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut latencies = reader.join().expect("latency reader");
    latencies.sort_unstable();
    latencies
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The `q` quantile of sorted `values`.
fn quantile(values: &[u64], q: f64) -> u64 {
    if values.is_empty() {
        return 0;
    }
    values[((values.len() - 1) as f64 * q).round() as usize]
}

/// The outcome with the median rate.
fn median(mut runs: Vec<Outcome>, records: u64) -> Outcome {
    runs.sort_by(|a, b| a.rate(records).total_cmp(&b.rate(records)));
    runs.swap_remove(runs.len() / 2)
}

/// Keys and values of the restore runs: `blob-NNNNNNNN` → BLOB_BYTES of hex digits (varied, so
/// neither side's RocksDB gets them for free by compressing).
fn blob(i: u64) -> (String, String) {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let value = (0..BLOB_BYTES)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from_digit((x % 16) as u32, 16).unwrap_or('0')
        })
        .collect();
    (format!("blob-{i:08}"), value)
}

fn produce_blobs(cluster: &KafkaCluster, n: u64) {
    streams_benches::data::produce(
        cluster,
        BLOBS,
        (0..n).map(|i| {
            let (key, value) = blob(i);
            (key, value, START_MS)
        }),
    );
}

/// The restore run with the median restore time.
fn median_restore(mut runs: Vec<Outcome>) -> Outcome {
    runs.sort_by_key(|o| o.restored.map_or(u64::MAX, |(_, ms)| ms));
    runs.swap_remove(runs.len() / 2)
}

/// A broker creates `__consumer_offsets` when the first group asks for its coordinator, which
/// took the first measured run 2.5 s: done here, before anything is timed.
fn create_offsets_topic(cluster: &KafkaCluster) {
    use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
    let consumer: BaseConsumer = cluster
        .client_config()
        .set("group.id", "vs-warm-up")
        .create()
        .expect("warm-up consumer");
    let mut offsets = rdkafka::TopicPartitionList::new();
    offsets
        .add_partition_offset(CLICKS, 0, rdkafka::Offset::Offset(0))
        .expect("offset");
    let deadline = Instant::now() + Duration::from_secs(60);
    while let Err(e) = consumer.commit(&offsets, CommitMode::Sync) {
        assert!(Instant::now() < deadline, "no group coordinator: {e}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn produce_users(cluster: &KafkaCluster) {
    streams_benches::data::produce(
        cluster,
        USERS_TOPIC,
        (0..USERS).map(|u| (format!("user-{u}"), format!("region-{}", u % 7), 0)),
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--child") {
        return child(&args[at + 1..]);
    }
    let full = args.iter().any(|a| a == "--bench");
    let env = |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let records = if full { env("BENCH_RECORDS", 1_000_000) } else { 2_000 };
    let rounds = if full { env("BENCH_ROUNDS", 3) as usize } else { 1 };
    let pipelines: Vec<String> = std::env::var("BENCH_PIPELINES")
        .map(|v| v.split(',').map(str::to_owned).collect())
        .unwrap_or_else(|_| PIPELINES.iter().map(|p| (*p).to_owned()).collect());
    // BENCH_PHASES: a subset of throughput,latency,restore, for experiments (nothing written).
    let phases = std::env::var("BENCH_PHASES").unwrap_or_else(|_| "throughput,latency,restore".to_owned());
    let phase = |name: &str| phases.split(',').any(|p| p == name);
    let all_phases = ["throughput", "latency", "restore"].iter().all(|p| phase(p));
    let guarantees: &[&str] = if full {
        &["at_least_once", "exactly_once_v2"]
    } else {
        &["at_least_once"]
    };
    assert!(
        java_project().join("target/classes/streams/java/Bench.class").is_file(),
        "the Java twins are not built: run scripts/setup.sh"
    );
    let broker = TestBroker::kafka().expect("Apache Kafka broker (install: scripts/setup.sh)");
    let cluster = broker.cluster();
    let bootstrap = cluster.bootstrap_servers().to_owned();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        cluster
            .create_topics(&[
                TopicSpec::new(CLICKS, PARTITIONS),
                TopicSpec::new(USERS_TOPIC, PARTITIONS),
            ])
            .await
            .expect("topics");
    });
    eprintln!("pre-loading {records} clicks and {USERS} users");
    let loading = Instant::now();
    produce_users(&cluster);
    produce_clicks(&cluster, CLICKS, records);
    eprintln!("  loaded in {:?}", loading.elapsed());
    create_offsets_topic(&cluster);

    let side = Side {
        bootstrap: &bootstrap,
        cluster: &cluster,
    };
    let backlog = Load {
        input: CLICKS,
        records,
        commit_ms: COMMIT_INTERVAL_MS,
        restore: false,
    };
    let mut rows = Vec::new();
    for pipeline in pipelines.iter().filter(|_| phase("throughput")) {
        for guarantee in guarantees {
            let (mut ours, mut theirs) = (Vec::new(), Vec::new());
            for round in 0..rounds {
                let run = format!("{pipeline}-{guarantee}-{round}").replace('_', "-");
                ours.push(side.run(false, pipeline, guarantee, &format!("rust-{run}"), &backlog, None));
                theirs.push(side.run(true, pipeline, guarantee, &format!("java-{run}"), &backlog, None));
            }
            rows.push((
                pipeline.clone(),
                (*guarantee).to_owned(),
                median(ours, records),
                median(theirs, records),
            ));
        }
    }

    // Latency: a live stream at a fixed rate under exactly-once, commit interval 100 ms (Kafka
    // Streams' default under exactly-once), each side on an input topic of its own.
    let (rate, seconds) = if full {
        (env("BENCH_LATENCY_RATE", 5_000), env("BENCH_LATENCY_SECS", 20))
    } else {
        (1_000, 2)
    };
    let mut latency_rows = Vec::new();
    // The smoke version checks the live path on one pipeline.
    let live_pipelines = if full { &pipelines[..] } else { &pipelines[..1] };
    for pipeline in live_pipelines.iter().filter(|_| phase("latency")) {
        let mut per_side = Vec::new();
        for java in [false, true] {
            let run = format!("live-{}-{pipeline}", if java { "java" } else { "rust" });
            runtime.block_on(async {
                cluster
                    .create_topics(&[TopicSpec::new(run.as_str(), PARTITIONS)])
                    .await
                    .expect("live input topic")
            });
            let load = Load {
                input: &run,
                records: rate * seconds,
                commit_ms: 100,
                restore: false,
            };
            let latencies = std::cell::RefCell::new(Vec::new());
            let measure = |output: &str| {
                *latencies.borrow_mut() = live_latencies(&cluster, &run, output, rate * seconds, rate);
            };
            side.run(java, pipeline, "exactly_once_v2", &run, &load, Some(&measure));
            let latencies = latencies.into_inner();
            eprintln!(
                "    latency p50 {} ms, p99 {} ms, p99.9 {} ms over {} outputs",
                quantile(&latencies, 0.5),
                quantile(&latencies, 0.99),
                quantile(&latencies, 0.999),
                latencies.len()
            );
            per_side.push(latencies);
        }
        let theirs = per_side.pop().unwrap_or_default();
        let ours = per_side.pop().unwrap_or_default();
        latency_rows.push((pipeline.clone(), ours, theirs));
    }
    // Restoration: each side processes the blobs once, then starts again on an empty state
    // directory (the same application id) and restores its store from its changelog.
    let blobs = if full {
        env("BENCH_RESTORE_KEYS", 100_000)
    } else {
        2_000
    };
    eprintln!("pre-loading {blobs} blobs of {BLOB_BYTES} B");
    runtime
        .block_on(async { cluster.create_topics(&[TopicSpec::new(BLOBS, PARTITIONS)]).await })
        .expect("blobs topic");
    produce_blobs(&cluster, blobs);
    let mut restore_rows = Vec::new();
    for guarantee in guarantees.iter().filter(|_| phase("restore")) {
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            for java in [false, true] {
                let run =
                    format!("restore-{}-{guarantee}-{round}", if java { "java" } else { "rust" }).replace('_', "-");
                let mut load = Load {
                    input: BLOBS,
                    records: blobs,
                    commit_ms: COMMIT_INTERVAL_MS,
                    restore: false,
                };
                side.run(java, "latest-blob", guarantee, &run, &load, None);
                load.restore = true;
                let restored = side.run(java, "latest-blob", guarantee, &run, &load, None);
                if java { &mut theirs } else { &mut ours }.push(restored);
            }
        }
        restore_rows.push(((*guarantee).to_owned(), median_restore(ours), median_restore(theirs)));
    }
    let report = report(
        records,
        rounds,
        &rows,
        (rate, seconds),
        &latency_rows,
        (blobs, &restore_rows),
    );
    println!("{report}");
    if full && all_phases {
        let path = streams_benches::report::write("vs-kafka-streams", &report).expect("write results");
        println!("written to {}", path.display());
    }
}

type LatencyRow = (String, Vec<u64>, Vec<u64>);

fn report(
    records: u64,
    rounds: usize,
    rows: &[(String, String, Outcome, Outcome)],
    (rate, seconds): (u64, u64),
    latency_rows: &[LatencyRow],
    (blobs, restore_rows): (u64, &[(String, Outcome, Outcome)]),
) -> String {
    let mut out = String::from("# kafka-streams (Rust) vs Kafka Streams (Java), side by side\n\n");
    out.push_str(&format!("Machine: {}\n\n", streams_benches::report::machine()));
    out.push_str(&format!(
        "{records} JSON clicks of {USERS} users pre-loaded in {PARTITIONS} partitions of one Apache Kafka \
         {} broker process on this machine; both sides read the same input from the start, with one stream \
         thread, commit interval {COMMIT_INTERVAL_MS} ms, record cache {} MiB, each in its own process (Java: \
         Kafka Streams {}, JVM `{}`, Java {}); medians of {rounds} rounds, the two sides alternating. \
         records/s: input records over the time from the first processed to the last; CPU µs/record: the \
         process's CPU time (all threads, start-up included) over the records; RSS: peak resident set \
         (VmHWM); start: from process start to the first record processed.\n\n",
        std::env::var("STREAMS_KAFKA_VERSION").unwrap_or_else(|_| "4.x".into()),
        CACHE_BYTES / (1024 * 1024),
        std::env::var("STREAMS_KAFKA_VERSION").unwrap_or_else(|_| "4.x".into()),
        JVM_FLAGS.join(" "),
        java_version(),
    ));
    out.push_str(
        "| Pipeline | Guarantee | Rust records/s | Java records/s | Throughput ratio | Rust CPU µs/rec | Java CPU µs/rec | CPU ratio (Java/Rust) | Rust RSS MB | Java RSS MB | RSS ratio (Rust/Java) | Rust start ms | Java start ms |\n",
    );
    out.push_str("|:--|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for (pipeline, guarantee, ours, theirs) in rows {
        let (r, j) = (ours.rate(records), theirs.rate(records));
        let (rc, jc) = (ours.cpu_us_per_record(records), theirs.cpu_us_per_record(records));
        out.push_str(&format!(
            "| {pipeline} | {guarantee} | {r:.0} | {j:.0} | {:.2} | {rc:.2} | {jc:.2} | {:.2} | {} | {} | {:.2} | {} | {} |\n",
            r / j,
            jc / rc,
            ours.rss_kb / 1024,
            theirs.rss_kb / 1024,
            ours.rss_kb as f64 / theirs.rss_kb.max(1) as f64,
            ours.first_ms,
            theirs.first_ms,
        ));
    }
    out.push_str(&format!(
        "\nEnd-to-end latency under exactly-once v2: {rate} clicks/s for {seconds} s, produced live (each \
         stamped with its send time) to an input topic of each side's own, commit interval 100 ms (Kafka \
         Streams' default under exactly-once) on both sides, record cache as above; latency = when an output \
         record became visible to a `read_committed` consumer − its timestamp (for an aggregate: its latest \
         input's send time), in ms.\n\n"
    ));
    out.push_str("| Pipeline | Rust p50 | Rust p99 | Rust p99.9 | Java p50 | Java p99 | Java p99.9 | p99 ratio (Rust/Java) | outputs (Rust / Java) |\n");
    out.push_str("|:--|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for (pipeline, ours, theirs) in latency_rows {
        let q = |v: &[u64], p: f64| quantile(v, p);
        out.push_str(&format!(
            "| {pipeline} | {} | {} | {} | {} | {} | {} | {:.2} | {} / {} |\n",
            q(ours, 0.5),
            q(ours, 0.99),
            q(ours, 0.999),
            q(theirs, 0.5),
            q(theirs, 0.99),
            q(theirs, 0.999),
            q(ours, 0.99) as f64 / q(theirs, 0.99).max(1) as f64,
            ours.len(),
            theirs.len(),
        ));
    }
    out.push_str(&format!(
        "\nRestoration after deleting local state: {blobs} keys of {BLOB_BYTES} B (hex text) in a latest-value \
         store (`groupByKey().reduce`, RocksDB) over {PARTITIONS} partitions; each side processes them once \
         and closes, then starts again with the same application id on an empty state directory and \
         restores the store from its changelog. MB = changelog records restored × ({BLOB_KEY_BYTES} B key + \
         {BLOB_BYTES} B value), the same on both sides; restore time: Rust, the runtime's \
         `restore_time_total`; Java, from the first partition's `onRestoreStart` to the last one's \
         `onRestoreEnd`; running: from process start until all {PARTITIONS} tasks run with their state. \
         Medians of {rounds} rounds.\n\n"
    ));
    out.push_str("| Guarantee | Records restored (Rust / Java) | Rust MB/s | Java MB/s | Restore ratio (Rust/Java) | Rust restore ms | Java restore ms | Rust running ms | Java running ms | Rust RSS MB | Java RSS MB |\n");
    out.push_str("|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    let mb_per_s = |o: &Outcome| {
        o.restored.map_or(0.0, |(records, ms)| {
            (records * (BLOB_KEY_BYTES + BLOB_BYTES) as u64) as f64 / 1e6 / (ms.max(1) as f64 / 1000.0)
        })
    };
    for (guarantee, ours, theirs) in restore_rows {
        let (r, j) = (mb_per_s(ours), mb_per_s(theirs));
        let (ours_restored, ours_ms) = ours.restored.unwrap_or_default();
        let (theirs_restored, theirs_ms) = theirs.restored.unwrap_or_default();
        out.push_str(&format!(
            "| {guarantee} | {ours_restored} / {theirs_restored} | {r:.0} | {j:.0} | {:.2} | {ours_ms} | {theirs_ms} | {} | {} | {} | {} |\n",
            r / j.max(f64::MIN_POSITIVE),
            ours.done_ms,
            theirs.done_ms,
            ours.rss_kb / 1024,
            theirs.rss_kb / 1024,
        ));
    }
    out.push_str(
        "\nTargets (issue 20): throughput per core ≥ 2× Java, RSS ≤ 1/4 of Java's, p99 latency ≤ Java's under \
         exactly-once, restore ≥ 2× Java.\n",
    );
    out
}

fn java_version() -> String {
    Command::new("java")
        .arg("-version")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .next()
                .map(|l| l.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}
