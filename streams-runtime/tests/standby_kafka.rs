//! Standby replicas on Apache Kafka, two instances in one process: with
//! `num.standby.replicas = 1` the instance that takes over a task finds its stores warm and
//! restores nothing, without one it restores the whole changelog — no record lost either way.
//! Apache Kafka, because the takeover is its group coordinator reassigning a departed member's
//! partitions; in one process, to read both instances' stores and metrics.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use kafka_streams::KafkaStreams;
use kafka_streams::config::{ProcessingGuarantee, StreamsConfig};
use kafka_streams::testing::read_topic;

const INPUT: &str = "clicks";
const OUTPUT: &str = "counts";
const STORE: &str = "click-counts";
const APP: &str = "standby-app";

fn config(dir: &std::path::Path, standbys: usize) -> StreamsConfig {
    StreamsConfig::builder(APP)
        .state_dir(dir)
        .processing_guarantee(ProcessingGuarantee::AtLeastOnce)
        .commit_interval(Duration::from_millis(200))
        .num_standby_replicas(standbys)
        .kafka_property("consumer.session.timeout.ms", "6000")
        .kafka_property("consumer.heartbeat.interval.ms", "500")
        .build()
        .expect("config")
}

/// Runs A and B, produces clicks, closes A once everything is committed (and, with standbys,
/// mirrored on B); returns what B restored when taking A's tasks over, and B's final counts.
async fn failover(standbys: usize) -> (u64, BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let broker = kafka_with_topics(INPUT, OUTPUT).await;
    let cluster = broker.cluster();
    let (dir_a, dir_b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let a = KafkaStreams::start_on(
        click_count_topology(INPUT, OUTPUT, STORE),
        config(dir_a.path(), standbys),
        cluster.clone(),
    )
    .await
    .expect("start a");
    wait_for("a owns every task", Duration::from_secs(30), || {
        a.active_tasks().len() == 3
    })
    .await;
    let b = std::sync::Arc::new(
        KafkaStreams::start_on(
            click_count_topology(INPUT, OUTPUT, STORE),
            config(dir_b.path(), standbys),
            cluster.clone(),
        )
        .await
        .expect("start b"),
    );
    wait_for("the tasks split between a and b", Duration::from_secs(60), || {
        !a.active_tasks().is_empty()
            && !b.active_tasks().is_empty()
            && a.active_tasks().len() + b.active_tasks().len() == 3
    })
    .await;
    let input = clicks(0, 900);
    produce_clicks(&cluster, INPUT, &input).await;
    wait_for("every click processed", Duration::from_secs(60), || {
        a.metrics().records_processed + b.metrics().records_processed >= input.len() as u64
    })
    .await;
    let commits = a.metrics().commits;
    wait_for("a commit on a after that", Duration::from_secs(30), || {
        a.metrics().commits > commits
    })
    .await;
    let a_tasks = a.active_tasks();
    if standbys > 0 {
        // B mirrors each of A's tasks up to the end of its changelog.
        let changelog = format!("{APP}-{STORE}-changelog");
        let ends: BTreeMap<i32, i64> = read_topic(&cluster, &changelog)
            .await
            .expect("changelog")
            .into_iter()
            .fold(BTreeMap::new(), |mut ends, r| {
                let end = ends.entry(r.partition).or_insert(-1);
                *end = (*end).max(r.offset);
                ends
            });
        wait_for(
            "b's standbys caught up with a's changelogs",
            Duration::from_secs(60),
            || {
                let standby = b.standby_tasks();
                a_tasks.iter().all(|t| {
                    standby.iter().any(|s| {
                        s.task == *t
                            && s.changelog_offsets
                                .iter()
                                .all(|(_, offset)| *offset == ends.get(&t.partition).copied())
                    })
                })
            },
        )
        .await;
        wait_for(
            "membership reports b's standbys, caught up",
            Duration::from_secs(30),
            || {
                a.members()
                    .iter()
                    .any(|m| !m.standby_lags.is_empty() && m.standby_lags.iter().all(|(_, lag)| *lag == 0))
            },
        )
        .await;
        // A standby's lag is measured at the start of each catch-up round (every 0.5 s), before
        // it applies the tail; the round after the one that reached the end reports 0.
        wait_for("b reports its standbys caught up", Duration::from_secs(30), || {
            b.standby_tasks()
                .iter()
                .all(|s| s.offset_lags.iter().all(|(_, lag)| *lag == 0))
        })
        .await;
        stale_reads_come_from_the_standby(&b).await;
    }
    let restored_before = b.metrics().records_restored;
    a.close().await.expect("close a");
    wait_for("b takes every task over", Duration::from_secs(60), || {
        b.active_tasks().len() == 3
    })
    .await;
    let restored = b.metrics().records_restored - restored_before;
    let counts = window_counts(b.as_ref(), STORE);
    b.close().await.expect("close b");
    (restored, counts, expected_counts(&input))
}

/// With `?stale=true`, B answers every user's windows itself: from its active store for its own
/// tasks, from its standby (marked as such) for A's — where without it there is no answer
/// (A serves no queries here, so the request cannot be routed to the active owner).
async fn stale_reads_come_from_the_standby(b: &std::sync::Arc<KafkaStreams>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    kafka_streams::server::serve(std::sync::Arc::clone(b), addr, std::future::pending())
        .await
        .expect("serve");
    let http = reqwest::Client::new();
    let mut from_standby = 0;
    for user in (0..7).map(|i| format!("user-{i}")) {
        let url = format!("http://{addr}/stores/{STORE}/keys/{user}");
        let stale: serde_json::Value = http
            .get(&url)
            .query(&[("stale", "true")])
            .send()
            .await
            .expect("query")
            .json()
            .await
            .expect("json");
        assert!(stale["windows"].as_array().is_some_and(|w| !w.is_empty()), "{stale}");
        if stale.get("standby").is_some() {
            from_standby += 1;
            assert!(stale["standby"]["changelog_offset"].is_i64(), "{stale}");
            // Caught up, and A writes nothing more: the standby trails by nothing.
            assert_eq!(stale["standby"]["offset_lag"], 0, "{stale}");
            let fresh = http.get(&url).send().await.expect("query");
            assert_eq!(fresh.status(), 503, "not stale: only the active owner may answer");
        }
    }
    assert!(from_standby > 0, "some users live in a's tasks");

    // A scan is complete only with the standby: A, active for its partitions, answers no
    // queries, so without `stale` their entries are missing.
    let scan = |stale: bool| {
        let (http, url) = (http.clone(), format!("http://{addr}/stores/{STORE}"));
        async move {
            let mut request = http.get(&url).query(&[("limit", "1000")]);
            if stale {
                request = request.query(&[("stale", "true")]);
            }
            let body: serde_json::Value = request.send().await.expect("scan").json().await.expect("json");
            body["entries"].as_array().cloned().unwrap_or_default()
        }
    };
    let users = |entries: &[serde_json::Value]| {
        entries
            .iter()
            .map(|e| e["key"]["key"].as_str().unwrap_or_default().to_owned())
            .collect::<std::collections::BTreeSet<_>>()
    };
    let (fresh, stale) = (scan(false).await, scan(true).await);
    assert_eq!(users(&stale).len(), 7, "every user, A's from the standby: {stale:?}");
    assert!(users(&fresh).len() < 7, "A's users are missing without the standby");
    assert!(stale.iter().any(|e| e["standby"]["offset_lag"] == 0));
    assert!(fresh.iter().all(|e| e.get("standby").is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_makes_failover_restore_nothing_and_loses_nothing() {
    let (restored, counts, expected) = failover(1).await;
    assert_eq!(counts, expected, "no record lost");
    assert_eq!(restored, 0, "the standby's stores were warm");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_standby_failover_restores_the_changelog() {
    let (restored, counts, expected) = failover(0).await;
    assert_eq!(counts, expected, "no record lost");
    eprintln!("records restored at takeover without a standby: {restored}");
    assert!(restored > 0, "the taken-over tasks were rebuilt from their changelogs");
}

/// Three instances with two tasks each and a standby of every task: when one leaves, the group's
/// (range) assignor hands its tasks — and those it moves along — to the instances that kept
/// their standbys, so nothing is restored. The standbys follow the assignor's prediction from
/// the group's member ids; placed by a hash alone, each moved task has an even chance of
/// landing without its standby. Apache Kafka, because the prediction must match the
/// coordinator's and librdkafka's real assignment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_three_instances_the_standbys_are_where_the_group_moves_the_tasks() {
    init_logging();
    let broker = kafka_streams::testing::TestBroker::kafka().expect("Apache Kafka broker (install: scripts/setup.sh)");
    broker.create_topic(INPUT, 6).await.expect("input topic");
    broker.create_topic(OUTPUT, 6).await.expect("output topic");
    let cluster = broker.cluster();
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().expect("dir")).collect();
    let mut instances = Vec::new();
    for dir in &dirs {
        instances.push(
            KafkaStreams::start_on(
                click_count_topology(INPUT, OUTPUT, STORE),
                config(dir.path(), 1),
                cluster.clone(),
            )
            .await
            .expect("start"),
        );
    }
    wait_for("two tasks each", Duration::from_secs(90), || {
        instances.iter().all(|i| i.active_tasks().len() == 2)
    })
    .await;
    let input = clicks(0, 900);
    produce_clicks(&cluster, INPUT, &input).await;
    wait_for("every click processed", Duration::from_secs(60), || {
        instances.iter().map(|i| i.metrics().records_processed).sum::<u64>() >= input.len() as u64
    })
    .await;
    let commits: Vec<u64> = instances.iter().map(|i| i.metrics().commits).collect();
    wait_for("a commit on each instance after that", Duration::from_secs(30), || {
        instances.iter().zip(&commits).all(|(i, c)| i.metrics().commits > *c)
    })
    .await;
    // Every task has a caught-up standby; the placement settles once each instance described
    // the formed group (every 2 s), so the check is made twice, 3 s apart.
    let standbys_caught_up = || {
        let mut kept: Vec<String> = instances
            .iter()
            .flat_map(|i| i.standby_tasks())
            .filter(|s| s.offset_lags.iter().all(|(_, lag)| *lag == 0))
            .map(|s| s.task.to_string())
            .collect();
        kept.sort();
        kept == ["0_0", "0_1", "0_2", "0_3", "0_4", "0_5"]
    };
    wait_for(
        "a caught-up standby of every task",
        Duration::from_secs(60),
        standbys_caught_up,
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    wait_for(
        "the standbys still in place",
        Duration::from_secs(60),
        standbys_caught_up,
    )
    .await;

    let leaving = instances.remove(0);
    let restored_before: u64 = instances.iter().map(|i| i.metrics().records_restored).sum();
    leaving.close().await.expect("close");
    wait_for("the two others run every task", Duration::from_secs(60), || {
        instances.iter().map(|i| i.active_tasks().len()).sum::<usize>() == 6
    })
    .await;
    let restored = instances.iter().map(|i| i.metrics().records_restored).sum::<u64>() - restored_before;
    let mut counts = BTreeMap::new();
    for instance in &instances {
        counts.extend(window_counts(instance, STORE));
    }
    for instance in instances {
        instance.close().await.expect("close");
    }
    assert_eq!(counts, expected_counts(&input), "no record lost");
    assert_eq!(restored, 0, "every task landed where its standby was kept");
}
