//! The consume → process → produce → commit loop both Kafka baselines share.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kafka_streams::kafka::KafkaCluster;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::{BorrowedMessage, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{Offset, TopicPartitionList};

use crate::cpu::CpuSnapshot;
use kafka_streams::partitioner::RDKAFKA_PARTITIONER;

/// `fetch.wait.max.ms` of every consumer in the benchmarks (framework and baselines alike).
/// The embedded broker holds a fetch that finds no new data for this long even when records
/// arrive meanwhile; at librdkafka's default (500 ms) a consumer that catches up with a live
/// stream stalls half a second at random, which made runs differ by ±30%.
pub const FETCH_WAIT_MAX_MS: &str = "10";

pub(crate) type Out = ThreadedProducer<DefaultProducerContext>;

/// Runs `process` on every record of `input` until `n` were consumed, committing every
/// `commit_interval` (after `on_commit` and a producer flush). Sets `ready` once the group has
/// assigned partitions; returns when the last record was processed, and the CPU times then.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run(
    cluster: &KafkaCluster,
    input: &str,
    group: &str,
    n: u64,
    commit_interval: Duration,
    ready: &AtomicBool,
    mut process: impl FnMut(&BorrowedMessage<'_>, &Out),
    mut on_commit: impl FnMut(&Out),
) -> (Instant, CpuSnapshot) {
    let consumer: BaseConsumer = cluster
        .client_config()
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", FETCH_WAIT_MAX_MS)
        // The framework's defaults (librdkafka's 1 s pauses fetching whenever the prefetch queue
        // is full; its 100 000 records per partition prefetch up to 64 MiB): both sides fetch
        // alike.
        .set(
            "fetch.queue.backoff.ms",
            kafka_streams::config::defaults::FETCH_QUEUE_BACKOFF_MS.to_string(),
        )
        .set(
            "queued.min.messages",
            kafka_streams::config::defaults::QUEUED_MIN_MESSAGES.to_string(),
        )
        .create()
        .expect("baseline consumer");
    let producer: Out = cluster
        .client_config()
        .set("partitioner", RDKAFKA_PARTITIONER)
        .set("linger.ms", "5")
        .create()
        .expect("baseline producer");
    consumer.subscribe(&[input]).expect("subscribe");
    let mut positions: HashMap<i32, i64> = HashMap::new();
    let mut consumed = 0;
    let mut last_commit = Instant::now();
    let mut last_report = Instant::now();
    let commit = |positions: &HashMap<i32, i64>, producer: &Out, on_commit: &mut dyn FnMut(&Out)| {
        on_commit(producer);
        producer.flush(Duration::from_secs(60)).expect("flush");
        let mut offsets = TopicPartitionList::new();
        for (partition, offset) in positions {
            offsets
                .add_partition_offset(input, *partition, Offset::Offset(*offset))
                .expect("offset");
        }
        if offsets.count() > 0 {
            consumer.commit(&offsets, CommitMode::Sync).expect("commit");
        }
    };
    while consumed < n {
        let polled = consumer.poll(Duration::from_millis(10));
        if !ready.load(Ordering::Relaxed) && consumer.assignment().is_ok_and(|a| a.count() > 0) {
            ready.store(true, Ordering::Relaxed);
        }
        if let Some(Ok(message)) = polled {
            process(&message, &producer);
            positions.insert(message.partition(), message.offset() + 1);
            consumed += 1;
        }
        if last_report.elapsed() >= Duration::from_secs(10) {
            eprintln!("  {group}: {consumed} of {n} consumed");
            last_report = Instant::now();
        }
        if last_commit.elapsed() >= commit_interval {
            commit(&positions, &producer, &mut on_commit);
            last_commit = Instant::now();
        }
    }
    let finished = (Instant::now(), CpuSnapshot::now());
    commit(&positions, &producer, &mut on_commit);
    finished
}

/// The headers of `message`, to go out with the records it leads to. The framework forwards a
/// record's headers to its outputs, as Kafka Streams does, so the loops do too: otherwise they
/// would skip part of the work they are compared on (librdkafka parses a record's headers on
/// first access, and allocates for it even when there are none).
pub(crate) fn forwarded_headers(message: &BorrowedMessage<'_>) -> Option<OwnedHeaders> {
    let headers = message.headers()?;
    Some(
        headers
            .iter()
            .fold(OwnedHeaders::new_with_capacity(headers.count()), OwnedHeaders::insert),
    )
}

/// Queues a record, waiting while the producer's queue is full.
pub(crate) fn send(
    producer: &Out,
    topic: &str,
    partition: Option<i32>,
    (key, value): (&[u8], &[u8]),
    timestamp: i64,
    headers: Option<OwnedHeaders>,
) {
    let mut record = BaseRecord::to(topic).key(key).payload(value).timestamp(timestamp);
    if let Some(partition) = partition {
        record = record.partition(partition);
    }
    if let Some(headers) = headers {
        record = record.headers(headers);
    }
    loop {
        match producer.send(record) {
            Ok(()) => return,
            Err((_, back)) => {
                record = back;
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}
