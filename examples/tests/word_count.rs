//! Word count on the broker-free test driver (3 partitions, through the repartition topic), and
//! the generated app entry point as a process on the embedded broker.

use std::collections::{BTreeMap, HashMap};
use std::process::Command;

use kafka_streams::codec::{Json, Utf8};
use kafka_streams::config::StreamsConfig;
use kafka_streams::testing::TestDriver;
use kafka_streams_examples::word_count::pipeline;

#[test]
fn counts_words_across_partitions() -> kafka_streams::Result<()> {
    let config = StreamsConfig::builder(pipeline::APPLICATION_ID).build()?;
    let driver = TestDriver::builder(pipeline::topology()?, config)
        .partitions(3)
        .build()?;
    let lines = driver.input_topic_with::<String, String>(pipeline::topics::TEXT_LINES, Utf8, Utf8)?;
    let text = ["Hello streams", "hello Kafka, hello Rust", "streams: typed, fast"];
    for (i, line) in text.iter().enumerate() {
        lines.pipe(format!("line-{i}"), (*line).to_owned())?;
    }
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for word in text
        .iter()
        .flat_map(|l| l.split(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
    {
        *expected.entry(word.to_lowercase()).or_default() += 1;
    }
    let counts: HashMap<String, u64> = driver
        .output_topic_with::<String, u64>(pipeline::topics::WORD_COUNTS, Utf8, Json)
        .read_key_values_to_map()?;
    assert_eq!(counts.into_iter().collect::<BTreeMap<_, _>>(), expected);
    assert_eq!(
        pipeline::stores::WordCounts::get(&driver, &"hello".to_owned())?,
        Some(3)
    );
    assert_eq!(
        pipeline::stores::WordCounts::REPARTITION_TOPIC,
        "word-count-word-counts-repartition"
    );
    assert!(
        driver
            .topics()
            .contains(&(pipeline::topics::WORD_COUNTS_REPARTITION.to_owned(), 3))
    );
    Ok(())
}

#[test]
fn the_generated_entry_point_runs_the_app() {
    let bin = env!("CARGO_BIN_EXE_word-count");
    let describe = Command::new(bin).arg("--describe").output().expect("run --describe");
    assert!(describe.status.success());
    let text = String::from_utf8_lossy(&describe.stdout);
    assert!(
        text.contains("Sub-topology: 1") && text.contains("word-counts-repartition"),
        "{text}"
    );

    let mermaid = Command::new(bin)
        .args(["--describe", "mermaid"])
        .output()
        .expect("run --describe mermaid");
    let text = String::from_utf8_lossy(&mermaid.stdout);
    assert!(text.starts_with("flowchart LR") && text.contains("-->"), "{text}");

    let state = tempfile::tempdir().expect("tempdir");
    let run = Command::new(bin)
        .args(["--run-for-secs", "2", "--state-dir"])
        .arg(state.path())
        .env_remove("STREAMS_BOOTSTRAP_SERVERS")
        .output()
        .expect("run the app");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("started an embedded Kafka broker"), "{stdout}");

    let bad = Command::new(bin).args(["--config", "nonsense"]).output().expect("run");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not `key=value`"));
}
