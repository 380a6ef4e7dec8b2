//! Internal topics on a real broker process (tansu): a re-keying aggregation gets
//! `<application.id>-<store>-repartition` and the compacted `<application.id>-<store>-changelog`,
//! with the source's partition count and the right cleanup policies. tansu, because the mock
//! ignores topic configs.
//!
//! The records-through path of this topology is tested on the mock (`runtime_mock.rs`). On
//! tansu 0.6.0 it loses data: the stream thread's 600 acknowledged writes to the repartition
//! topic leave about 350 records in it (offsets reused). tansu keeps only part of a produce
//! request carrying several records; with `producer.batch.num.messages=1` every record stays
//! (`tansu_joins.rs` runs a join through a repartition topic that way).

mod common;

use std::time::Duration;

use common::{init_logging, per_minute_topology};
use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use streams_runtime::KafkaStreams;
use streams_runtime::config::StreamsConfig;
use streams_runtime::testing::TestBroker;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_topics_have_the_expected_names_partitions_and_policies() {
    init_logging();
    let broker = TestBroker::tansu().expect("tansu broker (install: scripts/setup.sh --tansu)");
    let cluster = broker.cluster();
    broker.create_topic("clicks", 3).await.expect("input");
    broker.create_topic("per-minute", 3).await.expect("output");
    let dir = tempfile::tempdir().expect("tempdir");
    let config = StreamsConfig::builder("by-minute")
        .state_dir(dir.path())
        .build()
        .expect("config");
    let streams = KafkaStreams::start_on(
        per_minute_topology("clicks", "per-minute", "minute-counts"),
        config,
        cluster.clone(),
    )
    .await
    .expect("start");
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
    assert_eq!(partitions("by-minute-minute-counts-repartition"), Some(3));
    assert_eq!(partitions("by-minute-minute-counts-changelog"), Some(3));
    let admin: AdminClient<DefaultClientContext> = cluster.client_config().create().expect("admin");
    let configs = admin
        .describe_configs(
            &[
                ResourceSpecifier::Topic("by-minute-minute-counts-changelog"),
                ResourceSpecifier::Topic("by-minute-minute-counts-repartition"),
            ],
            &AdminOptions::new().request_timeout(Some(Duration::from_secs(10))),
        )
        .await
        .expect("describe configs");
    let policies: Vec<Option<String>> = configs
        .into_iter()
        .map(|r| {
            r.ok()
                .and_then(|c| c.get("cleanup.policy").and_then(|e| e.value.clone()))
        })
        .collect();
    assert_eq!(policies, [Some("compact".to_owned()), Some("delete".to_owned())]);
}
