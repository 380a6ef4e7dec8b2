//! Window semantics on the broker-free test driver, with Kafka Streams' documented behaviour as
//! the oracle: emission on every update or once at window close, grace, retention.

use std::time::Duration;

use kafka_streams::codec::{Json, Utf8};
use kafka_streams::config::{ProcessingGuarantee, StreamsConfig};
use kafka_streams::testing::{CommitFault, TestDriver};
use kafka_streams::topology::{Materialized, StreamsBuilder, Topology};
use kafka_streams::window::{EmitStrategy, TimeWindows};

const MINUTE: i64 = 60_000;

/// Clicks (user → page) counted per user in 1-minute windows with 10 s grace; results as
/// `user@start → count`.
fn count_topology(emit: EmitStrategy, retention: Option<Duration>) -> Topology {
    let builder = StreamsBuilder::new();
    let mut store = Materialized::named("counts");
    if let Some(retention) = retention {
        store = store.with_retention(retention);
    }
    builder
        .stream::<String, String>("clicks")
        .group_by_key()
        .windowed_by(TimeWindows::of(Duration::from_secs(60)).grace(Duration::from_secs(10)))
        .emit_strategy(emit)
        .count(store)
        .to_stream()
        .map(|w, count| (format!("{}@{}", w.key, w.window.start_ms / MINUTE), count))
        .to_with("counts-out", Utf8, Json);
    builder.build().expect("topology")
}

fn driver(topology: Topology, guarantee: ProcessingGuarantee) -> TestDriver {
    let config = StreamsConfig::builder("windows")
        .processing_guarantee(guarantee)
        .build()
        .expect("config");
    TestDriver::new(topology, config).expect("driver")
}

fn s(v: &str) -> String {
    v.to_owned()
}

/// (key, count, timestamp) of what the sink received since the last read.
fn read(driver: &TestDriver, out: &kafka_streams::testing::OutputTopic<String, u64>) -> Vec<(String, u64, i64)> {
    driver.commit().expect("commit");
    out.read_records()
        .expect("read")
        .into_iter()
        .map(|r| (r.key, r.value.expect("count"), r.timestamp.expect("timestamp")))
        .collect()
}

#[test]
fn emit_on_close_sends_each_window_once_when_stream_time_passes_end_plus_grace() {
    let driver = driver(
        count_topology(EmitStrategy::OnWindowClose, None),
        ProcessingGuarantee::AtLeastOnce,
    );
    let clicks = driver.input_topic::<String, String>("clicks").expect("input");
    let out = driver.output_topic_with::<String, u64>("counts-out", Utf8, Json);

    clicks.pipe_at(s("a"), s("/"), 1_000).expect("pipe");
    clicks.pipe_at(s("b"), s("/"), 2_000).expect("pipe");
    clicks.pipe_at(s("a"), s("/"), 59_000).expect("pipe");
    // Window [0, 60 s) ended, but grace runs to 70 s: still open, a late record counts.
    clicks.pipe_at(s("c"), s("/"), 65_000).expect("pipe");
    clicks.pipe_at(s("b"), s("/"), 30_000).expect("pipe");
    assert_eq!(read(&driver, &out), [], "nothing is final yet");
    // Stream time 70 s: the first window closes — one final record per key, stamped with its
    // latest record's time (as Kafka Streams: b's late record at 30 s is not its latest event).
    clicks.pipe_at(s("c"), s("/"), 70_000).expect("pipe");
    assert_eq!(read(&driver, &out), [(s("a@0"), 2, 59_000), (s("b@0"), 2, 30_000)]);
    // Too late for [0, 60 s): dropped, and nothing is emitted again.
    clicks.pipe_at(s("a"), s("/"), 10_000).expect("pipe");
    assert_eq!(read(&driver, &out), []);
    assert_eq!(driver.metrics().dropped_late_records, 1);
    // A jump closes [60 s, 120 s) and [120 s, 180 s) at once, in window order.
    clicks.pipe_at(s("d"), s("/"), 130_000).expect("pipe");
    clicks.pipe_at(s("a"), s("/"), 200_000).expect("pipe");
    assert_eq!(read(&driver, &out), [(s("c@1"), 2, 70_000), (s("d@2"), 1, 130_000)]);
    // The store keeps final values for queries.
    let stores = driver.window_store::<String, u64>("counts", MINUTE).expect("store");
    assert_eq!(stores[0].1.fetch(&s("a"), 0).expect("fetch"), Some(2));
}

#[test]
fn emit_on_update_sends_every_change() {
    let driver = driver(
        count_topology(EmitStrategy::OnWindowUpdate, None),
        ProcessingGuarantee::AtLeastOnce,
    );
    let clicks = driver.input_topic::<String, String>("clicks").expect("input");
    let out = driver.output_topic_with::<String, u64>("counts-out", Utf8, Json);
    clicks.pipe_at(s("a"), s("/"), 1_000).expect("pipe");
    clicks.pipe_at(s("a"), s("/"), 2_000).expect("pipe");
    clicks.pipe_at(s("a"), s("/"), 70_000).expect("pipe");
    assert_eq!(
        read(&driver, &out),
        [(s("a@0"), 1, 1_000), (s("a@0"), 2, 2_000), (s("a@1"), 1, 70_000)]
    );
}

#[test]
fn emit_on_close_is_exactly_once_across_an_aborted_commit_and_a_crash() {
    let driver = driver(
        count_topology(EmitStrategy::OnWindowClose, None),
        ProcessingGuarantee::ExactlyOnceV2,
    );
    let clicks = driver.input_topic::<String, String>("clicks").expect("input");
    let out = driver.output_topic_with::<String, u64>("counts-out", Utf8, Json);
    clicks.pipe_at(s("a"), s("/"), 1_000).expect("pipe");
    clicks.pipe_at(s("b"), s("/"), 2_000).expect("pipe");
    driver.commit().expect("commit");
    // The closing record's commit is aborted: the emission is rolled back, then redone once.
    clicks.pipe_at(s("a"), s("/"), 75_000).expect("pipe");
    driver.inject_commit_fault(CommitFault::Abort);
    driver.commit().expect("an aborted commit is rolled back, not an error");
    assert_eq!(driver.metrics().aborted_commits, 1);
    assert_eq!(read(&driver, &out), [(s("a@0"), 1, 1_000), (s("b@0"), 1, 2_000)]);
    assert_eq!(read(&driver, &out), []);
    // A crash after the emission was committed: after restart it is not emitted again.
    clicks.pipe_at(s("b"), s("/"), 80_000).expect("pipe");
    driver.crash();
    driver.restart().expect("restart");
    clicks.pipe_at(s("b"), s("/"), 131_000).expect("pipe");
    assert_eq!(read(&driver, &out), [(s("a@1"), 1, 75_000), (s("b@1"), 1, 80_000)]);
}

#[test]
fn windows_past_retention_are_deleted_and_tombstoned() {
    let driver = driver(
        count_topology(EmitStrategy::OnWindowUpdate, Some(Duration::from_secs(120))),
        ProcessingGuarantee::AtLeastOnce,
    );
    let clicks = driver.input_topic::<String, String>("clicks").expect("input");
    clicks.pipe_at(s("a"), s("/"), 1_000).expect("pipe");
    clicks.pipe_at(s("a"), s("/"), 61_000).expect("pipe");
    clicks.pipe_at(s("b"), s("/"), 121_000).expect("pipe");
    let store = || {
        driver
            .window_store::<String, u64>("counts", MINUTE)
            .expect("store")
            .remove(0)
            .1
    };
    // Stream time 121 s: [0, 60 s) started 121 s ago, more than the retention of 120 s → gone.
    assert_eq!(store().all().expect("all").len(), 2);
    assert_eq!(store().fetch(&s("a"), 0).expect("fetch"), None);
    assert_eq!(store().fetch(&s("a"), MINUTE).expect("fetch"), Some(1));
    clicks.pipe_at(s("b"), s("/"), 200_000).expect("pipe");
    let left: Vec<i64> = store()
        .all()
        .expect("all")
        .iter()
        .map(|(w, _)| w.window.start_ms)
        .collect();
    assert_eq!(left, [2 * MINUTE, 3 * MINUTE]);
    driver.commit().expect("commit");
    // The deletions reach the changelog as tombstones, so a restore does not bring them back.
    driver.crash();
    driver.restart().expect("restart");
    let left: Vec<i64> = store()
        .all()
        .expect("all")
        .iter()
        .map(|(w, _)| w.window.start_ms)
        .collect();
    assert_eq!(left, [2 * MINUTE, 3 * MINUTE]);
}

#[test]
fn a_retention_shorter_than_size_plus_grace_is_rejected() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("clicks")
        .group_by_key()
        .windowed_by(TimeWindows::of(Duration::from_secs(60)).grace(Duration::from_secs(10)))
        .count(Materialized::named("counts").with_retention(Duration::from_secs(60)));
    let err = builder.build().err().expect("rejected").to_string();
    assert!(
        err.contains("retention (60000 ms) must be at least the window size plus the grace period (70000 ms)"),
        "{err}"
    );
}
