//! The DSL's semantics on the broker-free test driver: exact records out and store contents,
//! over several partitions and repartition topics. No broker: these check topology logic and
//! run the production task, store and commit code against the driver's in-memory log.

mod common;

use std::collections::BTreeMap;

use common::*;
use kafka_streams::codec::{Json, Utf8};
use kafka_streams::config::ProcessingGuarantee::{AtLeastOnce, ExactlyOnceV2};
use kafka_streams::testing::{TestDriver, TestRecord};
use kafka_streams::topology::{Consumed, Materialized, StreamsBuilder, Topology};

const INPUT: &str = "clicks";
const OUTPUT: &str = "counts";
const STORE: &str = "click-counts";

#[test]
fn windowed_count_is_exact_in_output_and_store_on_three_partitions() {
    let driver = driver(click_count_topology(INPUT, OUTPUT, STORE), "wc", AtLeastOnce);
    let input = clicks(0, 2_000);
    pipe_clicks(&driver, INPUT, &input);
    let expected = expected_counts(&input);

    // Every update is emitted (no cache dedup yet): the latest per key is the final count.
    let output = count_output(&driver, OUTPUT).read_records().expect("read");
    assert_eq!(output.len(), input.len());
    let latest: BTreeMap<String, u64> = output.into_iter().map(|r| (r.key, r.value.expect("count"))).collect();
    assert_eq!(latest, expected);
    assert_eq!(window_counts(&driver, STORE), expected);
    assert_eq!(
        driver
            .active_tasks()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["0_0", "0_1", "0_2"]
    );
    assert!(driver.topics().contains(&("wc-click-counts-changelog".to_owned(), 3)));
    assert_eq!(driver.metrics().records_processed, 2_000);
}

#[test]
fn re_keyed_aggregation_reads_through_the_repartition_topic() {
    let driver = driver(
        per_minute_topology(INPUT, OUTPUT, "per-minute"),
        "by-minute",
        ExactlyOnceV2,
    );
    let input = clicks(0, 600);
    pipe_clicks(&driver, INPUT, &input);
    let output = count_output(&driver, OUTPUT);
    // Exactly-once: the repartitioned records are readable downstream only once committed, so
    // nothing is out before a commit; one `commit()` then commits each hop in turn (two
    // transactions, as in production) and brings every count into view.
    assert!(output.read_records().expect("read").is_empty());
    let commits = driver.metrics().commits;
    driver.commit().expect("commit");
    assert!(driver.metrics().commits >= commits + 2, "one commit per hop");

    let mut expected = BTreeMap::new();
    for click in &input {
        *expected
            .entry((click.timestamp_ms / 60_000).to_string())
            .or_insert(0u64) += 1;
    }
    assert_eq!(
        output
            .read_key_values_to_map()
            .expect("read")
            .into_iter()
            .collect::<BTreeMap<_, _>>(),
        expected
    );
    let topics = driver.topics();
    assert!(
        topics.contains(&("by-minute-per-minute-repartition".to_owned(), 3)),
        "{topics:?}"
    );
    assert!(
        topics.contains(&("by-minute-per-minute-changelog".to_owned(), 3)),
        "{topics:?}"
    );
    // Both sub-topologies, three partitions each.
    assert_eq!(driver.active_tasks().len(), 6);
}

/// Consumed repartition records are deleted after the commit that consumed them, every
/// `repartition.purge.interval.ms` (Kafka Streams' DeleteRecords purge); the source topic is
/// the user's and is never purged. Before, repartition topics grew forever.
#[test]
fn consumed_repartition_records_are_purged_after_the_commit() {
    let config = kafka_streams::config::StreamsConfig::builder("purged")
        .processing_guarantee(AtLeastOnce)
        .repartition_purge_interval(std::time::Duration::from_secs(5))
        .build()
        .expect("config");
    let driver = TestDriver::builder(per_minute_topology(INPUT, OUTPUT, "per-minute"), config)
        .partitions(3)
        .build()
        .expect("driver");
    let repartition = "purged-per-minute-repartition";
    let lows = |topic: &str| -> Vec<(i64, i64)> {
        (0..3)
            .map(|p| driver.watermarks(topic, p).expect("watermarks"))
            .collect()
    };
    pipe_clicks(&driver, INPUT, &clicks(0, 600));
    driver.commit().expect("commit");
    // Within the purge interval of the thread's start: nothing deleted yet.
    assert!(
        lows(repartition).iter().all(|(low, _)| *low == 0),
        "{:?}",
        lows(repartition)
    );

    driver
        .advance_wall_clock(std::time::Duration::from_secs(6))
        .expect("advance");
    pipe_clicks(&driver, INPUT, &clicks(600, 300));
    driver.commit().expect("commit");
    let after = lows(repartition);
    assert_eq!(after.iter().map(|(_, high)| high).sum::<i64>(), 900, "{after:?}");
    assert!(
        after.iter().all(|(low, high)| low == high),
        "every consumed and committed repartition record is deleted: {after:?}"
    );
    assert!(
        lows(INPUT).iter().all(|(low, _)| *low == 0),
        "a user topic is never purged"
    );
    // The counts do not depend on the deleted records.
    let mut expected = BTreeMap::new();
    for click in clicks(0, 900) {
        *expected
            .entry((click.timestamp_ms / 60_000).to_string())
            .or_insert(0u64) += 1;
    }
    let counts: BTreeMap<String, u64> = count_output(&driver, OUTPUT)
        .read_key_values_to_map()
        .expect("read")
        .into_iter()
        .collect();
    assert_eq!(counts, expected);
}

#[test]
fn records_after_window_close_are_dropped_and_counted() {
    let driver = driver(click_count_topology(INPUT, OUTPUT, STORE), "late", AtLeastOnce);
    let at = |minute: i64| Click {
        user_id: "user-1".into(),
        timestamp_ms: START_MS + minute * 60_000,
    };
    // 10:00 and 10:12 advance stream time past the end of [10:00, 10:05) (no grace); the second
    // 10:01 click is then late and must not change the closed window.
    let input = [at(0), at(12), at(1)];
    for click in &input {
        pipe_clicks(&driver, INPUT, std::slice::from_ref(click));
    }
    assert_eq!(driver.metrics().dropped_late_records, 1);
    let latest = count_output(&driver, OUTPUT).read_key_values_to_map().expect("read");
    assert_eq!(
        latest.into_iter().collect::<BTreeMap<_, _>>(),
        expected_counts(&input[..2])
    );
}

#[test]
fn stream_time_advanced_by_the_driver_closes_windows() {
    let driver = driver(click_count_topology(INPUT, OUTPUT, STORE), "stream-time", AtLeastOnce);
    let click = Click {
        user_id: "user-1".into(),
        timestamp_ms: START_MS,
    };
    pipe_clicks(&driver, INPUT, std::slice::from_ref(&click));
    driver
        .advance_stream_time(START_MS + WINDOW.as_millis() as i64)
        .expect("advance");
    pipe_clicks(&driver, INPUT, std::slice::from_ref(&click));
    assert_eq!(driver.metrics().dropped_late_records, 1);
    assert_eq!(window_counts(&driver, STORE), expected_counts(&[click]));
}

#[test]
fn stateless_operations_reduce_and_aggregate() {
    let builder = StreamsBuilder::new();
    let clicks_by_user = builder.stream_with(INPUT, Consumed::new(Utf8, Json));
    // Every click counts twice (flat_map), except user-0's (filter); peek sees what passes.
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let seen_in_peek = std::sync::Arc::clone(&seen);
    let doubled = clicks_by_user
        .filter(|user: &String, _: &Click| user != "user-0")
        .peek(move |_, _| {
            seen_in_peek.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        })
        .flat_map_values(|click: Click| [click.timestamp_ms, click.timestamp_ms]);
    let grouped = doubled.group_by_key();
    grouped
        .aggregate(|| 0u64, |_, _, n| n + 1, Materialized::named("events"))
        .to_stream()
        .map_values(|n| n.to_string())
        .to_with(OUTPUT, Utf8, Utf8);
    grouped
        .reduce(i64::max, Materialized::named("latest-ts").in_memory())
        .to_stream()
        .to_with("latest", Utf8, Json);
    let driver = driver(builder.build().expect("topology"), "ops", AtLeastOnce);
    let input = clicks(0, 700);
    pipe_clicks(&driver, INPUT, &input);

    let kept: Vec<&Click> = input.iter().filter(|c| c.user_id != "user-0").collect();
    assert_eq!(seen.load(std::sync::atomic::Ordering::Relaxed), kept.len() as u64);
    let mut events = BTreeMap::new();
    let mut latest = BTreeMap::new();
    for click in &kept {
        *events.entry(click.user_id.clone()).or_insert(0u64) += 2;
        let ts = latest.entry(click.user_id.clone()).or_insert(i64::MIN);
        *ts = (*ts).max(click.timestamp_ms);
    }
    let counted: BTreeMap<String, u64> = driver
        .output_topic_with::<String, String>(OUTPUT, Utf8, Utf8)
        .read_key_values_to_map()
        .expect("read")
        .into_iter()
        .map(|(k, v)| (k, v.parse().expect("number")))
        .collect();
    assert_eq!(counted, events);
    let latest_out = driver
        .output_topic_with::<String, i64>("latest", Utf8, Json)
        .read_key_values_to_map()
        .expect("read");
    assert_eq!(latest_out.into_iter().collect::<BTreeMap<_, _>>(), latest);
    // The in-memory store holds the same as the output.
    let mut in_store = BTreeMap::new();
    for (_, partition) in driver.key_value_store::<String, i64>("latest-ts").expect("store") {
        in_store.extend(partition.all().expect("scan"));
    }
    assert_eq!(in_store, latest);
}

fn merged_count_topology(left: &str, right: &str) -> Topology {
    let builder = StreamsBuilder::new();
    let consumed = || Consumed::new(Utf8, Json).with_timestamp(|_, c: &Click, _| c.timestamp_ms);
    builder
        .stream_with(left, consumed())
        .merge(&builder.stream_with(right, consumed()))
        .group_by_key()
        .count(Materialized::named("merged-counts"))
        .to_stream()
        .to_with(OUTPUT, Utf8, Json);
    builder.build().expect("topology")
}

#[test]
fn merged_inputs_are_co_partitioned_or_rejected() {
    // Different partition counts: a clear error at start-up, before anything is consumed.
    let err = TestDriver::builder(
        merged_count_topology(INPUT, "odd-clicks"),
        driver_config("merge-bad", AtLeastOnce),
    )
    .partitions(3)
    .topic_partitions("odd-clicks", 4)
    .build()
    .err()
    .expect("must be rejected")
    .to_string();
    assert!(
        err.contains("co-partitioned inputs need the same partition count"),
        "{err}"
    );

    let topology = merged_count_topology(INPUT, "more-clicks");
    assert!(topology.describe().contains("Sub-topology: 0") && !topology.describe().contains("Sub-topology: 1"));
    let driver = driver(topology, "merge", AtLeastOnce);
    let (left, right) = (clicks(0, 210), clicks(210, 140));
    pipe_clicks(&driver, INPUT, &left);
    pipe_clicks(&driver, "more-clicks", &right);
    let mut expected = BTreeMap::new();
    for click in left.iter().chain(&right) {
        *expected.entry(click.user_id.clone()).or_insert(0u64) += 1;
    }
    let latest = count_output(&driver, OUTPUT).read_key_values_to_map().expect("read");
    assert_eq!(latest.into_iter().collect::<BTreeMap<_, _>>(), expected);
}

#[test]
fn headers_are_forwarded_and_chosen_partitions_respected() {
    let builder = StreamsBuilder::new();
    let words = builder.stream_with(INPUT, Consumed::new(Utf8, Utf8));
    words
        .map_values(|w: String| w.to_uppercase())
        .to_with(OUTPUT, Utf8, Utf8);
    words.group_by_key().count(Materialized::named("word-counts"));
    let driver = driver(builder.build().expect("topology"), "headers", AtLeastOnce);
    let input = driver
        .input_topic_with::<String, String>(INPUT, Utf8, Utf8)
        .expect("input");
    input
        .pipe_record(
            TestRecord::new("k".to_owned(), "hello".to_owned())
                .at(42)
                .with_header("trace-id", b"abc".to_vec())
                .with_header("empty", Vec::new())
                .with_null_header("null")
                .to_partition(2),
        )
        .expect("pipe");
    let out = driver
        .output_topic_with::<String, String>(OUTPUT, Utf8, Utf8)
        .read_records()
        .expect("read");
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].value.as_deref(), Some("HELLO"));
    assert_eq!(out[0].timestamp, Some(42));
    // A null header stays null, and an empty one empty (issue 16 item 15).
    assert_eq!(
        out[0].headers,
        vec![
            ("trace-id".to_owned(), Some(b"abc".to_vec())),
            ("empty".to_owned(), Some(Vec::new())),
            ("null".to_owned(), None),
        ]
    );
    // The output is partitioned by its key with murmur2, as a Java producer would.
    let expected_partition = kafka_streams::partitioner::partition_for_key(b"k", 3) as i32;
    assert_eq!(out[0].partition, Some(expected_partition));
    // The next record, without headers, takes none of the previous one's along.
    input
        .pipe_record(TestRecord::new("k".to_owned(), "bye".to_owned()).at(43).to_partition(2))
        .expect("pipe");
    let next = driver
        .output_topic_with::<String, String>(OUTPUT, Utf8, Utf8)
        .read_records()
        .expect("read");
    assert_eq!(
        next.last().map(|r| (r.value.as_deref(), r.headers.len())),
        Some((Some("BYE"), 0))
    );
    // The records were read from partition 2: task 0_2 counted them.
    let stores = driver.key_value_store::<String, u64>("word-counts").expect("store");
    let counted: Vec<(i32, Vec<(String, u64)>)> =
        stores.into_iter().map(|(p, s)| (p, s.all().expect("scan"))).collect();
    assert_eq!(counted, vec![(0, vec![]), (1, vec![]), (2, vec![("k".to_owned(), 2)])]);
}

#[test]
fn bad_input_gets_a_clear_error_or_is_skipped() {
    let driver = driver(click_count_topology(INPUT, OUTPUT, STORE), "bad", AtLeastOnce);
    let err = driver
        .input_topic::<String, Click>("nope")
        .err()
        .expect("not a source")
        .to_string();
    assert!(
        err.contains("`nope` is not a source topic of this topology; its sources are: `clicks`"),
        "{err}"
    );
    let raw = driver
        .input_topic_with::<String, String>(INPUT, Utf8, Utf8)
        .expect("input");
    let err = raw
        .pipe_record(TestRecord::new("user-1".to_owned(), "x".to_owned()).to_partition(7))
        .expect_err("no such partition")
        .to_string();
    assert!(err.contains("there is no partition 7"), "{err}");
    // A value that is not a click: logged and skipped; the next record is processed.
    raw.pipe_at("user-1".into(), "not json".into(), START_MS).expect("pipe");
    pipe_clicks(&driver, INPUT, &clicks(0, 1));
    let metrics = driver.metrics();
    assert_eq!((metrics.records_skipped, metrics.records_processed), (1, 1));
    assert_eq!(window_counts(&driver, STORE), expected_counts(&clicks(0, 1)));
}

#[test]
fn hopping_windows_count_each_record_in_every_window_holding_it() {
    use kafka_streams::window::TimeWindows;
    let builder = StreamsBuilder::new();
    builder
        .stream_with(
            INPUT,
            Consumed::new(Utf8, Json).with_timestamp(|_, c: &Click, _| c.timestamp_ms),
        )
        .group_by_key()
        .windowed_by(TimeWindows::of(WINDOW).advance_by(std::time::Duration::from_secs(60)))
        .count(Materialized::named("hopping"))
        .to_stream()
        .map(|window, count| (window.to_string(), count))
        .to_with(OUTPUT, Utf8, Json);
    let driver = driver(builder.build().expect("topology"), "hopping", AtLeastOnce);
    // One click at 10:02:30: in the five 5-minute windows starting 09:58 … 10:02.
    let click = Click {
        user_id: "user-1".into(),
        timestamp_ms: START_MS + 150_000,
    };
    pipe_clicks(&driver, INPUT, std::slice::from_ref(&click));
    let keys: Vec<String> = count_output(&driver, OUTPUT)
        .read_key_values()
        .expect("read")
        .into_iter()
        .map(|(k, n)| {
            assert_eq!(n, 1);
            k
        })
        .collect();
    assert_eq!(
        keys,
        [
            "user-1@2024-01-05T09:58:00Z",
            "user-1@2024-01-05T09:59:00Z",
            "user-1@2024-01-05T10:00:00Z",
            "user-1@2024-01-05T10:01:00Z",
            "user-1@2024-01-05T10:02:00Z"
        ]
    );
}

#[test]
fn inner_stream_table_join_drops_unknown_keys_and_sees_table_updates() {
    let builder = StreamsBuilder::new();
    let names = builder.table_with("names", Consumed::new(Utf8, Utf8), Materialized::named("names"));
    builder
        .stream_with(INPUT, Consumed::new(Utf8, Json))
        .join(&names, |_, click: &Click, name: &String| {
            format!("{name}@{}", click.timestamp_ms)
        })
        .to_with(OUTPUT, Utf8, Utf8);
    let driver = driver(builder.build().expect("topology"), "join", AtLeastOnce);
    let names_in = driver
        .input_topic_with::<String, String>("names", Utf8, Utf8)
        .expect("names");
    let click = |user: &str, ts: i64| Click {
        user_id: user.into(),
        timestamp_ms: ts,
    };
    names_in.pipe_at("u1".into(), "Ann".into(), 1).expect("pipe");
    pipe_clicks(&driver, INPUT, &[click("u1", 10), click("u2", 11)]);
    names_in.pipe_at("u1".into(), "Anne".into(), 12).expect("pipe");
    pipe_clicks(&driver, INPUT, &[click("u1", 13)]);
    let out = driver
        .output_topic_with::<String, String>(OUTPUT, Utf8, Utf8)
        .read_key_values()
        .expect("read");
    assert_eq!(
        out,
        vec![
            ("u1".to_owned(), "Ann@10".to_owned()),
            ("u1".to_owned(), "Anne@13".to_owned())
        ]
    );
}
