//! Interactive queries across instances: three word-count instances (in one process, on the
//! mock cluster, each with its own state, query server and `application.server`) — every
//! key is answered correctly by every instance through the generated typed client, routed to
//! the owner of the key's partition. In process so the test can see all three instances'
//! membership converge; the separate-process variant is `interactive_queries_processes.rs`.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::{every_client_answers, free_port, produce_lines};
use kafka_streams::KafkaStreams;
use kafka_streams::config::StreamsConfig;
use kafka_streams::testing::{TestBroker, TestInstances, free_loopback_address};
use kafka_streams_examples::click_aggregator;
use kafka_streams_examples::word_count::pipeline;
use rdkafka::producer::{FutureProducer, FutureRecord};

const LINES: usize = 400;

fn line(i: usize) -> String {
    format!("w{} w{} common", i % 37, (i * 7) % 11)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_instance_answers_every_key() {
    let broker = TestBroker::mock().expect("mock");
    for topic in [pipeline::topics::TEXT_LINES, pipeline::topics::WORD_COUNTS] {
        broker.create_topic(topic, 3).await.expect("topic");
    }
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
                .kafka_property("consumer.heartbeat.interval.ms", "500")
                .build()?)
        },
    );
    for _ in 0..3 {
        group.start_serving().await.expect("start");
    }
    // Converged: each of the 6 tasks run by exactly one instance, every instance seeing all three.
    group
        .wait_for_tasks_spread(6, Duration::from_secs(90))
        .await
        .expect("tasks spread");
    group
        .wait_for_membership(6, Duration::from_secs(90))
        .await
        .expect("membership");
    let instances: Vec<(String, Arc<KafkaStreams>)> = group
        .instances()
        .map(|s| (s.endpoint().expect("endpoint").to_owned(), Arc::clone(s)))
        .collect();
    // Input flows once the group is stable (at-least-once may count records of a commit that a
    // rebalance interrupted twice; this test checks exact counts).
    let expected = produce_lines(&broker, (0..LINES).map(line)).await;

    // Every key, asked of every instance, answers the full count (once processing caught up).
    let clients: Vec<pipeline::Client> = instances
        .iter()
        .map(|(addr, _)| pipeline::Client::new(addr.to_string()))
        .collect();
    every_client_answers(&clients, &expected, Duration::from_secs(90), String::new).await;
    // Local answers and proxied ones both happened: each instance owns only some partitions.
    let served: Vec<String> = {
        let http = reqwest::Client::new();
        let mut out = Vec::new();
        for word in expected.keys().take(12) {
            let body: serde_json::Value = http
                .get(format!("http://{}/stores/word-counts/keys/{word}", instances[0].0))
                .send()
                .await
                .expect("get")
                .json()
                .await
                .expect("json");
            out.push(body["served_by"].as_str().unwrap_or_default().to_owned());
        }
        out
    };
    let distinct: std::collections::BTreeSet<&String> = served.iter().collect();
    assert!(distinct.len() > 1, "all answers came from one instance: {served:?}");

    // A scan across instances pages through every key exactly once.
    let mut seen = BTreeMap::new();
    let mut after: Option<String> = None;
    loop {
        let (page, next) = clients[1]
            .word_counts()
            .scan("", after.as_deref(), 10)
            .await
            .expect("scan");
        seen.extend(page);
        match next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(seen, expected);
    let (prefixed, _) = clients[2].word_counts().scan("w1", None, 1000).await.expect("scan");
    assert!(!prefixed.is_empty() && prefixed.iter().all(|(w, _)| w.starts_with("w1")));

    // Bad requests: clear 4xx answers.
    let http = reqwest::Client::new();
    let base = format!("http://{}", instances[2].0);
    let unknown = http
        .get(format!("{base}/stores/nope/keys/a"))
        .send()
        .await
        .expect("get");
    assert_eq!(unknown.status(), 404);
    assert!(
        unknown
            .text()
            .await
            .expect("body")
            .contains("no store named `nope`; this application has `word-counts`")
    );
    let bad_limit = http
        .get(format!("{base}/stores/word-counts?limit=0"))
        .send()
        .await
        .expect("get");
    assert_eq!(bad_limit.status(), 400);
    let window_args = http
        .get(format!("{base}/stores/word-counts/keys/a?from=1"))
        .send()
        .await
        .expect("get");
    assert_eq!(window_args.status(), 400);
    let missing = clients[0]
        .word_counts()
        .get(&"never-seen".to_owned())
        .await
        .expect("get");
    assert_eq!(missing, None);
    // Provenance: which instance answered; no standby here (none configured).
    let (word, count) = &seen.iter().next().map(|(w, c)| (w.clone(), *c)).expect("a word");
    let answer = clients[0]
        .word_counts()
        .get_answer(word)
        .await
        .expect("get")
        .expect("present");
    assert_eq!((answer.value, answer.standby), (*count, None));
    assert!(instances.iter().any(|(_, s)| s.process_id() == answer.served_by));
    let metadata = clients[0].metadata().await.expect("metadata");
    assert_eq!(metadata["members"].as_array().map(Vec::len), Some(3));

    for (_, streams) in &instances {
        streams.close().await.expect("close");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_store_queries_and_bad_window_arguments() {
    use click_aggregator::{Click, pipeline as clicks};
    let broker = TestBroker::mock().expect("mock");
    broker
        .create_topic(clicks::topics::USER_CLICKS, 2)
        .await
        .expect("topic");
    broker
        .create_topic(clicks::topics::AGGREGATED_CLICKS, 2)
        .await
        .expect("topic");
    let cluster = broker.cluster();
    // Keys are routed with Java's partitioner (murmur2); producers of the input must use it too.
    let producer: FutureProducer = cluster
        .client_config()
        .set("partitioner", kafka_streams::partitioner::RDKAFKA_PARTITIONER)
        .create()
        .expect("producer");
    // 2024-01-05 10:00:00 UTC, seconds.
    let ten = 1_704_448_800;
    for (user, offset) in [("ann", 10), ("ann", 20), ("bob", 30), ("ann", 400)] {
        let click = Click {
            user_id: user.into(),
            url: "/".into(),
            timestamp: ten + offset,
        };
        producer
            .send(
                FutureRecord::to(clicks::topics::USER_CLICKS)
                    .key(user)
                    .payload(&serde_json::to_vec(&click).expect("json")),
                Duration::from_secs(5),
            )
            .await
            .expect("produce");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let addr = free_port();
    let config = StreamsConfig::builder(clicks::APPLICATION_ID)
        .state_dir(dir.path())
        .application_server(addr.to_string())
        .commit_interval(Duration::from_millis(200))
        .build()
        .expect("config");
    let streams = Arc::new(
        KafkaStreams::start_on(clicks::topology().expect("topology"), config, cluster)
            .await
            .expect("start"),
    );
    kafka_streams::server::serve(Arc::clone(&streams), addr, std::future::pending())
        .await
        .expect("serve");
    // Before the group has assigned any partition nobody owns the key: 503 with a retry hint,
    // not an empty answer. (The mock's group coordinator waits 3 s before its first assignment.)
    let early = reqwest::Client::new()
        .get(format!("http://{addr}/stores/click-counts/keys/ann?window_start=0"))
        .send()
        .await
        .expect("get");
    assert_eq!(early.status(), 503);
    assert_eq!(
        early.headers().get("retry-after").map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
    assert!(
        early
            .text()
            .await
            .expect("body")
            .contains("has no active owner right now")
    );
    let client = clicks::Client::new(addr.to_string());
    let window_ms = ten * 1000;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if client
            .click_counts()
            .get(&"ann".to_owned(), window_ms)
            .await
            .ok()
            .flatten()
            == Some(2)
        {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "counts never arrived");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let windows = client
        .click_counts()
        .fetch(&"ann".to_owned(), window_ms, window_ms + 3_600_000)
        .await
        .expect("fetch");
    let counts: Vec<(i64, u64)> = windows.iter().map(|(w, n)| (w.start_ms, *n)).collect();
    assert_eq!(counts, vec![(window_ms, 2), (window_ms + 300_000, 1)]);
    assert_eq!(
        client
            .click_counts()
            .get(&"bob".to_owned(), window_ms + 300_000)
            .await
            .expect("get"),
        None
    );

    let http = reqwest::Client::new();
    let base = format!("http://{addr}/stores/click-counts/keys/ann");
    for bad in ["?from=abc", "?window_start=1&from=2", "?from=10&to=5"] {
        let answer = http.get(format!("{base}{bad}")).send().await.expect("get");
        assert_eq!(answer.status(), 400, "{bad}");
    }
    streams.close().await.expect("close");
}

/// Pages per reading session, served over HTTP like any store.
#[kafka_streams::topology(application_id = "reading-sessions-served")]
pub mod reading {
    #[source(topic = "page-views", key_format = "utf8", value_format = "utf8")]
    pub type PageViews = (String, String);

    #[windowed(session(inactivity_gap = "30m"), merge = add)]
    #[state_store(name = "session-pages")]
    pub fn pages(#[from(PageViews)] _reader: &String, _page: &String, pages: &mut u64) {
        *pages += 1;
    }

    pub fn add(a: u64, b: u64) -> u64 {
        a + b
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_store_queries_through_the_generated_client() {
    let broker = TestBroker::mock().expect("mock");
    broker
        .create_topic(reading::topics::PAGE_VIEWS, 2)
        .await
        .expect("topic");
    let cluster = broker.cluster();
    let producer: FutureProducer = cluster
        .client_config()
        .set("partitioner", kafka_streams::partitioner::RDKAFKA_PARTITIONER)
        .create()
        .expect("producer");
    let minute = 60_000;
    let base = 1_704_448_800_000;
    for (reader, at) in [("ann", 0), ("ann", 10), ("ann", 90), ("bob", 5)] {
        producer
            .send(
                FutureRecord::to(reading::topics::PAGE_VIEWS)
                    .key(reader)
                    .payload("/")
                    .timestamp(base + at * minute),
                Duration::from_secs(5),
            )
            .await
            .expect("produce");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let addr = free_port();
    let config = StreamsConfig::builder(reading::APPLICATION_ID)
        .state_dir(dir.path())
        .application_server(addr.to_string())
        .commit_interval(Duration::from_millis(200))
        .build()
        .expect("config");
    let streams = Arc::new(
        KafkaStreams::start_on(reading::topology().expect("topology"), config, cluster)
            .await
            .expect("start"),
    );
    kafka_streams::server::serve(Arc::clone(&streams), addr, std::future::pending())
        .await
        .expect("serve");
    let client = reading::Client::new(addr.to_string());
    let expected = vec![
        (base, base + 10 * minute, 2),
        (base + 90 * minute, base + 90 * minute, 1),
    ];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut got = Vec::new();
    while got != expected && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        got = client
            .session_pages()
            .fetch(&"ann".to_owned())
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|(w, n)| (w.start_ms, w.end_ms, n))
            .collect();
    }
    assert_eq!(got, expected, "ann's two sessions, with their ends");
    let late = client
        .session_pages()
        .fetch_range(&"ann".to_owned(), base + minute, i64::MAX)
        .await
        .expect("fetch");
    assert_eq!(late.len(), 1, "sessions starting from the given time");
    let metadata = client.metadata().await.expect("metadata");
    assert_eq!(metadata["stores"]["session-pages"]["layout"], "session");
    streams.close().await.expect("close");
}
