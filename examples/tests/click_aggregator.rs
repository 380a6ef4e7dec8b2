//! The demo app end to end on the embedded broker (the mock cluster, as `cargo run` uses it):
//! demo clicks in → counts over HTTP and `aggregated-clicks` records out, checked against counts
//! computed independently from the same deterministic input.

use std::collections::BTreeMap;
use std::time::Duration;

use kafka_streams::config::ProcessingGuarantee;
use kafka_streams::window::TumblingWindows;
use kafka_streams::{TimeWindow, Windowed};
use kafka_streams_examples::click_aggregator::{
    AppOptions, DemoClicks, OUTPUT_TOPIC, RunningApp, WINDOW_SIZE, WindowCount,
};
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};

const CLICKS: u64 = 1_500;
const USERS: u64 = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_match_the_input_over_http_and_on_the_output_topic() {
    let state = tempfile::tempdir().expect("tempdir");
    let app = RunningApp::start(AppOptions {
        bootstrap_servers: None,
        http_addr: "127.0.0.1:0".parse().expect("addr"),
        state_dir: Some(state.path().to_owned()),
        processing_guarantee: ProcessingGuarantee::AtLeastOnce,
        properties: Vec::new(),
        demo_clicks_per_second: 2_000,
        demo_clicks_max: Some(CLICKS),
        demo_users: USERS,
    })
    .await
    .expect("app starts on the embedded broker");

    // Independent oracle: count the same deterministic clicks directly.
    let windows = TumblingWindows::of(WINDOW_SIZE);
    let mut expected: BTreeMap<(String, TimeWindow), u64> = BTreeMap::new();
    for click in DemoClicks::new(USERS).take(CLICKS as usize) {
        *expected
            .entry((click.user_id.clone(), windows.window_for(click.event_time_ms())))
            .or_default() += 1;
    }

    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while app.streams.metrics().records_processed < CLICKS {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {}", app.progress());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let http = reqwest::Client::new();
    for user in (0..USERS).map(|u| format!("user-{u}")) {
        let answer: Vec<WindowCount> = http
            .get(format!("http://{}/counts/{user}", app.http_addr))
            .send()
            .await
            .expect("query")
            .json()
            .await
            .expect("json answer");
        let want: Vec<(i64, u64)> = expected
            .iter()
            .filter(|((u, _), _)| *u == user)
            .map(|((_, w), c)| (w.start_ms, *c))
            .collect();
        let got: Vec<(i64, u64)> = answer.iter().map(|w| (w.window_start, w.count)).collect();
        assert_eq!(got, want, "counts of {user}");
    }

    // Bad input gets a clear 4xx, not a crash.
    let bad = http
        .get(format!("http://{}/counts/user-1?window_start=ten", app.http_addr))
        .send()
        .await
        .expect("query");
    assert_eq!(bad.status(), 400);
    let unknown = http
        .get(format!("http://{}/counts/nobody", app.http_addr))
        .send()
        .await
        .expect("query");
    assert_eq!(unknown.status(), 404);

    let cluster = app.streams.cluster().clone();
    app.shutdown().await.expect("clean shutdown");

    // The last update per `user@window` on the output topic is the final count.
    let consumer: StreamConsumer = cluster
        .client_config()
        .set("group.id", "click-aggregator-test-reader")
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("consumer");
    consumer.subscribe(&[OUTPUT_TOPIC]).expect("subscribe");
    let want: BTreeMap<String, u64> = expected
        .iter()
        .map(|((user, window), count)| {
            (
                Windowed {
                    key: user.clone(),
                    window: *window,
                }
                .to_string(),
                *count,
            )
        })
        .collect();
    let mut latest: BTreeMap<String, u64> = BTreeMap::new();
    let mut updates = 0u64;
    while updates < CLICKS {
        let message = tokio::time::timeout(Duration::from_secs(30), consumer.recv())
            .await
            .unwrap_or_else(|_| panic!("only {updates} of {CLICKS} updates read from `{OUTPUT_TOPIC}`"))
            .expect("consume");
        let key = String::from_utf8_lossy(message.key().expect("key")).into_owned();
        let count: u64 = String::from_utf8_lossy(message.payload().expect("value"))
            .parse()
            .expect("count");
        // Updates for one key arrive in order on its partition, so counts only grow.
        let previous = latest.insert(key.clone(), count).unwrap_or(0);
        assert!(count > previous, "{key}: update {count} after {previous}");
        updates += 1;
    }
    assert_eq!(latest, want);
}
