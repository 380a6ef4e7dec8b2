//! Records in → records out through both test brokers: the harness itself is what is tested.
//!
//! - mock: in-process librdkafka mock cluster (topics created through its own API);
//! - Apache Kafka: a broker process on free loopback ports (topics created with admin requests),
//!   the broker the multi-process, exactly-once and outage tests rely on; stopped and started
//!   again on the same log directory, it still has every record.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use streams_runtime::partitioner::{RDKAFKA_PARTITIONER, partition_for_key};
use streams_runtime::testing::TestBroker;

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
    let records = streams_runtime::testing::read_topic(&broker.cluster(), "round-trip")
        .await
        .expect("read after restart");
    assert_eq!(records.len(), RECORDS, "every record survives the broker's restart");
}
