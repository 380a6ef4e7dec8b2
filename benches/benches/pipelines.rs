//! Pipelines against hand-written baselines, on the same broker and data, in one process:
//!
//! 1. stateless filter/map: `KafkaStreams` vs an rdkafka consume → produce loop;
//! 2. windowed count with RocksDB: `KafkaStreams` vs an rdkafka + RocksDB loop doing the same
//!    work (cache, changelog, every update produced);
//! 3. exactly-once v2 vs at-least-once, same pipeline and commit interval;
//! 4. broker-free: the windowed count on the `TestDriver` vs RocksDB's own get + put.
//!
//! The broker is the embedded one (librdkafka's mock cluster, in process): both sides of each
//! comparison pay the same broker cost. `cargo bench -p streams-benches --bench pipelines`
//! writes `benches/results/pipelines.md` (`BENCH_RECORDS` sets the record count, default
//! 200 000; `BENCH_ROUNDS` the rounds, default 3; `BENCH_LOG=info` shows the runtime's logs;
//! `BENCH_ONLY=driver|stateless|count` runs one measurement for a profiler, see [`only`]).
//! Each run also reports its CPU time (all threads of the process, per thread on stderr), since
//! on the embedded broker both sides are bound by the consumer's fetch rate, not by the CPU.
//! Under `cargo test` it runs a 2 000-record smoke version and writes nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kafka_streams::KafkaStreams;
use kafka_streams::codec::{Bytes, Json, Utf8};
use kafka_streams::config::{ProcessingGuarantee, StreamsConfig};
use kafka_streams::kafka::{KafkaCluster, TopicSpec};
use kafka_streams::testing::{TestBroker, TestDriver, TestRecord};
use kafka_streams::topology::{Consumed, Materialized, StreamsBuilder, Topology};
use kafka_streams::window::TimeWindows;
use streams_benches::baseline::{rocksdb_get_put, stateless_passthrough, windowed_count};
use streams_benches::cpu::{CpuSnapshot, CpuUsage};
use streams_benches::data::{Click, USERS, WINDOW_MS, click, produce_clicks};
use streams_benches::report::{Comparison, Run, markdown, write};

const INPUT: &str = "clicks";
/// Six, so each partition stays under the mock cluster's ~5 MB per-partition log limit.
const PARTITIONS: i32 = 6;
const COMMIT_INTERVAL: Duration = Duration::from_secs(1);
/// The thread a baseline loop runs on (its CPU time is read by this name).
const BASELINE_THREAD: &str = "baseline-loop";
use kafka_streams::config::defaults::{FETCH_QUEUE_BACKOFF_MS, QUEUED_MIN_MESSAGES};
use streams_benches::baseline::FETCH_WAIT_MAX_MS;

fn stateless_topology(input: &str, output: &str) -> Topology {
    let builder = StreamsBuilder::new();
    builder
        .stream_with(input, Consumed::new(Utf8, Json))
        .filter(|_, c: &Click| c.url != "/home")
        .map_values(|c: Click| c.url)
        .to_with(output, Utf8, Utf8);
    builder.build().expect("topology")
}

fn windowed_count_topology(input: &str, output: &str) -> Topology {
    let builder = StreamsBuilder::new();
    builder
        .stream_with(
            input,
            Consumed::new(Utf8, Json).with_timestamp(|_, c: &Click, _| c.timestamp_ms),
        )
        .group_by_key()
        .windowed_by(TimeWindows::of(Duration::from_millis(WINDOW_MS as u64)))
        .count(Materialized::named("counts"))
        .to_stream()
        .map(|window, count| (window.to_string(), count))
        .to_with(output, Utf8, Json);
    builder.build().expect("topology")
}

/// Starts `topology` as `app`, waits until it owns every partition, then produces `n` clicks to
/// `input` and waits until all are processed: the time from the first record produced to the
/// last processed (start-up and the final commit not counted).
#[allow(clippy::too_many_arguments)]
async fn framework(
    cluster: &KafkaCluster,
    name: &str,
    app: &str,
    input: &str,
    topology: Topology,
    guarantee: ProcessingGuarantee,
    n: u64,
    commit_interval: Duration,
) -> Run {
    eprintln!("framework: {name}");
    let state = tempfile::tempdir().expect("state dir");
    let config = StreamsConfig::builder(app)
        .state_dir(state.path())
        .processing_guarantee(guarantee)
        .commit_interval(commit_interval)
        .set("consumer.fetch.wait.max.ms", FETCH_WAIT_MAX_MS)
        .build()
        .expect("config");
    let streams = KafkaStreams::start_on(topology, config, cluster.clone())
        .await
        .expect("start");
    while streams.active_tasks().len() < PARTITIONS as usize {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (started, cpu) = (Instant::now(), CpuSnapshot::now());
    let (cluster, topic) = (cluster.clone(), input.to_owned());
    tokio::task::spawn_blocking(move || produce_clicks(&cluster, &topic, n))
        .await
        .expect("producer");
    while streams.metrics().records_processed < n {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let elapsed = started.elapsed();
    let cpu = CpuSnapshot::now().since(&cpu);
    report_cpu(&cpu);
    streams.close().await.expect("close");
    Run {
        name: name.to_owned(),
        records: n,
        elapsed,
        cpu: cpu.total,
        thread_cpu: cpu.of_thread(&format!("{app}-StreamThread-1")),
    }
}

/// Runs a baseline loop on its own thread; once it owns its partitions, produces `n` clicks to
/// `input` and times until the loop processed the last one.
fn baseline(
    cluster: &KafkaCluster,
    name: &str,
    input: &str,
    n: u64,
    run: impl FnOnce(&AtomicBool) -> (Instant, CpuSnapshot) + Send + 'static,
) -> Run {
    eprintln!("baseline: {name}");
    let ready = Arc::new(AtomicBool::new(false));
    let handle = {
        let ready = Arc::clone(&ready);
        // Named, so its CPU shows apart from the producer's (this thread) in the per-thread report.
        std::thread::Builder::new()
            .name(BASELINE_THREAD.to_owned())
            .spawn(move || run(&ready))
            .expect("baseline thread")
    };
    while !ready.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let (started, cpu) = (Instant::now(), CpuSnapshot::now());
    produce_clicks(cluster, input, n);
    let (finished, cpu_then) = handle.join().expect("baseline thread");
    let cpu = cpu_then.since(&cpu);
    report_cpu(&cpu);
    Run {
        name: name.to_owned(),
        records: n,
        elapsed: finished.duration_since(started),
        cpu: cpu.total,
        thread_cpu: cpu.of_thread(BASELINE_THREAD),
    }
}

/// Where a run's CPU went, per thread name (stderr; names are cut at 15 characters by Linux).
fn report_cpu(cpu: &CpuUsage) {
    eprintln!("  CPU {:?} in all threads:", cpu.total);
    for (thread, time) in &cpu.threads {
        eprintln!("    {thread:<16} {time:?}");
    }
}

/// The windowed count on the test driver, fed in batches of 10 000.
fn driver_run(n: u64) -> Run {
    let config = StreamsConfig::builder("bench-driver").build().expect("config");
    let driver = TestDriver::builder(windowed_count_topology(INPUT, "counts-out"), config)
        .partitions(PARTITIONS)
        .build()
        .expect("driver");
    // Input encoded up front (as a producer would have): the timing covers the framework only.
    let input = driver
        .input_topic_with::<String, Vec<u8>>(INPUT, Utf8, Bytes)
        .expect("input");
    let batches: Vec<Vec<TestRecord<String, Vec<u8>>>> = (0..n)
        .collect::<Vec<_>>()
        .chunks(10_000)
        .map(|chunk| {
            chunk
                .iter()
                .map(|&i| {
                    let c = click(i);
                    let json = serde_json::to_vec(&c).expect("json");
                    TestRecord::new(c.user_id, json).at(c.timestamp_ms)
                })
                .collect()
        })
        .collect();
    let (started, cpu) = (Instant::now(), CpuSnapshot::now());
    for batch in batches {
        input.pipe_records(batch).expect("pipe");
    }
    driver.commit().expect("commit");
    assert_eq!(driver.metrics().records_processed, n);
    let (elapsed, cpu) = (started.elapsed(), CpuSnapshot::now().since(&cpu).total);
    Run {
        name: "windowed count on the TestDriver (JSON decode, cache, RocksDB, commits)".to_owned(),
        records: n,
        elapsed,
        cpu,
        // Single-threaded: the driver runs the topology on the caller's thread.
        thread_cpu: cpu,
    }
}

/// The hand-written stateless loop, from `input` to `output`.
fn stateless_baseline(cluster: &KafkaCluster, input: &str, output: &str, n: u64, commit_interval: Duration) -> Run {
    let (loop_cluster, loop_input, output) = (cluster.clone(), input.to_owned(), output.to_owned());
    baseline(
        cluster,
        "rdkafka consume → filter/map → produce loop",
        input,
        n,
        move |ready| stateless_passthrough(&loop_cluster, &loop_input, &output, n, commit_interval, ready),
    )
}

/// The hand-written windowed count, from `input` to `output` with its changelog in `changelog`
/// and its RocksDB in a fresh directory.
fn count_baseline(
    cluster: &KafkaCluster,
    [input, output, changelog]: [&str; 3],
    n: u64,
    commit_interval: Duration,
) -> Run {
    let loop_cluster = cluster.clone();
    let (loop_input, output, changelog) = (input.to_owned(), output.to_owned(), changelog.to_owned());
    baseline(
        cluster,
        "rdkafka + RocksDB loop (cache, changelog, outputs)",
        input,
        n,
        move |ready| {
            let db = tempfile::tempdir().expect("db dir");
            windowed_count(
                &loop_cluster,
                &loop_input,
                &output,
                &changelog,
                db.path(),
                n,
                commit_interval,
                ready,
            )
        },
    )
}

/// One round of the four Kafka measurements, on topics of its own.
fn round(runtime: &tokio::runtime::Runtime, cluster: &KafkaCluster, n: u64, round: usize) -> [Run; 5] {
    // Every run reads its own input topic, produced while it runs.
    let t = |name: &str| format!("{name}-r{round}");
    let topics: Vec<String> = [
        &t("in-baseline-stateless"),
        &t("out-baseline-stateless"),
        &t("in-framework-stateless"),
        &t("out-framework-stateless"),
        &t("in-baseline-count"),
        &t("out-baseline-count"),
        &t("changelog-baseline-count"),
        &t("in-framework-count"),
        &t("out-framework-count"),
        &t("in-framework-count-eos"),
        &t("out-framework-count-eos"),
    ]
    .into_iter()
    .map(|s| s.to_owned())
    .collect();
    runtime.block_on(async {
        let specs: Vec<TopicSpec> = topics
            .iter()
            .map(|topic| TopicSpec::new(topic.as_str(), PARTITIONS))
            .collect();
        cluster.create_topics(&specs).await.expect("topics");
    });

    let baselines = || {
        let base_stateless = stateless_baseline(
            cluster,
            &t("in-baseline-stateless"),
            &t("out-baseline-stateless"),
            n,
            COMMIT_INTERVAL,
        );
        let base_count = count_baseline(
            cluster,
            [
                &t("in-baseline-count"),
                &t("out-baseline-count"),
                &t("changelog-baseline-count"),
            ],
            n,
            COMMIT_INTERVAL,
        );
        (base_stateless, base_count)
    };
    let frameworks = || {
        runtime.block_on(async {
            let stateless = framework(
                cluster,
                "KafkaStreams filter → map_values → to",
                &format!("bench-stateless-r{round}"),
                &t("in-framework-stateless"),
                stateless_topology(&t("in-framework-stateless"), &t("out-framework-stateless")),
                ProcessingGuarantee::AtLeastOnce,
                n,
                COMMIT_INTERVAL,
            )
            .await;
            let count = framework(
                cluster,
                "KafkaStreams windowed count (at-least-once)",
                &format!("bench-count-r{round}"),
                &t("in-framework-count"),
                windowed_count_topology(&t("in-framework-count"), &t("out-framework-count")),
                ProcessingGuarantee::AtLeastOnce,
                n,
                COMMIT_INTERVAL,
            )
            .await;
            let count_eos = framework(
                cluster,
                "KafkaStreams windowed count (exactly-once v2)",
                &format!("bench-count-eos-r{round}"),
                &t("in-framework-count-eos"),
                windowed_count_topology(&t("in-framework-count-eos"), &t("out-framework-count-eos")),
                ProcessingGuarantee::ExactlyOnceV2,
                n,
                COMMIT_INTERVAL,
            )
            .await;
            (stateless, count, count_eos)
        })
    };
    // The two sides take turns going first: a broker that slows down as its log and topic count
    // grow over a round favours neither.
    let ((base_stateless, base_count), (fw_stateless, fw_count, fw_count_eos)) = if round.is_multiple_of(2) {
        let baselines = baselines();
        (baselines, frameworks())
    } else {
        let frameworks = frameworks();
        (baselines(), frameworks)
    };
    [base_stateless, fw_stateless, base_count, fw_count, fw_count_eos]
}

/// The run with the median rate, carrying the median of the rounds' processing-thread CPU
/// (taken on its own: the round with the median rate need not have the median CPU).
fn median(mut runs: Vec<Run>) -> Run {
    let mut thread_cpu: Vec<Duration> = runs.iter().map(|r| r.thread_cpu).collect();
    thread_cpu.sort();
    runs.sort_by(|a, b| a.rate().total_cmp(&b.rate()));
    let mut median = runs.swap_remove(runs.len() / 2);
    median.thread_cpu = thread_cpu[thread_cpu.len() / 2];
    median
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let n: u64 = if full {
        std::env::var("BENCH_RECORDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(200_000)
    } else {
        2_000
    };
    let rounds = if full {
        std::env::var("BENCH_ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3)
    } else {
        1
    };
    if let Ok(filter) = std::env::var("BENCH_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    if full && let Ok(which) = std::env::var("BENCH_ONLY") {
        return only(&runtime, &which, n);
    }
    eprintln!("RocksDB alone, then the test driver");
    let rocks_dir = tempfile::tempdir().expect("db dir");
    let rocks = rocksdb_get_put(rocks_dir.path(), n);
    let driver = driver_run(n);
    eprintln!("test driver: {:.0} records/s", driver.rate());
    // The embedded broker always; Apache Kafka (a broker process beside this one) in full runs,
    // unless BENCH_BROKER=mock (or =none: RocksDB and the driver only). The smoke version under
    // `cargo test` stays on the embedded one.
    let brokers: Vec<&str> = match std::env::var("BENCH_BROKER").as_deref() {
        Ok("mock") => vec!["mock"],
        Ok("kafka") => vec!["kafka"],
        // Only RocksDB and the test driver: for profiling the processing path without a broker.
        Ok("none") => vec![],
        _ if full => vec!["mock", "kafka"],
        _ => vec!["mock"],
    };
    for which in brokers {
        let broker = match which {
            "kafka" => TestBroker::kafka().expect("Apache Kafka broker (install: scripts/setup.sh)"),
            _ => TestBroker::mock().expect("mock cluster"),
        };
        let report = measure(&runtime, &broker, which, n, rounds, rocks.clone(), driver.clone());
        println!("{report}");
        if full {
            let name = if which == "kafka" {
                "pipelines-kafka"
            } else {
                "pipelines"
            };
            let path = write(name, &report).expect("write results");
            println!("written to {}", path.display());
        }
    }
}

/// `BENCH_ONLY=driver|stateless|count`: one measurement — the windowed count on the test
/// driver, or one pipeline and its loop on the embedded broker — printed, not written. For
/// profilers: `scripts/profile.sh` runs each under callgrind, whose per-thread instruction
/// counts stay put where CPU time moves with the machine's neighbours.
/// `BENCH_COMMIT_INTERVAL_MS` (default the benchmark's 1 s) sets both sides' commit interval: a
/// profiler slows the run down some fifty times, and commits by the clock would otherwise come
/// that many times more often per record than in the timed runs.
fn only(runtime: &tokio::runtime::Runtime, which: &str, n: u64) {
    let commit_interval = std::env::var("BENCH_COMMIT_INTERVAL_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(COMMIT_INTERVAL, Duration::from_millis);
    let runs = match which {
        "driver" => vec![driver_run(n)],
        "stateless" | "count" => {
            let broker = TestBroker::mock().expect("mock cluster");
            let cluster = broker.cluster();
            let (input, output, changelog) = ("in-baseline", "out-baseline", "changelog-baseline");
            let (fw_input, fw_output) = ("in-framework", "out-framework");
            let specs: Vec<TopicSpec> = [input, output, changelog, fw_input, fw_output]
                .into_iter()
                .map(|topic| TopicSpec::new(topic, PARTITIONS))
                .collect();
            runtime.block_on(cluster.create_topics(&specs)).expect("topics");
            let (base, topology) = if which == "stateless" {
                let base = stateless_baseline(&cluster, input, output, n, commit_interval);
                (base, stateless_topology(fw_input, fw_output))
            } else {
                let base = count_baseline(&cluster, [input, output, changelog], n, commit_interval);
                (base, windowed_count_topology(fw_input, fw_output))
            };
            let framework = runtime.block_on(framework(
                &cluster,
                "KafkaStreams",
                &format!("profile-{which}"),
                fw_input,
                topology,
                ProcessingGuarantee::AtLeastOnce,
                n,
                commit_interval,
            ));
            vec![base, framework]
        }
        other => {
            eprintln!("BENCH_ONLY={other}: expected driver, stateless or count");
            std::process::exit(2);
        }
    };
    for run in runs {
        println!(
            "{}: {:.0} records/s, processing thread {:.2} µs/record",
            run.name,
            run.rate(),
            run.thread_cpu_per_record_us()
        );
    }
}

/// All Kafka measurements on one broker, medians of `rounds`, as a markdown report.
fn measure(
    runtime: &tokio::runtime::Runtime,
    broker: &TestBroker,
    which: &str,
    n: u64,
    rounds: usize,
    rocks: Run,
    driver: Run,
) -> String {
    let cluster = broker.cluster();
    eprintln!("{n} clicks of {USERS} users per run, {PARTITIONS} partitions, {rounds} rounds, on {which}");
    let mut results: Vec<Vec<Run>> = vec![Vec::new(); 5];
    for r in 0..rounds {
        for (slot, run) in results.iter_mut().zip(round(runtime, &cluster, n, r)) {
            slot.push(run);
        }
    }
    let [base_stateless, fw_stateless, base_count, fw_count, fw_count_eos]: [Run; 5] = results
        .into_iter()
        .map(median)
        .collect::<Vec<_>>()
        .try_into()
        .unwrap_or_else(|_| unreachable!("five measurements"));
    let comparisons = vec![
        Comparison {
            title: "Stateless filter/map".to_owned(),
            baseline: base_stateless,
            framework: fw_stateless,
            target: "≥ 0.90".to_owned(),
        },
        Comparison {
            title: "Windowed count with RocksDB".to_owned(),
            baseline: base_count,
            framework: fw_count.clone(),
            target: "≥ 0.90".to_owned(),
        },
        Comparison {
            title: "Exactly-once v2 vs at-least-once (commit every 1 s)".to_owned(),
            baseline: fw_count,
            framework: fw_count_eos,
            target: "overhead, reported".to_owned(),
        },
        Comparison {
            title: "Broker-free windowed count (1 thread)".to_owned(),
            baseline: rocks,
            framework: driver,
            target: "≥ 1 500 000 records/s per core (issue 20)".to_owned(),
        },
    ];
    let on = if which == "kafka" {
        "on Apache Kafka (a single-node KRaft broker process on this machine, `TestBroker::kafka()`: \
         its CPU is not in the CPU column, which is this process's only)"
    } else {
        "on the embedded broker (librdkafka mock cluster, in process: its CPU is in the CPU column)"
    };
    let setup = format!(
        "{n} JSON clicks of {USERS} users, {PARTITIONS} partitions, {on}; one stream thread; commit interval {COMMIT_INTERVAL:?}; every consumer (framework and baselines) with \
         `fetch.wait.max.ms={FETCH_WAIT_MAX_MS}`, since the embedded broker holds a fetch that finds no data for the whole wait (kept on Apache Kafka for the same settings on both brokers), and with the framework's defaults `fetch.queue.backoff.ms={FETCH_QUEUE_BACKOFF_MS}` (librdkafka's 1 s idles a consumer on a backlog) and `queued.min.messages={QUEUED_MIN_MESSAGES}`; each run owns its \
         partitions first, then its input is produced (in the same process) and timed from the first record \
         produced to the last processed — a live stream, commits included, start-up and the final commit not. \
         The loops forward each input record's headers to its outputs, as the framework does. \
         Each Kafka number is the median of {rounds} rounds, baselines and framework taking turns going first. The test-driver input is encoded before timing. Release build (`cargo bench -p streams-benches --bench pipelines`)."
    );
    markdown("Pipelines against hand-written baselines", &setup, &comparisons)
}
