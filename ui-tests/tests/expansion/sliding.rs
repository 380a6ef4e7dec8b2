//! `#[windowed(sliding(time_difference = ..))]`: sliding windows declared with the macros, on
//! the broker-free test driver, read back through the generated store accessor and checked
//! against Kafka Streams' sliding-window semantics.

use kafka_streams::codec::Utf8;
use kafka_streams::config::StreamsConfig;
use kafka_streams::testing::TestDriver;

#[kafka_streams::topology(application_id = "login-bursts")]
pub mod bursts {
    #[source(topic = "logins", key_format = "utf8", value_format = "utf8")]
    pub type Logins = (String, String);

    /// Failed logins per user within any 10 minutes (a burst detector).
    #[windowed(sliding(time_difference = "10m"), grace = "1m")]
    #[state_store(name = "login-bursts")]
    pub fn failures(#[from(Logins)] _user: &String, outcome: &String, failures: &mut u64) {
        if outcome == "failed" {
            *failures += 1;
        }
    }
}

#[test]
fn sliding_windows_declared_with_the_macros() -> kafka_streams::Result<()> {
    const MIN: i64 = 60_000;
    let config = StreamsConfig::builder(bursts::APPLICATION_ID).build()?;
    let driver = TestDriver::builder(bursts::topology()?, config).partitions(2).build()?;
    let logins = driver.input_topic_with::<String, String>(bursts::topics::LOGINS, Utf8, Utf8)?;
    for minute in [0, 4, 9, 15] {
        logins.pipe_at("eve".into(), "failed".into(), minute * MIN)?;
    }
    let mut windows: Vec<(i64, i64, u64)> = bursts::stores::LoginBursts::all(&driver)?
        .into_iter()
        .map(|(w, n)| (w.window.start_ms, w.window.end_ms, n))
        .collect();
    windows.sort();
    // The record-defined windows of 10 minutes (both ends included): the three failures within
    // [−1, 9] minutes are one burst; 15 starts new ones.
    let expected: Vec<(i64, i64, u64)> = vec![
        (-10 * MIN, 0, 1),
        (-6 * MIN, 4 * MIN, 2),
        (-MIN, 9 * MIN, 3),
        (1, 10 * MIN + 1, 2),
        (4 * MIN + 1, 14 * MIN + 1, 1),
        (5 * MIN, 15 * MIN, 2),
        (9 * MIN + 1, 19 * MIN + 1, 1),
    ];
    assert_eq!(windows, expected);
    // One window read by its start.
    assert_eq!(
        bursts::stores::LoginBursts::fetch(&driver, &"eve".to_owned(), -MIN)?,
        Some(3)
    );
    Ok(())
}
