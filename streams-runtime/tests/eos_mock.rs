//! Exactly-once v2 on the mock cluster, with faults injected into the broker's responses.
//!
//! The mock, because it is the only broker here that runs transactions and lets us inject
//! errors. Its limits shape what is asserted: `read_committed` still returns aborted records,
//! so "no duplicate" is checked where it is observable — the committed store contents and the
//! largest count ever emitted per window (a double-counted record would push it past the truth).

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use kafka_streams::KafkaStreams;
use kafka_streams::config::{ProcessingGuarantee, StreamsConfig};
use kafka_streams::testing::TestBroker;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

const INPUT: &str = "clicks";
const OUTPUT: &str = "counts";
const STORE: &str = "click-counts";

fn eos_config(app: &str, dir: &std::path::Path) -> StreamsConfig {
    eos_config_committing_every(app, dir, Duration::from_millis(200))
}

fn eos_config_committing_every(app: &str, dir: &std::path::Path, interval: Duration) -> StreamsConfig {
    app_config(app, dir, ProcessingGuarantee::ExactlyOnceV2, interval)
}

async fn setup() -> TestBroker {
    mock_with_topics(INPUT, OUTPUT).await
}

fn store_counts(streams: &KafkaStreams) -> BTreeMap<String, u64> {
    window_counts(streams, STORE)
}

/// Largest count ever emitted per window, aborted transactions included.
async fn max_emitted(cluster: &kafka_streams::kafka::KafkaCluster) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for (key, value) in read_all(cluster, OUTPUT).await {
        let count: u64 = serde_json::from_slice(&value.expect("value")).expect("count");
        let entry = out.entry(key).or_insert(0);
        *entry = count.max(*entry);
    }
    out
}

/// What a run with a fault in the middle left behind.
struct Outcome {
    expected: BTreeMap<String, u64>,
    store: BTreeMap<String, u64>,
    max_emitted: BTreeMap<String, u64>,
    metrics: kafka_streams::runtime::MetricsSnapshot,
}

/// Processes a first batch and commits it, produces a second batch with `inject` run just after
/// it, or before it (then waiting for the fault to strike first), and waits until every record
/// is reflected in the store.
async fn run_with_fault(
    app: &str,
    commit_interval: Duration,
    inject_first: bool,
    inject: impl FnOnce(&TestBroker),
) -> Outcome {
    let broker = setup().await;
    let cluster = broker.cluster();
    let dir = tempfile::tempdir().expect("tempdir");
    let streams = KafkaStreams::start_on(
        click_count_topology(INPUT, OUTPUT, STORE),
        eos_config_committing_every(app, dir.path(), commit_interval),
        cluster.clone(),
    )
    .await
    .expect("start");
    let first = clicks(0, 300);
    produce_clicks(&cluster, INPUT, &first).await;
    wait_for("first batch processed", Duration::from_secs(60), || {
        store_counts(&streams) == expected_counts(&first)
    })
    .await;
    let commits = streams.metrics().commits;
    wait_for("first batch committed", Duration::from_secs(30), || {
        streams.metrics().commits > commits
    })
    .await;

    let all = clicks(0, 600);
    if inject_first {
        // The fault hits an idle commit; the second batch arrives after the recovery.
        inject(&broker);
        wait_for("the faulty commit", Duration::from_secs(30), || {
            streams.metrics().aborted_commits > 0
        })
        .await;
        produce_clicks(&cluster, INPUT, &all[300..]).await;
    } else {
        produce_clicks(&cluster, INPUT, &all[300..]).await;
        inject(&broker);
    }
    let expected = expected_counts(&all);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let reflected = |store: &BTreeMap<String, u64>| expected.iter().all(|(k, v)| store.get(k).is_some_and(|c| c >= v));
    while !reflected(&store_counts(&streams)) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "records lost after the fault: {:?}",
            streams.metrics()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Let the commit covering the second batch go through (it is the one that fails first).
    let commits = streams.metrics().commits;
    wait_for("a commit after the second batch", Duration::from_secs(60), || {
        streams.metrics().commits > commits + 1
    })
    .await;
    let store = store_counts(&streams);
    let metrics = streams.metrics();
    streams.close().await.expect("close");
    Outcome {
        store,
        max_emitted: max_emitted(&cluster).await,
        metrics,
        expected,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abortable_commit_error_rolls_state_back_and_reprocesses() {
    // The second batch is processed inside a transaction whose commit (2 s later) fails: a
    // group authorization error on AddOffsetsToTxn makes the transaction abortable.
    let outcome = run_with_fault("eos-abort", Duration::from_secs(2), false, |broker| {
        let TestBroker::Mock(mock) = broker else { unreachable!() };
        mock.inject_request_errors(
            RDKafkaApiKey::AddOffsetsToTxn,
            &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED],
        )
        .expect("inject");
    })
    .await;
    assert!(
        outcome.metrics.aborted_commits >= 1,
        "a commit was aborted: {:?}",
        outcome.metrics
    );
    assert!(
        outcome.metrics.records_processed > 600,
        "the rolled-back records were processed again"
    );
    assert_eq!(
        outcome.store, outcome.expected,
        "state rolled back: nothing counted twice"
    );
    assert_eq!(
        outcome.max_emitted, outcome.expected,
        "no window was ever emitted past its true count"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fenced_producer_is_replaced_and_nothing_is_lost_or_doubled() {
    let outcome = run_with_fault("eos-fenced", Duration::from_millis(200), true, |broker| {
        let TestBroker::Mock(mock) = broker else { unreachable!() };
        mock.inject_request_errors(
            RDKafkaApiKey::EndTxn,
            &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_PRODUCER_FENCED],
        )
        .expect("inject");
    })
    .await;
    assert!(
        outcome.metrics.aborted_commits >= 1,
        "the fenced commit failed: {:?}",
        outcome.metrics
    );
    // The thread closed its tasks, replaced its producer and rejoined; the reopened tasks resume
    // from their checkpoints (the mock stores no transactional offsets, so this also shows the
    // checkpointed input positions at work).
    assert_eq!(
        outcome.store, outcome.expected,
        "nothing lost and nothing counted twice"
    );
    assert_eq!(
        outcome.max_emitted, outcome.expected,
        "no window was ever emitted past its true count"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_under_exactly_once_keeps_the_local_store() {
    let broker = setup().await;
    let cluster = broker.cluster();
    let dir = tempfile::tempdir().expect("tempdir");
    let topology = || click_count_topology(INPUT, OUTPUT, STORE);
    let first = clicks(0, 300);
    produce_clicks(&cluster, INPUT, &first).await;
    let streams = KafkaStreams::start_on(topology(), eos_config("eos-crash", dir.path()), cluster.clone())
        .await
        .expect("start");
    wait_for("committed", Duration::from_secs(60), || {
        store_counts(&streams) == expected_counts(&first)
    })
    .await;
    let commits = streams.metrics().commits;
    wait_for("one more commit", Duration::from_secs(10), || {
        streams.metrics().commits > commits
    })
    .await;
    streams.kill().await.expect("crash");

    // Kafka Streams wipes local state after a crash under EOS and restores it all; here the
    // store holds exactly its committed state and offset, so nothing is replayed.
    let streams = KafkaStreams::start_on(topology(), eos_config("eos-crash", dir.path()), cluster.clone())
        .await
        .expect("restart");
    wait_for("owns all tasks", Duration::from_secs(30), || {
        streams.active_tasks().len() == 3
    })
    .await;
    assert_eq!(
        streams.metrics().records_restored,
        0,
        "no wipe-and-restore after the crash"
    );
    let all = clicks(0, 450);
    produce_clicks(&cluster, INPUT, &all[300..]).await;
    wait_for("exact counts after restart", Duration::from_secs(60), || {
        store_counts(&streams) == expected_counts(&all)
    })
    .await;
    streams.close().await.expect("close");
}

/// Two instances on one `state.dir` would share its process id — one `transactional.id`, so they
/// fence each other — and wipe each other's stores: the second is refused with a message saying
/// why, and the first keeps running. In one process on the mock (the lock is an OS file lock,
/// which treats two opens in one process like two processes); once the first closed, the
/// directory is free again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_instance_on_the_same_state_dir_is_refused() {
    let start = |cluster: &kafka_streams::kafka::KafkaCluster, dir: &std::path::Path| {
        KafkaStreams::start_on(
            click_count_topology(INPUT, OUTPUT, STORE),
            eos_config("shared-dir", dir),
            cluster.clone(),
        )
    };
    let broker = setup().await;
    let cluster = broker.cluster();
    let dir = tempfile::tempdir().expect("tempdir");
    produce_clicks(&cluster, INPUT, &clicks(0, 50)).await;
    let first = start(&cluster, dir.path()).await.expect("first instance");
    let refused = start(&cluster, dir.path())
        .await
        .err()
        .expect("the second instance is refused");
    assert_eq!(refused.kind(), kafka_streams::ErrorKind::Config);
    assert!(
        refused.report().to_string().contains("is in use by another instance"),
        "{refused}"
    );
    run_until_processed_and_committed(&first, 50).await;
    assert!(!first.is_stopped(), "the first instance runs on");
    first.close().await.expect("close");

    let again = start(&cluster, dir.path()).await.expect("free once the first closed");
    again.close().await.expect("close");
}

/// Records waiting in a multi-partition task's merge queue are not processed, so they are not
/// covered by any commit: when a commit fails and the task rolls back, the consumer must read
/// them again. A merge of two topics waits (`max.task.idle.ms` 60 s) with one record from
/// `right` queued behind the processed one from `left` when the commit is made to fail; after
/// the rollback every record is counted exactly once. The mock, because the fault is injected
/// into the broker's answer to AddOffsetsToTxn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_waiting_in_a_merge_survive_a_rolled_back_commit() {
    use kafka_streams::codec::{Json, Utf8};
    use kafka_streams::topology::{Consumed, Materialized, StreamsBuilder};

    init_logging();
    let broker = TestBroker::mock().expect("mock cluster");
    for topic in ["left", "right", "merged-counts"] {
        broker.create_topic(topic, 1).await.expect("topic");
    }
    let cluster = broker.cluster();
    let builder = StreamsBuilder::new();
    let left = builder.stream_with::<String, Click>("left", Consumed::new(Utf8, Json));
    let right = builder.stream_with::<String, Click>("right", Consumed::new(Utf8, Json));
    left.merge(&right)
        .group_by_key()
        .count(Materialized::named("merged"))
        .to_stream()
        .to_with("merged-counts", Utf8, Json);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = StreamsConfig::builder("merge-rollback")
        .state_dir(dir.path())
        .processing_guarantee(ProcessingGuarantee::ExactlyOnceV2)
        .commit_interval(Duration::from_millis(300))
        .max_task_idle(Some(Duration::from_secs(60)))
        .build()
        .expect("config");
    let streams = KafkaStreams::start_on(builder.build().expect("topology"), config, cluster.clone())
        .await
        .expect("start");

    // `left` goes first (earlier timestamp); `right`'s record then waits for `left`.
    let (first_left, first_right) = (clicks(0, 1), clicks(1, 1));
    produce_clicks(&cluster, "left", &first_left).await;
    produce_clicks(&cluster, "right", &first_right).await;
    wait_for("the left record processed", Duration::from_secs(30), || {
        streams.metrics().records_processed == 1
    })
    .await;
    let TestBroker::Mock(mock) = &broker else {
        unreachable!()
    };
    mock.inject_request_errors(
        RDKafkaApiKey::AddOffsetsToTxn,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED],
    )
    .expect("inject");
    wait_for("the commit rolled back", Duration::from_secs(30), || {
        streams.metrics().aborted_commits > 0
    })
    .await;

    // Interleaved timestamps; `left`'s last record is the newest, so it alone is left waiting.
    let more_left = clicks(2, 40);
    let more_right = clicks(42, 40);
    let last_left = vec![Click {
        user_id: "user-last".to_owned(),
        timestamp_ms: START_MS + 1_000_000,
    }];
    produce_clicks(&cluster, "right", &more_right).await;
    produce_clicks(&cluster, "left", &more_left).await;
    produce_clicks(&cluster, "left", &last_left).await;

    let counted: Vec<Click> = [first_left, first_right, more_left, more_right].concat();
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for click in &counted {
        *expected.entry(click.user_id.clone()).or_default() += 1;
    }
    let store = || -> BTreeMap<String, u64> {
        streams
            .key_value_store::<String, u64>("merged")
            .expect("store")
            .into_iter()
            .flat_map(|(_, s)| s.all().expect("scan"))
            .collect()
    };
    wait_for("every record but the newest counted", Duration::from_secs(60), || {
        store() == expected
    })
    .await;
    let commits = streams.metrics().commits;
    wait_for("a commit", Duration::from_secs(30), || {
        streams.metrics().commits > commits
    })
    .await;
    assert_eq!(
        store(),
        expected,
        "each record counted once; the newest still waits for `right`"
    );
    streams.close().await.expect("close");
}
