//! What a managed cluster (Confluent Cloud, MSK, Aiven) asks of a client: TLS, SASL credentials
//! and zstd-compressed topics. On Apache Kafka, because the listener, the SCRAM credentials and
//! the codec are the broker's: a `SASL_SSL` listener with a certificate the test makes
//! (`keytool`) and SCRAM users written at format time (`kafka-storage format --add-scram`).

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use streams_runtime::KafkaStreams;
use streams_runtime::config::ProcessingGuarantee;
use streams_runtime::kafka::KafkaCluster;
use streams_runtime::testing::TestBroker;

const INPUT: &str = "clicks";
const OUTPUT: &str = "counts";
const STORE: &str = "click-counts";

/// Runs the windowed click count over `cluster` until every click is in the store and
/// committed; returns the store.
async fn count_over(cluster: &KafkaCluster, app: &str, clicks: &[Click]) -> BTreeMap<String, u64> {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = app_config(
        app,
        dir.path(),
        ProcessingGuarantee::ExactlyOnceV2,
        Duration::from_millis(200),
    );
    let streams = KafkaStreams::start_on(click_count_topology(INPUT, OUTPUT, STORE), config, cluster.clone())
        .await
        .expect("start");
    run_until_processed_and_committed(&streams, clicks.len() as u64).await;
    let store = window_store_counts(&streams, STORE);
    assert_eq!(
        streams.metrics().records_skipped,
        0,
        "no record failed to decode or decompress"
    );
    streams.close().await.expect("close");
    store
}

/// zstd is on by default: a zstd-compressed input is consumed. librdkafka built without it (as
/// before, or `--no-default-features`) can neither write nor read such a topic: "libzstd not
/// available at build time".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zstd_compressed_topic_is_consumed() {
    let broker = kafka_with_topics(INPUT, OUTPUT).await;
    let cluster = broker.cluster();
    let clicks = clicks(0, 500);
    produce_clicks_compressed(&cluster, INPUT, &clicks, "zstd").await;
    assert_eq!(
        count_over(&cluster, "zstd-app", &clicks).await,
        expected_counts(&clicks)
    );
}

/// The whole application — admin calls for internal topics, group consumers, the transactional
/// producer, restore and membership clients — over `SASL_SSL` with SCRAM-SHA-256, the
/// certificate verified; the input is zstd-compressed. A wrong password fails the start with a
/// message saying so, instead of hanging.
#[cfg(feature = "ssl")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_runs_over_sasl_ssl_with_scram() {
    init_logging();
    let broker =
        TestBroker::kafka_sasl_ssl(&[("alice", "alice-secret")]).expect("Apache Kafka broker (scripts/setup.sh)");
    for topic in [INPUT, OUTPUT] {
        broker.create_topic(topic, 3).await.expect("topic");
    }
    let TestBroker::Kafka(kafka) = &broker else {
        unreachable!()
    };
    let listener = kafka.sasl_ssl().expect("a SASL_SSL listener");
    let secured = listener.cluster("alice", "alice-secret");
    let clicks = clicks(0, 300);
    produce_clicks_compressed(&secured, INPUT, &clicks, "zstd").await;
    assert_eq!(
        count_over(&secured, "secured-app", &clicks).await,
        expected_counts(&clicks)
    );
    let counts = read_all(&secured, OUTPUT).await;
    assert!(!counts.is_empty(), "the output is readable over SASL_SSL");

    let wrong = listener.cluster("alice", "not-the-password");
    let dir = tempfile::tempdir().expect("tempdir");
    let config = app_config(
        "refused-app",
        dir.path(),
        ProcessingGuarantee::AtLeastOnce,
        Duration::from_millis(200),
    );
    let started = tokio::time::timeout(
        Duration::from_secs(90),
        KafkaStreams::start_on(click_count_topology(INPUT, OUTPUT, STORE), config, wrong),
    )
    .await
    .expect("a wrong password fails the start, it does not hang");
    let error = started.err().expect("refused").to_string();
    assert!(error.to_lowercase().contains("authentication"), "{error}");
}
