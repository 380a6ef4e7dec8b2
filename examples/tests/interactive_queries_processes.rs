//! Three `word-count` processes, each serving queries at its own `application.server`: every
//! word is answered correctly by every instance through the generated typed client (the key's
//! owner answers, the others proxy), and metadata lists all three.
//!
//! Apache Kafka: three processes form one consumer group and find each other's endpoints through
//! the membership topic, as in production; the apps create their internal topics themselves.

mod common;

use std::fs::File;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{every_client_answers, free_port, produce_lines};
use kafka_streams::testing::TestBroker;
use kafka_streams_examples::word_count::pipeline;

const LINES: usize = 300;

/// Kills the process when the test ends, however it ends.
struct Instance(Child);

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(bootstrap: &str, dir: &Path, name: &str, endpoint: SocketAddr) -> Instance {
    let log = File::create(dir.join(format!("{name}.log"))).expect("log file");
    let child = Command::new(env!("CARGO_BIN_EXE_word-count"))
        .args(["--bootstrap-servers", bootstrap])
        .arg("--state-dir")
        .arg(dir.join(name))
        .args(["--config", &format!("application.server={endpoint}")])
        .args(["--config", "commit.interval.ms=300"])
        .args(["--config", "consumer.session.timeout.ms=6000"])
        .args(["--config", "consumer.heartbeat.interval.ms=500"])
        .env("RUST_LOG", "info,librdkafka=warn,rdkafka=warn")
        .stdout(log.try_clone().expect("log handle"))
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .expect("start word-count");
    Instance(child)
}

async fn every_process_answers_every_word(broker: TestBroker) {
    for (topic, partitions) in [
        (pipeline::topics::TEXT_LINES.to_owned(), 3),
        (pipeline::topics::WORD_COUNTS.to_owned(), 3),
    ] {
        // Input and output only: the apps create their repartition, changelog and membership topics.
        broker.create_topic(&topic, partitions).await.expect("topic");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let endpoints: Vec<SocketAddr> = (0..3).map(|_| free_port()).collect();
    let _instances: Vec<Instance> = endpoints
        .iter()
        .enumerate()
        .map(|(i, endpoint)| spawn(broker.bootstrap_servers(), dir.path(), &format!("wc-{i}"), *endpoint))
        .collect();
    let logs = || {
        (0..3)
            .map(|i| std::fs::read_to_string(dir.path().join(format!("wc-{i}.log"))).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n----\n")
    };

    let clients: Vec<pipeline::Client> = endpoints.iter().map(|e| pipeline::Client::new(e.to_string())).collect();
    // The input flows once the group is stable: at-least-once may count a record twice when a
    // rebalance interrupts a commit (the coordinator refuses offset commits while members rejoin), as
    // in Kafka Streams; exact counts are this test's claim for a stable group.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let metadata = clients[0].metadata().await.unwrap_or_default();
        let members = metadata["members"].as_array().cloned().unwrap_or_default();
        let tasks: usize = members
            .iter()
            .map(|m| m["active_tasks"].as_array().map_or(0, Vec::len))
            .sum();
        if members.len() == 3
            && tasks == 6
            && members
                .iter()
                .all(|m| m["active_tasks"].as_array().is_some_and(|t| !t.is_empty()))
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the group never settled: {metadata}\n{}",
            logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let expected = produce_lines(&broker, (0..LINES).map(|i| format!("w{} v{} all", i % 23, i % 5))).await;
    every_client_answers(&clients, &expected, Duration::from_secs(120), logs).await;
    let metadata = clients[0].metadata().await.expect("metadata");
    let members = metadata["members"].as_array().cloned().unwrap_or_default();
    assert_eq!(members.len(), 3, "{metadata}");
    let mut tasks: Vec<String> = members
        .iter()
        .flat_map(|m| m["active_tasks"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t.as_str().map(str::to_owned))
        .collect();
    tasks.sort();
    assert_eq!(tasks, ["0_0", "0_1", "0_2", "1_0", "1_1", "1_2"], "{metadata}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_on_apache_kafka() {
    every_process_answers_every_word(TestBroker::kafka().expect("Apache Kafka broker (install: scripts/setup.sh)"))
        .await;
}
