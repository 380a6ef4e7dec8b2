//! Two `click-aggregator` processes (at-least-once): one is killed with SIGKILL mid-stream, the
//! survivor takes its partitions over (restoring their state from the changelog), and every final
//! count equals the count computed independently from the input.
//!
//! Apache Kafka, because failover is the consumer group reassigning a dead member's partitions
//! after its session timed out, which only a real group coordinator does as production sees it
//! (tansu never did; the mock's coordinator is librdkafka's own).

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kafka_streams::codec::{Json, Utf8};
use kafka_streams::kafka::KafkaCluster;
use kafka_streams::testing::{TestBroker, TopicWriter, read_topic};
use kafka_streams::window::TumblingWindows;
use kafka_streams_examples::click_aggregator::{Click, DemoClicks, INPUT_TOPIC, OUTPUT_TOPIC, PARTITIONS, WINDOW_SIZE};

const CLICKS: usize = 6_000;
const USERS: u64 = 20;

fn spawn_instance(bootstrap: &str, dir: &Path, name: &str, standbys: usize) -> Child {
    let log = File::create(dir.join(format!("{name}.log"))).expect("log file");
    Command::new(env!("CARGO_BIN_EXE_click-aggregator"))
        .args([
            "--bootstrap-servers",
            bootstrap,
            "--http-addr",
            "127.0.0.1:0",
            "--demo-clicks-per-second",
            "0",
        ])
        .arg("--state-dir")
        .arg(dir.join(name))
        .args(["--config", "commit.interval.ms=500"])
        // Detect the killed instance within seconds rather than librdkafka's default 45 s.
        .args([
            "--config",
            "consumer.session.timeout.ms=6000",
            "--config",
            "consumer.heartbeat.interval.ms=1000",
        ])
        .args(["--config", "consumer.max.poll.interval.ms=10000"])
        .args(["--config", &format!("num.standby.replicas={standbys}")])
        .env("RUST_LOG", "info,librdkafka=warn,rdkafka=warn")
        .stdout(log.try_clone().expect("log handle"))
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .expect("start click-aggregator")
}

fn log_of(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default()
}

async fn produce(cluster: &KafkaCluster, clicks: &[Click]) {
    TopicWriter::new(cluster, INPUT_TOPIC, Utf8, Json)
        .expect("writer")
        .send_all(clicks.iter().map(|c| (&c.user_id, Some(c), Some(c.event_time_ms()))))
        .await
        .expect("clicks written");
}

async fn latest_counts(cluster: &KafkaCluster) -> BTreeMap<String, u64> {
    let mut latest = BTreeMap::new();
    for record in read_topic(cluster, OUTPUT_TOPIC).await.expect("read output") {
        if let Some(value) = &record.value {
            latest.insert(record.key_str(), serde_json::from_slice(value).expect("count"));
        }
    }
    latest
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survivor_takes_over_after_kill_9_on_apache_kafka() {
    survivor_takes_over_after_kill_9(
        TestBroker::kafka().expect("Apache Kafka broker (install: scripts/setup.sh)"),
        0,
    )
    .await;
}

/// With a standby, the survivor promotes its warm copy of A's tasks instead of rebuilding them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survivor_with_a_standby_takes_over_after_kill_9_on_apache_kafka() {
    survivor_takes_over_after_kill_9(
        TestBroker::kafka().expect("Apache Kafka broker (install: scripts/setup.sh)"),
        1,
    )
    .await;
}

async fn survivor_takes_over_after_kill_9(broker: TestBroker, standbys: usize) {
    let cluster = broker.cluster();
    broker.create_topic(INPUT_TOPIC, PARTITIONS).await.expect("input topic");
    broker
        .create_topic(OUTPUT_TOPIC, PARTITIONS)
        .await
        .expect("output topic");
    let dir = tempfile::tempdir().expect("tempdir");
    let clicks: Vec<Click> = DemoClicks::new(USERS).take(CLICKS).collect();
    let windows = TumblingWindows::of(WINDOW_SIZE);
    let mut expected = BTreeMap::new();
    for click in &clicks {
        let window = windows.window_for(click.event_time_ms());
        *expected
            .entry(
                kafka_streams::Windowed {
                    key: click.user_id.clone(),
                    window,
                }
                .to_string(),
            )
            .or_insert(0u64) += 1;
    }

    let mut a = spawn_instance(broker.bootstrap_servers(), dir.path(), "a", standbys);
    let mut b = spawn_instance(broker.bootstrap_servers(), dir.path(), "b", standbys);
    // Both instances own tasks before the stream starts flowing.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !(log_of(dir.path(), "a").contains("task assigned") && log_of(dir.path(), "b").contains("task assigned")) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "instances did not both get tasks:\nA:\n{}\nB:\n{}",
            log_of(dir.path(), "a"),
            log_of(dir.path(), "b")
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Mid-stream: A dies without committing, closing or leaving the group.
    let (before, after) = clicks.split_at(CLICKS / 2);
    for chunk in before.chunks(500) {
        produce(&cluster, chunk).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    if standbys > 0 {
        // B keeps a standby of A's tasks (placed once both appear in the membership topic).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while !log_of(dir.path(), "b").contains("standby opened") {
            assert!(
                tokio::time::Instant::now() < deadline,
                "B never opened a standby:\n{}",
                log_of(dir.path(), "b")
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    a.kill().expect("kill -9 instance A");
    a.wait().expect("reap A");
    for chunk in after.chunks(500) {
        produce(&cluster, chunk).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // The survivor ends with exactly the independently computed counts.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let mut latest = latest_counts(&cluster).await;
    while latest != expected {
        assert!(
            tokio::time::Instant::now() < deadline,
            "counts never converged: {} of {} windows right\nB:\n{}\nbroker:\n{}",
            expected.iter().filter(|(k, v)| latest.get(*k) == Some(v)).count(),
            expected.len(),
            log_of(dir.path(), "b"),
            broker.log(),
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
        latest = latest_counts(&cluster).await;
    }
    let log_b = log_of(dir.path(), "b");
    if standbys == 0 {
        assert!(
            log_b.contains("restored"),
            "B restored A's partitions from their changelogs:\n{log_b}"
        );
    } else {
        assert!(
            log_b.contains("standby opened") && log_b.contains("promoting the local standby"),
            "B kept standbys of A's tasks and promoted them:\n{log_b}"
        );
    }

    // SIGTERM: the survivor commits, closes and exits cleanly.
    let status = Command::new("kill")
        .args(["-TERM", &b.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    let exit = b.wait().expect("wait for B");
    assert!(exit.success(), "B exited with {exit}:\n{}", log_of(dir.path(), "b"));
    assert!(
        log_of(dir.path(), "b")
            .lines()
            .any(|l| l == "[click-aggregator] stopped"),
        "B reported a clean stop:\n{}",
        log_of(dir.path(), "b")
    );
}
