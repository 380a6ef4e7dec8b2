//! Event-time semantics a user relies on — grace, lateness, final emission — declared with the
//! macros and run on the broker-free test driver (the semantics are the topology's, not the
//! broker's). Kafka Streams is the reference: a window `[start, end)` accepts a record while
//! stream time (the highest event time seen) is below `end + grace`, and closes at `end + grace`.

use streams_runtime::codec::{Json, Utf8};
use streams_runtime::config::StreamsConfig;
use streams_runtime::testing::TestDriver;

#[streams_runtime::topology(application_id = "strict-minutes")]
pub mod strict {
    use streams_runtime::Windowed;

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

/// Grace zero: the window closes the moment stream time reaches its end; a record for it after
/// that is dropped, and the final count is emitted then.
#[test]
fn zero_grace_closes_a_window_at_its_end() -> streams_runtime::Result<()> {
    const MIN: i64 = 60_000;
    let config = StreamsConfig::builder(strict::APPLICATION_ID).build()?;
    let driver = TestDriver::builder(strict::topology()?, config).build()?;
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

    let mut windows: Vec<(i64, u64)> = strict::stores::StrictMinutes::all(&driver)?
        .into_iter()
        .map(|(key, count)| (key.window.start_ms, count))
        .collect();
    windows.sort();
    assert_eq!(windows, vec![(0, 2), (MIN, 1)]);
    Ok(())
}
