//! The runtime end to end on Apache Kafka: records in → records out through rdkafka, state in
//! the store, restoration from a real changelog, internal topics the app creates itself, and a
//! broker outage. Apache Kafka, because these claims are about what a real broker stores and
//! returns (committed offsets, transactions, compacted changelogs); in-process, because the tests
//! restart instances and inspect their stores. The DSL's semantics are tested broker-free on the
//! test driver (`topology_driver.rs`), in-process fault injection on the mock (`outage_mock.rs`,
//! `eos_mock.rs`), multi-process failover in `examples/tests`.

mod common;

use std::time::Duration;

use common::*;
use kafka_streams::KafkaStreams;
use kafka_streams::config::{ProcessingGuarantee, StreamsConfig};
use kafka_streams::testing::{PartitionOffsets, TestBroker, partition_offsets};

const INPUT: &str = "clicks";
const OUTPUT: &str = "counts";
const STORE: &str = "click-counts";

fn config(app: &str, state_dir: &std::path::Path) -> StreamsConfig {
    app_config(
        app,
        state_dir,
        ProcessingGuarantee::AtLeastOnce,
        Duration::from_millis(200),
    )
}

async fn setup() -> TestBroker {
    kafka_with_topics(INPUT, OUTPUT).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windowed_count_matches_the_input_in_output_and_store() {
    let broker = setup().await;
    let cluster = broker.cluster();
    let input = clicks(0, 900);
    let state = tempfile::tempdir().expect("tempdir");
    // Two stream threads share the three tasks.
    let config = StreamsConfig::builder("wc")
        .state_dir(state.path())
        .num_stream_threads(2)
        .commit_interval(Duration::from_millis(200))
        .kafka_property("consumer.session.timeout.ms", "6000")
        .build()
        .expect("config");
    let streams = KafkaStreams::start_on(click_count_topology(INPUT, OUTPUT, STORE), config, cluster.clone())
        .await
        .expect("start");
    // Records flow once both threads own tasks: a rebalance interrupting a commit would make
    // at-least-once emit some updates twice, and this test counts every update.
    wait_for("both threads own tasks", Duration::from_secs(60), || {
        let threads = streams.tasks_per_thread();
        threads.iter().all(|t| !t.is_empty()) && threads.iter().map(Vec::len).sum::<usize>() == 3
    })
    .await;
    produce_clicks(&cluster, INPUT, &input).await;
    run_until_processed_and_committed(&streams, input.len() as u64).await;
    let expected = expected_counts(&input);

    // Output: the last update per user-window is the final count.
    let output = read_all(&cluster, OUTPUT).await;
    assert_eq!(
        output.len(),
        input.len(),
        "one update per click (KTable emit-on-update)"
    );
    assert_eq!(latest_counts(&output), expected);

    // State: the window store holds the same counts, across the three local partitions.
    let stores = streams
        .window_store::<String, u64>(STORE, WINDOW.as_millis() as i64)
        .expect("store");
    assert_eq!(stores.len(), 3);
    assert_eq!(window_counts(&streams, STORE), expected);
    streams.close().await.expect("close");

    // On disk as Kafka Streams lays it out.
    for partition in 0..3 {
        let dir = state
            .path()
            .join("wc")
            .join(format!("0_{partition}"))
            .join("rocksdb")
            .join(STORE);
        assert!(
            dir.join("CURRENT").exists(),
            "{} should hold a RocksDB store",
            dir.display()
        );
    }
    // The changelog holds every committed store write.
    let changelog = read_all(&cluster, "wc-click-counts-changelog").await;
    assert!(!changelog.is_empty() && changelog.len() <= input.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_restores_only_the_changelog_tail_and_a_lost_state_dir_is_rebuilt() {
    let broker = setup().await;
    let cluster = broker.cluster();
    let first = clicks(0, 600);
    let second = clicks(600, 300);
    let third = clicks(900, 150);
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let start = |dir: &std::path::Path| {
        KafkaStreams::start_on(
            click_count_topology(INPUT, OUTPUT, STORE),
            config("restore", dir),
            cluster.clone(),
        )
    };

    // Instance A processes the first batch and stops cleanly: nothing to restore at its start.
    produce_clicks(&cluster, INPUT, &first).await;
    let a = start(dir_a.path()).await.expect("start a");
    run_until_processed_and_committed(&a, first.len() as u64).await;
    assert_eq!(a.metrics().records_restored, 0);
    a.close().await.expect("close a");

    // Instance B, with its own empty state directory, restores everything A wrote, then
    // processes the second batch (adding to the changelog beyond A's checkpoint).
    let b = start(dir_b.path()).await.expect("start b");
    wait_for("b owns all tasks", Duration::from_secs(30), || {
        b.active_tasks().len() == 3
    })
    .await;
    let full_restore_a = b.metrics().records_restored;
    produce_clicks(&cluster, INPUT, &second).await;
    run_until_processed_and_committed(&b, second.len() as u64).await;
    b.close().await.expect("close b");
    let changelog = read_all(&cluster, "restore-click-counts-changelog").await;
    let written_by_b = changelog.len() as u64 - full_restore_a;
    assert!(written_by_b > 0);

    // A restarts: it replays only B's tail, not the records it already has.
    let a = start(dir_a.path()).await.expect("restart a");
    wait_for("a owns all tasks", Duration::from_secs(30), || {
        a.active_tasks().len() == 3
    })
    .await;
    assert_eq!(
        a.metrics().records_restored,
        written_by_b,
        "only the changelog tail is replayed"
    );
    produce_clicks(&cluster, INPUT, &third).await;
    run_until_processed_and_committed(&a, third.len() as u64).await;
    a.close().await.expect("close a");
    let all: Vec<Click> = first.iter().chain(&second).chain(&third).cloned().collect();
    let output = read_all(&cluster, OUTPUT).await;
    assert_eq!(
        latest_counts(&output),
        expected_counts(&all),
        "no count lost across restarts"
    );

    // A's state directory is lost: the store is rebuilt from the whole changelog, not served empty.
    drop(dir_a);
    let dir_c = tempfile::tempdir().expect("tempdir");
    let c = start(dir_c.path()).await.expect("start c");
    let changelog = read_all(&cluster, "restore-click-counts-changelog").await;
    wait_for("c owns all tasks", Duration::from_secs(30), || {
        c.active_tasks().len() == 3
    })
    .await;
    assert_eq!(
        c.metrics().records_restored,
        changelog.len() as u64,
        "full rebuild from the changelog"
    );
    let in_store = window_counts(&c, STORE);
    assert_eq!(in_store, expected_counts(&all));
    c.close().await.expect("close c");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_keyed_aggregation_reads_through_the_repartition_topic() {
    let broker = setup().await;
    let cluster = broker.cluster();
    let input = clicks(0, 600);
    produce_clicks(&cluster, INPUT, &input).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let topology = per_minute_topology(INPUT, OUTPUT, "minute-counts");
    assert!(
        topology.describe().contains("minute-counts-repartition-sink"),
        "{}",
        topology.describe()
    );
    let streams = KafkaStreams::start_on(topology, config("rk", dir.path()), cluster.clone())
        .await
        .expect("start");
    assert!(
        streams.describe().contains("rk-minute-counts-repartition"),
        "{}",
        streams.describe()
    );
    // Both sub-topologies run: 600 source records, then the same 600 from the repartition topic.
    run_until_processed_and_committed(&streams, 1_200).await;
    streams.close().await.expect("close");

    let mut expected = std::collections::BTreeMap::new();
    for click in &input {
        *expected
            .entry((click.timestamp_ms / 60_000).to_string())
            .or_insert(0u64) += 1;
    }
    assert_eq!(
        read_all(&cluster, "rk-minute-counts-repartition").await.len(),
        input.len()
    );
    assert_eq!(latest_counts(&read_all(&cluster, OUTPUT).await), expected);
}

/// Repartition records are deleted on the broker (DeleteRecords) once consumed and committed,
/// under both guarantees; a restart then resumes from the committed offsets, above the purged
/// ones. Apache Kafka, because the claim is about the log start offsets a real broker keeps.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumed_repartition_records_are_deleted_from_the_broker() {
    let broker = setup().await;
    let cluster = broker.cluster();
    let dir = tempfile::tempdir().expect("tempdir");
    let topic = "purge-minute-counts-repartition";
    let mut expected = std::collections::BTreeMap::new();
    for (run, guarantee) in [ProcessingGuarantee::AtLeastOnce, ProcessingGuarantee::ExactlyOnceV2]
        .into_iter()
        .enumerate()
    {
        let input = clicks(run as u64 * 600, 600);
        for click in &input {
            *expected
                .entry((click.timestamp_ms / 60_000).to_string())
                .or_insert(0u64) += 1;
        }
        produce_clicks(&cluster, INPUT, &input).await;
        let config = StreamsConfig::builder("purge")
            .state_dir(dir.path())
            .processing_guarantee(guarantee)
            .commit_interval(Duration::from_millis(200))
            .repartition_purge_interval(Duration::from_millis(500))
            .build()
            .expect("config");
        let streams = KafkaStreams::start_on(
            per_minute_topology(INPUT, OUTPUT, "minute-counts"),
            config,
            cluster.clone(),
        )
        .await
        .expect("start");
        run_until_processed_and_committed(&streams, 1_200).await;
        // Every repartition record was consumed: at the next purge the log starts at the end
        // (under exactly-once, only the last commit marker is left).
        wait_for("the repartition topic purged", Duration::from_secs(30), || {
            offsets(&cluster, topic)
                .iter()
                .all(|o| o.high - o.low <= i64::from(guarantee == ProcessingGuarantee::ExactlyOnceV2))
        })
        .await;
        streams.close().await.expect("close");
        assert!(
            read_all(&cluster, topic).await.is_empty(),
            "{guarantee:?}: nothing left to read"
        );
        assert_eq!(
            latest_counts(&read_all(&cluster, OUTPUT).await),
            expected,
            "{guarantee:?}"
        );
    }
    assert!(
        offsets(&cluster, INPUT).iter().all(|o| o.low == 0),
        "a user topic is never purged"
    );
}

/// The offsets of every partition of `topic`, as the broker reports them.
fn offsets(cluster: &kafka_streams::kafka::KafkaCluster, topic: &str) -> Vec<PartitionOffsets> {
    partition_offsets(cluster, topic).expect("partition offsets")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_source_topic_is_a_clear_error() {
    let broker = setup().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let result = KafkaStreams::start_on(
        click_count_topology("no-such-topic", OUTPUT, STORE),
        config("missing", dir.path()),
        broker.cluster(),
    )
    .await;
    let err = result.err().expect("start must fail").report().to_string();
    assert!(err.contains("source topic `no-such-topic` does not exist"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_state_from_another_cluster_is_wiped_not_served() {
    let dir = tempfile::tempdir().expect("tempdir");
    let old = clicks(0, 300);
    {
        let broker = setup().await;
        let cluster = broker.cluster();
        produce_clicks(&cluster, INPUT, &old).await;
        let streams = KafkaStreams::start_on(
            click_count_topology(INPUT, OUTPUT, STORE),
            config("reused", dir.path()),
            cluster,
        )
        .await
        .expect("start");
        run_until_processed_and_committed(&streams, 300).await;
        streams.close().await.expect("close");
    }
    // Same state directory, fresh cluster (e.g. the embedded broker of a second demo run): the
    // checkpoints point past the new, empty changelogs, so the stores must start over.
    let broker = setup().await;
    let cluster = broker.cluster();
    let new = clicks(1_000, 200);
    produce_clicks(&cluster, INPUT, &new).await;
    let streams = KafkaStreams::start_on(
        click_count_topology(INPUT, OUTPUT, STORE),
        config("reused", dir.path()),
        cluster.clone(),
    )
    .await
    .expect("start");
    run_until_processed_and_committed(&streams, 200).await;
    let in_store = window_counts(&streams, STORE);
    streams.close().await.expect("close");
    assert_eq!(in_store, expected_counts(&new), "nothing from the old cluster survives");
    assert_eq!(latest_counts(&read_all(&cluster, OUTPUT).await), expected_counts(&new));
}

/// Forwards one `tick` record per wall-clock punctuation, numbering them.
struct Ticker(u64);

impl kafka_streams::processor::Processor<String, Vec<u8>> for Ticker {
    type KeyOut = String;
    type ValueOut = u64;

    fn init(&mut self, ctx: &mut kafka_streams::processor::InitContext<'_>) -> kafka_streams::Result<()> {
        ctx.schedule(
            Duration::from_millis(100),
            kafka_streams::processor::PunctuationType::WallClockTime,
        );
        Ok(())
    }

    fn process(
        &mut self,
        _: &mut kafka_streams::processor::ProcessorContext<'_, String, u64>,
        _: kafka_streams::processor::Record<String, Vec<u8>>,
    ) -> kafka_streams::Result<()> {
        Ok(())
    }

    fn punctuate(
        &mut self,
        ctx: &mut kafka_streams::processor::ProcessorContext<'_, String, u64>,
        p: kafka_streams::processor::Punctuation,
    ) -> kafka_streams::Result<()> {
        self.0 += 1;
        ctx.forward(kafka_streams::processor::Record::new(
            format!("tick-{}", ctx.task()),
            self.0,
            p.timestamp,
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wall_clock_punctuations_run_on_the_stream_thread_without_input() {
    let broker = setup().await;
    let cluster = broker.cluster();
    let builder = kafka_streams::topology::StreamsBuilder::new();
    builder
        .stream_with(
            INPUT,
            kafka_streams::topology::Consumed::new(kafka_streams::codec::Utf8, kafka_streams::codec::Bytes),
        )
        .process(|| Ticker(0), [])
        .to_with(OUTPUT, kafka_streams::codec::Utf8, kafka_streams::codec::Json);
    let state = tempfile::tempdir().expect("tempdir");
    let streams = KafkaStreams::start_on(
        builder.build().expect("topology"),
        config("ticks", state.path()),
        cluster.clone(),
    )
    .await
    .expect("start");
    // No input at all: ten punctuations per task and second, from the thread's loop.
    wait_for("punctuations on every task", Duration::from_secs(30), || {
        streams.metrics().punctuations >= 30
    })
    .await;
    let m = streams.metrics();
    assert!(m.punctuation_latency_max >= m.punctuation_latency_avg);
    let commits = m.commits;
    wait_for("a commit", Duration::from_secs(30), || {
        streams.metrics().commits > commits
    })
    .await;
    let output = read_all(&cluster, OUTPUT).await;
    let tasks: std::collections::BTreeSet<&str> = output.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(tasks, ["tick-0_0", "tick-0_1", "tick-0_2"].into_iter().collect());
    streams.close().await.expect("close");
}

/// Where both held-store tests start (see [`tasks_pending_behind_held_stores`]).
struct HeldStores {
    a: KafkaStreams,
    /// The user's handles of all three stores.
    held: Vec<(i32, kafka_streams::state::WindowStore<String, u64>)>,
    /// The tasks `b` had, pending on `a`.
    moved: Vec<kafka_streams::task::TaskId>,
    /// `b`'s state directory (its process id lives there).
    dir_b: tempfile::TempDir,
    _dir_a: tempfile::TempDir,
}

/// `a` owns every task and has processed `first`; a user holds handles of all three stores
/// (taken before any task moved); `b` took some tasks and handed them back when it left, so on
/// `a` they are pending: their stores are locked, their partitions paused.
async fn tasks_pending_behind_held_stores(
    cluster: &kafka_streams::kafka::KafkaCluster,
    app: &str,
    first: &[Click],
) -> HeldStores {
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let a = KafkaStreams::start_on(
        click_count_topology(INPUT, OUTPUT, STORE),
        config(app, dir_a.path()),
        cluster.clone(),
    )
    .await
    .expect("start a");
    wait_for("a owns every task", Duration::from_secs(60), || {
        a.active_tasks().len() == 3
    })
    .await;
    produce_clicks(cluster, INPUT, first).await;
    run_until_processed_and_committed(&a, first.len() as u64).await;
    let held = a
        .window_store::<String, u64>(STORE, WINDOW.as_millis() as i64)
        .expect("store");
    assert_eq!(held.len(), 3);

    // b takes some tasks away from a (a closes them, but the held handles keep RocksDB open) …
    let b = KafkaStreams::start_on(
        click_count_topology(INPUT, OUTPUT, STORE),
        config(app, dir_b.path()),
        cluster.clone(),
    )
    .await
    .expect("start b");
    wait_for("a and b share the tasks", Duration::from_secs(60), || {
        !b.active_tasks().is_empty() && a.active_tasks().len() + b.active_tasks().len() == 3
    })
    .await;
    let moved = b.active_tasks();
    // … and hands them back when it leaves: their stores are still locked by `held`.
    b.close().await.expect("close b");
    wait_for(
        "a has every task back, the moved ones pending",
        Duration::from_secs(60),
        || a.active_tasks().len() == 3 - moved.len() && !a.active_tasks().iter().any(|t| moved.contains(t)),
    )
    .await;
    HeldStores {
        a,
        held,
        moved,
        dir_b,
        _dir_a: dir_a,
    }
}

/// `a`'s store and the output end with the counts of `all`, and `a` closes cleanly.
async fn counts_become_final(cluster: &kafka_streams::kafka::KafkaCluster, a: KafkaStreams, all: &[Click]) {
    wait_for("every count final", Duration::from_secs(60), || {
        window_counts(&a, STORE) == expected_counts(all)
    })
    .await;
    run_until_processed_and_committed(&a, 0).await;
    assert_eq!(latest_counts(&read_all(cluster, OUTPUT).await), expected_counts(all));
    a.close().await.expect("close a: no thread failed");
}

/// A task handed back to an instance whose store a user still holds (a store handle taken
/// before the task moved away): the open finds RocksDB's lock held. The thread keeps the task
/// pending — its partitions paused, its other tasks running — and opens it once the handle is
/// dropped; nothing is lost and the store is not wiped. Before, the open waited 10 s and the
/// thread died. Apache Kafka, because the task moves through a real group rebalance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_whose_store_is_still_held_waits_for_it_and_loses_nothing() {
    let broker = setup().await;
    let cluster = broker.cluster();
    let first = clicks(0, 70);
    // Every field bound: the state directories must outlive the instances.
    let HeldStores {
        a,
        held,
        moved,
        dir_b: _dir_b,
        _dir_a,
    } = tasks_pending_behind_held_stores(&cluster, "held", &first).await;
    let second = clicks(70, 70);
    produce_clicks(&cluster, INPUT, &second).await;
    // Longer than any lock wait: the thread must neither die nor block its other tasks.
    tokio::time::sleep(Duration::from_secs(12)).await;
    assert!(!a.is_stopped(), "a's thread must not die of a held store lock");
    assert_eq!(
        a.active_tasks().len(),
        3 - moved.len(),
        "the tasks whose stores are held stay pending"
    );

    drop(held);
    let all: Vec<Click> = first.iter().chain(&second).cloned().collect();
    wait_for("a opens the pending tasks", Duration::from_secs(30), || {
        a.active_tasks().len() == 3
    })
    .await;
    counts_become_final(&cluster, a, &all).await;
}

/// A pending task that moves away while its store is held, and comes back once the store is
/// free, opens at once on its return — and its partitions must be fetched again. librdkafka
/// keeps an application's pause of a partition across a revocation and a new assignment, so a
/// task dropped from the pending set while paused came back paused: before the fix its
/// partitions stayed silent forever. Apache Kafka, because the pause lives in a real group
/// rebalance. `b` restarts on its state dir: same process id, same client id, so the range
/// assignor's member order — and the tasks it takes — are the same as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_task_that_moves_away_and_back_is_fetched_again() {
    let broker = setup().await;
    let cluster = broker.cluster();
    let first = clicks(0, 70);
    let HeldStores {
        a,
        held,
        moved,
        dir_b,
        _dir_a,
    } = tasks_pending_behind_held_stores(&cluster, "moved", &first).await;

    // The pending tasks move to b again (a drops them from its pending set) …
    let b = KafkaStreams::start_on(
        click_count_topology(INPUT, OUTPUT, STORE),
        config("moved", dir_b.path()),
        cluster.clone(),
    )
    .await
    .expect("restart b");
    wait_for("b takes the pending tasks", Duration::from_secs(60), || {
        b.active_tasks() == moved && a.active_tasks().len() == 3 - moved.len()
    })
    .await;
    // … the stores are let go, and b hands the tasks back: a opens them at once.
    drop(held);
    b.close().await.expect("close b");
    wait_for("a owns every task", Duration::from_secs(60), || {
        a.active_tasks().len() == 3
    })
    .await;
    let second = clicks(70, 70);
    produce_clicks(&cluster, INPUT, &second).await;
    let all: Vec<Click> = first.iter().chain(&second).cloned().collect();
    // Before the fix, the returned tasks' partitions stayed paused: their counts never ended.
    counts_become_final(&cluster, a, &all).await;
}

/// A stream thread that fails (a record under `LogAndFail`) aborts its open transaction at
/// once, so the outputs' last stable offsets move on and `read_committed` readers (and
/// restores of its changelogs) are not held up. Before, the transaction stayed open until its
/// `transaction.timeout.ms` (30 s here). Apache Kafka, because the claim is about a real
/// transaction coordinator.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_thread_aborts_its_open_transaction_at_once() {
    use kafka_streams::codec::{Json, Utf8};
    use kafka_streams::topology::{Consumed, ErrorPolicy, StreamsBuilder};
    let broker = setup().await;
    let cluster = broker.cluster();
    let builder = StreamsBuilder::new();
    builder.on_processing_error(ErrorPolicy::LogAndFail);
    builder
        .stream_with(INPUT, Consumed::new(Utf8, Json))
        .try_map_values(|click: Click| {
            if click.user_id == "poison" {
                Err("a poisoned click")
            } else {
                Ok(click.timestamp_ms)
            }
        })
        .to_with(OUTPUT, Utf8, Json);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = StreamsConfig::builder("fails")
        .state_dir(dir.path())
        .processing_guarantee(ProcessingGuarantee::ExactlyOnceV2)
        // No commit while the test looks: the outputs stay in the open transaction.
        .commit_interval(Duration::from_secs(120))
        .kafka_property("producer.transaction.timeout.ms", "30000")
        .build()
        .expect("config");
    let streams = KafkaStreams::start_on(builder.build().expect("topology"), config, cluster.clone())
        .await
        .expect("start");
    wait_for("the thread owns its tasks", Duration::from_secs(60), || {
        streams.active_tasks().len() == 3
    })
    .await;
    produce_clicks(&cluster, INPUT, &clicks(0, 30)).await;
    wait_for("outputs in an open transaction", Duration::from_secs(30), || {
        offsets(&cluster, OUTPUT).iter().any(|o| o.stable < o.high)
    })
    .await;

    let poison = Click {
        user_id: "poison".to_owned(),
        timestamp_ms: START_MS,
    };
    produce_clicks(&cluster, INPUT, &[poison]).await;
    wait_for(
        "the thread stops at the poisoned click",
        Duration::from_secs(30),
        || streams.is_stopped(),
    )
    .await;
    wait_for("the transaction aborted", Duration::from_secs(5), || {
        offsets(&cluster, OUTPUT).iter().all(|o| o.stable == o.high)
    })
    .await;
    assert!(
        read_all(&cluster, OUTPUT).await.is_empty(),
        "nothing of the failed transaction is visible"
    );
    let failed = streams.close().await.expect_err("the thread failed");
    assert!(failed.report().to_string().contains("a poisoned click"), "{failed}");
}

/// Another producer's transaction is still open on a changelog (a crashed instance's, until the
/// broker aborts it) below records this store applied itself: its checkpoint is past the
/// changelog's last stable offset. A restore waits for the transaction to end and keeps the
/// store. Before, it judged the store foreign, wiped it and rebuilt it only up to the stable
/// offset — without its own committed updates — so the counts came out short. Apache Kafka:
/// last stable offsets and a transaction left open by a producer are the broker's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_waits_for_an_open_transaction_below_its_checkpoint() {
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    let broker = setup().await;
    let cluster = broker.cluster();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = || {
        app_config(
            "lso",
            dir.path(),
            ProcessingGuarantee::ExactlyOnceV2,
            Duration::from_millis(200),
        )
    };
    let run = |batch: Vec<Click>| {
        let cluster = cluster.clone();
        let config = config();
        async move {
            let streams = KafkaStreams::start_on(click_count_topology(INPUT, OUTPUT, STORE), config, cluster.clone())
                .await
                .expect("start");
            wait_for("the tasks open", Duration::from_secs(60), || {
                streams.active_tasks().len() == 3
            })
            .await;
            produce_clicks(&cluster, INPUT, &batch).await;
            run_until_processed_and_committed(&streams, batch.len() as u64).await;
            let store = window_counts(&streams, STORE);
            streams.close().await.expect("close");
            store
        }
    };
    let batches = [clicks(0, 70), clicks(70, 70), clicks(140, 70)];
    run(batches[0].clone()).await;

    // A "crashed" producer's transaction, open on every changelog partition.
    let zombie: BaseProducer = cluster
        .client_config()
        .set("transactional.id", "crashed-instance")
        .set("transaction.timeout.ms", "60000")
        .create()
        .expect("producer");
    zombie.init_transactions(Duration::from_secs(30)).expect("init");
    zombie.begin_transaction().expect("begin");
    for partition in 0..3 {
        zombie
            .send(
                BaseRecord::to("lso-click-counts-changelog")
                    .key("zombie")
                    .payload("0")
                    .partition(partition),
            )
            .expect("send");
    }
    zombie.flush(Duration::from_secs(10)).expect("flush");

    // Its own commits after the open transaction: the checkpoint passes the stable offset.
    run(batches[1].clone()).await;
    assert!(
        offsets(&cluster, "lso-click-counts-changelog")
            .iter()
            .all(|o| o.stable < o.high),
        "the zombie's transaction holds every changelog partition"
    );

    // The next start restores while the transaction is open; it ends 3 s later.
    let abort = tokio::task::spawn_blocking(move || {
        std::thread::sleep(Duration::from_secs(3));
        zombie.abort_transaction(Duration::from_secs(30)).expect("abort");
    });
    let store = run(batches[2].clone()).await;
    abort.await.expect("abort task");
    let all: Vec<Click> = batches.concat();
    assert_eq!(store, expected_counts(&all), "the store kept its own committed updates");
    assert_eq!(latest_counts(&read_all(&cluster, OUTPUT).await), expected_counts(&all));
}

/// Starts `builder`'s topology as `app` (commits every 200 ms) with the producer's
/// `message.max.bytes` at 10 000, so that a few KiB is "too large".
async fn start_with_small_messages(
    builder: kafka_streams::topology::StreamsBuilder,
    app: &str,
    dir: &std::path::Path,
    cluster: &kafka_streams::kafka::KafkaCluster,
) -> KafkaStreams {
    let config = StreamsConfig::builder(app)
        .state_dir(dir)
        .commit_interval(Duration::from_millis(200))
        .kafka_property("producer.message.max.bytes", "10000")
        .build()
        .expect("config");
    KafkaStreams::start_on(builder.build().expect("topology"), config, cluster.clone())
        .await
        .expect("start")
}

/// An output Kafka refuses for good (larger than `message.max.bytes`) goes through the
/// processing-error policy — by default logged and skipped — and the other records flow on,
/// each output once. Before, the refusal was handled like a failed commit: roll back, redo,
/// fail again, forever (and at-least-once re-sent the other outputs every round). Apache Kafka:
/// the refusal is librdkafka's against a real producer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_output_kafka_refuses_is_skipped_by_the_error_policy_not_redone() {
    use kafka_streams::codec::{Json, Utf8};
    use kafka_streams::topology::{Consumed, StreamsBuilder};
    let broker = setup().await;
    let cluster = broker.cluster();
    let builder = StreamsBuilder::new();
    builder
        .stream_with(INPUT, Consumed::new(Utf8, Json))
        .map_values(|click: Click| {
            if click.user_id == "huge" {
                "x".repeat(50_000)
            } else {
                click.user_id
            }
        })
        .to_with(OUTPUT, Utf8, Utf8);
    let dir = tempfile::tempdir().expect("tempdir");
    let streams = start_with_small_messages(builder, "refused", dir.path(), &cluster).await;
    let huge = Click {
        user_id: "huge".to_owned(),
        timestamp_ms: START_MS,
    };
    let input: Vec<Click> = clicks(0, 30).into_iter().chain([huge]).chain(clicks(30, 30)).collect();
    produce_clicks(&cluster, INPUT, &input).await;
    run_until_processed_and_committed(&streams, input.len() as u64).await;
    // A few more commits: a livelocked thread would keep re-sending.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let output = read_all(&cluster, OUTPUT).await;
    assert_eq!(output.len(), 60, "every other output once, the refused one not at all");
    assert!(output.iter().all(|(_, v)| v.as_ref().is_some_and(|v| v.len() < 100)));
    assert_eq!(streams.metrics().records_skipped, 1);
    assert!(!streams.is_stopped());
    streams.close().await.expect("close");
}

/// A store value Kafka refuses for good (its changelog record is larger than
/// `message.max.bytes`) stops the stream thread with an error naming the changelog, instead of
/// redoing the commit forever. Kafka Streams fails the thread the same way by default. Apache
/// Kafka, as above.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_value_kafka_refuses_stops_the_thread_clearly() {
    use kafka_streams::codec::{Json, Utf8};
    use kafka_streams::topology::{Consumed, Materialized, StreamsBuilder};
    let broker = setup().await;
    let cluster = broker.cluster();
    let builder = StreamsBuilder::new();
    // Every click adds 1 KB to its user's aggregate: after ten, the value no longer fits.
    builder
        .stream_with(INPUT, Consumed::new(Utf8, Json))
        .group_by_key()
        .aggregate(
            String::new,
            |_, _: Click, list: String| list + &"x".repeat(1_000),
            Materialized::named("lists"),
        )
        .to_stream()
        .map_values(|list: String| list.len() as u64)
        .to_with(OUTPUT, Utf8, Json);
    let dir = tempfile::tempdir().expect("tempdir");
    let streams = start_with_small_messages(builder, "too-large", dir.path(), &cluster).await;
    produce_clicks(&cluster, INPUT, &clicks(0, 7 * 20)).await;
    wait_for("the thread stops", Duration::from_secs(60), || streams.is_stopped()).await;
    let failed = streams.close().await.expect_err("the thread failed");
    let message = failed.report().to_string();
    assert!(
        message.contains("too-large-lists-changelog") && message.contains("refused"),
        "{message}"
    );
}

/// Issue 16 item 15: a header whose value is null reaches the output null, and an empty one
/// empty — through rdkafka both ways, which is where the null used to become empty. Apache
/// Kafka: the claim is about what the broker stores and returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn null_and_empty_headers_reach_the_output_as_they_came() {
    use kafka_streams::codec::{Bytes, Utf8};
    use rdkafka::message::{Header, OwnedHeaders};
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let broker = setup().await;
    let cluster = broker.cluster();
    let builder = kafka_streams::topology::StreamsBuilder::new();
    builder
        .stream_with(INPUT, kafka_streams::topology::Consumed::new(Utf8, Bytes))
        .map_values(|v: Vec<u8>| v)
        .to_with(OUTPUT, Utf8, Bytes);
    let dir = tempfile::tempdir().expect("tempdir");
    let streams = KafkaStreams::start_on(
        builder.build().expect("topology"),
        config("headers", dir.path()),
        cluster.clone(),
    )
    .await
    .expect("start");
    let producer: FutureProducer = cluster.client_config().create().expect("producer");
    let headers = OwnedHeaders::new()
        .insert(Header {
            key: "trace",
            value: Some("t-1"),
        })
        .insert(Header {
            key: "empty",
            value: Some(""),
        })
        .insert(Header::<&str> {
            key: "null",
            value: None,
        });
    producer
        .send(
            FutureRecord::to(INPUT).key("k").payload("v").headers(headers),
            Duration::from_secs(10),
        )
        .await
        .expect("produce");
    run_until_processed_and_committed(&streams, 1).await;
    let output = kafka_streams::testing::read_topic(&cluster, OUTPUT)
        .await
        .expect("read");
    assert_eq!(output.len(), 1, "{output:?}");
    assert_eq!(
        output[0].headers,
        vec![
            ("trace".to_owned(), Some(b"t-1".to_vec())),
            ("empty".to_owned(), Some(Vec::new())),
            ("null".to_owned(), None),
        ]
    );
    streams.close().await.expect("close");
}

/// `/metrics` under exactly-once on Apache Kafka: the transactional producer's state and epoch
/// (from librdkafka's statistics) and the sampled per-record latencies. Apache Kafka, because
/// the transaction state is what a real transaction coordinator drives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_show_the_producers_transaction_state_under_exactly_once() {
    let broker = setup().await;
    let cluster = broker.cluster();
    let state = tempfile::tempdir().expect("tempdir");
    let config = app_config(
        "txn-metrics",
        state.path(),
        ProcessingGuarantee::ExactlyOnceV2,
        Duration::from_millis(100),
    );
    let streams = std::sync::Arc::new(
        KafkaStreams::start_on(click_count_topology(INPUT, OUTPUT, STORE), config, cluster.clone())
            .await
            .expect("start"),
    );
    let addr = kafka_streams::server::serve(
        std::sync::Arc::clone(&streams),
        "127.0.0.1:0".parse().expect("addr"),
        std::future::pending(),
    )
    .await
    .expect("serve");
    produce_clicks(&cluster, INPUT, &clicks(0, 300)).await;
    run_until_processed_and_committed(&streams, 300).await;
    let http = reqwest::Client::new();
    let line = |metrics: &str, prefix: &str| metrics.lines().find(|l| l.starts_with(prefix)).map(str::to_owned);
    let mut metrics = String::new();
    // librdkafka reports statistics every second; the thread publishes them at its commits.
    for _ in 0..100 {
        let url = format!("http://{addr}/metrics");
        metrics = http.get(url).send().await.expect("get").text().await.expect("body");
        if line(&metrics, "kafka_streams_producer_epoch{").is_some() {
            break;
        }
        produce_clicks(&cluster, INPUT, &clicks(300, 1)).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let state_line = line(&metrics, "kafka_streams_producer_transaction_state{").expect(&metrics);
    assert!(
        state_line.contains("state=\"") && state_line.ends_with(" 1"),
        "{state_line}"
    );
    let epoch = line(&metrics, "kafka_streams_producer_epoch{").expect(&metrics);
    let epoch: i64 = epoch.rsplit(' ').next().and_then(|v| v.parse().ok()).expect("an epoch");
    assert!(epoch >= 0, "a transactional producer has an epoch");
    for histogram in ["process_latency", "record_e2e_latency"] {
        let count = line(&metrics, &format!("kafka_streams_{histogram}_seconds_count{{")).expect(&metrics);
        let n: f64 = count.rsplit(' ').next().and_then(|v| v.parse().ok()).expect("a count");
        // One record in 64 is timed.
        assert!(n >= (300 / 64) as f64, "{count}");
    }
    streams.close().await.expect("close");
}
