//! Helpers shared by the runtime's integration tests: input, output and an independent oracle.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::time::Duration;

use kafka_streams::codec::{Json, Utf8};
use kafka_streams::kafka::KafkaCluster;
use kafka_streams::state::QueryableStores;
use kafka_streams::testing::TopicWriter;
use kafka_streams::topology::{Consumed, Materialized, StreamsBuilder, Topology};
use kafka_streams::window::TumblingWindows;
use serde::{Deserialize, Serialize};

pub const WINDOW: Duration = Duration::from_secs(300);
/// 2024-01-05T10:00:00Z.
pub const START_MS: i64 = 1_704_448_800_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Click {
    pub user_id: String,
    pub timestamp_ms: i64,
}

/// `n` clicks starting at `first`, 7 users round-robin, one second of event time apart.
pub fn clicks(first: u64, n: u64) -> Vec<Click> {
    (first..first + n)
        .map(|i| Click {
            user_id: format!("user-{}", i % 7),
            timestamp_ms: START_MS + i as i64 * 1_000,
        })
        .collect()
}

/// The windowed click count: `clicks` → per user per 5 minutes → `counts` (`user@start` → n).
pub fn click_count_topology(input: &str, output: &str, store: &str) -> Topology {
    let builder = StreamsBuilder::new();
    builder
        .stream_with(
            input,
            Consumed::new(Utf8, Json).with_timestamp(|_, c: &Click, _| c.timestamp_ms),
        )
        .group_by_key()
        .windowed_by(TumblingWindows::of(WINDOW))
        .count(Materialized::named(store))
        .to_stream()
        .map(|window, count| (window.to_string(), count))
        .to_with(output, Utf8, Json);
    builder.build().expect("valid topology")
}

/// Clicks re-keyed by the minute they happened in and counted: the aggregation reads through
/// the repartition topic `<application.id>-<store>-repartition`.
pub fn per_minute_topology(input: &str, output: &str, store: &str) -> Topology {
    let builder = StreamsBuilder::new();
    builder
        .stream_with(
            input,
            Consumed::new(Utf8, Json).with_timestamp(|_, c: &Click, _| c.timestamp_ms),
        )
        .group_by(|_, click| (click.timestamp_ms / 60_000).to_string())
        .count(Materialized::named(store))
        .to_stream()
        .to_with(output, Utf8, Json);
    builder.build().expect("valid topology")
}

/// Expected final counts, computed directly from the input.
pub fn expected_counts(clicks: &[Click]) -> BTreeMap<String, u64> {
    let windows = TumblingWindows::of(WINDOW);
    let mut out = BTreeMap::new();
    for c in clicks {
        let w = windows.window_for(c.timestamp_ms);
        let key = kafka_streams::Windowed {
            key: c.user_id.clone(),
            window: w,
        }
        .to_string();
        *out.entry(key).or_default() += 1;
    }
    out
}

pub async fn produce_clicks(cluster: &KafkaCluster, topic: &str, clicks: &[Click]) {
    produce_clicks_compressed(cluster, topic, clicks, "none").await;
}

/// [`produce_clicks`] with the producer's `compression.type` set to `compression`.
pub async fn produce_clicks_compressed(cluster: &KafkaCluster, topic: &str, clicks: &[Click], compression: &str) {
    TopicWriter::with_properties(cluster, topic, Utf8, Json, &[("compression.type", compression)])
        .expect("writer")
        .send_all(clicks.iter().map(|c| (&c.user_id, Some(c), Some(c.timestamp_ms))))
        .await
        .expect("clicks written");
}

/// Every state `streams` passes through from now on, as a watcher of its state changes sees them.
pub fn record_states(
    streams: &kafka_streams::KafkaStreams,
) -> std::sync::Arc<std::sync::Mutex<Vec<kafka_streams::State>>> {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(vec![streams.state()]));
    let mut changes = streams.state_changes();
    let sink = std::sync::Arc::clone(&seen);
    tokio::spawn(async move {
        while changes.changed().await.is_ok() {
            let state = *changes.borrow_and_update();
            sink.lock().expect("states").push(state);
        }
    });
    seen
}

/// Every record of `topic` as (key, value).
pub async fn read_all(cluster: &KafkaCluster, topic: &str) -> Vec<(String, Option<Vec<u8>>)> {
    let records = kafka_streams::testing::read_topic(cluster, topic)
        .await
        .expect("read topic");
    records.into_iter().map(|r| (r.key_str(), r.value)).collect()
}

/// The last value per key of a topic of `key → JSON u64` records.
pub fn latest_counts(records: &[(String, Option<Vec<u8>>)]) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for (key, value) in records {
        if let Some(value) = value {
            out.insert(key.clone(), serde_json::from_slice(value).expect("count"));
        }
    }
    out
}

/// A configuration for tests on a broker: state in `dir`, commits every `interval`.
pub fn app_config(
    app: &str,
    dir: &std::path::Path,
    guarantee: kafka_streams::config::ProcessingGuarantee,
    interval: Duration,
) -> kafka_streams::config::StreamsConfig {
    kafka_streams::config::StreamsConfig::builder(app)
        .state_dir(dir)
        .processing_guarantee(guarantee)
        .commit_interval(interval)
        // A departed member is noticed at its session timeout: seconds, not the default 45 s.
        .kafka_property("consumer.session.timeout.ms", "6000")
        .kafka_property("consumer.heartbeat.interval.ms", "500")
        .build()
        .expect("config")
}

/// A mock cluster with 3-partition `input` and `output` topics.
pub async fn mock_with_topics(input: &str, output: &str) -> kafka_streams::testing::TestBroker {
    init_logging();
    let broker = kafka_streams::testing::TestBroker::mock().expect("mock cluster");
    broker.create_topic(input, 3).await.expect("input topic");
    broker.create_topic(output, 3).await.expect("output topic");
    broker
}

/// An Apache Kafka broker process with 3-partition `input` and `output` topics.
pub async fn kafka_with_topics(input: &str, output: &str) -> kafka_streams::testing::TestBroker {
    init_logging();
    let broker = kafka_streams::testing::TestBroker::kafka().expect("Apache Kafka broker (install: scripts/setup.sh)");
    broker.create_topic(input, 3).await.expect("input topic");
    broker.create_topic(output, 3).await.expect("output topic");
    broker
}

/// Every (key@window → count) in the local partitions of window store `store`, of a running
/// instance or a test driver.
pub fn window_counts(stores: &impl QueryableStores, store: &str) -> BTreeMap<String, u64> {
    stores
        .window_entries::<String, u64>(store, WINDOW.as_millis() as i64)
        .expect("store")
        .into_iter()
        .map(|(windowed, count)| (windowed.to_string(), count))
        .collect()
}

/// Waits until `n` records were processed and a commit after that made their outputs durable.
pub async fn run_until_processed_and_committed(streams: &kafka_streams::KafkaStreams, n: u64) {
    wait_for("all records processed", Duration::from_secs(60), || {
        streams.metrics().records_processed >= n
    })
    .await;
    let commits = streams.metrics().commits;
    wait_for("a commit after processing", Duration::from_secs(30), || {
        streams.metrics().commits > commits
    })
    .await;
}

/// Waits until `done()` holds, failing with `what` after `timeout`.
pub async fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + timeout;
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Logs to the test output when `RUST_LOG` is set.
pub fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// A configuration for the broker-free test driver (temporary state directory).
pub fn driver_config(
    app: &str,
    guarantee: kafka_streams::config::ProcessingGuarantee,
) -> kafka_streams::config::StreamsConfig {
    kafka_streams::config::StreamsConfig::builder(app)
        .processing_guarantee(guarantee)
        .build()
        .expect("config")
}

/// A driver over `topology` with 3 partitions per topic.
pub fn driver(
    topology: Topology,
    app: &str,
    guarantee: kafka_streams::config::ProcessingGuarantee,
) -> kafka_streams::testing::TestDriver {
    init_logging();
    kafka_streams::testing::TestDriver::builder(topology, driver_config(app, guarantee))
        .partitions(3)
        .build()
        .expect("driver")
}

/// Pipes `clicks` keyed by user into `topic`, stamped with their event time.
pub fn pipe_clicks(driver: &kafka_streams::testing::TestDriver, topic: &str, clicks: &[Click]) {
    let input = driver
        .input_topic_with::<String, Click>(topic, Utf8, Json)
        .expect("input topic");
    input
        .pipe_records(
            clicks
                .iter()
                .map(|c| kafka_streams::testing::TestRecord::new(c.user_id.clone(), c.clone()).at(c.timestamp_ms)),
        )
        .expect("pipe");
}

/// An output topic of `key → JSON u64` records.
pub fn count_output(
    driver: &kafka_streams::testing::TestDriver,
    topic: &str,
) -> kafka_streams::testing::OutputTopic<String, u64> {
    driver.output_topic_with(topic, Utf8, Json)
}

/// Records as (key, value, timestamp), the values JSON strings.
pub type TextRecords = Vec<(String, String, i64)>;

/// Writes `records` to `topic` (keys as UTF-8, values as JSON strings, with their timestamps).
pub async fn produce_text(cluster: &KafkaCluster, topic: &str, records: &[(String, String, i64)]) {
    TopicWriter::new(cluster, topic, Utf8, Json)
        .expect("writer")
        .send_all(records.iter().map(|(k, v, ts)| (k, Some(v), Some(*ts))))
        .await
        .expect("records written");
}

/// The values of `topic` as text.
pub async fn text_values(cluster: &KafkaCluster, topic: &str) -> Vec<String> {
    read_all(cluster, topic)
        .await
        .into_iter()
        .filter_map(|(_, v)| v.map(|v| String::from_utf8_lossy(&v).into_owned()))
        .collect()
}

/// `pairs` ad views and as many buys, from [`START_MS`]: each of 60 ads is seen every 60 s and
/// bought 500 ms after each view, so every record has one partner within 10 s.
pub fn ad_views_and_buys(pairs: i64) -> (TextRecords, TextRecords) {
    let record = |i: i64, what: &str, offset_ms: i64| {
        (
            format!("ad-{}", i % 60),
            format!("{what}-{i}"),
            START_MS + i * 1_000 + offset_ms,
        )
    };
    (
        (0..pairs).map(|i| record(i, "view", 0)).collect(),
        (0..pairs).map(|i| record(i, "buy", 500)).collect(),
    )
}

/// `views` joined with `buys` within 10 s (no grace) → `conversions` as `view-i:buy-i`.
pub fn conversion_topology() -> Topology {
    let builder = StreamsBuilder::new();
    let views = builder.stream_with("views", Consumed::new(Utf8, Json));
    let buys = builder.stream_with("buys", Consumed::new(Utf8, Json));
    views
        .join_stream(
            &buys,
            kafka_streams::window::JoinWindows::of(Duration::from_secs(10)),
            "conversion",
            |_, view: &String, buy: &String| format!("{view}:{buy}"),
        )
        .to_with("conversions", Utf8, Utf8);
    builder.build().expect("valid topology")
}

/// What [`conversion_topology`] writes for [`ad_views_and_buys`]: one output per pair.
pub fn expected_conversions(pairs: i64) -> std::collections::BTreeSet<String> {
    (0..pairs).map(|i| format!("view-{i}:buy-{i}")).collect()
}
