//! Static group membership (KIP-345, `group.instance.id`): an instance restarted within its
//! session timeout gets its tasks back without a rebalance, so the other instances never stop
//! processing and nothing is restored. Apache Kafka, because static membership is the group
//! coordinator's behaviour (the mock's coordinator does not implement it).

mod common;

use std::time::Duration;

use common::*;
use kafka_streams::config::{ProcessingGuarantee, StreamsConfig};
use kafka_streams::testing::TestBroker;
use kafka_streams::{KafkaStreams, State};

const INPUT: &str = "clicks";
const OUTPUT: &str = "counts";
const STORE: &str = "click-counts";

fn config(instance: &str, dir: &std::path::Path) -> StreamsConfig {
    StreamsConfig::builder("static-members")
        .state_dir(dir)
        .processing_guarantee(ProcessingGuarantee::AtLeastOnce)
        .commit_interval(Duration::from_millis(200))
        .group_instance_id(instance)
        // Long enough for a restart; the broker's minimum is 6 s.
        .kafka_property("consumer.session.timeout.ms", "30000")
        .kafka_property("consumer.heartbeat.interval.ms", "500")
        .build()
        .expect("config")
}

async fn start(cluster: &kafka_streams::kafka::KafkaCluster, instance: &str, dir: &std::path::Path) -> KafkaStreams {
    KafkaStreams::start_on(
        click_count_topology(INPUT, OUTPUT, STORE),
        config(instance, dir),
        cluster.clone(),
    )
    .await
    .expect("start")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_within_the_session_timeout_causes_no_rebalance() {
    let broker: TestBroker = kafka_with_topics(INPUT, OUTPUT).await;
    let cluster = broker.cluster();
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let a = start(&cluster, "a", dir_a.path()).await;
    let b = start(&cluster, "b", dir_b.path()).await;
    wait_for("both instances own tasks", Duration::from_secs(90), || {
        !a.active_tasks().is_empty()
            && !b.active_tasks().is_empty()
            && a.active_tasks().len() + b.active_tasks().len() == 3
    })
    .await;
    let first = clicks(0, 300);
    produce_clicks(&cluster, INPUT, &first).await;
    wait_for("the first batch processed", Duration::from_secs(60), || {
        a.metrics().records_processed + b.metrics().records_processed >= 300
    })
    .await;
    let tasks_a = a.active_tasks();
    let tasks_b = b.active_tasks();

    // From here on, every state `b` passes through.
    let seen = record_states(&b);
    a.close().await.expect("close a");
    drop(a);
    let a = start(&cluster, "a", dir_a.path()).await;
    wait_for("a owns its tasks again", Duration::from_secs(25), || {
        a.active_tasks() == tasks_a
    })
    .await;
    let second = clicks(300, 300);
    produce_clicks(&cluster, INPUT, &second).await;
    let all = clicks(0, 600);
    wait_for("every click counted", Duration::from_secs(60), || {
        let mut store = window_counts(&a, STORE);
        store.extend(window_counts(&b, STORE));
        store == expected_counts(&all)
    })
    .await;
    assert_eq!(b.active_tasks(), tasks_b, "b kept its tasks");
    assert_eq!(
        a.metrics().records_restored,
        0,
        "a restored nothing: its state was current"
    );
    let seen = seen.lock().expect("states").clone();
    assert!(
        seen.iter().all(|s| *s == State::Running),
        "b never rebalanced while a restarted: {seen:?}"
    );
    a.close().await.expect("close");
    b.close().await.expect("close");
}
