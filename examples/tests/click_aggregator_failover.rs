//! `click-aggregator` processes (at-least-once), two, or three with standbys: one is killed with
//! SIGKILL mid-stream, the survivors take its partitions over (restoring their state from the
//! changelog, or promoting a standby), and the final counts cover the counts computed
//! independently from the input: nothing is lost, and what is counted twice is at most what
//! at-least-once allows (the input of the killed instance's last commit interval, when the kill
//! landed inside a commit; exact in most runs).
//!
//! Apache Kafka, because failover is the consumer group reassigning a dead member's partitions
//! after its session timed out, which only a real group coordinator does as production sees it
//! (tansu never did; the mock's coordinator is librdkafka's own).

mod common;

use std::collections::{BTreeMap, BTreeSet};
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

/// The demo's topics on `broker`, a state directory, the clicks to produce, and the final count
/// of every window computed from them (the oracle).
async fn setup(broker: &TestBroker) -> (tempfile::TempDir, Vec<Click>, BTreeMap<String, u64>) {
    broker.create_topic(INPUT_TOPIC, PARTITIONS).await.expect("input topic");
    broker
        .create_topic(OUTPUT_TOPIC, PARTITIONS)
        .await
        .expect("output topic");
    let clicks: Vec<Click> = DemoClicks::new(USERS).take(CLICKS).collect();
    let windows = TumblingWindows::of(WINDOW_SIZE);
    let mut expected = BTreeMap::new();
    for click in &clicks {
        let key = kafka_streams::Windowed {
            key: click.user_id.clone(),
            window: windows.window_for(click.event_time_ms()),
        };
        *expected.entry(key.to_string()).or_insert(0u64) += 1;
    }
    (tempfile::tempdir().expect("tempdir"), clicks, expected)
}

/// Clicks per produced chunk.
const CHUNK: usize = 500;

/// Produces `clicks` in chunks of [`CHUNK`], 0.3 s apart: a stream, not one burst.
async fn produce_in_chunks(cluster: &KafkaCluster, clicks: &[Click]) {
    for chunk in clicks.chunks(CHUNK) {
        produce(cluster, chunk).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Clicks an at-least-once survivor may count twice: those the killed instance processed after
/// its last offset commit when the kill landed inside a commit, after its changelog writes went
/// out and before the offsets did (README, "State, commits and recovery": the duplicates
/// at-least-once allows). At most one commit interval (500 ms) of input: two chunks.
const AT_LEAST_ONCE_SLACK: u64 = 2 * CHUNK as u64;

/// Waits (up to 2 minutes) until the output's latest counts are final (the same on two reads
/// 2 s apart) and cover `expected`, the oracle: every window, none lower (nothing is lost), and
/// higher by at most [`AT_LEAST_ONCE_SLACK`] in all (at-least-once). `context` (the
/// instances' logs) is shown if that never happens.
async fn wait_for_counts(cluster: &KafkaCluster, expected: &BTreeMap<String, u64>, context: impl Fn() -> String) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let covers = |latest: &BTreeMap<String, u64>| {
        latest.keys().eq(expected.keys()) && expected.iter().all(|(window, count)| latest[window] >= *count)
    };
    let mut previous = BTreeMap::new();
    let mut latest = latest_counts(cluster).await;
    while !(covers(&latest) && latest == previous) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "counts never converged: {} of {} windows right; wrong (window: expected, counted): {:?}\n{}",
            expected.iter().filter(|(k, v)| latest.get(*k) == Some(v)).count(),
            expected.len(),
            differences(expected, &latest),
            context(),
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
        previous = std::mem::replace(&mut latest, latest_counts(cluster).await);
    }
    let counted_again: u64 = expected.iter().map(|(window, count)| latest[window] - count).sum();
    assert!(
        counted_again <= AT_LEAST_ONCE_SLACK,
        "{counted_again} clicks counted twice, more than one commit interval holds; (window: expected, counted): {:?}\n{}",
        differences(expected, &latest),
        context(),
    );
}

/// The first windows whose count is not the oracle's: (window, expected, counted).
fn differences(expected: &BTreeMap<String, u64>, latest: &BTreeMap<String, u64>) -> Vec<(String, u64, Option<u64>)> {
    expected
        .iter()
        .filter(|(window, count)| latest.get(*window) != Some(count))
        .map(|(window, count)| (window.clone(), *count, latest.get(window).copied()))
        .take(12)
        .collect()
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
    let (dir, clicks, expected) = setup(&broker).await;

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
    produce_in_chunks(&cluster, before).await;
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
    produce_in_chunks(&cluster, after).await;

    // The survivor ends with the independently computed counts (at-least-once: see
    // `wait_for_counts`).
    wait_for_counts(&cluster, &expected, || {
        format!("B:\n{}\nbroker:\n{}", log_of(dir.path(), "b"), broker.log())
    })
    .await;
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
    let exit = common::terminate(&mut b);
    assert!(exit.success(), "B exited with {exit}:\n{}", log_of(dir.path(), "b"));
    assert!(
        log_of(dir.path(), "b")
            .lines()
            .any(|l| l == "[click-aggregator] stopped"),
        "B reported a clean stop:\n{}",
        log_of(dir.path(), "b")
    );
}

/// `log` without the terminal colour codes tracing writes around field names.
fn plain(log: &str) -> String {
    let mut out = String::with_capacity(log.len());
    let mut chars = log.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters... final byte (a letter).
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The tasks named by `message` lines of `log` (their `task=` field), in order.
fn tasks_in(log: &str, message: &str) -> Vec<String> {
    plain(log)
        .lines()
        .filter(|line| line.contains(message))
        .filter_map(|line| {
            let field = line.split_whitespace().find_map(|f| f.strip_prefix("task="))?;
            Some(field.to_owned())
        })
        .collect()
}

/// The tasks `log`'s instance has open, replaying its `opened` and `closed` messages.
fn open_tasks(log: &str, opened: &str, closed: &[&str]) -> BTreeSet<String> {
    let mut open = BTreeSet::new();
    for line in plain(log).lines() {
        let Some(task) = line.split_whitespace().find_map(|f| f.strip_prefix("task=")) else {
            continue;
        };
        if line.contains(opened) {
            open.insert(task.to_owned());
        } else if closed.iter().any(|message| line.contains(message)) {
            open.remove(task);
        }
    }
    open
}

/// The standbys `log`'s instance keeps now.
fn open_standbys(log: &str) -> BTreeSet<String> {
    open_tasks(log, "standby opened", &["standby closed"])
}

/// The tasks `log`'s instance runs now.
fn active_tasks(log: &str) -> BTreeSet<String> {
    open_tasks(log, "task assigned", &["task revoked", "task lost"])
}

/// Three processes with `num.standby.replicas = 1`, one task each; A is killed with SIGKILL
/// mid-stream. The group's (range) assignor hands A's task — and any task it moves along — to
/// the survivors, which promote the standbys they kept for exactly that case instead of
/// rebuilding the tasks from the changelog, and the final counts equal the input's. Apache
/// Kafka, because the takeover is its coordinator reassigning a dead member's partitions after
/// the session timeout, and the standbys' placement must match librdkafka's real assignment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_promote_their_standbys_after_kill_9_on_apache_kafka() {
    let broker = TestBroker::kafka().expect("Apache Kafka broker (install: scripts/setup.sh)");
    let cluster = broker.cluster();
    let (dir, clicks, expected) = setup(&broker).await;
    let names = ["a", "b", "c"];
    let mut instances: Vec<Child> = names
        .iter()
        .map(|name| spawn_instance(broker.bootstrap_servers(), dir.path(), name, 1))
        .collect();
    let logs = || names.map(|name| log_of(dir.path(), name));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while !logs().iter().all(|log| log.contains("task assigned")) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not every instance got a task: {:#?}",
            logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (before, after) = clicks.split_at(CLICKS / 2);
    produce_in_chunks(&cluster, before).await;
    // Every task has a standby; the placement settles once each instance described the formed
    // group (every 2 s), so it is checked twice, 3 s apart.
    let every_task_has_a_standby = || {
        let kept: BTreeSet<String> = logs().iter().flat_map(|log| open_standbys(log)).collect();
        kept.len() == PARTITIONS as usize
    };
    for _ in 0..2 {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while !every_task_has_a_standby() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "standbys never covered every task: {:#?}",
                logs()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
    }

    let a_tasks = active_tasks(&log_of(dir.path(), "a"));
    let survivors_logged_before = [log_of(dir.path(), "b").len(), log_of(dir.path(), "c").len()];
    instances[0].kill().expect("kill -9 instance A");
    instances[0].wait().expect("reap A");
    produce_in_chunks(&cluster, after).await;
    wait_for_counts(&cluster, &expected, || format!("{:#?}", logs())).await;
    // What the survivors logged since the kill: every task new to them was a promoted standby,
    // A's tasks among them.
    let mut taken = BTreeSet::new();
    let mut promoted = BTreeSet::new();
    for (name, from) in ["b", "c"].iter().zip(survivors_logged_before) {
        let log = log_of(dir.path(), name);
        let (before_kill, since_kill) = log.split_at(from.min(log.len()));
        let had = active_tasks(before_kill);
        taken.extend(
            tasks_in(since_kill, "task assigned")
                .into_iter()
                .filter(|t| !had.contains(t)),
        );
        promoted.extend(tasks_in(since_kill, "promoting the local standby"));
    }
    assert!(
        !a_tasks.is_empty() && a_tasks.is_subset(&taken),
        "A's tasks {a_tasks:?} taken over: {taken:?}"
    );
    let cold: Vec<&String> = taken.difference(&promoted).collect();
    assert!(
        cold.is_empty(),
        "tasks {cold:?} were taken over without a standby (promoted: {promoted:?}):\n{:#?}",
        logs()
    );
    for (mut instance, name) in instances.into_iter().skip(1).zip(["b", "c"]) {
        let exit = common::terminate(&mut instance);
        assert!(
            exit.success(),
            "{name} exited with {exit}:\n{}",
            log_of(dir.path(), name)
        );
    }
}
