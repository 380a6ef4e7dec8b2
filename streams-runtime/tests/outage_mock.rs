//! A Kafka outage injected into the in-process mock cluster (its broker set down and up): the
//! stream thread waits for Kafka instead of failing, and no count is lost. The mock, because it
//! takes the broker down within the test's process in milliseconds; the same outage on Apache
//! Kafka (its process stopped for 10 s, under exactly-once) is in `runtime_kafka.rs`.

mod common;

use std::time::Duration;

use common::*;
use kafka_streams::KafkaStreams;
use kafka_streams::config::ProcessingGuarantee;

const INPUT: &str = "clicks";
const OUTPUT: &str = "counts";
const STORE: &str = "click-counts";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_outage_pauses_processing_and_keeps_state() {
    let broker = mock_with_topics(INPUT, OUTPUT).await;
    let cluster = broker.cluster();
    let dir = tempfile::tempdir().expect("tempdir");
    let first = clicks(0, 300);
    produce_clicks(&cluster, INPUT, &first).await;
    let streams = KafkaStreams::start_on(
        click_count_topology(INPUT, OUTPUT, STORE),
        app_config(
            "outage",
            dir.path(),
            ProcessingGuarantee::AtLeastOnce,
            Duration::from_millis(200),
        ),
        cluster.clone(),
    )
    .await
    .expect("start");
    run_until_processed_and_committed(&streams, 300).await;

    let mock = cluster.as_embedded().expect("mock cluster");
    mock.set_broker_up(1, false).expect("broker down");
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(!streams.is_stopped(), "the app waits for Kafka instead of stopping");
    mock.set_broker_up(1, true).expect("broker up");

    let all = clicks(0, 450);
    produce_clicks(&cluster, INPUT, &all[300..]).await;
    run_until_processed_and_committed(&streams, 450).await;
    streams.close().await.expect("close");
    assert_eq!(streams.metrics().failed_stream_threads, 0);
    assert_eq!(latest_counts(&read_all(&cluster, OUTPUT).await), expected_counts(&all));
}
