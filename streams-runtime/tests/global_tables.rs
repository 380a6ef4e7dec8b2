//! Global tables: on the test driver (semantics: lookup by a computed key, no co-partitioning,
//! updates and deletes seen by later records), on the mock cluster (the global thread
//! bootstraps the table before any record is processed, then follows its topic), and on Apache
//! Kafka for what only a real broker shows: aborted transactions stay out of the table.

mod common;

use std::time::Duration;

use common::{app_config, init_logging, read_all, wait_for};
use kafka_streams::KafkaStreams;
use kafka_streams::codec::{Bytes, Json, Utf8};
use kafka_streams::config::{ProcessingGuarantee, StreamsConfig};
use kafka_streams::testing::{TestBroker, TestDriver, TestRecord, TopicWriter};
use kafka_streams::topology::{Consumed, StreamsBuilder, Topology};
use rdkafka::producer::{FutureProducer, FutureRecord};

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Order {
    product: String,
    qty: u32,
}

/// Orders (keyed by order id, 3 partitions) enriched with product names from a global table
/// (1 partition): inner join to `named-orders`, left join to `maybe-named-orders`.
fn topology() -> Topology {
    let builder = StreamsBuilder::new();
    let products = builder.global_table_with("products", Consumed::new(Utf8, Utf8), "products");
    let orders = builder.stream_with("orders", Consumed::new(Utf8, Json));
    orders
        .join_global(
            &products,
            |_, o: &Order| o.product.clone(),
            |id, o, name: &String| format!("{id}:{}x{name}", o.qty),
        )
        .to_with("named-orders", Utf8, Utf8);
    orders
        .left_join_global(
            &products,
            |_, o: &Order| o.product.clone(),
            |id, o, name: Option<&String>| format!("{id}:{}x{}", o.qty, name.map_or("?", String::as_str)),
        )
        .to_with("maybe-named-orders", Utf8, Utf8);
    builder.build().expect("topology")
}

fn order(product: &str, qty: u32) -> Order {
    Order {
        product: product.to_owned(),
        qty,
    }
}

#[test]
fn stream_records_look_up_a_computed_key_in_the_global_table() {
    let config = StreamsConfig::builder("shop").build().expect("config");
    let driver = TestDriver::builder(topology(), config)
        .partitions(3)
        .topic_partitions("products", 1)
        .build()
        .expect("driver");
    let products = driver
        .input_topic_with::<String, String>("products", Utf8, Utf8)
        .expect("input");
    let orders = driver
        .input_topic_with::<String, Order>("orders", Utf8, Json)
        .expect("input");
    products.pipe("p1".into(), "lamp".into()).expect("pipe");
    products.pipe("p2".into(), "desk".into()).expect("pipe");
    orders.pipe("o1".into(), order("p1", 2)).expect("pipe");
    orders.pipe("o2".into(), order("p9", 1)).expect("pipe");
    // An update and a delete are seen by the records after them, on every partition.
    products.pipe("p1".into(), "led lamp".into()).expect("pipe");
    products.pipe_record(TestRecord::tombstone("p2".into())).expect("pipe");
    orders.pipe("o3".into(), order("p1", 1)).expect("pipe");
    orders.pipe("o4".into(), order("p2", 5)).expect("pipe");

    let sorted = |topic: &str| {
        let mut values = driver
            .output_topic_with::<String, String>(topic, Utf8, Utf8)
            .read_values()
            .expect("read");
        values.sort();
        values
    };
    assert_eq!(sorted("named-orders"), ["o1:2xlamp", "o3:1xled lamp"]);
    assert_eq!(
        sorted("maybe-named-orders"),
        ["o1:2xlamp", "o2:1x?", "o3:1xled lamp", "o4:5x?"]
    );
    // The global store is one full copy.
    let stores = driver.key_value_store::<String, String>("products").expect("store");
    assert_eq!(stores.len(), 1);
    assert_eq!(
        stores[0].1.all().expect("all"),
        [("p1".to_owned(), "led lamp".to_owned())]
    );
}

/// The shop's topics: `products` (the global table's) with `products_partitions`, the others 3.
async fn create_topics(broker: &TestBroker, products_partitions: i32) {
    for (topic, partitions) in [
        ("products", products_partitions),
        ("orders", 3),
        ("named-orders", 3),
        ("maybe-named-orders", 3),
    ] {
        broker.create_topic(topic, partitions).await.expect("topic");
    }
}

/// Every row of the global store, sorted.
fn global_products(streams: &KafkaStreams) -> Vec<(String, String)> {
    let mut products: Vec<(String, String)> = streams
        .key_value_store::<String, String>("products")
        .expect("store")
        .iter()
        .flat_map(|(_, s)| s.all().expect("all"))
        .collect();
    products.sort();
    products
}

/// The values of `topic` (`read_committed`), sorted, once there are `at_least` of them or after
/// `attempts` reads 250 ms apart.
async fn sorted_values(
    cluster: &kafka_streams::kafka::KafkaCluster,
    topic: &str,
    at_least: usize,
    attempts: usize,
) -> Vec<String> {
    let mut values = Vec::new();
    for _ in 0..attempts {
        values = read_all(cluster, topic)
            .await
            .into_iter()
            .filter_map(|(_, v)| v.map(|v| String::from_utf8_lossy(&v).into_owned()))
            .collect();
        values.sort();
        if values.len() >= at_least {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    values
}

/// Starts the shop topology as `app` on `cluster` with its state in `state` (commit every 200 ms).
async fn start_shop(
    cluster: &kafka_streams::kafka::KafkaCluster,
    app: &str,
    state: &std::path::Path,
    guarantee: ProcessingGuarantee,
) -> kafka_streams::Result<KafkaStreams> {
    let config = app_config(app, state, guarantee, Duration::from_millis(200));
    KafkaStreams::start_on(topology(), config, cluster.clone()).await
}

async fn produce(cluster: &kafka_streams::kafka::KafkaCluster, topic: &str, key: &str, value: &[u8]) {
    TopicWriter::new(cluster, topic, Utf8, Bytes)
        .expect("writer")
        .send(&key.to_owned(), Some(&value.to_vec()), None)
        .await
        .expect("record written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_global_thread_bootstraps_then_follows_the_topic() {
    let broker = TestBroker::mock().expect("mock cluster");
    let cluster = broker.cluster();
    create_topics(&broker, 2).await;
    // Present before the application starts: bootstrapped before any order is joined.
    produce(&cluster, "products", "p1", b"lamp").await;
    produce(
        &cluster,
        "orders",
        "o1",
        &serde_json::to_vec(&order("p1", 2)).expect("json"),
    )
    .await;
    let state = tempfile::tempdir().expect("state");
    let streams = start_shop(&cluster, "shop", state.path(), ProcessingGuarantee::AtLeastOnce)
        .await
        .expect("start");
    wait_for("the first order", Duration::from_secs(30), || {
        streams.metrics().records_processed >= 1
    })
    .await;
    // Added while running: the global thread applies it; a later order sees it.
    produce(&cluster, "products", "p2", b"desk").await;
    wait_for("the global thread to apply p2", Duration::from_secs(30), || {
        streams
            .key_value_store::<String, String>("products")
            .ok()
            .and_then(|stores| stores.first().and_then(|(_, s)| s.get(&"p2".to_owned()).ok().flatten()))
            .is_some()
    })
    .await;
    produce(
        &cluster,
        "orders",
        "o2",
        &serde_json::to_vec(&order("p2", 3)).expect("json"),
    )
    .await;
    let named = sorted_values(&cluster, "named-orders", 2, 60).await;
    assert_eq!(named, ["o1:2xlamp", "o2:3xdesk"]);
    streams.close().await.expect("close");

    // Restarted on the same state directory: the global store comes back from its checkpoint
    // and only what the topic gained meanwhile is read.
    produce(&cluster, "products", "p3", b"chair").await;
    let streams = start_shop(&cluster, "shop", state.path(), ProcessingGuarantee::AtLeastOnce)
        .await
        .expect("restart");
    assert_eq!(streams.metrics().records_restored, 1, "only p3 was read at the restart");
    let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    assert_eq!(
        global_products(&streams),
        [pair("p1", "lamp"), pair("p2", "desk"), pair("p3", "chair")]
    );
    streams.close().await.expect("close");

    // A checkpoint that does not fit the topic (here: the topic's data is gone, as after it was
    // recreated) rebuilds the store from what the topic has.
    let broker = TestBroker::mock().expect("another mock cluster");
    let cluster = broker.cluster();
    create_topics(&broker, 2).await;
    produce(&cluster, "products", "p9", b"sofa").await;
    let streams = start_shop(&cluster, "shop", state.path(), ProcessingGuarantee::AtLeastOnce)
        .await
        .expect("restart on another cluster");
    assert_eq!(global_products(&streams), [pair("p9", "sofa")]);
    streams.close().await.expect("close");
}

/// Products in one producer transaction, committed or aborted (a transactional writer's rollback).
async fn produce_in_transaction(cluster: &kafka_streams::kafka::KafkaCluster, records: &[(&str, &str)], commit: bool) {
    use rdkafka::producer::Producer;
    let producer: FutureProducer = cluster
        .client_config()
        .set("transactional.id", format!("products-writer-{commit}"))
        .create()
        .expect("transactional producer");
    let timeout = Duration::from_secs(30);
    producer.init_transactions(timeout).expect("init transactions");
    producer.begin_transaction().expect("begin");
    for (key, value) in records {
        producer
            .send(FutureRecord::to("products").key(*key).payload(*value), timeout)
            .await
            .map_err(|(e, _)| e)
            .expect("sent");
    }
    if commit {
        producer.commit_transaction(timeout).expect("commit");
    } else {
        producer.abort_transaction(timeout).expect("abort");
    }
}

/// Under exactly-once the global table holds only committed records, at bootstrap and while the
/// global thread follows the topic: an aborted product never appears, and no order joins it.
/// Apache Kafka, because only a real broker filters aborted records for `read_committed`
/// (the mock returns them). The oracle is the list of committed writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_exactly_once_the_global_table_skips_aborted_records() {
    init_logging();
    let broker = TestBroker::kafka().expect("Apache Kafka broker (install: scripts/setup.sh)");
    let cluster = broker.cluster();
    create_topics(&broker, 1).await;
    produce_in_transaction(&cluster, &[("p1", "ghost lamp")], false).await;
    produce_in_transaction(&cluster, &[("p2", "desk")], true).await;
    let state = tempfile::tempdir().expect("state");
    let streams = start_shop(&cluster, "shop-eos", state.path(), ProcessingGuarantee::ExactlyOnceV2)
        .await
        .expect("start");
    let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    assert_eq!(
        global_products(&streams),
        [pair("p2", "desk")],
        "bootstrapped without the aborted p1"
    );

    produce_in_transaction(&cluster, &[("p3", "ghost chair"), ("p2", "ghost desk")], false).await;
    produce_in_transaction(&cluster, &[("p4", "sofa")], true).await;
    wait_for("the global thread to apply p4", Duration::from_secs(60), || {
        global_products(&streams).len() >= 2
    })
    .await;
    assert_eq!(global_products(&streams), [pair("p2", "desk"), pair("p4", "sofa")]);
    for (id, product) in [("o1", "p1"), ("o2", "p2"), ("o3", "p3")] {
        produce(
            &cluster,
            "orders",
            id,
            &serde_json::to_vec(&order(product, 1)).expect("json"),
        )
        .await;
    }
    let maybe_named = sorted_values(&cluster, "maybe-named-orders", 3, 120).await;
    assert_eq!(maybe_named, ["o1:1x?", "o2:1xdesk", "o3:1x?"]);
    streams.close().await.expect("close");
}
