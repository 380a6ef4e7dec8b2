//! The instance's state and its health probes when a stream thread fails, per
//! `stream.thread.failure.policy`. On the mock cluster: the failure is a record the topology
//! refuses under `LogAndFail` (an in-process fault), and what is observed is the runtime's own
//! lifecycle — threads, states, probes, the error `run_until_signal` returns — not the broker.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{init_logging, read_all, record_states, wait_for};
use kafka_streams::codec::Utf8;
use kafka_streams::config::{StreamsConfig, ThreadFailurePolicy};
use kafka_streams::testing::{TestBroker, TopicWriter};
use kafka_streams::topology::{Consumed, ErrorPolicy, StreamsBuilder, Topology};
use kafka_streams::{KafkaStreams, State};
use rdkafka::producer::{FutureProducer, FutureRecord};

/// `in` → upper-cased → `out`; the value `boom` fails (only the first time if `once` is given).
fn topology(once: Option<Arc<AtomicBool>>) -> Topology {
    let builder = StreamsBuilder::new();
    builder.on_processing_error(ErrorPolicy::LogAndFail);
    builder
        .stream_with::<String, String>("in", Consumed::new(Utf8, Utf8))
        .try_map_values(move |v: String| {
            let fails = v == "boom" && once.as_ref().is_none_or(|failed| !failed.swap(true, Ordering::SeqCst));
            if fails {
                Err("boom refused".to_owned())
            } else {
                Ok(v.to_uppercase())
            }
        })
        .to_with("out", Utf8, Utf8);
    builder.build().expect("topology")
}

async fn start(
    policy: ThreadFailurePolicy,
    once: Option<Arc<AtomicBool>>,
) -> (TestBroker, Arc<KafkaStreams>, tempfile::TempDir) {
    init_logging();
    let broker = TestBroker::mock().expect("mock cluster");
    for topic in ["in", "out"] {
        broker.create_topic(topic, 1).await.expect("topic");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let config = StreamsConfig::builder("lifecycle")
        .state_dir(dir.path())
        .commit_interval(Duration::from_millis(200))
        .thread_failure_policy(policy)
        .build()
        .expect("config");
    let streams = KafkaStreams::start_on(topology(once), config, broker.cluster())
        .await
        .expect("start");
    (broker, Arc::new(streams), dir)
}

async fn produce(broker: &TestBroker, values: &[&str]) {
    let writer = TopicWriter::new(&broker.cluster(), "in", Utf8, Utf8).expect("writer");
    let (key, values): (String, Vec<String>) = ("k".to_owned(), values.iter().map(|v| (*v).to_owned()).collect());
    writer
        .send_all(values.iter().map(|v| (&key, Some(v), None)))
        .await
        .expect("records written");
}

/// (HTTP status, `state` field) of a probe.
async fn probe(base: &str, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("{base}{path}")).await.expect("probe answered");
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.expect("json");
    (status, body["state"].as_str().expect("state").to_owned())
}

async fn wait_for_state(streams: &KafkaStreams, wanted: State) {
    let mut changes = streams.state_changes();
    let reached = tokio::time::timeout(Duration::from_secs(60), async {
        changes.wait_for(|s| *s == wanted).await.map(|s| *s)
    })
    .await
    .unwrap_or_else(|_| panic!("the state did not become {wanted}; it is {}", streams.state()));
    reached.expect("watch open");
}

/// The default policy (Kafka Streams' SHUTDOWN_CLIENT): the failed thread stops the instance,
/// the state ends in ERROR, liveness fails (so the pod is restarted), readiness too, and
/// `run_until_signal` returns an error (a non-zero exit) instead of waiting for a signal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_thread_stops_the_instance_and_fails_the_probes() {
    let (broker, streams, _dir) = start(ThreadFailurePolicy::ShutdownClient, None).await;
    let server = kafka_streams::server::serve(
        Arc::clone(&streams),
        "127.0.0.1:0".parse().unwrap(),
        std::future::pending(),
    )
    .await
    .expect("serve");
    let base = format!("http://{server}");
    wait_for_state(&streams, State::Running).await;
    assert_eq!(probe(&base, "/health/ready").await, (200, "RUNNING".to_owned()));
    assert_eq!(probe(&base, "/health/live").await, (200, "RUNNING".to_owned()));

    produce(&broker, &["fine", "boom"]).await;
    wait_for_state(&streams, State::Error).await;
    assert_eq!(probe(&base, "/health/live").await, (503, "ERROR".to_owned()));
    assert_eq!(probe(&base, "/health/ready").await, (503, "ERROR".to_owned()));
    let ended = tokio::time::timeout(Duration::from_secs(30), streams.run_until_signal())
        .await
        .expect("returns without a signal");
    let error = ended.expect_err("the thread's failure is the instance's result");
    assert!(error.report().to_string().contains("boom refused"), "{error}");
    assert_eq!(streams.metrics().failed_stream_threads, 1);
    assert!(streams.is_stopped());
}

/// REPLACE_THREAD: a new thread takes over (the instance rebalances, then runs again), redoes
/// the record from the last commit — this time it passes — and nothing else stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_thread_is_replaced_and_the_instance_runs_on() {
    let once = Arc::new(AtomicBool::new(false));
    let (broker, streams, _dir) = start(ThreadFailurePolicy::ReplaceThread, Some(Arc::clone(&once))).await;
    wait_for_state(&streams, State::Running).await;
    let states = record_states(&streams);
    produce(&broker, &["a", "boom", "b"]).await;
    let cluster = broker.cluster();
    let mut values = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !["A", "BOOM", "B"]
        .iter()
        .all(|v| values.iter().any(|got: &String| got == v))
    {
        assert!(tokio::time::Instant::now() < deadline, "outputs so far: {values:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        values = read_all(&cluster, "out")
            .await
            .into_iter()
            .filter_map(|(_, v)| v.map(|v| String::from_utf8_lossy(&v).into_owned()))
            .collect();
    }
    assert!(once.load(Ordering::SeqCst), "the record failed once");
    wait_for_state(&streams, State::Running).await;
    wait_for("the failure counted", Duration::from_secs(5), || {
        streams.metrics().failed_stream_threads == 1
    })
    .await;
    let seen = states.lock().expect("states").clone();
    assert!(
        seen.windows(2).any(|w| w == [State::Running, State::Rebalancing]),
        "the replacement rebalanced: {seen:?}"
    );
    assert!(
        !seen.contains(&State::Error) && !seen.contains(&State::PendingError),
        "{seen:?}"
    );
    streams.close().await.expect("close");
    assert_eq!(streams.state(), State::NotRunning);
}

/// SHUTDOWN_APPLICATION: the instance whose thread failed asks every instance to stop (through
/// the membership topic); the other one — whose own records all pass — stops too, and both end
/// in ERROR. Two instances of one application on the mock, one partition each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_thread_can_stop_every_instance_of_the_application() {
    init_logging();
    let broker = TestBroker::mock().expect("mock cluster");
    broker.create_topic("in", 2).await.expect("topic");
    broker.create_topic("out", 2).await.expect("topic");
    let start = |fails: bool| {
        let cluster = broker.cluster();
        async move {
            let dir = tempfile::tempdir().expect("tempdir");
            let config = StreamsConfig::builder("lifecycle-app")
                .state_dir(dir.path())
                .commit_interval(Duration::from_millis(200))
                // The mock cluster's coordinator waits session timeout − 1 s for members to
                // rejoin when one joins a formed group (the second instance, late on a busy
                // machine): 5 s, not librdkafka's default 44 s.
                .kafka_property("consumer.session.timeout.ms", "6000")
                .thread_failure_policy(ThreadFailurePolicy::ShutdownApplication)
                .build()
                .expect("config");
            // The healthy instance's `boom` has "already failed once": it passes.
            let once = (!fails).then(|| Arc::new(AtomicBool::new(true)));
            let streams = KafkaStreams::start_on(topology(once), config, cluster)
                .await
                .expect("start");
            (Arc::new(streams), dir)
        }
    };
    let (failing, _dir_a) = start(true).await;
    let (healthy, _dir_b) = start(false).await;
    wait_for("one partition each", Duration::from_secs(60), || {
        failing.active_tasks().len() == 1 && healthy.active_tasks().len() == 1
    })
    .await;
    let failing_partition = failing.active_tasks()[0].partition;
    let producer: FutureProducer = broker.cluster().client_config().create().expect("producer");
    for partition in 0..2 {
        let value = if partition == failing_partition { "boom" } else { "fine" };
        producer
            .send(
                FutureRecord::to("in").key("k").payload(value).partition(partition),
                Duration::from_secs(10),
            )
            .await
            .map_err(|(e, _)| e)
            .expect("delivered");
    }
    wait_for_state(&failing, State::Error).await;
    wait_for_state(&healthy, State::Error).await;
    assert_eq!(failing.metrics().failed_stream_threads, 1);
    assert_eq!(
        healthy.metrics().failed_stream_threads,
        0,
        "it stopped on request, not by failing"
    );
    let ended = tokio::time::timeout(Duration::from_secs(30), healthy.run_until_signal())
        .await
        .expect("returns without a signal");
    assert!(ended.is_err(), "the requested stop is an error exit too");
}
