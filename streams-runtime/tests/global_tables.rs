//! Global tables: on the test driver (semantics: lookup by a computed key, no co-partitioning,
//! updates and deletes seen by later records) and on the mock cluster (the global thread
//! bootstraps the table before any record is processed, then follows its topic).

mod common;

use std::time::Duration;

use common::{app_config, read_all, wait_for};
use rdkafka::producer::{FutureProducer, FutureRecord};
use streams_runtime::KafkaStreams;
use streams_runtime::codec::{Json, Utf8};
use streams_runtime::config::{ProcessingGuarantee, StreamsConfig};
use streams_runtime::testing::{TestBroker, TestDriver, TestRecord};
use streams_runtime::topology::{Consumed, StreamsBuilder, Topology};

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

async fn produce(cluster: &streams_runtime::kafka::KafkaCluster, topic: &str, key: &str, value: &[u8]) {
    let producer: FutureProducer = cluster.client_config().create().expect("producer");
    producer
        .send(FutureRecord::to(topic).key(key).payload(value), Duration::from_secs(10))
        .await
        .map_err(|(e, _)| e)
        .expect("delivered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_global_thread_bootstraps_then_follows_the_topic() {
    let broker = TestBroker::mock().expect("mock cluster");
    let cluster = broker.cluster();
    for (topic, partitions) in [
        ("products", 2),
        ("orders", 3),
        ("named-orders", 3),
        ("maybe-named-orders", 3),
    ] {
        broker.create_topic(topic, partitions).await.expect("topic");
    }
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
    let config = app_config(
        "shop",
        state.path(),
        ProcessingGuarantee::AtLeastOnce,
        Duration::from_millis(200),
    );
    let streams = KafkaStreams::start_on(topology(), config, cluster.clone())
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
    let mut named = Vec::new();
    for _ in 0..60 {
        named = read_all(&cluster, "named-orders")
            .await
            .into_iter()
            .filter_map(|(_, v)| v.map(|v| String::from_utf8_lossy(&v).into_owned()))
            .collect();
        named.sort();
        if named.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(named, ["o1:2xlamp", "o2:3xdesk"]);
    streams.close().await.expect("close");

    // Restarted on the same state directory: the global store comes back from its checkpoint
    // and only what the topic gained meanwhile is read.
    produce(&cluster, "products", "p3", b"chair").await;
    let config = app_config(
        "shop",
        state.path(),
        ProcessingGuarantee::AtLeastOnce,
        Duration::from_millis(200),
    );
    let streams = KafkaStreams::start_on(topology(), config, cluster.clone())
        .await
        .expect("restart");
    assert_eq!(streams.metrics().records_restored, 1, "only p3 was read at the restart");
    let mut products: Vec<(String, String)> = streams
        .key_value_store::<String, String>("products")
        .expect("store")
        .iter()
        .flat_map(|(_, s)| s.all().expect("all"))
        .collect();
    products.sort();
    let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    assert_eq!(products, [pair("p1", "lamp"), pair("p2", "desk"), pair("p3", "chair")]);
    streams.close().await.expect("close");

    // A checkpoint that does not fit the topic (here: the topic's data is gone, as after it was
    // recreated) rebuilds the store from what the topic has.
    let broker = TestBroker::mock().expect("another mock cluster");
    let cluster = broker.cluster();
    for (topic, partitions) in [
        ("products", 2),
        ("orders", 3),
        ("named-orders", 3),
        ("maybe-named-orders", 3),
    ] {
        broker.create_topic(topic, partitions).await.expect("topic");
    }
    produce(&cluster, "products", "p9", b"sofa").await;
    let config = app_config(
        "shop",
        state.path(),
        ProcessingGuarantee::AtLeastOnce,
        Duration::from_millis(200),
    );
    let streams = KafkaStreams::start_on(topology(), config, cluster.clone())
        .await
        .expect("restart on another cluster");
    let products: Vec<(String, String)> = streams
        .key_value_store::<String, String>("products")
        .expect("store")
        .iter()
        .flat_map(|(_, s)| s.all().expect("all"))
        .collect();
    assert_eq!(products, [pair("p9", "sofa")]);
    streams.close().await.expect("close");
}
