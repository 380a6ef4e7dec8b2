//! Internal topics on Apache Kafka, read back with the admin API: the app creates
//! `<application.id>-<store>-repartition` and `<application.id>-<store>-changelog` with its
//! sources' partition count and the configs the runtime promises — changelogs of key-value
//! stores compacted, of window stores `compact,delete` with the store's retention plus a day,
//! repartition topics `delete` with infinite retention, the membership topic compacted — and the
//! records go through them. Apache Kafka, because the mock ignores topic configs.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::*;
use kafka_streams::KafkaStreams;
use kafka_streams::config::{ProcessingGuarantee, StreamsConfig};
use kafka_streams::kafka::KafkaCluster;
use kafka_streams::topology::{Consumed, Materialized, StreamsBuilder, Topology};
use kafka_streams::window::TumblingWindows;
use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};

/// Clicks counted per minute (re-keyed: through a repartition topic) and per user in 5-minute
/// windows (a window store kept for an hour).
fn topology() -> Topology {
    let builder = StreamsBuilder::new();
    let clicks = builder.stream_with(
        "clicks",
        Consumed::new(kafka_streams::codec::Utf8, kafka_streams::codec::Json)
            .with_timestamp(|_, c: &Click, _| c.timestamp_ms),
    );
    clicks
        .group_by(|_, click| (click.timestamp_ms / 60_000).to_string())
        .count(Materialized::named("minute-counts"))
        .to_stream()
        .to_with("per-minute", kafka_streams::codec::Utf8, kafka_streams::codec::Json);
    clicks
        .group_by_key()
        .windowed_by(TumblingWindows::of(WINDOW))
        .count(Materialized::named("user-windows").with_retention(Duration::from_secs(3_600)))
        .to_stream()
        .map(|w, n| (w.to_string(), n))
        .to_with("per-user", kafka_streams::codec::Utf8, kafka_streams::codec::Json);
    builder.build().expect("valid topology")
}

async fn topic_configs(cluster: &KafkaCluster, topics: &[&str]) -> Vec<HashMap<String, String>> {
    let admin: AdminClient<DefaultClientContext> = cluster.client_config().create().expect("admin");
    let resources: Vec<ResourceSpecifier<'_>> = topics.iter().map(|t| ResourceSpecifier::Topic(t)).collect();
    let configs = admin
        .describe_configs(
            &resources,
            &AdminOptions::new().request_timeout(Some(Duration::from_secs(10))),
        )
        .await
        .expect("describe configs");
    configs
        .into_iter()
        .map(|r| {
            r.expect("topic config")
                .entries
                .into_iter()
                .filter_map(|e| e.value.map(|v| (e.name, v)))
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_topics_have_the_promised_names_partitions_and_configs() {
    let broker = kafka_with_topics("clicks", "per-minute").await;
    broker.create_topic("per-user", 3).await.expect("output");
    let cluster = broker.cluster();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = StreamsConfig::builder("by-minute")
        .state_dir(dir.path())
        .processing_guarantee(ProcessingGuarantee::ExactlyOnceV2)
        .build()
        .expect("config");
    let streams = KafkaStreams::start_on(topology(), config, cluster.clone())
        .await
        .expect("start");
    let input = clicks(0, 600);
    produce_clicks(&cluster, "clicks", &input).await;
    // Both sub-topologies: 600 source records, then the same 600 read from the repartition topic.
    run_until_processed_and_committed(&streams, 1_200).await;
    streams.close().await.expect("close");

    let consumer: BaseConsumer = cluster.client_config().create().expect("metadata client");
    let metadata = consumer
        .fetch_metadata(None, Duration::from_secs(10))
        .expect("metadata");
    let partitions = |name: &str| {
        metadata
            .topics()
            .iter()
            .find(|t| t.name() == name)
            .map(|t| t.partitions().len())
    };
    let (repartition, kv_changelog, window_changelog, membership) = (
        "by-minute-minute-counts-repartition",
        "by-minute-minute-counts-changelog",
        "by-minute-user-windows-changelog",
        "by-minute-membership",
    );
    for topic in [repartition, kv_changelog, window_changelog] {
        assert_eq!(partitions(topic), Some(3), "{topic}");
    }
    assert_eq!(partitions(membership), Some(1));
    let configs = topic_configs(&cluster, &[repartition, kv_changelog, window_changelog, membership]).await;
    let get = |i: usize, key: &str| configs[i].get(key).cloned().unwrap_or_default();
    assert_eq!(get(0, "cleanup.policy"), "delete");
    assert_eq!(get(0, "retention.ms"), "-1", "repartition records stay until read");
    assert_eq!(get(1, "cleanup.policy"), "compact");
    assert_eq!(get(2, "cleanup.policy"), "compact,delete");
    assert_eq!(
        get(2, "retention.ms"),
        (3_600_000 + 24 * 3_600_000).to_string(),
        "window changelogs keep the store's retention plus a day"
    );
    assert_eq!(get(3, "cleanup.policy"), "compact");

    // Records went through the repartition topic, once each (exactly-once), and the counts are right.
    assert_eq!(read_all(&cluster, repartition).await.len(), input.len());
    let mut per_minute = std::collections::BTreeMap::new();
    for click in &input {
        *per_minute
            .entry((click.timestamp_ms / 60_000).to_string())
            .or_insert(0u64) += 1;
    }
    assert_eq!(latest_counts(&read_all(&cluster, "per-minute").await), per_minute);
    assert_eq!(
        latest_counts(&read_all(&cluster, "per-user").await),
        expected_counts(&input)
    );
}
