//! The benchmark input: clicks keyed by user, as JSON, with advancing event time.

use kafka_streams::kafka::KafkaCluster;
use kafka_streams::partitioner::RDKAFKA_PARTITIONER;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use serde::{Deserialize, Serialize};

/// One click, as JSON on the input topic.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Click {
    /// Who clicked (also the key).
    pub user_id: String,
    /// What was clicked.
    pub url: String,
    /// Event time, epoch milliseconds.
    pub timestamp_ms: i64,
}

/// 2024-01-05T10:00:00Z.
pub const START_MS: i64 = 1_704_448_800_000;
/// Distinct users in the input.
pub const USERS: u64 = 1_000;
/// Tumbling window of the windowed-count pipelines.
pub const WINDOW_MS: i64 = 300_000;

/// Click number `i`: users round-robin, 10 ms of event time apart, every 10th on `/home`.
pub fn click(i: u64) -> Click {
    Click {
        user_id: format!("user-{}", i % USERS),
        url: if i.is_multiple_of(10) {
            "/home".to_owned()
        } else {
            format!("/item/{}", i % 97)
        },
        timestamp_ms: START_MS + i as i64 * 10,
    }
}

/// Produces clicks `0..n` to `topic` (keys partitioned with murmur2) and waits for all of them.
pub fn produce_clicks(cluster: &KafkaCluster, topic: &str, n: u64) {
    produce(
        cluster,
        topic,
        (0..n).map(|i| {
            let c = click(i);
            let payload = serde_json::to_vec(&c).expect("json");
            (c.user_id, payload, c.timestamp_ms)
        }),
    );
}

/// Produces `records` — (key, payload, timestamp) — to `topic` (keys partitioned with murmur2),
/// waiting for room whenever the producer's queue is full, then for every delivery.
pub fn produce(
    cluster: &KafkaCluster,
    topic: &str,
    records: impl IntoIterator<Item = (String, impl AsRef<[u8]>, i64)>,
) {
    let producer: ThreadedProducer<DefaultProducerContext> = cluster
        .client_config()
        .set("partitioner", RDKAFKA_PARTITIONER)
        .set("linger.ms", "20")
        .set("queue.buffering.max.messages", "1000000")
        .create()
        .expect("input producer");
    for (key, payload, timestamp) in records {
        let mut record = BaseRecord::to(topic)
            .key(&key)
            .payload(payload.as_ref())
            .timestamp(timestamp);
        while let Err((_, back)) = producer.send(record) {
            record = back;
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
    producer
        .flush(std::time::Duration::from_secs(120))
        .expect("input flushed");
}
