//! The seed's click-aggregation walkthrough, step by step, on the broker-free test driver with
//! the macro-declared pipeline: windows, emit-on-update, exactly-once visibility at commit, the
//! window store through its generated accessor, late records, and the generated topic names.

use std::time::Duration;

use kafka_streams::codec::{Json, Utf8};
use kafka_streams::config::{ProcessingGuarantee, StreamsConfig};
use kafka_streams::testing::{TestDriver, TestRecord};
use kafka_streams_examples::click_aggregator::{Click, pipeline};

/// 2024-01-05 10:00:00 UTC, epoch seconds.
const TEN_AM: i64 = 1_704_448_800;

fn click(user: &str, url: &str, seconds_after_ten: i64) -> TestRecord<String, Click> {
    TestRecord::new(
        user.to_owned(),
        Click {
            user_id: user.to_owned(),
            url: url.to_owned(),
            timestamp: TEN_AM + seconds_after_ten,
        },
    )
}

#[test]
fn the_seed_walkthrough_on_the_test_driver() -> kafka_streams::Result<()> {
    let config = StreamsConfig::builder(pipeline::APPLICATION_ID)
        .processing_guarantee(ProcessingGuarantee::ExactlyOnceV2)
        .commit_interval(Duration::from_secs(1))
        .build()?;
    let driver = TestDriver::builder(pipeline::topology()?, config)
        .partitions(3)
        .build()?;
    let clicks = driver.input_topic_with::<String, Click>(pipeline::topics::USER_CLICKS, Utf8, Json)?;
    let counts = driver.output_topic_with::<String, u64>(pipeline::topics::AGGREGATED_CLICKS, Utf8, Json);
    let store = pipeline::stores::ClickCounts::fetch;
    let window_start_ms = TEN_AM * 1000;

    // Step 4: the first click (10:00:30) lands in [10:00, 10:05); its count is in the store but
    // the output is not visible before the transaction commits.
    clicks.pipe_record(click("user123", "/home", 30))?;
    assert_eq!(store(&driver, &"user123".to_owned(), window_start_ms)?, Some(1));
    assert!(counts.read_records()?.is_empty());

    // Step 5: a second click in the same window updates the count; every update is emitted.
    clicks.pipe_record(click("user123", "/profile", 105))?;

    // Step 6: the commit interval passes — outputs, changelog and offsets commit together.
    driver.advance_wall_clock(Duration::from_secs(1))?;
    assert_eq!(
        counts.read_key_values()?,
        vec![
            ("user123@2024-01-05T10:00:00Z".to_owned(), 1),
            ("user123@2024-01-05T10:00:00Z".to_owned(), 2),
        ]
    );

    // Step 7: a click at 10:05:30 (another user, same partition or not) — and, once stream time on
    // user123's partition passes 10:05:30 (window end + 30 s grace), a late click is dropped.
    clicks.pipe_record(click("user456", "/home", 330))?;
    clicks.pipe_record(click("user123", "/late-trigger", 331))?;
    clicks.pipe_record(click("user123", "/late", 119))?;
    driver.advance_wall_clock(Duration::from_secs(1))?;
    assert_eq!(driver.metrics().dropped_late_records, 1);
    assert_eq!(store(&driver, &"user123".to_owned(), window_start_ms)?, Some(2));
    assert_eq!(
        counts.read_key_values()?,
        vec![
            ("user456@2024-01-05T10:05:00Z".to_owned(), 1),
            ("user123@2024-01-05T10:05:00Z".to_owned(), 1),
        ]
    );

    // Step 8's state, through the generated typed accessor (all local partitions).
    let all = pipeline::stores::ClickCounts::all(&driver)?;
    assert_eq!(all.len(), 3);

    // Generated names are the names on the broker.
    let topics = driver.topics();
    for name in [
        pipeline::topics::USER_CLICKS,
        pipeline::topics::AGGREGATED_CLICKS,
        pipeline::topics::CLICK_COUNTS_CHANGELOG,
        pipeline::stores::ClickCounts::CHANGELOG_TOPIC,
    ] {
        assert!(topics.iter().any(|(t, _)| t == name), "`{name}` not in {topics:?}");
    }
    assert_eq!(
        pipeline::stores::ClickCounts::CHANGELOG_TOPIC,
        "click-aggregator-click-counts-changelog"
    );
    assert_eq!(pipeline::stores::ClickCounts::WINDOW_SIZE_MS, 300_000);
    assert!(pipeline::describe().contains("click-counts"));
    Ok(())
}
