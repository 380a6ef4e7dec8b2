//! The README's demo as a user runs it (issue 16 item 17): the `click-aggregator` binary, which
//! is the generated `pipeline::app()`, on the embedded broker (librdkafka's mock cluster, what
//! `scripts/demo.sh` uses by default). It must print the routes it serves, answer every route
//! the README documents — the standard ones and the seed's `/count/{user}?window=` — with counts
//! equal to an independent count of the same deterministic demo input, and stop cleanly on
//! SIGTERM.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use kafka_streams::window::TumblingWindows;
use kafka_streams_examples::click_aggregator::{DemoClicks, SeedCount, WINDOW_SIZE};

const CLICKS: usize = 600;
const USERS: u64 = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_binary_serves_the_standard_routes_and_the_seed_count() {
    let state = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_click-aggregator"))
        .args(["--http-addr", "127.0.0.1:0", "--demo-clicks-per-second", "1000"])
        .args([
            "--demo-clicks-max",
            &CLICKS.to_string(),
            "--demo-users",
            &USERS.to_string(),
        ])
        .arg("--state-dir")
        .arg(state.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .stdin(Stdio::null())
        .spawn()
        .expect("start click-aggregator");
    let stdout = child.stdout.take().expect("stdout");
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut printed = Vec::new();
    let base = loop {
        let line = lines_rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("the demo never said where it serves:\n{}", printed.join("\n")));
        printed.push(line.clone());
        if let Some(rest) = line.split("serving on ").nth(1) {
            break rest.trim_end_matches(':').to_owned();
        }
    };
    // The routes it announces follow: the standard ones and the demo's own.
    for _ in 0..kafka_streams::server::ROUTES.len() + 1 {
        printed.push(lines_rx.recv_timeout(Duration::from_secs(10)).expect("a route line"));
    }
    let printed_text = printed.join("\n");
    for route in [
        "/health/live",
        "/health/ready",
        "/stores/{store}",
        "/metadata",
        "/metrics",
        "/topology",
        "/count/{user_id}?window=",
    ] {
        assert!(printed_text.contains(route), "`{route}` not announced:\n{printed_text}");
    }

    // Independent oracle: user-1's count in [10:00, 10:05) over the same deterministic clicks.
    let window = TumblingWindows::of(WINDOW_SIZE).window_for(1_704_448_800_000);
    let expected = DemoClicks::new(USERS)
        .take(CLICKS)
        .filter(|c| c.user_id == "user-1" && window.contains(c.event_time_ms()))
        .count() as u64;
    assert!(expected > 0);
    let http = reqwest::Client::new();
    let seed_url = format!("{base}/count/user-1?window=2024-01-05T10:00:00");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let answer = loop {
        let response = http.get(&seed_url).send().await.expect("query");
        if response.status().is_success() {
            let answer: SeedCount = response.json().await.expect("{count, window}");
            if answer.count == expected {
                break answer;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "user-1 never reached {expected}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(answer.window, "2024-01-05T10:00:00Z/2024-01-05T10:05:00Z");

    for path in [
        "/metadata",
        "/metrics",
        "/topology",
        "/stores/click-counts",
        "/counts/user-1",
    ] {
        let response = http.get(format!("{base}{path}")).send().await.expect("query");
        assert_eq!(response.status(), 200, "{path}");
    }
    let scan: serde_json::Value = http
        .get(format!("{base}/stores/click-counts?prefix=user-1@"))
        .send()
        .await
        .expect("scan")
        .json()
        .await
        .expect("json");
    assert!(
        scan["entries"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["value"] == expected)),
        "{scan}"
    );
    let bad = http
        .get(format!("{base}/count/user-1?window=yesterday"))
        .send()
        .await
        .expect("query");
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.expect("text").contains("ISO 8601"));

    let exit = common::terminate(&mut child);
    assert!(exit.success(), "exited with {exit}");
    let rest: Vec<String> = lines_rx.try_iter().collect();
    assert!(rest.iter().any(|l| l == "[click-aggregator] stopped"), "{rest:?}");
}
