//! A join whose one side is slow to arrive: both sides are a backlog when the application
//! starts, and the broker leading one side answers 3 s late. The task must wait for that side
//! (its fetch is under way, so its records are coming) instead of joining the fast side alone:
//! run ahead, the join's stream time passes every record of the slow side, which is then
//! dropped as late. Kafka Streams waits too (`max.task.idle.ms` 0 waits for as long as a
//! partition is behind or its lag unknown); a 2 s bound on that wait made the first records of
//! one side arrive "late" on a loaded machine. The in-process mock cluster, because it delays
//! one broker's answers on demand; the same backlog without the delay runs on Apache Kafka in
//! `kafka_joins.rs`.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use common::{
    ad_views_and_buys, conversion_topology, expected_conversions, init_logging, produce_text, text_values, wait_for,
};
use kafka_streams::KafkaStreams;
use kafka_streams::config::StreamsConfig;
use kafka_streams::kafka::{EmbeddedCluster, KafkaCluster};

const APP: &str = "slow-side-app";
const PAIRS: i64 = 1_200;
/// How late the broker leading the slow side answers: beyond any bound on the wait.
const SLOW_BROKER_DELAY: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_waits_for_the_side_whose_broker_answers_late() {
    init_logging();
    let mock = Arc::new(EmbeddedCluster::start(2).expect("mock cluster"));
    for topic in ["views", "buys", "conversions"] {
        mock.create_topic(topic, 1).expect("topic");
    }
    mock.set_partition_leader("views", 0, 1).expect("views on broker 1");
    mock.set_partition_leader("buys", 0, 2).expect("buys on broker 2");
    mock.set_group_coordinator(APP, 1).expect("coordinator");
    let cluster = KafkaCluster::from(Arc::clone(&mock));
    let (views, buys) = ad_views_and_buys(PAIRS);
    produce_text(&cluster, "views", &views).await;
    produce_text(&cluster, "buys", &buys).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = StreamsConfig::builder(APP)
        .state_dir(dir.path())
        .commit_interval(Duration::from_millis(200))
        .build()
        .expect("config");
    mock.set_round_trip_time(2, SLOW_BROKER_DELAY).expect("slow broker");
    let streams = KafkaStreams::start_on(conversion_topology(), config, cluster.clone())
        .await
        .expect("start");
    // The slow side's first answers (offsets, the first fetch) take a few round trips; the fast
    // side's backlog is processed in far less. Then the broker answers at once again, so
    // commits (whose changelogs may live there) are quick.
    tokio::time::sleep(4 * SLOW_BROKER_DELAY).await;
    mock.set_round_trip_time(2, Duration::ZERO)
        .expect("broker back to speed");
    wait_for("both backlogs processed", Duration::from_secs(90), || {
        streams.metrics().records_processed >= 2 * PAIRS as u64
    })
    .await;
    let expected = expected_conversions(PAIRS);
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while got.len() < expected.len() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(300)).await;
        got = text_values(&cluster, "conversions").await;
    }
    let metrics = streams.metrics();
    streams.close().await.expect("close");
    assert_eq!(metrics.dropped_late_records, 0, "no record of the slow side is late");
    assert_eq!(
        got.len(),
        expected.len(),
        "one output per pair, none missing or repeated"
    );
    assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), expected);
}
