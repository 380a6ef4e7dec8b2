//! Event time on the broker-free test driver: what a windowed operator's stream time is, and
//! that a crash does not change it. No broker: these are topology semantics, and the driver runs
//! the production task, store, changelog and commit code, with `crash()` as `kill -9`.

mod common;

use std::collections::BTreeMap;

use common::*;
use kafka_streams::codec::{Json, Utf8};
use kafka_streams::config::ProcessingGuarantee::ExactlyOnceV2;
use kafka_streams::testing::TestDriver;
use kafka_streams::topology::{Consumed, Materialized, StreamsBuilder, Topology};
use kafka_streams::window::TumblingWindows;

const INPUT: &str = "clicks";
const OUTPUT: &str = "counts";
const STORE: &str = "click-counts";
const BATCH: usize = 5;

/// 60 clicks a minute apart on 3 users; every fourth is 12 minutes old, beyond the 5-minute
/// windows' zero grace, so the order of records decides what is late.
fn out_of_order_clicks() -> Vec<Click> {
    (0..60i64)
        .map(|i| Click {
            user_id: format!("user-{}", i % 3),
            timestamp_ms: START_MS + if i % 4 == 3 { i - 12 } else { i } * 60_000,
        })
        .collect()
}

fn one_partition_driver(app: &str, topology: Topology) -> TestDriver {
    init_logging();
    TestDriver::new(topology, driver_config(app, ExactlyOnceV2)).expect("driver")
}

/// Every committed output record in order, and the final store.
type Run = (Vec<(String, Option<u64>)>, BTreeMap<String, u64>);

fn finish(driver: &TestDriver) -> Run {
    driver.commit().expect("commit");
    let output = count_output(driver, OUTPUT)
        .read_records()
        .expect("read")
        .into_iter()
        .map(|r| (r.key, r.value))
        .collect();
    (output, window_counts(driver, STORE))
}

/// Pipes `input` in batches with a commit after each; after batch `crash_after` two more
/// records are processed but not committed, and the instance is killed (its local state wiped
/// too when `wipe`, so it restores from the changelog) and restarted.
fn run(app: &str, input: &[Click], crash_after: Option<(usize, bool)>) -> Run {
    let driver = one_partition_driver(app, click_count_topology(INPUT, OUTPUT, STORE));
    for (n, batch) in input.chunks(BATCH).enumerate() {
        match crash_after {
            Some((at, wipe)) if at == n => {
                pipe_clicks(&driver, INPUT, &batch[..2]);
                driver.crash();
                if wipe {
                    std::fs::remove_dir_all(driver.state_dir()).expect("wipe the state directory");
                }
                driver.restart().expect("restart");
                pipe_clicks(&driver, INPUT, &batch[2..]);
            }
            _ => pipe_clicks(&driver, INPUT, batch),
        }
        driver.commit().expect("commit");
    }
    finish(&driver)
}

/// Issue 16 item 1: stream time is committed with the window store (a marker in it, so in its
/// changelog too), so a crash between any two commits — with the local state kept, or lost
/// and restored from the changelog — drops as late exactly what an uninterrupted run drops.
/// Before, a restarted task began with no stream time and counted the late records after it.
#[test]
fn a_crash_between_any_two_commits_changes_no_output_with_out_of_order_input() {
    let input = out_of_order_clicks();
    let uninterrupted = run("st-ref", &input, None);
    assert!(
        uninterrupted.0.len() < input.len(),
        "the oracle drops late records: {}",
        uninterrupted.0.len()
    );
    for at in 1..input.len() / BATCH {
        for wipe in [false, true] {
            let crashed = run(&format!("st-crash-{at}-{wipe}"), &input, Some((at, wipe)));
            assert_eq!(crashed, uninterrupted, "crash after commit {at} (state wiped: {wipe})");
        }
    }
}

/// Issue 16 item 2: a record the topology filters out before the window never reaches it and
/// does not move its stream time (Kafka Streams' observed stream time per operator). Before,
/// the task's clock jumped to the filtered record's time and closed the window of the next one.
#[test]
fn a_filtered_out_record_does_not_close_windows() {
    let builder = StreamsBuilder::new();
    builder
        .stream_with(
            INPUT,
            Consumed::new(Utf8, Json).with_timestamp(|_, c: &Click, _| c.timestamp_ms),
        )
        .filter(|_, click: &Click| click.user_id != "bot")
        .group_by_key()
        .windowed_by(TumblingWindows::of(WINDOW))
        .count(Materialized::named(STORE))
        .to_stream()
        .map(|window, count| (window.to_string(), count))
        .to_with(OUTPUT, Utf8, Json);
    let driver = one_partition_driver("st-filter", builder.build().expect("topology"));
    let bot = Click {
        user_id: "bot".into(),
        timestamp_ms: START_MS + 3_600_000,
    };
    let user = Click {
        user_id: "user-1".into(),
        timestamp_ms: START_MS,
    };
    pipe_clicks(&driver, INPUT, &[bot, user.clone()]);
    assert_eq!(driver.metrics().dropped_late_records, 0);
    assert_eq!(window_counts(&driver, STORE), expected_counts(&[user]));
}
