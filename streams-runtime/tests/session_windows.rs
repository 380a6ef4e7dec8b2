//! Session windows on the broker-free test driver, with Kafka Streams' documented behaviour as
//! the oracle: sessions grow and merge within the inactivity gap, out-of-order records bridge
//! sessions, late records are dropped, and final results come once per session on close.

use std::time::Duration;

use kafka_streams::codec::{Json, Utf8};
use kafka_streams::config::StreamsConfig;
use kafka_streams::testing::TestDriver;
use kafka_streams::topology::{Materialized, StreamsBuilder, Topology};
use kafka_streams::window::{EmitStrategy, SessionWindows};

const MIN: i64 = 60_000;

/// Clicks counted per user and session (gap 5 min); results as `user@start-end` (minutes).
fn topology(grace: Duration, emit: EmitStrategy) -> Topology {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("clicks")
        .group_by_key()
        .windowed_by_session(SessionWindows::with_inactivity_gap(Duration::from_secs(300)).grace(grace))
        .emit_strategy(emit)
        .count(Materialized::named("sessions"))
        .to_stream()
        .map(|w, count| {
            (
                format!("{}@{}-{}", w.key, w.window.start_ms / MIN, w.window.end_ms / MIN),
                count,
            )
        })
        .to_with("session-counts", Utf8, Json);
    builder.build().expect("topology")
}

fn driver(topology: Topology) -> TestDriver {
    let config = StreamsConfig::builder("sessions").build().expect("config");
    TestDriver::new(topology, config).expect("driver")
}

fn s(v: &str) -> String {
    v.to_owned()
}

#[test]
fn sessions_grow_merge_and_drop_late_records() {
    let driver = driver(topology(Duration::from_secs(600), EmitStrategy::OnWindowUpdate));
    let clicks = driver.input_topic::<String, String>("clicks").expect("input");
    let out = driver.output_topic_with::<String, u64>("session-counts", Utf8, Json);
    for minute in [0, 4, 20, 12] {
        clicks.pipe_at(s("alice"), s("/"), minute * MIN).expect("pipe");
    }
    assert_eq!(
        out.read_key_values().expect("read"),
        [
            (s("alice@0-0"), 1),
            (s("alice@0-4"), 2),
            (s("alice@20-20"), 1),
            (s("alice@12-12"), 1)
        ]
    );
    // 16 min is within 5 min of both 12 and 20: the two sessions merge with it.
    clicks.pipe_at(s("alice"), s("/"), 16 * MIN).expect("pipe");
    assert_eq!(out.read_key_values().expect("read"), [(s("alice@12-20"), 3)]);
    // Stream time 20 min, gap 5 + grace 10: sessions ending before 5 min are closed; a record
    // that would extend [0, 4] is late.
    clicks.pipe_at(s("alice"), s("/"), MIN).expect("pipe");
    assert_eq!(out.read_key_values().expect("read"), []);
    assert_eq!(driver.metrics().dropped_late_records, 1);

    let stores = driver.session_store::<String, u64>("sessions").expect("store");
    let sessions: Vec<(i64, i64, u64)> = stores[0]
        .1
        .fetch(&s("alice"))
        .expect("fetch")
        .into_iter()
        .map(|(w, c)| (w.start_ms / MIN, w.end_ms / MIN, c))
        .collect();
    assert_eq!(sessions, [(0, 4, 2), (12, 20, 3)], "merged-away sessions are gone");

    // Kept across a crash: the store is restored from its changelog (deletions included).
    drop(stores);
    driver.commit().expect("commit");
    driver.crash();
    driver.restart().expect("restart");
    let stores = driver.session_store::<String, u64>("sessions").expect("store");
    assert_eq!(stores[0].1.all().expect("all").len(), 2);
}

#[test]
fn emit_on_close_sends_each_session_once_when_it_closes() {
    let driver = driver(topology(Duration::ZERO, EmitStrategy::OnWindowClose));
    let clicks = driver.input_topic::<String, String>("clicks").expect("input");
    let out = driver.output_topic_with::<String, u64>("session-counts", Utf8, Json);
    clicks.pipe_at(s("bob"), s("/"), 0).expect("pipe");
    clicks.pipe_at(s("bob"), s("/"), 3 * MIN).expect("pipe");
    clicks.pipe_at(s("carol"), s("/"), 7 * MIN).expect("pipe");
    assert_eq!(out.read_records().expect("read"), [], "[0, 3] closes only after 8 min");
    clicks.pipe_at(s("bob"), s("/"), 10 * MIN).expect("pipe");
    let records = out.read_records().expect("read");
    let got: Vec<(String, u64, i64)> = records
        .into_iter()
        .map(|r| (r.key, r.value.expect("count"), r.timestamp.expect("ts")))
        .collect();
    assert_eq!(got, [(s("bob@0-3"), 2, 3 * MIN)], "stamped with the session's end");
    clicks.pipe_at(s("dave"), s("/"), 30 * MIN).expect("pipe");
    assert_eq!(
        out.read_key_values().expect("read"),
        [(s("carol@7-7"), 1), (s("bob@10-10"), 1)]
    );
}

#[test]
fn session_aggregate_uses_the_merger() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("pages")
        .group_by_key()
        .windowed_by_session(SessionWindows::with_inactivity_gap(Duration::from_secs(60)))
        .aggregate(
            Vec::<String>::new,
            |_, page, mut pages| {
                pages.push(page);
                pages
            },
            |_, mut a, b| {
                a.extend(b);
                a
            },
            Materialized::named("journeys"),
        );
    let driver = driver(builder.build().expect("topology"));
    let pages = driver.input_topic::<String, String>("pages").expect("input");
    pages.pipe_at(s("u"), s("/a"), 0).expect("pipe");
    pages.pipe_at(s("u"), s("/c"), 100_000).expect("pipe");
    pages.pipe_at(s("u"), s("/b"), 50_000).expect("pipe");
    let stores = driver.session_store::<String, Vec<String>>("journeys").expect("store");
    let journeys = stores[0].1.fetch(&s("u")).expect("fetch");
    assert_eq!(journeys.len(), 1);
    assert_eq!(journeys[0].1, [s("/a"), s("/c"), s("/b")]);
}

#[test]
fn sessions_merged_away_are_deleted_downstream() {
    use kafka_streams::Windowed;
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("clicks")
        .group_by_key()
        .windowed_by_session(SessionWindows::with_inactivity_gap(Duration::from_secs(300)))
        .count(Materialized::named("sessions"))
        .to_stream()
        .to_with("session-table", Json, Json);
    let driver = driver(builder.build().expect("topology"));
    let clicks = driver.input_topic::<String, String>("clicks").expect("input");
    let out = driver.output_topic_with::<Windowed<String>, u64>("session-table", Json, Json);
    clicks.pipe_at(s("alice"), s("/"), 0).expect("pipe");
    clicks.pipe_at(s("alice"), s("/"), 8 * MIN).expect("pipe");
    out.read_records().expect("read");
    // 4 min bridges [0, 0] and [8, 8]: both are deleted (tombstones), then [0, 8] written.
    clicks.pipe_at(s("alice"), s("/"), 4 * MIN).expect("pipe");
    let got: Vec<(i64, i64, Option<u64>)> = out
        .read_records()
        .expect("read")
        .into_iter()
        .map(|r| (r.key.window.start_ms / MIN, r.key.window.end_ms / MIN, r.value))
        .collect();
    assert_eq!(got, [(0, 0, None), (8, 8, None), (0, 8, Some(3))]);
}
