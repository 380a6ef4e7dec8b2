//! The test driver example shown in README.md ("Testing without a broker"), kept compiling and
//! passing here; `the_readme_shows_this_example` keeps the README copy identical.

// README-BEGIN
use std::collections::HashMap;
use std::time::Duration;

use kafka_streams::codec::{Json, Utf8};
use kafka_streams::config::{ProcessingGuarantee, StreamsConfig};
use kafka_streams::testing::{TestDriver, TestRecord};
use kafka_streams::topology::{Consumed, Materialized, StreamsBuilder, Topology};
use kafka_streams::window::TumblingWindows;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Click {
    user: String,
    at_ms: i64,
}

fn clicks_per_window() -> Topology {
    let builder = StreamsBuilder::new();
    builder
        .stream_with(
            "clicks",
            Consumed::new(Utf8, Json).with_timestamp(|_, c: &Click, _| c.at_ms),
        )
        .group_by_key()
        .windowed_by(TumblingWindows::of(Duration::from_secs(300)))
        .count(Materialized::named("click-counts"))
        .to_stream()
        .map(|window, count| (window.to_string(), count))
        .to_with("counts", Utf8, Json);
    builder.build().expect("valid topology")
}

#[test]
fn counts_survive_a_crash_between_commits() -> kafka_streams::Result<()> {
    let config = StreamsConfig::builder("clicks-app")
        .processing_guarantee(ProcessingGuarantee::ExactlyOnceV2)
        .build()?;
    let driver = TestDriver::builder(clicks_per_window(), config).partitions(3).build()?;
    let clicks = driver.input_topic_with::<String, Click>("clicks", Utf8, Json)?;
    let counts = driver.output_topic_with::<String, u64>("counts", Utf8, Json);
    let click = |user: &str, at_ms| {
        TestRecord::new(
            user.to_owned(),
            Click {
                user: user.to_owned(),
                at_ms,
            },
        )
        .at(at_ms)
    };

    clicks.pipe_records([click("ann", 1_000), click("bob", 2_000)])?;
    driver.advance_wall_clock(Duration::from_millis(100))?; // commit.interval.ms under exactly-once
    clicks.pipe_record(click("ann", 3_000))?;
    driver.crash(); // before the next commit: ann's second click is not committed anywhere
    driver.restart()?; // restores the store from its changelog, re-reads from the committed offsets
    driver.commit()?;

    let latest: HashMap<String, u64> = counts.read_key_values_to_map()?;
    assert_eq!(latest["ann@1970-01-01T00:00:00Z"], 2);
    assert_eq!(latest["bob@1970-01-01T00:00:00Z"], 1);
    // The store holds the same counts, in the partition of each key.
    let stores = driver.window_store::<String, u64>("click-counts", 300_000)?;
    let ann: u64 = stores
        .iter()
        .filter_map(|(_, s)| s.fetch(&"ann".to_owned(), 0).ok().flatten())
        .sum();
    assert_eq!(ann, 2);
    Ok(())
}
// README-END

#[test]
fn the_readme_shows_this_example() {
    let source = include_str!("readme_example.rs");
    let begin = source.find("// README-BEGIN\n").expect("begin marker") + "// README-BEGIN\n".len();
    let end = source.find("// README-END").expect("end marker");
    let readme = include_str!("../../README.md");
    assert!(
        readme.contains(&source[begin..end]),
        "README.md must show streams-runtime/tests/readme_example.rs between its markers verbatim"
    );
}
