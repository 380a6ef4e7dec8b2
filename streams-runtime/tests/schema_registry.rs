//! Schema Registry codecs in a `#[topology]` (`value_format = "avro"`): Avro orders in, Avro
//! totals out.
//! - On the broker-free test driver with its mock registry: the topology semantics, the
//!   subjects registered, and a registry outage that fails the pipe but loses no record.
//! - Over HTTP, on the in-process mock cluster: the registry's REST API (a loopback server
//!   speaking Confluent's protocol) answering 503 for seconds mid-stream; the app waits and
//!   then processes every record, none skipped. The mock cluster because the fault is the
//!   registry's, injected in-process; Kafka's part of such a retry (a rollback to the last
//!   commit) is proven on Apache Kafka by the failover tests.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use apache_avro::AvroSchema;
use kafka_streams::codec::registry::{
    MockSchemaRegistry, RegistryClient, Schema, SchemaRegistry, SchemaRegistrySlot, SchemaType,
};
use kafka_streams::codec::{Avro, Bytes, Codec, Utf8};
use kafka_streams::config::{ProcessingGuarantee, StreamsConfig};
use kafka_streams::testing::{TestDriver, TestRecord, TopicWriter};
use kafka_streams::{ErrorKind, KafkaStreams};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, AvroSchema)]
pub struct Order {
    pub amount: i64,
}

/// A later version of `Order`, as another producer may write it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, AvroSchema)]
#[serde(rename = "Order")]
pub struct OrderV2 {
    pub amount: i64,
    #[avro(default = r#""EUR""#)]
    pub currency: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, AvroSchema)]
pub struct Total {
    pub orders: i64,
    pub amount: i64,
}

/// Orders per customer (Avro values) → running totals (Avro values).
#[kafka_streams::topology(application_id = "order-totals")]
pub mod totals {
    use super::{Order, Total};

    #[source(topic = "orders", value_format = "avro")]
    pub type Orders = (String, Order);

    #[state_store(name = "totals")]
    pub fn add(#[from(Orders)] _customer: &String, order: &Order, total: &mut Total) {
        total.orders += 1;
        total.amount += order.amount;
    }

    #[sink(topic = "order-totals", from = add, value_format = "avro")]
    pub fn publish(total: Total) -> Total {
        total
    }
}

fn driver(scope: &str) -> TestDriver {
    let config = StreamsConfig::builder("order-totals")
        .processing_guarantee(ProcessingGuarantee::ExactlyOnceV2)
        .schema_registry_url(&format!("mock://{scope}"))
        .build()
        .expect("config");
    TestDriver::new(totals::topology().expect("topology"), config).expect("driver")
}

/// The totals the driver's topology committed, decoded as a consumer would.
fn committed_totals(driver: &TestDriver, registry: &SchemaRegistrySlot) -> Vec<(String, Total)> {
    driver.commit().expect("commit");
    let codec = Avro::<Total>::topic_value(registry, "order-totals");
    driver
        .output_topic_with("order-totals", Utf8, codec)
        .read_key_values()
        .expect("totals")
}

fn total(orders: i64, amount: i64) -> Total {
    Total { orders, amount }
}

#[test]
fn avro_in_avro_out_on_the_test_driver() {
    let driver = driver("avro-in-avro-out");
    let registry = driver.schema_registry();
    let orders = driver
        .input_topic_with("orders", Utf8, Avro::<Order>::topic_value(&registry, "orders"))
        .expect("orders");
    for (customer, amount) in [("alice", 5), ("bob", 7), ("alice", 10)] {
        orders
            .pipe_record(TestRecord::new(customer.to_owned(), Order { amount }))
            .expect("pipe");
    }
    assert_eq!(
        committed_totals(&driver, &registry),
        [
            ("alice".to_owned(), total(1, 5)),
            ("bob".to_owned(), total(1, 7)),
            ("alice".to_owned(), total(2, 15)),
        ]
    );
    // Written in the wire format, with the id the registry gave the sink's subject.
    let mock = MockSchemaRegistry::scope("avro-in-avro-out");
    assert_eq!(mock.subjects(), ["order-totals-value", "orders-value"]);
    let (id, schema) = mock.latest("order-totals-value").expect("sink subject");
    assert_eq!(schema, Schema::avro(&Total::get_schema()));
    let raw = driver.output_topic_with::<String, Vec<u8>>("order-totals", Utf8, Bytes);
    for value in raw.read_values().expect("raw") {
        assert_eq!(value[0], 0, "magic byte");
        assert_eq!(u32::from_be_bytes(value[1..5].try_into().expect("id")), id);
    }
}

#[test]
fn a_registry_outage_fails_the_pipe_and_loses_no_record() {
    let driver = driver("driver-outage");
    let registry = driver.schema_registry();
    let mock = MockSchemaRegistry::scope("driver-outage");
    let orders = driver
        .input_topic_with("orders", Utf8, Avro::<Order>::topic_value(&registry, "orders"))
        .expect("orders");
    let raw = driver
        .input_topic_with::<String, Vec<u8>>("orders", Utf8, Bytes)
        .expect("raw");
    orders
        .pipe_record(TestRecord::new("alice".to_owned(), Order { amount: 5 }))
        .expect("first order");

    // Another producer's newer schema: the topology has not seen its id yet.
    let newer = Avro::<OrderV2>::topic_value(&registry, "orders")
        .to_bytes(&OrderV2 {
            amount: 20,
            currency: "USD".into(),
        })
        .expect("v2");
    mock.set_unavailable(true);
    let err = raw
        .pipe_record(TestRecord::new("alice".to_owned(), newer))
        .expect_err("the registry is down");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert_eq!(driver.metrics().records_skipped, 0, "the record is not skipped");

    mock.set_unavailable(false);
    orders
        .pipe_record(TestRecord::new("bob".to_owned(), Order { amount: 7 }))
        .expect("after the outage");
    // Exactly once: the rolled-back attempt left nothing behind.
    assert_eq!(
        committed_totals(&driver, &registry),
        [
            ("alice".to_owned(), total(1, 5)),
            ("alice".to_owned(), total(2, 25)),
            ("bob".to_owned(), total(1, 7)),
        ]
    );
    assert_eq!(driver.metrics().records_skipped, 0);
}

/// A global table's records wait for the registry too: the pipe fails, the record is not
/// applied, and it applies once the registry answers.
#[test]
fn a_global_table_record_is_not_skipped_during_an_outage() {
    let builder = kafka_streams::topology::StreamsBuilder::new();
    let orders = Avro::<Order>::topic_value(&builder.schema_registry(), "last-orders");
    builder.global_table_with(
        "last-orders",
        kafka_streams::topology::Consumed::new(Utf8, orders),
        "last-orders",
    );
    builder.stream::<String, String>("unused").to("unused-out");
    let config = StreamsConfig::builder("globals")
        .schema_registry_url("mock://global-outage")
        .build()
        .expect("config");
    let driver = TestDriver::new(builder.build().expect("topology"), config).expect("driver");
    let mock = MockSchemaRegistry::scope("global-outage");
    let newer = Avro::<OrderV2>::topic_value(&driver.schema_registry(), "last-orders")
        .to_bytes(&OrderV2 {
            amount: 3,
            currency: "USD".into(),
        })
        .expect("v2");
    let raw = driver
        .input_topic_with::<String, Vec<u8>>("last-orders", Utf8, Bytes)
        .expect("raw");
    mock.set_unavailable(true);
    let err = raw
        .pipe_record(TestRecord::new("alice".to_owned(), newer.clone()))
        .expect_err("the registry is down");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    let stored = || {
        driver.key_value_store::<String, Order>("last-orders").expect("store")[0]
            .1
            .all()
            .expect("all")
    };
    assert!(stored().is_empty(), "not applied while the registry is down");
    mock.set_unavailable(false);
    raw.pipe_record(TestRecord::new("alice".to_owned(), newer))
        .expect("after the outage");
    assert_eq!(stored(), [("alice".to_owned(), Order { amount: 3 })]);
}

#[test]
fn the_app_needs_a_registry_url() {
    let config = StreamsConfig::builder("order-totals").build().expect("config");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let err = runtime
        .block_on(KafkaStreams::start(totals::topology().expect("topology"), config))
        .err()
        .expect("no registry configured");
    assert_eq!(err.kind(), ErrorKind::Config);
    let report = err.report().to_string();
    assert!(report.contains("schema.registry.url"), "{report}");
}

#[test]
fn an_unreachable_registry_is_an_outage() {
    let free = kafka_streams::testing::free_loopback_address().expect("port");
    let config = StreamsConfig::builder("app")
        .schema_registry_url(&format!("http://{free}"))
        .build()
        .expect("config");
    let registry = SchemaRegistry::connect(config.schema_registry())
        .expect("config")
        .expect("a registry");
    let err = Avro::<Order>::topic_value(&SchemaRegistrySlot::connected(registry), "orders")
        .to_bytes(&Order { amount: 1 })
        .expect_err("nothing listens there");
    assert!(err.is_retriable(), "{err}");
}

/// Confluent's REST API for what the codecs call, over a [`MockSchemaRegistry`]; `down` makes
/// it answer 500 with error code 50001, as Confluent's registry does when its Kafka store is
/// unreachable.
async fn serve_registry(mock: Arc<MockSchemaRegistry>, down: Arc<AtomicBool>) -> String {
    use axum::extract::{Path, State};
    use axum::http::StatusCode;
    use axum::routing::{get, post};
    use axum::{Json, Router};
    use serde_json::{Value, json};

    type Shared = (Arc<MockSchemaRegistry>, Arc<AtomicBool>);
    fn unavailable() -> (StatusCode, Json<Value>) {
        let body = json!({"error_code": 50001, "message": "Error in the backend data store"});
        (StatusCode::INTERNAL_SERVER_ERROR, Json(body))
    }
    async fn register(
        State((mock, down)): State<Shared>,
        Path(subject): Path<String>,
        Json(body): Json<Value>,
    ) -> (StatusCode, Json<Value>) {
        if down.load(Ordering::SeqCst) {
            return unavailable();
        }
        let schema = Schema {
            schema_type: SchemaType::Avro,
            text: body["schema"].as_str().unwrap_or_default().to_owned(),
        };
        let id = mock.register(&subject, &schema).expect("register");
        (StatusCode::OK, Json(json!({ "id": id })))
    }
    async fn by_id(State((mock, down)): State<Shared>, Path(id): Path<u32>) -> (StatusCode, Json<Value>) {
        if down.load(Ordering::SeqCst) {
            return unavailable();
        }
        match mock.schema_by_id(id) {
            Ok(schema) => (
                StatusCode::OK,
                Json(json!({ "schema": schema.text, "schemaType": "AVRO" })),
            ),
            Err(_) => (
                StatusCode::NOT_FOUND,
                Json(json!({"error_code": 40403, "message": "Schema not found"})),
            ),
        }
    }
    let app = Router::new()
        .route("/subjects/{subject}/versions", post(register))
        .route("/schemas/ids/{id}", get(by_id))
        .with_state((mock, down));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_outage_over_http_pauses_the_app_and_skips_nothing() {
    let broker = common::mock_with_topics("orders", "order-totals").await;
    let cluster = broker.cluster();
    let mock = MockSchemaRegistry::new();
    let down = Arc::new(AtomicBool::new(false));
    let url = serve_registry(Arc::clone(&mock), Arc::clone(&down)).await;
    // The test's producers register directly: the outage is the app's alone.
    let direct = SchemaRegistrySlot::connected(SchemaRegistry::new(Arc::clone(&mock) as _));
    let v1 = TopicWriter::new(&cluster, "orders", Utf8, Avro::<Order>::topic_value(&direct, "orders")).expect("writer");
    let v2 = TopicWriter::new(
        &cluster,
        "orders",
        Utf8,
        Avro::<OrderV2>::topic_value(&direct, "orders"),
    )
    .expect("writer");

    let dir = tempfile::tempdir().expect("tempdir");
    let config = StreamsConfig::builder("order-totals")
        .state_dir(dir.path())
        .commit_interval(Duration::from_millis(200))
        .schema_registry_url(&url)
        .build()
        .expect("config");
    let streams = KafkaStreams::start_on(totals::topology().expect("topology"), config, cluster.clone())
        .await
        .expect("start");

    let customers = ["alice", "bob", "carol"];
    let mut expected: BTreeMap<String, Total> = BTreeMap::new();
    let mut add = |customer: &str, amount: i64| {
        let t = expected.entry(customer.to_owned()).or_default();
        t.orders += 1;
        t.amount += amount;
    };
    for i in 0..30_i64 {
        let customer = customers[i as usize % 3].to_owned();
        v1.send(&customer, Some(&Order { amount: i }), None)
            .await
            .expect("send");
        add(&customer, i);
    }
    common::run_until_processed_and_committed(&streams, 30).await;

    down.store(true, Ordering::SeqCst);
    for i in 0..30_i64 {
        let customer = customers[i as usize % 3].to_owned();
        let order = OrderV2 {
            amount: 100 + i,
            currency: "USD".into(),
        };
        v2.send(&customer, Some(&order), None).await.expect("send");
        add(&customer, 100 + i);
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let during = streams.metrics();
    assert!(!streams.is_stopped(), "the app waits for the registry");
    assert_eq!(
        during.records_processed, 30,
        "nothing processed while the registry is down"
    );
    assert_eq!(during.records_skipped, 0, "nothing skipped");

    down.store(false, Ordering::SeqCst);
    common::run_until_processed_and_committed(&streams, 60).await;
    streams.close().await.expect("close");
    let metrics = streams.metrics();
    assert_eq!((metrics.records_skipped, metrics.failed_stream_threads), (0, 0));

    // An independent reading of the output: the last total per customer.
    let reader = Avro::<Total>::topic_value(&direct, "order-totals");
    let mut latest = BTreeMap::new();
    for (customer, value) in common::read_all(&cluster, "order-totals").await {
        latest.insert(customer, reader.decode(&value.expect("a total")).expect("avro"));
    }
    assert_eq!(latest, expected);
}
