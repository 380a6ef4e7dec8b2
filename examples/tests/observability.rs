//! What an operator sees: Prometheus metrics and the topology over HTTP, from a word-count
//! instance on the in-process mock cluster (in process, to produce input and compare numbers).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::word_count_input;
use kafka_streams::KafkaStreams;
use kafka_streams::config::StreamsConfig;
use kafka_streams::testing::TestBroker;
use kafka_streams_examples::word_count::pipeline;

/// The value of the sample of `name` whose labels contain `labels`.
fn sample(metrics: &str, name: &str, labels: &str) -> Option<f64> {
    metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| l.starts_with(&format!("{name}{{")) && l.contains(labels))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_topology_over_http() {
    let broker = TestBroker::mock().expect("mock");
    word_count_input(&broker, (0..300).map(|i| format!("alpha beta gamma {}", i % 5))).await;
    let cluster = broker.cluster();
    let state = tempfile::tempdir().expect("tempdir");
    let config = StreamsConfig::builder(pipeline::APPLICATION_ID)
        .state_dir(state.path())
        .commit_interval(Duration::from_millis(200))
        .kafka_property("consumer.session.timeout.ms", "6000")
        .build()
        .expect("config");
    let streams = Arc::new(
        KafkaStreams::start_on(pipeline::topology().expect("topology"), config, cluster)
            .await
            .expect("start"),
    );
    let addr = kafka_streams::server::serve(
        Arc::clone(&streams),
        "127.0.0.1:0".parse().expect("addr"),
        std::future::pending(),
    )
    .await
    .expect("serve");
    let http = reqwest::Client::new();
    let get = |path: &str| {
        let http = http.clone();
        let url = format!("http://{addr}{path}");
        async move { http.get(url).send().await.expect("request") }
    };

    // 300 lines, then 1 200 words through the repartition topic; lag appears with librdkafka's
    // statistics (every 5 s).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let metrics = loop {
        let text = get("/metrics").await.text().await.expect("body");
        let processed = sample(&text, "kafka_streams_records_processed_total", "word-count").unwrap_or(0.0);
        if processed >= 1_500.0 && text.contains("kafka_streams_consumer_lag{") {
            break text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "metrics never caught up:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(
        sample(&metrics, "kafka_streams_records_processed_total", "word-count"),
        Some(1_500.0)
    );
    assert!(sample(&metrics, "kafka_streams_commits_total", "").is_some_and(|c| c >= 1.0));
    assert!(
        sample(&metrics, "kafka_streams_state_store_size_bytes", "").is_some_and(|b| b > 0.0),
        "{metrics}"
    );
    assert_eq!(sample(&metrics, "kafka_streams_failed_stream_threads", ""), Some(0.0));
    assert!(metrics.contains("# TYPE kafka_streams_commit_latency_max_seconds gauge"));
    assert!(metrics.contains("# TYPE kafka_streams_punctuation_latency_max_seconds gauge"));
    assert!(metrics.contains("kafka_streams_punctuations_total{"));
    assert!(metrics.contains("topic=\"text-lines\""), "{metrics}");

    let mermaid = get("/topology?format=mermaid").await.text().await.expect("body");
    assert!(
        mermaid.starts_with("flowchart LR") && mermaid.contains("word-counts-repartition"),
        "{mermaid}"
    );
    let dot = get("/topology?format=dot").await.text().await.expect("body");
    assert!(dot.starts_with("digraph topology") && dot.contains("->"), "{dot}");
    let bad = get("/topology?format=svg").await;
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.expect("body").contains("use text, mermaid or dot"));
    streams.close().await.expect("close");
}
