//! Error policies on the broker-free test driver: records that do not decode, and records on
//! which a user function fails, are skipped (the default), sent to a dead-letter topic with
//! headers describing the failure, or stop the stream thread — per topology.

use kafka_streams::ErrorKind;
use kafka_streams::codec::{Bytes, Json, Utf8};
use kafka_streams::config::{ProcessingGuarantee, StreamsConfig};
use kafka_streams::testing::{TestDriver, TestRecord};
use kafka_streams::topology::{ErrorPolicy, StreamsBuilder, Topology};

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Order {
    id: u32,
    amount: i64,
}

/// Orders (JSON) → amount in cents, which fails for negative amounts.
fn topology(deserialization: ErrorPolicy, processing: ErrorPolicy) -> Topology {
    let builder = StreamsBuilder::new();
    builder
        .on_deserialization_error(deserialization)
        .on_processing_error(processing);
    builder
        .stream::<String, Order>("orders")
        .try_map_values(|o: Order| {
            if o.amount < 0 {
                Err(format!("order {} has a negative amount", o.id))
            } else {
                Ok(o.amount * 100)
            }
        })
        .to_with("cents", Utf8, Json);
    builder.build().expect("topology")
}

fn driver(topology: Topology, guarantee: ProcessingGuarantee) -> TestDriver {
    let config = StreamsConfig::builder("errors")
        .processing_guarantee(guarantee)
        .build()
        .expect("config");
    TestDriver::new(topology, config).expect("driver")
}

/// Pipes a good order, a record that is not JSON, an order that fails, and another good one.
fn pipe_mixed(driver: &TestDriver) -> kafka_streams::Result<()> {
    let raw = driver.input_topic_with::<String, Vec<u8>>("orders", Utf8, Bytes)?;
    let json = |o: &Order| serde_json::to_vec(o).expect("json");
    raw.pipe_record(TestRecord::new("\"a\"".to_owned(), json(&Order { id: 1, amount: 5 })).at(1))?;
    raw.pipe_record(
        TestRecord::new("\"b\"".to_owned(), b"{not json".to_vec())
            .at(2)
            .with_header("trace", "t-2"),
    )?;
    raw.pipe_record(TestRecord::new("\"c\"".to_owned(), json(&Order { id: 3, amount: -7 })).at(3))?;
    raw.pipe_record(TestRecord::new("\"d\"".to_owned(), json(&Order { id: 4, amount: 2 })).at(4))
}

fn header<'a>(headers: &'a [kafka_streams::processor::Header], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| std::str::from_utf8(v.as_deref().expect("a value")).expect("utf-8"))
        .unwrap_or_else(|| panic!("no header {name} in {headers:?}"))
}

#[test]
fn by_default_bad_records_are_logged_skipped_and_counted() {
    let driver = driver(
        topology(ErrorPolicy::default(), ErrorPolicy::default()),
        ProcessingGuarantee::AtLeastOnce,
    );
    pipe_mixed(&driver).expect("a bad record never fails the application");
    let cents = driver.output_topic_with::<String, i64>("cents", Utf8, Json);
    assert_eq!(
        cents.read_key_values().expect("read"),
        [("a".to_owned(), 500), ("d".to_owned(), 200)]
    );
    let m = driver.metrics();
    assert_eq!(
        (m.records_processed, m.records_skipped, m.records_dead_lettered),
        (2, 2, 0)
    );
}

#[test]
fn dead_letter_topics_get_the_raw_record_with_what_failed_exactly_once() {
    let driver = driver(
        topology(
            ErrorPolicy::dead_letter("orders-undecodable"),
            ErrorPolicy::dead_letter("orders-failed"),
        ),
        ProcessingGuarantee::ExactlyOnceV2,
    );
    pipe_mixed(&driver).expect("pipe");
    let undecodable = driver.output_topic_with::<String, Vec<u8>>("orders-undecodable", Utf8, Bytes);
    let failed = driver.output_topic_with::<String, Vec<u8>>("orders-failed", Utf8, Bytes);
    // Under exactly-once they appear with the commit that skips them, not before.
    assert!(undecodable.read_records().expect("read").is_empty());
    driver.commit().expect("commit");

    let records = undecodable.read_records().expect("read");
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!((r.key.as_str(), r.value.as_deref()), ("\"b\"", Some(&b"{not json"[..])));
    assert_eq!(r.timestamp, Some(2));
    assert_eq!(header(&r.headers, "trace"), "t-2", "the input's headers are kept");
    assert_eq!(header(&r.headers, "__streams.errors.exception"), "Codec");
    assert_eq!(header(&r.headers, "__streams.errors.topic"), "orders");
    assert_eq!(header(&r.headers, "__streams.errors.partition"), "0");
    assert_eq!(header(&r.headers, "__streams.errors.offset"), "1");

    let records = failed.read_records().expect("read");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].key, "\"c\"");
    assert_eq!(header(&records[0].headers, "__streams.errors.exception"), "Processing");
    assert!(
        header(&records[0].headers, "__streams.errors.message").contains("order 3 has a negative amount"),
        "{:?}",
        records[0].headers
    );
    assert_eq!(header(&records[0].headers, "__streams.errors.offset"), "2");

    let cents = driver.output_topic_with::<String, i64>("cents", Utf8, Json);
    assert_eq!(cents.read_values().expect("read"), [500, 200]);
    let m = driver.metrics();
    assert_eq!((m.records_skipped, m.records_dead_lettered), (2, 2));
}

#[test]
fn log_and_fail_stops_at_the_record_and_keeps_it_uncommitted() {
    let driver = driver(
        topology(ErrorPolicy::LogAndContinue, ErrorPolicy::LogAndFail),
        ProcessingGuarantee::ExactlyOnceV2,
    );
    let err = pipe_mixed(&driver).expect_err("the failing record stops the thread");
    assert_eq!(err.kind(), ErrorKind::Processing);
    let message = err.report().to_string();
    assert!(
        message.contains("record orders-0@2") && message.contains("order 3 has a negative amount"),
        "{message}"
    );
    // Nothing since the last commit survived; a restart reaches the same record and stops again.
    let cents = driver.output_topic_with::<String, i64>("cents", Utf8, Json);
    assert!(cents.read_values().expect("read").is_empty());
    let again = driver.restart().and_then(|()| driver.commit());
    let err = again.expect_err("the record fails again after a restart");
    assert_eq!(err.kind(), ErrorKind::Processing);
}

#[test]
fn a_bad_dead_letter_topic_name_is_rejected() {
    let builder = StreamsBuilder::new();
    builder.on_processing_error(ErrorPolicy::dead_letter("no spaces allowed"));
    builder.stream::<String, String>("in").to("out");
    let err = builder.build().err().expect("rejected").to_string();
    assert!(err.contains("dead-letter topic"), "{err}");
}

/// `try_filter`: `Ok(false)` drops a record, `Ok(true)` passes it on unchanged, and an `Err` is
/// the record's processing error, which the policy handles (skipped and counted here) — the
/// records after it still flow.
#[test]
fn a_failing_filter_predicate_is_a_processing_error_of_its_record() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, Order>("orders")
        .try_filter(|_, o: &Order| match o.amount {
            a if a < 0 => Err(format!("order {} has a negative amount", o.id)),
            a => Ok(a > 3),
        })
        .to("big-orders");
    let driver = driver(builder.build().expect("topology"), ProcessingGuarantee::AtLeastOnce);
    pipe_mixed(&driver).expect("a bad record never fails the application");
    let big = driver.output_topic::<String, Order>("big-orders");
    assert_eq!(
        big.read_key_values().expect("read"),
        [("a".to_owned(), Order { id: 1, amount: 5 })]
    );
    let m = driver.metrics();
    // Processed: a and d (dropped by the filter); skipped: b (not JSON) and c (the predicate's error).
    assert_eq!((m.records_processed, m.records_skipped), (2, 2));
}

/// `try_map`: the new key and value go on with the record's timestamp; an `Err` is the record's
/// processing error (skipped and counted by default) and the records after it still flow.
#[test]
fn a_failing_map_is_a_processing_error_of_its_record() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, Order>("orders")
        .try_map(|key: String, o: Order| {
            if o.amount < 0 {
                Err(format!("order {} has a negative amount", o.id))
            } else {
                Ok((o.id, format!("{key}:{}", o.amount)))
            }
        })
        .to_with("by-id", Json, Utf8);
    let driver = driver(builder.build().expect("topology"), ProcessingGuarantee::AtLeastOnce);
    pipe_mixed(&driver).expect("a bad record never fails the application");
    let by_id = driver.output_topic_with::<u32, String>("by-id", Json, Utf8);
    let records = by_id.read_records().expect("read");
    let got: Vec<_> = records.into_iter().map(|r| (r.key, r.value, r.timestamp)).collect();
    assert_eq!(
        got,
        [
            (1, Some("a:5".to_owned()), Some(1)),
            (4, Some("d:2".to_owned()), Some(4))
        ]
    );
    let m = driver.metrics();
    assert_eq!((m.records_processed, m.records_skipped), (2, 2));
}
