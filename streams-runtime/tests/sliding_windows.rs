//! Sliding windows on the broker-free test driver, with Kafka Streams' semantics (KIP-450) as
//! the oracle: the expected windows below are those of Kafka Streams' own
//! `KStreamSlidingWindowAggregateTest` small-input case (time difference 10 ms, values
//! concatenated onto "0"), plus out-of-order and late records, emit-on-close and restoration.

use std::collections::BTreeMap;
use std::time::Duration;

use kafka_streams::codec::{Json, Utf8};
use kafka_streams::config::StreamsConfig;
use kafka_streams::testing::TestDriver;
use kafka_streams::topology::{Materialized, StreamsBuilder, Topology};
use kafka_streams::window::{EmitStrategy, SlidingWindows};

/// Values concatenated per key and sliding window of 10 ms; results as `key@start-end`.
fn topology(grace_ms: u64, emit: EmitStrategy) -> Topology {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .group_by_key()
        .windowed_by_sliding(
            SlidingWindows::with_time_difference(Duration::from_millis(10)).grace(Duration::from_millis(grace_ms)),
        )
        .emit_strategy(emit)
        .aggregate(
            || "0".to_owned(),
            |_, value, aggregate| format!("{aggregate}+{value}"),
            Materialized::named("sliding"),
        )
        .to_stream()
        .map(|w, aggregate| {
            (
                format!("{}@{}-{}", w.key, w.window.start_ms, w.window.end_ms),
                aggregate,
            )
        })
        .to_with("out", Utf8, Json);
    builder.build().expect("topology")
}

fn driver(topology: Topology) -> TestDriver {
    let config = StreamsConfig::builder("sliding").build().expect("config");
    TestDriver::new(topology, config).expect("driver")
}

fn s(v: &str) -> String {
    v.to_owned()
}

/// The store's windows of `key`: start → (end, aggregate).
fn windows(driver: &TestDriver, key: &str) -> BTreeMap<i64, (i64, String)> {
    let stores = driver.window_store::<String, String>("sliding", 10).expect("store");
    stores[0]
        .1
        .fetch_range(&s(key), i64::MIN, i64::MAX)
        .expect("fetch")
        .into_iter()
        .map(|(w, v)| (w.start_ms, (w.end_ms, v)))
        .collect()
}

#[test]
fn windows_follow_the_records_as_in_kafka_streams() {
    let driver = driver(topology(50, EmitStrategy::OnWindowUpdate));
    let input = driver.input_topic::<String, String>("in").expect("input");
    let out = driver.output_topic_with::<String, String>("out", Utf8, Json);
    for (value, t) in [("1", 10), ("2", 15), ("3", 20), ("4", 22), ("5", 30)] {
        input.pipe_at(s("A"), s(value), t).expect("pipe");
    }
    let expected: BTreeMap<i64, (i64, String)> = [
        (0, "0+1"),
        (5, "0+1+2"),
        (10, "0+1+2+3"),
        (11, "0+2+3"),
        (12, "0+2+3+4"),
        (16, "0+3+4"),
        (20, "0+3+4+5"),
        (21, "0+4+5"),
        (23, "0+5"),
    ]
    .into_iter()
    .map(|(start, v)| (start, (start + 10, s(v))))
    .collect();
    assert_eq!(windows(&driver, "A"), expected);

    // Every update went downstream, stamped with the window's latest record.
    let records = out.read_records().expect("read");
    let last: Vec<(String, String, i64)> = records
        .iter()
        .rev()
        .take(3)
        .map(|r| (r.key.clone(), r.value.clone().expect("value"), r.timestamp.expect("ts")))
        .collect();
    assert_eq!(
        last,
        [
            (s("A@20-30"), s("0+3+4+5"), 30),
            (s("A@23-33"), s("0+5"), 30),
            (s("A@21-31"), s("0+4+5"), 30),
        ]
    );
    assert_eq!(records.len(), 12, "1 + 2 + 3 + 3 + 3 window updates and creations");
}

#[test]
fn an_out_of_order_record_joins_the_windows_it_falls_in_and_opens_its_right_window() {
    let driver = driver(topology(50, EmitStrategy::OnWindowUpdate));
    let input = driver.input_topic::<String, String>("in").expect("input");
    for (value, t) in [("a", 10), ("c", 20), ("b", 15)] {
        input.pipe_at(s("k"), s(value), t).expect("pipe");
    }
    // The distinct sets of records at most 10 ms apart: {a}, {a,b}, {a,b,c}, {b,c}, {c}.
    let got: Vec<(i64, i64, String)> = windows(&driver, "k")
        .into_iter()
        .map(|(start, (end, v))| (start, end, v))
        .collect();
    assert_eq!(
        got,
        [
            (0, 10, s("0+a")),
            (5, 15, s("0+a+b")),
            (10, 20, s("0+a+c+b")),
            (11, 21, s("0+c+b")),
            (16, 26, s("0+c")),
        ]
    );
    // Keys are independent.
    input.pipe_at(s("other"), s("x"), 18).expect("pipe");
    assert_eq!(windows(&driver, "other").len(), 1);

    // Each window's latest record time comes back with the store after a crash: d at 26
    // finds c (at 20) as the record before it, so c's right window [21, 31] opens.
    driver.commit().expect("commit");
    driver.crash();
    driver.restart().expect("restart");
    let input = driver.input_topic::<String, String>("in").expect("input");
    input.pipe_at(s("k"), s("d"), 26).expect("pipe");
    let got = windows(&driver, "k");
    assert_eq!(got.get(&16), Some(&(26, s("0+c+d"))));
    assert_eq!(got.get(&21), Some(&(31, s("0+d"))));
    assert_eq!(got.len(), 6);
}

#[test]
fn late_records_are_dropped_and_closed_windows_kept() {
    let driver = driver(topology(5, EmitStrategy::OnWindowUpdate));
    let input = driver.input_topic::<String, String>("in").expect("input");
    input.pipe_at(s("k"), s("a"), 100).expect("pipe");
    input.pipe_at(s("k"), s("b"), 200).expect("pipe");
    // Stream time 200, grace 5: a record at 150 could only open windows ending by 161 ≤ 195.
    input.pipe_at(s("k"), s("late"), 150).expect("pipe");
    assert_eq!(driver.metrics().dropped_late_records, 1);
    let before = windows(&driver, "k");
    assert_eq!(before.keys().copied().collect::<Vec<_>>(), [90, 190]);
    input.pipe_at(s("k"), s("c"), 192).expect("pipe");
    let after = windows(&driver, "k");
    // c is not late (its right window [193, 203] is open), but its own window [182, 192] is
    // closed (192 < 195): not created; [190, 200] is open and takes c.
    assert_eq!(after.get(&182), None);
    assert_eq!(after.get(&190), Some(&(200, s("0+b+c"))));
}

#[test]
fn emit_on_close_sends_each_window_once_and_survives_a_crash() {
    let driver = driver(topology(0, EmitStrategy::OnWindowClose));
    let input = driver.input_topic::<String, String>("in").expect("input");
    let out = driver.output_topic_with::<String, String>("out", Utf8, Json);
    input.pipe_at(s("A"), s("1"), 10).expect("pipe");
    assert_eq!(
        out.read_key_values().expect("read"),
        [],
        "[0, 10] is open while stream time is 10"
    );
    input.pipe_at(s("A"), s("2"), 15).expect("pipe");
    assert_eq!(out.read_key_values().expect("read"), [(s("A@0-10"), s("0+1"))]);
    input.pipe_at(s("A"), s("3"), 20).expect("pipe");
    assert_eq!(out.read_key_values().expect("read"), [(s("A@5-15"), s("0+1+2"))]);
    driver.commit().expect("commit");
    driver.crash();
    driver.restart().expect("restart");
    let input = driver.input_topic::<String, String>("in").expect("input");
    input.pipe_at(s("A"), s("4"), 40).expect("pipe");
    assert_eq!(
        out.read_key_values().expect("read"),
        [
            (s("A@10-20"), s("0+1+2+3")),
            (s("A@11-21"), s("0+2+3")),
            (s("A@16-26"), s("0+3")),
        ],
        "each closed window once, none repeated after the restart"
    );
}

/// A record exactly `d + 1` after the previous one: the previous record's right window and the
/// record's own window are the same `[t − d, t]`, which is one window, emitted once.
#[test]
fn a_window_that_is_both_a_left_and_a_right_window_is_emitted_once() {
    for emit in [EmitStrategy::OnWindowClose, EmitStrategy::OnWindowUpdate] {
        let driver = driver(topology(0, emit));
        let input = driver.input_topic::<String, String>("in").expect("input");
        let out = driver.output_topic_with::<String, String>("out", Utf8, Json);
        for (value, t) in [("a", 100), ("b", 109), ("c", 120), ("d", 200)] {
            input.pipe_at(s("A"), s(value), t).expect("pipe");
        }
        let emitted: Vec<(String, String)> = out
            .read_key_values()
            .expect("read")
            .into_iter()
            .filter(|(window, _)| window == "A@110-120")
            .collect();
        assert_eq!(emitted, [(s("A@110-120"), s("0+c"))], "{emit:?}");
        assert_eq!(windows(&driver, "A").get(&110), Some(&(120, s("0+c"))), "{emit:?}");
    }
}

#[test]
fn a_too_short_retention_is_refused_at_build() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .group_by_key()
        .windowed_by_sliding(SlidingWindows::with_time_difference(Duration::from_secs(10)))
        .count(Materialized::named("c").with_retention(Duration::from_secs(15)));
    let error = builder.build().err().expect("refused").to_string();
    assert!(error.contains("at least twice the time difference"), "{error}");
}
