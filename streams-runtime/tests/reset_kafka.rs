//! The application reset (`--reset`, Kafka Streams' reset tool plus `cleanUp()`): internal
//! topics, committed offsets and local state go; inputs and outputs stay; the next run starts
//! over from the first input record and rebuilds its state exactly. Apache Kafka, because the
//! reset is admin operations on the broker (topic and group deletion) that the mock does not run.

mod common;

use std::time::Duration;

use common::*;
use kafka_streams::KafkaStreams;
use kafka_streams::config::{ProcessingGuarantee, StreamsConfig};
use kafka_streams::runtime::reset::{plan_reset, reset};

const INPUT: &str = "clicks";
const OUTPUT: &str = "per-minute";
const STORE: &str = "per-minute-counts";
const APP: &str = "reset-app";

fn config(dir: &std::path::Path) -> StreamsConfig {
    app_config(APP, dir, ProcessingGuarantee::ExactlyOnceV2, Duration::from_millis(200))
}

fn store(streams: &KafkaStreams) -> std::collections::BTreeMap<String, u64> {
    streams
        .key_value_store::<String, u64>(STORE)
        .expect("store")
        .into_iter()
        .flat_map(|(_, s)| s.all().expect("scan"))
        .collect()
}

fn per_minute(clicks: &[Click]) -> std::collections::BTreeMap<String, u64> {
    let mut out = std::collections::BTreeMap::new();
    for click in clicks {
        *out.entry((click.timestamp_ms / 60_000).to_string()).or_default() += 1;
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_application_starts_over_from_the_first_record() {
    let broker = kafka_with_topics(INPUT, OUTPUT).await;
    let cluster = broker.cluster();
    // Named like an internal topic of the application, but not one of its topology's.
    broker
        .create_topic(&format!("{APP}-retired-store-changelog"), 1)
        .await
        .expect("topic");
    let dir = tempfile::tempdir().expect("tempdir");
    let input = clicks(0, 200);
    produce_clicks(&cluster, INPUT, &input).await;
    let topology = || per_minute_topology(INPUT, OUTPUT, STORE);

    let streams = KafkaStreams::start_on(topology(), config(dir.path()), cluster.clone())
        .await
        .expect("start");
    run_until_processed_and_committed(&streams, 400).await; // each click twice: input, repartition
    assert_eq!(store(&streams), per_minute(&input));
    let running = reset(&cluster, &config(dir.path()), &topology())
        .await
        .expect_err("refused while running");
    assert!(
        running.report().to_string().contains("stop every instance"),
        "{running}"
    );
    // From elsewhere (no local state here): the group still has a member.
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let remote = reset(&cluster, &config(elsewhere.path()), &topology())
        .await
        .expect_err("refused while running");
    assert!(remote.report().to_string().contains("still has members"), "{remote}");
    assert!(
        !plan_reset(&cluster, &config(dir.path()), &topology())
            .await
            .expect("plan")
            .topics
            .is_empty(),
        "a refused reset deletes no topic"
    );
    streams.close().await.expect("close");
    drop(streams);

    let plan = plan_reset(&cluster, &config(dir.path()), &topology())
        .await
        .expect("plan");
    assert_eq!(
        plan.topics,
        [
            format!("{APP}-membership"),
            format!("{APP}-{STORE}-changelog"),
            format!("{APP}-{STORE}-repartition"),
        ]
    );
    assert_eq!(plan.not_deleted, [format!("{APP}-retired-store-changelog")]);
    assert_eq!(plan.groups, [APP.to_owned()]);
    assert_eq!(plan.local_state, Some(dir.path().join(APP)));

    let done = reset(&cluster, &config(dir.path()), &topology()).await.expect("reset");
    assert_eq!(done, plan);
    let after = plan_reset(&cluster, &config(dir.path()), &topology())
        .await
        .expect("plan");
    assert!(
        after.topics.is_empty() && after.groups.is_empty() && after.local_state.is_none(),
        "{after}"
    );
    assert_eq!(
        after.not_deleted, plan.not_deleted,
        "only the topology's own topics were deleted"
    );
    let outputs_before = read_all(&cluster, OUTPUT).await.len();
    assert!(outputs_before > 0, "the output topic is kept");

    // Started again: every input record is read again and counted once into fresh state.
    let streams = KafkaStreams::start_on(topology(), config(dir.path()), cluster.clone())
        .await
        .expect("restart");
    run_until_processed_and_committed(&streams, 400).await;
    assert_eq!(
        store(&streams),
        per_minute(&input),
        "rebuilt from the input, not doubled"
    );
    assert_eq!(
        streams.metrics().records_restored,
        0,
        "nothing to restore after a reset"
    );
    streams.close().await.expect("close");
}
