//! Runs the Java oracle (`benches/kafka-streams-java`, built by `scripts/setup.sh`) over a file
//! of cases and reads back its output lines per case.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use super::cases::{Case, NULL};

fn project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../benches/kafka-streams-java")
}

/// Output lines per seed.
pub(crate) fn run(topology: &str, cases: &[Case]) -> HashMap<u64, Vec<String>> {
    let project = project();
    let classes = project.join("target/classes");
    assert!(
        classes.join("streams/java/Oracle.class").is_file(),
        "the Kafka Streams oracle is not built: run scripts/setup.sh (Java 17 and Maven build \
         {}), or `mvn -q -f {}/pom.xml package`",
        project.display(),
        project.display()
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (input, output) = (dir.path().join("cases.tsv"), dir.path().join("out.tsv"));
    let mut text = String::new();
    for case in cases {
        writeln!(text, "case\t{}", case.seed).expect("writing to a String");
        for r in &case.records {
            let value = r.value.as_deref().unwrap_or(NULL);
            writeln!(text, "in\t{}\t{}\t{value}\t{}", r.topic, r.key, r.timestamp).expect("writing to a String");
        }
    }
    std::fs::write(&input, text).expect("writing the cases");
    let classpath = format!("{}:{}/*", classes.display(), project.join("target/lib").display());
    let result = Command::new("java")
        .args([
            "-Xshare:auto",
            "-XX:TieredStopAtLevel=1",
            "-cp",
            &classpath,
            "streams.java.Oracle",
            topology,
        ])
        .arg(&input)
        .arg(&output)
        .output()
        .expect("running java (Java 17 is needed for the Kafka Streams oracle)");
    assert!(
        result.status.success(),
        "the Kafka Streams oracle failed on `{topology}`: {}\n{}",
        result.status,
        String::from_utf8_lossy(&result.stderr)
    );
    let mut per_case: HashMap<u64, Vec<String>> = HashMap::new();
    let mut current = None;
    for line in std::fs::read_to_string(&output)
        .expect("reading the oracle's output")
        .lines()
    {
        if let Some(seed) = line.strip_prefix("case\t") {
            let seed: u64 = seed.parse().expect("a seed");
            per_case.insert(seed, Vec::new());
            current = Some(seed);
        } else if let Some(seed) = current {
            per_case.get_mut(&seed).expect("the case").push(line.to_owned());
        }
    }
    per_case
}
