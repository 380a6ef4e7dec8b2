//! Records in → records out through both test brokers: the harness itself is what is tested.
//!
//! - mock: in-process librdkafka mock cluster (topics created through its own API);
//! - Apache Kafka: a broker process on free loopback ports (topics created with admin requests),
//!   the broker the multi-process, exactly-once and outage tests rely on; stopped and started
//!   again on the same log directory, it still has every record.

use std::collections::BTreeMap;
use std::time::Duration;

use kafka_streams::partitioner::{RDKAFKA_PARTITIONER, partition_for_key};
use kafka_streams::testing::TestBroker;
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};

const PARTITIONS: i32 = 3;
const RECORDS: usize = 90;

async fn round_trip(broker: &TestBroker) {
    let topic = "round-trip";
    broker.create_topic(topic, PARTITIONS).await.expect("create topic");
    let producer: FutureProducer = broker
        .cluster()
        .client_config()
        .set("partitioner", RDKAFKA_PARTITIONER)
        .create()
        .expect("producer");
    let mut expected = BTreeMap::new();
    for i in 0..RECORDS {
        let (key, value) = (format!("key-{}", i % 10), format!("value-{i}"));
        let delivery = producer
            .send(
                FutureRecord::to(topic).key(&key).payload(&value),
                Duration::from_secs(30),
            )
            .await
            .expect("delivery");
        // The broker stores the record where the Java-compatible partitioner says it goes.
        assert_eq!(
            delivery.partition as u32,
            partition_for_key(key.as_bytes(), PARTITIONS as u32),
            "{key}"
        );
        expected.insert(value, key);
    }

    let consumer: StreamConsumer = broker
        .cluster()
        .client_config()
        .set("group.id", "round-trip-test")
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    let mut seen = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while seen.len() < RECORDS {
        let message = tokio::time::timeout_at(deadline, consumer.recv())
            .await
            .unwrap_or_else(|_| panic!("only {} of {RECORDS} records consumed within 60 s", seen.len()))
            .expect("consume");
        let key = String::from_utf8(message.key().expect("key").to_vec()).expect("utf8 key");
        let value = String::from_utf8(message.payload().expect("payload").to_vec()).expect("utf8 value");
        seen.insert(value, key);
    }
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn produce_and_consume_through_the_mock_cluster() {
    let broker = TestBroker::mock().expect("mock cluster");
    round_trip(&broker).await;
}

#[tokio::test]
async fn produce_and_consume_through_an_apache_kafka_process_across_a_restart() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let mut broker = TestBroker::kafka().expect("Apache Kafka broker (install: scripts/setup.sh)");
    round_trip(&broker).await;
    broker.stop().expect("stop");
    let probe: rdkafka::consumer::BaseConsumer = broker.cluster().client_config().create().expect("client");
    assert!(
        probe.fetch_metadata(None, Duration::from_secs(2)).is_err(),
        "a stopped broker must not answer"
    );
    broker.start().expect("start again");
    let records = kafka_streams::testing::read_topic(&broker.cluster(), "round-trip")
        .await
        .expect("read after restart");
    assert_eq!(records.len(), RECORDS, "every record survives the broker's restart");
}

/// `TopicWriter`, the test-input helper: each record lands in the partition Kafka's partitioner
/// gives its encoded key, with its timestamp, and `None` is written as a tombstone. The mock
/// cluster: partitioning and tombstones are the client's work, the same on every broker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_writer_partitions_like_kafka_and_writes_tombstones() {
    use kafka_streams::codec::{Json, Utf8};
    use kafka_streams::testing::{TopicWriter, read_topic};
    let broker = TestBroker::mock().expect("mock cluster");
    broker.create_topic("written", PARTITIONS).await.expect("topic");
    let writer = TopicWriter::new(&broker.cluster(), "written", Utf8, Json).expect("writer");
    let keys: Vec<String> = (0..20).map(|i| format!("key-{i}")).collect();
    let values: Vec<u64> = (0..20).collect();
    writer
        .send_all(
            keys.iter()
                .zip(&values)
                .map(|(k, v)| (k, Some(v), Some(1_000 + *v as i64))),
        )
        .await
        .expect("written");
    writer.send(&keys[0], None, Some(5_000)).await.expect("tombstone");
    let records = read_topic(&broker.cluster(), "written").await.expect("read back");
    assert_eq!(records.len(), 21);
    for record in &records {
        let expected = partition_for_key(&record.key, PARTITIONS as u32) as i32;
        assert_eq!(
            record.partition,
            expected,
            "{} in the wrong partition",
            record.key_str()
        );
    }
    let tombstone = records
        .iter()
        .find(|r| r.value.is_none())
        .expect("a tombstone was written");
    assert_eq!(
        (tombstone.key_str(), tombstone.timestamp),
        ("key-0".to_owned(), Some(5_000))
    );
    let seven = records.iter().find(|r| r.key_str() == "key-7").expect("key-7");
    assert_eq!(seven.value.as_deref(), Some(&b"7"[..]));
    assert_eq!(seven.timestamp, Some(1_007));
}
