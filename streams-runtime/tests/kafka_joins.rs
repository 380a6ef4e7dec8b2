//! Joins through internal topics, records in → records out on Apache Kafka under exactly-once v2:
//! a stream-stream join with a repartitioned input, and a foreign-key join whose subscription and
//! response topics connect tasks of differently partitioned tables. Apache Kafka, because these
//! paths produce to and read from internal topics inside transactions, which only a real broker
//! runs (the mock shows aborted records; the test driver has no network).

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{
    ad_views_and_buys, conversion_topology, expected_conversions, init_logging, produce_text as produce, read_all,
    text_values as values, wait_for,
};
use kafka_streams::KafkaStreams;
use kafka_streams::codec::{Json, Utf8};
use kafka_streams::config::{ProcessingGuarantee, StreamsConfig};
use kafka_streams::testing::TestBroker;
use kafka_streams::topology::{Consumed, StreamsBuilder};
use kafka_streams::window::JoinWindows;

const ADS: u32 = 30;

/// Starts `builder`'s topology as `app` under exactly-once v2, committing every 200 ms.
async fn start_exactly_once(
    app: &str,
    builder: StreamsBuilder,
    cluster: &kafka_streams::kafka::KafkaCluster,
    state_dir: &std::path::Path,
) -> KafkaStreams {
    let config = StreamsConfig::builder(app)
        .state_dir(state_dir)
        .commit_interval(Duration::from_millis(200))
        .processing_guarantee(ProcessingGuarantee::ExactlyOnceV2)
        .build()
        .expect("config");
    KafkaStreams::start_on(builder.build().expect("topology"), config, cluster.clone())
        .await
        .expect("start")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn impressions_rekeyed_and_joined_with_clicks_on_apache_kafka() {
    init_logging();
    let broker = TestBroker::kafka().expect("Apache Kafka broker (install: scripts/setup.sh)");
    let cluster = broker.cluster();
    for topic in ["impressions", "ad-clicks", "attributed"] {
        broker.create_topic(topic, 3).await.expect("topic");
    }
    let builder = StreamsBuilder::new();
    // Impressions arrive keyed by user; the join is by ad, so they go through a repartition topic.
    let impressions = builder
        .stream_with("impressions", Consumed::new(Utf8, Json))
        .map(|user: String, ad: String| (ad, user));
    let clicks = builder.stream_with("ad-clicks", Consumed::new(Utf8, Json));
    impressions
        .join_stream(
            &clicks,
            JoinWindows::of(Duration::from_secs(60)),
            "attribution",
            |ad, user: &String, click: &String| format!("{ad}:{user}:{click}"),
        )
        .to_with("attributed", Utf8, Utf8);
    let dir = tempfile::tempdir().expect("tempdir");
    let streams = start_exactly_once("attribution-app", builder, &cluster, dir.path()).await;

    let base = 1_704_448_800_000;
    let impressions: Vec<(String, String, i64)> = (0..ADS)
        .map(|i| (format!("user-{i}"), format!("ad-{i}"), base + i64::from(i) * 1_000))
        .collect();
    let clicks: Vec<(String, String, i64)> = (0..ADS)
        .map(|i| {
            (
                format!("ad-{i}"),
                format!("click-{i}"),
                base + i64::from(i) * 1_000 + 500,
            )
        })
        .collect();
    produce(&cluster, "impressions", &impressions).await;
    produce(&cluster, "ad-clicks", &clicks).await;

    let expected: BTreeSet<String> = (0..ADS).map(|i| format!("ad-{i}:user-{i}:click-{i}")).collect();
    let mut got = BTreeSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while got != expected && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        got = values(&cluster, "attributed").await.into_iter().collect();
    }
    assert_eq!(got, expected, "every impression joined with its click, once each");
    wait_for("no record skipped", Duration::from_secs(1), || {
        streams.metrics().records_skipped == 0
    })
    .await;
    streams.close().await.expect("close");
}

/// A foreign-key join of two tables that are not co-partitioned (2 and 3 partitions): the
/// subscription and response topics carry the join between their tasks on a real broker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_joined_with_products_by_foreign_key_on_apache_kafka() {
    init_logging();
    let broker = TestBroker::kafka().expect("Apache Kafka broker (install: scripts/setup.sh)");
    let cluster = broker.cluster();
    for (topic, partitions) in [("orders", 2), ("products", 3), ("order-lines", 2)] {
        broker.create_topic(topic, partitions).await.expect("topic");
    }
    let builder = StreamsBuilder::new();
    let orders = builder.table_with(
        "orders",
        Consumed::new(Utf8, Json),
        kafka_streams::topology::Materialized::named("orders"),
    );
    let products = builder.table_with(
        "products",
        Consumed::new(Utf8, Json),
        kafka_streams::topology::Materialized::named("products"),
    );
    orders
        .join_foreign_key(
            &products,
            |product: &String| product.clone(),
            |product: &String, name: &String| format!("{product}:{name}"),
            "order-lines",
        )
        .to_stream()
        .to_with("order-lines", Utf8, Utf8);
    let dir = tempfile::tempdir().expect("tempdir");
    let streams = start_exactly_once("shop-app", builder, &cluster, dir.path()).await;

    let products: Vec<(String, String, i64)> = (0..10).map(|i| (format!("p{i}"), format!("name-{i}"), 1)).collect();
    let orders: Vec<(String, String, i64)> = (0..20).map(|i| (format!("o{i}"), format!("p{}", i % 10), 2)).collect();
    produce(&cluster, "products", &products).await;
    produce(&cluster, "orders", &orders).await;
    let lines = |expected: std::collections::BTreeMap<String, String>| {
        let cluster = cluster.clone();
        async move {
            let mut got = std::collections::BTreeMap::new();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
            while got != expected && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(500)).await;
                got.clear();
                for (key, value) in read_all(&cluster, "order-lines").await {
                    match value {
                        Some(v) => got.insert(key, String::from_utf8_lossy(&v).into_owned()),
                        None => got.remove(&key),
                    };
                }
            }
            (got, expected)
        }
    };
    let expected = |renamed: Option<&str>| {
        (0..20)
            .map(|i| {
                let name = match (i % 10, renamed) {
                    (0, Some(name)) => name.to_owned(),
                    (p, _) => format!("name-{p}"),
                };
                (format!("o{i}"), format!("p{}:{name}", i % 10))
            })
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let (got, want) = lines(expected(None)).await;
    assert_eq!(got, want, "every order joined with its product");
    // Renaming a product re-joins the orders referring to it, and only those.
    produce(&cluster, "products", &[("p0".to_owned(), "renamed".to_owned(), 3)]).await;
    let (got, want) = lines(expected(Some("renamed"))).await;
    assert_eq!(got, want, "o0 and o10 follow p0's new name");
    streams.close().await.expect("close");
}

/// Both sides of a join are a backlog when the application starts (produced before it, spanning
/// 40 minutes of event time; the join window is 10 s with no grace). librdkafka hands out one
/// partition's fetched batch before the other's: processed as polled, the first side moved the
/// join's stream time to its last record and every record of the other side was then too late
/// and dropped, where Kafka Streams joins all of them. Records of a task that reads several
/// partitions are now processed lowest timestamp first (waiting while a partition is behind:
/// `max.task.idle.ms` 0): every pair joins and nothing is dropped as late. Apache Kafka, because
/// the order and batching of fetched records is the broker's and librdkafka's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_on_both_sides_of_a_join_is_merged_by_timestamp_on_apache_kafka() {
    init_logging();
    const PAIRS: i64 = 2_400;
    let broker = TestBroker::kafka().expect("Apache Kafka broker (install: scripts/setup.sh)");
    let cluster = broker.cluster();
    for topic in ["views", "buys", "conversions"] {
        broker.create_topic(topic, 2).await.expect("topic");
    }
    let (views, buys) = ad_views_and_buys(PAIRS);
    produce(&cluster, "views", &views).await;
    produce(&cluster, "buys", &buys).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = StreamsConfig::builder("conversion-app")
        .state_dir(dir.path())
        .commit_interval(Duration::from_millis(200))
        .build()
        .expect("config");
    let streams = KafkaStreams::start_on(conversion_topology(), config, cluster.clone())
        .await
        .expect("start");

    let expected = expected_conversions(PAIRS);
    wait_for("both backlogs processed", Duration::from_secs(90), || {
        streams.metrics().records_processed >= 2 * PAIRS as u64
    })
    .await;
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while got.len() < expected.len() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(300)).await;
        got = values(&cluster, "conversions").await;
    }
    let metrics = streams.metrics();
    assert_eq!(metrics.dropped_late_records, 0, "no record of either backlog is late");
    assert_eq!(
        got.len(),
        expected.len(),
        "one output per pair, none missing or repeated"
    );
    assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), expected);
    streams.close().await.expect("close");
}
