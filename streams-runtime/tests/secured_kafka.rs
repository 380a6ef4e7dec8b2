//! What a managed cluster (Confluent Cloud, MSK, Aiven) asks of a client: TLS, SASL credentials
//! and zstd-compressed topics. On Apache Kafka, because the listener, the SCRAM credentials and
//! the codec are the broker's: a `SASL_SSL` listener with a certificate the test makes
//! (`keytool`) and SCRAM users written at format time (`kafka-storage format --add-scram`).

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use kafka_streams::KafkaStreams;
use kafka_streams::config::ProcessingGuarantee;
use kafka_streams::kafka::KafkaCluster;
#[cfg(feature = "ssl")]
use kafka_streams::testing::TestBroker;

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
    let store = window_counts(&streams, STORE);
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
    let error = started.err().expect("refused").report().to_string();
    assert!(error.to_lowercase().contains("authentication"), "{error}");
}

/// How long the OAUTHBEARER test's tokens live: the broker ends each session when its token
/// expires, so the run below outlives several tokens.
#[cfg(feature = "ssl")]
const TOKEN_LIFETIME: Duration = Duration::from_secs(6);

/// The whole application over `SASL_SSL` with SASL/OAUTHBEARER tokens from the application's
/// [`kafka_streams::kafka::TokenProvider`] (the hook MSK IAM and OIDC providers plug into).
/// Apache Kafka, because token validation and session expiry are the broker's: its unsecured
/// validator checks each token's expiry, and `connections.max.reauth.ms` ends a session when its
/// token expires, so a client that does not get fresh tokens from the provider loses its
/// connections. Clicks arrive in three batches over more than three token lifetimes; each batch
/// must be counted and committed. A provider that fails makes the start fail with its message; a
/// provider without `sasl.mechanism=OAUTHBEARER` is refused as a configuration error.
#[cfg(feature = "ssl")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_runs_over_sasl_ssl_with_oauthbearer_tokens_it_refreshes() {
    use kafka_streams::kafka::{OAuthToken, TokenError};
    use kafka_streams::testing::unsecured_token;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    init_logging();
    let broker = TestBroker::kafka_sasl_ssl(&[]).expect("Apache Kafka broker (scripts/setup.sh)");
    for topic in [INPUT, OUTPUT] {
        broker.create_topic(topic, 3).await.expect("topic");
    }
    let TestBroker::Kafka(kafka) = &broker else {
        unreachable!()
    };
    let listener = kafka.sasl_ssl().expect("a SASL_SSL listener");
    let issued = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&issued);
    let secured = listener.oauth_cluster(move |_: Option<&str>| -> Result<OAuthToken, TokenError> {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(unsecured_token("alice", TOKEN_LIFETIME))
    });

    let dir = tempfile::tempdir().expect("tempdir");
    let config = app_config(
        "oauth-app",
        dir.path(),
        ProcessingGuarantee::ExactlyOnceV2,
        Duration::from_millis(200),
    );
    let streams = KafkaStreams::start_on(click_count_topology(INPUT, OUTPUT, STORE), config, secured.clone())
        .await
        .expect("start over OAUTHBEARER");
    let issued_at_start = issued.load(Ordering::SeqCst);
    let all = clicks(0, 300);
    for (i, batch) in all.chunks(100).enumerate() {
        tokio::time::sleep(TOKEN_LIFETIME + Duration::from_secs(1)).await;
        // Written over the plaintext listener: the app's own clients are what is under test.
        produce_clicks(&broker.cluster(), INPUT, batch).await;
        run_until_processed_and_committed(&streams, (i as u64 + 1) * 100).await;
    }
    assert_eq!(window_counts(&streams, STORE), expected_counts(&all));
    let refreshed = issued.load(Ordering::SeqCst) - issued_at_start;
    streams.close().await.expect("close");
    assert!(
        refreshed > 0,
        "clients asked the provider for fresh tokens while running (issued {issued_at_start} at start)"
    );
    // The test reader authenticates through the same provider.
    assert_eq!(latest_counts(&read_all(&secured, OUTPUT).await), expected_counts(&all));

    let failing = listener.oauth_cluster(|_: Option<&str>| -> Result<OAuthToken, TokenError> {
        Err("identity provider unreachable".into())
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let config = app_config(
        "no-token-app",
        dir.path(),
        ProcessingGuarantee::AtLeastOnce,
        Duration::from_millis(200),
    );
    let error = KafkaStreams::start_on(click_count_topology(INPUT, OUTPUT, STORE), config.clone(), failing)
        .await
        .err()
        .expect("no token, no start")
        .report()
        .to_string();
    assert!(error.contains("identity provider unreachable"), "{error}");

    let scram_with_provider = listener
        .cluster("alice", "unused")
        .with_token_provider(|_: Option<&str>| -> Result<OAuthToken, TokenError> { Err("never asked".into()) });
    let error = KafkaStreams::start_on(click_count_topology(INPUT, OUTPUT, STORE), config, scram_with_provider)
        .await
        .err()
        .expect("a provider without OAUTHBEARER is a configuration error");
    assert_eq!(error.kind(), kafka_streams::ErrorKind::Config, "{error}");
    assert!(error.report().to_string().contains("OAUTHBEARER"), "{error}");
}
