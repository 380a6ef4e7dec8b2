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
        .find(|l| (l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} "))) && l.contains(labels))
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
    // The app's own metric, served beside the runtime's.
    let orders = kafka_streams::prometheus_client::metrics::counter::Counter::<u64>::default();
    streams.with_metrics_registry(|registry| registry.register("app_orders", "Orders seen by the app", orders.clone()));
    orders.inc_by(7);
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
        let answer = get("/metrics").await;
        assert_eq!(
            answer.headers()["content-type"],
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        );
        let text = answer.text().await.expect("body");
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
        sample(
            &metrics,
            "kafka_streams_state_store_size_bytes",
            "store=\"word-counts\""
        )
        .is_some_and(|b| b > 0.0),
        "{metrics}"
    );
    assert_eq!(sample(&metrics, "kafka_streams_failed_stream_threads", ""), Some(0.0));
    // Latencies are histograms per stream thread (per task for punctuations), which a scraper
    // can sum across instances; the snapshot's commit count is the histogram's.
    assert!(
        metrics.contains("# TYPE kafka_streams_commit_latency_seconds histogram"),
        "{metrics}"
    );
    let committed = sample(&metrics, "kafka_streams_commit_latency_seconds_count", "thread=");
    assert!(committed.is_some_and(|c| c >= 1.0), "{metrics}");
    assert!(
        metrics.contains("kafka_streams_commit_latency_seconds_bucket{"),
        "{metrics}"
    );
    assert!(metrics.contains("kafka_streams_punctuations_total{"));
    assert!(metrics.contains("topic=\"text-lines\""), "{metrics}");
    // From librdkafka's statistics, with the lag: each consumer's queue depth, broker round trips.
    assert!(
        sample(&metrics, "kafka_streams_fetch_queue_records", "thread=").is_some(),
        "{metrics}"
    );
    assert!(
        metrics.contains("# TYPE kafka_streams_broker_rtt_seconds gauge"),
        "{metrics}"
    );
    assert!(
        metrics.contains("# HELP kafka_streams_fetch_queue_records "),
        "{metrics}"
    );
    // Per-record latencies (a sample of the records), and the producer's queue.
    for histogram in ["process_latency", "record_e2e_latency"] {
        let count = sample(&metrics, &format!("kafka_streams_{histogram}_seconds_count"), "thread=");
        assert!(count.is_some_and(|c| c >= 1.0), "{histogram}: {metrics}");
    }
    assert!(
        sample(&metrics, "kafka_streams_producer_queue_records", "thread=").is_some(),
        "{metrics}"
    );
    assert!(
        metrics.contains("# TYPE kafka_streams_producer_queue_bytes gauge"),
        "{metrics}"
    );
    assert_eq!(sample(&metrics, "app_orders_total", ""), Some(7.0), "{metrics}");
    assert!(
        !metrics.contains("records_processed_rate"),
        "rates are PromQL's: {metrics}"
    );
    assert!(metrics.ends_with("# EOF\n"), "{metrics}");

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
