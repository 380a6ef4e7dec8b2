//! Interactive-query latency: p50/p99 of lookups answered from the local store vs proxied to
//! the owning instance, through the generated typed client, with two word-count instances on
//! the embedded broker (in process). `cargo bench -p streams-benches --bench queries` writes
//! `benches/results/queries.md`; under `cargo test` it runs a short smoke version.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kafka_streams::KafkaStreams;
use kafka_streams::config::StreamsConfig;
use kafka_streams::testing::{TestBroker, TestInstances, free_loopback_address};
use kafka_streams_examples::word_count::pipeline;
use rdkafka::producer::{FutureProducer, FutureRecord};
use streams_benches::report::{machine, write};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let lookups = if full { 5_000 } else { 50 };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async move {
        let broker = TestBroker::mock().expect("mock");
        broker
            .create_topic(pipeline::topics::TEXT_LINES, 4)
            .await
            .expect("topic");
        broker
            .create_topic(pipeline::topics::WORD_COUNTS, 4)
            .await
            .expect("topic");
        let cluster = broker.cluster();
        let mut group = TestInstances::new(
            &cluster,
            || pipeline::topology().expect("topology"),
            |dir| {
                Ok(StreamsConfig::builder(pipeline::APPLICATION_ID)
                    .state_dir(dir)
                    .application_server(free_loopback_address()?.to_string())
                    .commit_interval(Duration::from_millis(200))
                    .kafka_property("consumer.session.timeout.ms", "6000")
                    .build()?)
            },
        );
        for _ in 0..2 {
            group.start_serving().await.expect("start");
        }
        // Input flows once the group is stable: under at-least-once, records of a commit that a
        // rebalance interrupted are counted again, and the lookups below check exact counts.
        group
            .wait_for_tasks_spread(8, Duration::from_secs(60))
            .await
            .expect("the group settled");
        group
            .wait_for_membership(8, Duration::from_secs(60))
            .await
            .expect("the group settled");
        let instances: Vec<(SocketAddr, Arc<KafkaStreams>)> = group
            .instances()
            .map(|s| (s.endpoint().expect("endpoint").parse().expect("address"), Arc::clone(s)))
            .collect();
        let producer: FutureProducer = cluster.client_config().create().expect("producer");
        let words: Vec<String> = (0..200).map(|i| format!("word{i}")).collect();
        for (i, word) in words.iter().enumerate() {
            producer
                .send(
                    FutureRecord::to(pipeline::topics::TEXT_LINES)
                        .key(&format!("l{i}"))
                        .payload(word),
                    Duration::from_secs(5),
                )
                .await
                .expect("produce");
        }
        // Wait until every word is answered, then split the words by who answers them.
        let http = reqwest::Client::new();
        let a = instances[0].0;
        let a_id = instances[0].1.process_id().to_owned();
        let (mut local, mut remote) = (Vec::new(), Vec::new());
        for word in &words {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let answer = http
                    .get(format!("http://{a}/stores/word-counts/keys/{word}"))
                    .send()
                    .await;
                if let Ok(answer) = answer
                    && answer.status().is_success()
                {
                    let body: serde_json::Value = answer.json().await.expect("json");
                    if body["served_by"].as_str() == Some(a_id.as_str()) {
                        local.push(word.clone());
                    } else {
                        remote.push(word.clone());
                    }
                    break;
                }
                assert!(Instant::now() < deadline, "`{word}` never became queryable");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        assert!(!local.is_empty() && !remote.is_empty(), "one instance owns every word");
        let client = pipeline::Client::new(a.to_string());
        let measure = |keys: Vec<String>| {
            let client = client.clone();
            async move {
                let mut latencies = Vec::with_capacity(lookups);
                for i in 0..lookups {
                    let key = &keys[i % keys.len()];
                    let started = Instant::now();
                    let value = client.word_counts().get(key).await.expect("lookup");
                    latencies.push(started.elapsed());
                    assert_eq!(value, Some(1));
                }
                latencies.sort();
                latencies
            }
        };
        let local_latencies = measure(local).await;
        let remote_latencies = measure(remote).await;
        let row = |name: &str, l: &[Duration]| {
            format!(
                "| {name} | {} | {:.0} µs | {:.0} µs | {:.0} µs |\n",
                l.len(),
                percentile(l, 0.5).as_secs_f64() * 1e6,
                percentile(l, 0.99).as_secs_f64() * 1e6,
                percentile(l, 1.0).as_secs_f64() * 1e6,
            )
        };
        let report = format!(
            "# Interactive-query latency\n\nMachine: {}\n\nTwo word-count instances in one process on the embedded \
             broker; sequential lookups through the generated typed client (HTTP/1.1, reqwest) against instance A, \
             for keys A owns (answered from its RocksDB store) and keys B owns (A proxies the request to B once). \
             Release build (`cargo bench -p streams-benches --bench queries`).\n\n\
             | Lookup | Count | p50 | p99 | max |\n|:--|--:|--:|--:|--:|\n{}{}",
            machine(),
            row("local (owner answers)", &local_latencies),
            row("proxied (one hop to the owner)", &remote_latencies),
        );
        println!("{report}");
        if full {
            let path = write("queries", &report).expect("write results");
            println!("written to {}", path.display());
        }
        for (_, streams) in &instances {
            streams.close().await.expect("close");
        }
    });
}
