//! Helpers shared by the examples' tests.
#![allow(dead_code, unreachable_pub)]

pub mod event_counter;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use kafka_streams::codec::Utf8;
use kafka_streams::testing::{TestBroker, TopicWriter};
use kafka_streams_examples::word_count::pipeline;

/// Sends `signal` (`STOP`, `CONT`, `TERM`) to `child`.
pub fn signal(child: &std::process::Child, signal: &str) {
    let pid = child.id();
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success(), "kill -{signal} {pid}");
}

/// SIGTERM and wait: an instance commits, closes and leaves the group; its exit status.
pub fn terminate(child: &mut std::process::Child) -> std::process::ExitStatus {
    signal(child, "TERM");
    child.wait().expect("wait")
}

/// A free loopback address (for `application.server`).
pub fn free_port() -> SocketAddr {
    kafka_streams::testing::free_loopback_address().expect("a free port")
}

/// Creates word count's source and sink topics (3 partitions), produces `lines` to
/// `text-lines` (keyed `l<i>`) and returns the word counts they should give.
pub async fn word_count_input(broker: &TestBroker, lines: impl IntoIterator<Item = String>) -> BTreeMap<String, u64> {
    for topic in [pipeline::topics::TEXT_LINES, pipeline::topics::WORD_COUNTS] {
        broker.create_topic(topic, 3).await.expect("topic");
    }
    produce_lines(broker, lines).await
}

/// Produces `lines` to the (existing) word-count input topic; returns the expected counts.
pub async fn produce_lines(broker: &TestBroker, lines: impl IntoIterator<Item = String>) -> BTreeMap<String, u64> {
    let writer = TopicWriter::new(&broker.cluster(), pipeline::topics::TEXT_LINES, Utf8, Utf8).expect("writer");
    let mut expected = BTreeMap::new();
    let mut records = Vec::new();
    for (i, text) in lines.into_iter().enumerate() {
        for word in text.split(' ') {
            *expected.entry(word.to_owned()).or_default() += 1;
        }
        records.push((format!("l{i}"), text));
    }
    writer
        .send_all(records.iter().map(|(key, text)| (key, Some(text), None)))
        .await
        .expect("lines written");
    expected
}

/// Waits until every client answers every word of `expected` with its count; fails after
/// `timeout` with the last answer and `context()` (e.g. the instances' logs).
pub async fn every_client_answers(
    clients: &[pipeline::Client],
    expected: &BTreeMap<String, u64>,
    timeout: Duration,
    context: impl Fn() -> String,
) {
    let deadline = tokio::time::Instant::now() + timeout;
    for (word, count) in expected {
        for client in clients {
            loop {
                match client.word_counts().get(word).await {
                    Ok(Some(n)) if n == *count => break,
                    other => {
                        assert!(
                            tokio::time::Instant::now() < deadline,
                            "`{word}`: expected {count}, got {other:?}\n{}",
                            context()
                        );
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        }
    }
}

/// Logs to the test output when `RUST_LOG` is set (e.g. the broker's start-up time and RSS).
pub fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}
