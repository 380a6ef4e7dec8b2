//! A cluster of `event-counter` processes on an Apache Kafka broker, an input producer, and the
//! independent oracle that checks their output: for every key the emitted counts must be exactly
//! 1, 2, 3, … n (a lost record is a gap, a duplicate a repeat) and n must be what the input gives.

use std::collections::BTreeMap;
use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kafka_streams::kafka::{KafkaCluster, TopicSpec};
use kafka_streams::testing::{partition_offsets, read_topic, read_topic_uncommitted};
use kafka_streams_examples::event_counter::{Event, WINDOW_MS, pipeline};
use rdkafka::producer::{FutureProducer, FutureRecord};

/// Partitions of the input and output topics (and so of the repartition and changelog topics).
pub const PARTITIONS: i32 = 6;
/// Event time of the first event: the test's start, on a minute. Recent on purpose: the broker
/// deletes records by their timestamps (7 days by default; a window changelog keeps its store's
/// retention plus a day), so historical timestamps would have input and changelogs vanish.
fn start_ms() -> i64 {
    static START: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *START.get_or_init(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default();
        now - now.rem_euclid(60_000)
    })
}
const USERS: u64 = 97;
const GROUPS: u64 = 13;

/// The `seq`-th event of the deterministic input: users and groups round-robin, 5 ms of event
/// time apart from the test's start (in order per partition, so no event is ever late).
pub fn event(seq: u64) -> Event {
    Event {
        user: format!("u{}", seq % USERS),
        group: format!("g{}", seq % GROUPS),
        seq,
        at_ms: start_ms() + seq as i64 * 5,
    }
}

/// Creates `events` and the two output topics. Outputs carry log-append time, so the checker can
/// see when (by the broker's clock) each count became visible — the pause of a rebalance.
pub async fn create_topics(cluster: &KafkaCluster) {
    let outputs = [pipeline::topics::GROUP_COUNTS, pipeline::topics::USER_WINDOW_COUNTS];
    let mut specs = vec![TopicSpec::new(pipeline::topics::EVENTS, PARTITIONS)];
    specs.extend(
        outputs
            .iter()
            .map(|t| TopicSpec::new(*t, PARTITIONS).with_config("message.timestamp.type", "LogAppendTime")),
    );
    cluster.create_topics(&specs).await.expect("create topics");
}

/// Which `processing.guarantee` the instances run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guarantee {
    /// `exactly_once_v2`.
    ExactlyOnce,
    /// `at_least_once`.
    AtLeastOnce,
}

impl Guarantee {
    fn flag(self) -> &'static str {
        match self {
            Self::ExactlyOnce => "exactly_once_v2",
            Self::AtLeastOnce => "at_least_once",
        }
    }
}

/// One `event-counter` process: its state directory and log survive kills and restarts.
pub struct Instance {
    pub name: String,
    state_dir: PathBuf,
    log_path: PathBuf,
    pub endpoint: SocketAddr,
    bootstrap: String,
    guarantee: Guarantee,
    extra: Vec<String>,
    child: Option<Child>,
    /// How many times it was started.
    pub starts: u32,
}

impl Instance {
    pub fn new(dir: &Path, name: &str, bootstrap: &str, guarantee: Guarantee, extra: &[&str]) -> Self {
        Self {
            name: name.to_owned(),
            state_dir: dir.join(name),
            log_path: dir.join(format!("{name}.log")),
            endpoint: super::free_port(),
            bootstrap: bootstrap.to_owned(),
            guarantee,
            extra: extra.iter().map(|s| (*s).to_owned()).collect(),
            child: None,
            starts: 0,
        }
    }

    /// Starts the process (appending to its log), on the same state directory as before.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "{} already runs", self.name);
        self.starts += 1;
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_event-counter"));
        command
            .args(["--bootstrap-servers", &self.bootstrap])
            .arg("--state-dir")
            .arg(&self.state_dir)
            .args(["--processing-guarantee", self.guarantee.flag()])
            .args(["--config", &format!("application.server={}", self.endpoint)])
            .args(["--config", "commit.interval.ms=200"])
            // A dead or frozen member is noticed in seconds rather than librdkafka's default 45 s.
            .args(["--config", "consumer.session.timeout.ms=6000"])
            .args(["--config", "consumer.heartbeat.interval.ms=1000"]);
        for property in &self.extra {
            command.args(["--config", property]);
        }
        let child = command
            .env("RUST_LOG", "info,librdkafka=warn,rdkafka=warn")
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("start event-counter");
        self.child = Some(child);
    }

    /// `kill -9`: no commit, no close, no leaving the group.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("kill -9");
            child.wait().expect("reap");
        }
    }

    /// Sends `signal` (`STOP`, `CONT`, `TERM`) to the running process.
    pub fn signal(&self, signal: &str) {
        super::signal(self.child.as_ref().expect("running"), signal);
    }

    /// SIGTERM and wait: the instance commits, closes and leaves the group; its exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        super::terminate(&mut self.child.take().expect("running"))
    }

    /// Whether the process still runs (it never exits on its own: an exit is a failure).
    pub fn is_running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// The process id of the running process.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Everything it logged across all its runs.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The typed query client of this instance.
    pub fn client(&self) -> pipeline::Client {
        pipeline::Client::new(self.endpoint.to_string())
    }

    /// Tasks this instance restored from a changelog (`task assigned` with `restored` > 0) and
    /// the records that took, across all its runs.
    pub fn restorations(&self) -> (u64, u64) {
        let mut tasks = 0;
        let mut records = 0;
        for line in self.log().lines().filter(|l| l.contains("task assigned")) {
            let restored = line
                .split("restored=")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
            if restored > 0 {
                tasks += 1;
                records += restored;
            }
        }
        (tasks, records)
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // The test's temporary directory goes with it; keep the whole log for a post-mortem.
            let kept =
                std::env::temp_dir().join(format!("event-counter-failed-{}-{}.log", std::process::id(), self.name));
            if std::fs::copy(&self.log_path, &kept).is_ok() {
                eprintln!("{}: whole log kept at {}", self.name, kept.display());
            }
        }
        if let Some(child) = &self.child {
            // A frozen process cannot die of SIGKILL until it runs again.
            let _ = Command::new("kill").args(["-CONT", &child.id().to_string()]).status();
        }
        self.kill9();
    }
}

/// All instances' logs, for assertion messages: the last 80 distinct lines of each (a run of
/// lines that differ only in their timestamp, such as librdkafka's repeated "all brokers down",
/// is shown once with its count, so it cannot push what the instance did last out of view).
pub fn logs(instances: &[Instance]) -> String {
    instances
        .iter()
        .map(|i| format!("---- {} (last lines) ----\n{}", i.name, collapsed_tail(&i.log(), 80)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The last `keep` lines of `log` after runs of lines equal but for their leading timestamp are
/// folded into one (`… (×n)`).
fn collapsed_tail(log: &str, keep: usize) -> String {
    let without_time = |line: &str| line.split_once(' ').map_or(line, |(_, rest)| rest).to_owned();
    let mut folded: Vec<(String, usize)> = Vec::new();
    for line in log.lines() {
        match folded.last_mut() {
            Some((last, n)) if without_time(last) == without_time(line) => *n += 1,
            _ => folded.push((line.to_owned(), 1)),
        }
    }
    let start = folded.len().saturating_sub(keep);
    folded[start..]
        .iter()
        .map(|(line, n)| {
            if *n > 1 {
                format!("{line} (×{n})")
            } else {
                line.clone()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Produces events `range` at about `per_second`, with an idempotent producer (so the input
/// itself has no duplicates whatever the broker does); returns when all are acknowledged.
pub async fn produce(cluster: &KafkaCluster, range: std::ops::Range<u64>, per_second: u64) {
    let producer: FutureProducer = cluster
        .client_config()
        .set("partitioner", kafka_streams::partitioner::RDKAFKA_PARTITIONER)
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .set("message.timeout.ms", "300000")
        .create()
        .expect("producer");
    let started = tokio::time::Instant::now();
    let mut deliveries = Vec::new();
    for seq in range.clone() {
        let event = event(seq);
        let payload = serde_json::to_vec(&event).expect("json");
        let record = FutureRecord::to(pipeline::topics::EVENTS)
            .key(&event.user)
            .payload(&payload)
            .timestamp(event.at_ms);
        deliveries.push(producer.send_result(record).map_err(|(e, _)| e).expect("queued"));
        let sent = seq - range.start + 1;
        if sent.is_multiple_of(500) {
            let due = started + Duration::from_secs_f64(sent as f64 / per_second as f64);
            tokio::time::sleep_until(due).await;
        }
        if deliveries.len() >= 10_000 {
            for d in deliveries.drain(..) {
                d.await.expect("delivery").map_err(|(e, _)| e).expect("delivered");
            }
        }
    }
    for d in deliveries {
        d.await.expect("delivery").map_err(|(e, _)| e).expect("delivered");
    }
}

/// What the input `0..n` must give: final count per group and per `user@window-start`.
pub fn oracle(n: u64) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let mut groups = BTreeMap::new();
    let mut windows = BTreeMap::new();
    for seq in 0..n {
        let e = event(seq);
        *groups.entry(e.group.clone()).or_insert(0) += 1;
        let start_ms = e.at_ms - e.at_ms.rem_euclid(WINDOW_MS);
        let window = kafka_streams::window::TimeWindow {
            start_ms,
            end_ms: start_ms + WINDOW_MS,
        };
        let key = kafka_streams::Windowed { key: e.user, window }.to_string();
        *windows.entry(key).or_insert(0) += 1;
    }
    (groups, windows)
}

/// One output topic as read back: per key, the counts in the order they were written.
#[derive(Debug, Default)]
pub struct Emitted {
    pub per_key: BTreeMap<String, Vec<u64>>,
    /// Log-append times of all records, sorted.
    pub append_times: Vec<i64>,
    /// Records physically written but not visible to `read_committed` (aborted transactions).
    pub aborted: usize,
}

pub async fn read_output(cluster: &KafkaCluster, topic: &str) -> Emitted {
    let committed = read_topic(cluster, topic).await.expect("read committed");
    let uncommitted = read_topic_uncommitted(cluster, topic).await.expect("read uncommitted");
    let mut out = Emitted {
        aborted: uncommitted.len().saturating_sub(committed.len()),
        ..Emitted::default()
    };
    // `read_topic` returns each partition in offset order; a key lives in one partition.
    for record in committed {
        let count: u64 =
            serde_json::from_slice(record.value.as_deref().expect("a count, not a tombstone")).expect("count");
        out.per_key.entry(record.key_str()).or_default().push(count);
        out.append_times.extend(record.timestamp);
    }
    out.append_times.sort_unstable();
    out
}

/// How the emitted sequences compare with the oracle's final counts.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SequenceCheck {
    /// Keys whose sequence is exactly 1..=n with n the oracle's count.
    pub exact: usize,
    /// Repeated counts (a count emitted again: a duplicate update).
    pub repeats: u64,
    /// Missing counts (a count never emitted: a lost or uncommitted update).
    pub gaps: u64,
    /// Keys whose last count differs from the oracle's.
    pub wrong_final: Vec<(String, Option<u64>, u64)>,
}

pub fn check_sequences(emitted: &Emitted, oracle: &BTreeMap<String, u64>) -> SequenceCheck {
    let mut check = SequenceCheck::default();
    for (key, want) in oracle {
        let seq = emitted.per_key.get(key).map(Vec::as_slice).unwrap_or_default();
        let mut expected_next = 1;
        let mut exact = true;
        for &count in seq {
            if count == expected_next {
                expected_next += 1;
            } else if count < expected_next {
                check.repeats += 1;
                exact = false;
            } else {
                check.gaps += count - expected_next;
                expected_next = count + 1;
                exact = false;
            }
        }
        let last = seq.last().copied();
        if last != Some(*want) {
            check.wrong_final.push((key.clone(), last, *want));
            exact = false;
        }
        if exact {
            check.exact += 1;
        }
    }
    for key in emitted.per_key.keys().filter(|k| !oracle.contains_key(*k)) {
        check
            .wrong_final
            .push((key.clone(), emitted.per_key[key].last().copied(), 0));
    }
    check
}

/// The last count emitted per key: (group counts, user-window counts).
pub async fn last_counts(cluster: &KafkaCluster) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let latest = |records: Vec<kafka_streams::testing::RawRecord>| {
        let mut map = BTreeMap::new();
        for r in records {
            if let Some(v) = &r.value {
                map.insert(r.key_str(), serde_json::from_slice::<u64>(v).unwrap_or_default());
            }
        }
        map
    };
    (
        latest(read_topic(cluster, pipeline::topics::GROUP_COUNTS).await.expect("read")),
        latest(
            read_topic(cluster, pipeline::topics::USER_WINDOW_COUNTS)
                .await
                .expect("read"),
        ),
    )
}

/// Waits until both outputs reach the oracle's final counts (the last count per key: equal to
/// the oracle's when `exact`, at least the oracle's otherwise — at-least-once may count twice),
/// and returns the last count per key of both; fails after `timeout` saying how far they got.
pub async fn wait_for_final_counts(
    cluster: &KafkaCluster,
    groups: &BTreeMap<String, u64>,
    windows: &BTreeMap<String, u64>,
    exact: bool,
    timeout: Duration,
    context: impl Fn() -> String,
) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let deadline = Instant::now() + timeout;
    loop {
        let (g, w) = last_counts(cluster).await;
        let reached = |got: &BTreeMap<String, u64>, want: &BTreeMap<String, u64>| {
            if exact {
                got == want
            } else {
                got.len() == want.len() && want.iter().all(|(k, v)| got.get(k).is_some_and(|g| g >= v))
            }
        };
        // Progress in the captured output, shown when a test fails.
        eprintln!(
            "after {:.0} s: group counts sum to {} of {}, window counts to {} of {}",
            timeout
                .saturating_sub(deadline.saturating_duration_since(Instant::now()))
                .as_secs_f64(),
            g.values().sum::<u64>(),
            groups.values().sum::<u64>(),
            w.values().sum::<u64>(),
            windows.values().sum::<u64>()
        );
        if reached(&g, groups) && reached(&w, windows) {
            return (g, w);
        }
        let right = |got: &BTreeMap<String, u64>, want: &BTreeMap<String, u64>| {
            want.iter()
                .filter(|(k, v)| got.get(*k).is_some_and(|g| if exact { g == *v } else { g >= *v }))
                .count()
        };
        if Instant::now() >= deadline {
            panic!(
                "outputs never reached the oracle: groups {}/{} right, windows {}/{} right\n{}\n{}",
                right(&g, groups),
                groups.len(),
                right(&w, windows),
                windows.len(),
                undecided_transactions(cluster).await,
                context()
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Partitions whose last stable offset trails their high watermark, i.e. where a transaction is
/// still undecided and blocks every `read_committed` reader (a "hanging transaction" when it
/// stays). Shown when outputs stop short of the oracle, to tell a stuck instance from a stuck
/// broker.
pub async fn undecided_transactions(cluster: &KafkaCluster) -> String {
    let cluster = cluster.clone();
    tokio::task::spawn_blocking(move || {
        use rdkafka::consumer::{BaseConsumer, Consumer};
        let topics: Vec<String> = match cluster
            .client_config()
            .create::<BaseConsumer>()
            .and_then(|c| c.fetch_metadata(None, Duration::from_secs(10)))
        {
            Ok(metadata) => metadata.topics().iter().map(|t| t.name().to_owned()).collect(),
            Err(e) => return format!("(the broker did not answer metadata; stable offsets unknown: {e})"),
        };
        let mut lines = Vec::new();
        for topic in topics.iter().filter(|t| !t.starts_with("__")) {
            match partition_offsets(&cluster, topic) {
                Ok(offsets) => lines.extend(
                    offsets
                        .iter()
                        .filter(|o| o.stable < o.high)
                        .map(|o| format!("  {topic}[{}]: stable {} < high {}", o.partition, o.stable, o.high)),
                ),
                Err(e) => lines.push(format!("  {topic}: offsets unknown ({e})")),
            }
        }
        if lines.is_empty() {
            "no undecided transaction: every partition's stable offset is its high watermark".to_owned()
        } else {
            format!(
                "undecided transactions (stable offset < high watermark):\n{}",
                lines.join("\n")
            )
        }
    })
    .await
    .unwrap_or_else(|e| format!("(stable offsets unknown: {e})"))
}

/// Reads both stores through `client` (any instance: it routes to the owners) and compares them
/// with the oracle; returns the mismatches.
pub async fn store_mismatches(
    client: &pipeline::Client,
    groups: &BTreeMap<String, u64>,
    windows: &BTreeMap<String, u64>,
) -> Vec<String> {
    let mut wrong = Vec::new();
    let mut in_store = BTreeMap::new();
    let mut after: Option<String> = None;
    loop {
        let (page, next) = client
            .group_counts()
            .scan("", after.as_deref(), 1_000)
            .await
            .expect("scan group-counts");
        in_store.extend(page);
        match next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    if &in_store != groups {
        wrong.push(format!("group-counts store {in_store:?} != oracle {groups:?}"));
    }
    let mut users: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for (key, count) in windows {
        let user = key.split('@').next().unwrap_or_default().to_owned();
        users.entry(user).or_default().insert(key.clone(), *count);
    }
    for (user, want) in users {
        let got: BTreeMap<String, u64> = client
            .user_window_counts()
            .fetch(&user, 0, i64::MAX)
            .await
            .expect("fetch user windows")
            .into_iter()
            .map(|(window, count)| {
                (
                    kafka_streams::Windowed {
                        key: user.clone(),
                        window,
                    }
                    .to_string(),
                    count,
                )
            })
            .collect();
        if got != want {
            wrong.push(format!("user-window-counts of {user}: {} windows differ", want.len()));
        }
    }
    wrong
}

/// Waits until the instances' membership shows `members` instances sharing all 12 tasks.
pub async fn wait_for_group(instances: &[Instance], members: usize, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    let Some(first) = instances.first() else { return };
    loop {
        let metadata = first.client().metadata().await.unwrap_or_default();
        let listed = metadata["members"].as_array().cloned().unwrap_or_default();
        let tasks: usize = listed
            .iter()
            .map(|m| m["active_tasks"].as_array().map_or(0, Vec::len))
            .sum();
        let all_busy = listed
            .iter()
            .all(|m| m["active_tasks"].as_array().is_some_and(|t| !t.is_empty()));
        if listed.len() == members && tasks == 2 * PARTITIONS as usize && all_busy {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the group never settled at {members} members: {metadata}\n{}",
            logs(instances)
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Appends a section to `benches/results/<file>` (figures the tests measured; never asserted).
pub fn record_result(file: &str, section: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../benches/results")
        .join(file);
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    let title = section.lines().next().unwrap_or_default();
    // Replace an earlier run's section of the same title.
    if let Some(start) = text.find(title) {
        let end = text[start + title.len()..]
            .find("\n## ")
            .map_or(text.len(), |i| start + title.len() + i + 1);
        text.replace_range(start..end, "");
    }
    if text.is_empty() {
        text.push_str("# Apache Kafka: exactly-once, failover and outages\n\n");
        text.push_str("Written by `examples/tests/event_counter_on_kafka.rs` (run by `scripts/test.sh`): 3\n");
        text.push_str("`event-counter` processes on a single-node Apache Kafka broker on this machine; every\n");
        text.push_str(
            "figure comes from the run that wrote it, checked against an oracle computed from the input.\n\n",
        );
    }
    text.push_str(section.trim_end());
    text.push_str("\n\n");
    std::fs::write(&path, text).expect("write results");
}
