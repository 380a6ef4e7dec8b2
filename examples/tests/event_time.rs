//! Event-time semantics a user relies on — grace, lateness, final emission — declared with the
//! macros and run on the broker-free test driver (the semantics are the topology's, not the
//! broker's). Kafka Streams is the reference: a window `[start, end)` accepts a record while
//! stream time (the highest event time seen) is below `end + grace`, and closes at `end + grace`.

use kafka_streams::codec::{Json, Utf8};
use kafka_streams::config::StreamsConfig;
use kafka_streams::testing::TestDriver;

#[kafka_streams::topology(application_id = "strict-minutes")]
pub mod strict {
    use kafka_streams::Windowed;

    #[source(topic = "readings", key_format = "utf8", value_format = "utf8")]
    pub type Readings = (String, String);

    /// Readings per sensor and minute, no lateness tolerated (`grace = "0s"`, legal as
    /// `TimeWindows.ofSizeWithNoGrace` in Kafka Streams), emitted once per closed window.
    #[windowed(tumbling = "1m", grace = "0s", emit = "final")]
    #[state_store(name = "strict-minutes")]
    pub fn per_minute(#[from(Readings)] _sensor: &String, _reading: &String, count: &mut u64) {
        *count += 1;
    }

    #[sink(topic = "minute-counts", from = per_minute)]
    pub fn publish(key: Windowed<String>, count: u64) -> (String, u64) {
        (format!("{}@{}", key.key, key.window.start_ms), count)
    }
}

fn strict_driver() -> kafka_streams::Result<TestDriver> {
    let config = StreamsConfig::builder(strict::APPLICATION_ID).build()?;
    TestDriver::builder(strict::topology()?, config).build()
}

/// (window start, count) of every window in the `strict-minutes` store, sorted.
fn strict_windows(driver: &TestDriver) -> kafka_streams::Result<Vec<(i64, u64)>> {
    let mut windows: Vec<(i64, u64)> = strict::stores::StrictMinutes::all(driver)?
        .into_iter()
        .map(|(key, count)| (key.window.start_ms, count))
        .collect();
    windows.sort();
    Ok(windows)
}

/// Grace zero: the window closes the moment stream time reaches its end; a record for it after
/// that is dropped, and the final count is emitted then.
#[test]
fn zero_grace_closes_a_window_at_its_end() -> kafka_streams::Result<()> {
    const MIN: i64 = 60_000;
    let driver = strict_driver()?;
    let readings = driver.input_topic_with::<String, String>(strict::topics::READINGS, Utf8, Utf8)?;
    let counts = driver.output_topic_with::<String, u64>(strict::topics::MINUTE_COUNTS, Utf8, Json);

    readings.pipe_at("s1".into(), "a".into(), 0)?;
    readings.pipe_at("s1".into(), "b".into(), MIN - 1)?;
    driver.commit()?;
    assert_eq!(counts.read_key_values()?, vec![], "the first minute is still open");

    readings.pipe_at("s1".into(), "c".into(), MIN)?; // stream time reaches the end: [0, 1m) closes
    readings.pipe_at("s1".into(), "late".into(), MIN - 1)?; // dropped: no grace
    driver.commit()?;
    assert_eq!(counts.read_key_values()?, vec![("s1@0".to_owned(), 2)]);

    assert_eq!(strict_windows(&driver)?, vec![(0, 2), (MIN, 1)]);
    Ok(())
}

#[kafka_streams::topology(application_id = "closing-minutes")]
pub mod closing {
    use kafka_streams::Windowed;

    #[source(topic = "readings", key_format = "utf8", value_format = "utf8")]
    pub type Readings = (String, String);

    #[windowed(tumbling = "1m", emit = "final")]
    #[state_store(name = "closing-minutes")]
    pub fn per_minute(#[from(Readings)] _sensor: &String, _reading: &String, count: &mut u64) {
        *count += 1;
    }

    /// Refuses one sensor's final result, as a downstream validation would.
    pub fn check(#[from(per_minute)] key: Windowed<String>, count: u64) -> Result<(String, u64), String> {
        if key.key == "broken" {
            Err(format!("sensor {} is decommissioned", key.key))
        } else {
            Ok((format!("{}@{}", key.key, key.window.start_ms), count))
        }
    }

    #[sink(topic = "minute-counts", from = check, key_format = "utf8")]
    pub fn publish(key: String, count: u64) -> (String, u64) {
        (key, count)
    }

    #[source(topic = "visits", key_format = "utf8", value_format = "utf8")]
    pub type Visits = (String, String);

    #[windowed(session(inactivity_gap = "1m"), merge = add, emit = "final")]
    #[state_store(name = "closing-sessions")]
    pub fn per_session(#[from(Visits)] _sensor: &String, _reading: &String, count: &mut u64) {
        *count += 1;
    }

    pub fn add(a: u64, b: u64) -> u64 {
        a + b
    }

    pub fn check_session(#[from(per_session)] key: Windowed<String>, count: u64) -> Result<(String, u64), String> {
        check(key, count)
    }

    #[sink(topic = "session-counts", from = check_session, key_format = "utf8")]
    pub fn publish_session(key: String, count: u64) -> (String, u64) {
        (key, count)
    }
}

/// Windows that close in the same step are emitted independently: one refused by a downstream
/// node (handled by the error policy, here log-and-continue) does not take the others' final
/// results with it, and none is emitted twice when stream time moves on.
#[test]
fn a_failing_final_result_does_not_lose_the_other_windows_closing_with_it() -> kafka_streams::Result<()> {
    const MIN: i64 = 60_000;
    let config = StreamsConfig::builder(closing::APPLICATION_ID).build()?;
    let driver = TestDriver::builder(closing::topology()?, config).build()?;
    let readings = driver.input_topic_with::<String, String>(closing::topics::READINGS, Utf8, Utf8)?;
    let counts = driver.output_topic_with::<String, u64>(closing::topics::MINUTE_COUNTS, Utf8, Json);

    for sensor in ["a", "broken", "c"] {
        readings.pipe_at(sensor.into(), "x".into(), 10)?;
    }
    readings.pipe_at("a".into(), "x".into(), 20)?;
    readings.pipe_at("a".into(), "x".into(), MIN)?; // closes [0, 1m) for all three sensors
    readings.pipe_at("a".into(), "x".into(), 2 * MIN)?; // closes [1m, 2m): only a's
    driver.commit()?;
    let mut got = counts.read_key_values()?;
    got.sort();
    assert_eq!(
        got,
        vec![("a@0".to_owned(), 2), ("a@60000".to_owned(), 1), ("c@0".to_owned(), 1)]
    );
    let visits = driver.input_topic_with::<String, String>(closing::topics::VISITS, Utf8, Utf8)?;
    for sensor in ["a", "broken", "c"] {
        visits.pipe_at(sensor.into(), "x".into(), 10)?;
    }
    visits.pipe_at("a".into(), "x".into(), 20)?;
    visits.pipe_at("a".into(), "x".into(), 3 * MIN)?; // closes the sessions of t = 10..20
    driver.commit()?;
    let mut sessions = driver
        .output_topic_with::<String, u64>(closing::topics::SESSION_COUNTS, Utf8, Json)
        .read_key_values()?;
    sessions.sort();
    assert_eq!(sessions, vec![("a@10".to_owned(), 2), ("c@10".to_owned(), 1)]);
    // The record that closed [0, 1m) and the one that closed the sessions are logged and skipped.
    assert_eq!(driver.metrics().records_skipped, 2);
    Ok(())
}

/// A record without a timestamp (Kafka's -1) is not taken for the epoch: the source refuses it
/// through the error policy (skipped and counted by default) and it moves neither stream time nor
/// a window.
#[test]
fn a_record_without_timestamp_is_skipped_not_counted_at_the_epoch() -> kafka_streams::Result<()> {
    let driver = strict_driver()?;
    let readings = driver.input_topic_with::<String, String>(strict::topics::READINGS, Utf8, Utf8)?;
    readings.pipe_at("s1".into(), "no time".into(), -1)?;
    readings.pipe_at("s1".into(), "a".into(), 5)?;
    driver.commit()?;
    assert_eq!(driver.metrics().records_skipped, 1);
    assert_eq!(strict_windows(&driver)?, vec![(0, 1)]);
    Ok(())
}
