//! `cargo run -p kafka-streams-examples --bin click-aggregator [-- --help]`: the seed's click
//! aggregation, end to end — the generated `pipeline::app()` with its standard server
//! (`/stores/..`, `/metadata`, `/metrics`, `/topology`), the seed's `/count/{user}?window=` and
//! `/counts/{user}` routes, and a demo input producer.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use clap::Parser;
use kafka_streams::app::AppFlags;
use kafka_streams_examples::click_aggregator::{DemoInput, ROUTES, pipeline, produce_demo_clicks, routes};

/// Counts clicks per user in 5-minute tumbling windows and serves the counts over HTTP.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    #[command(flatten)]
    app: AppFlags,
    /// Demo clicks to produce per second into `user-clicks` (0: none, e.g. with real input).
    #[arg(long, default_value_t = 200)]
    demo_clicks_per_second: u32,
    /// Stop producing demo clicks after this many.
    #[arg(long)]
    demo_clicks_max: Option<u64>,
    /// Number of distinct demo users.
    #[arg(long, default_value_t = 5)]
    demo_users: u64,
}

fn main() -> kafka_streams::Result<()> {
    // Logs go to stderr through the app's subscriber: `RUST_LOG` filters, `--log-format json`.
    let mut cli = Cli::parse();
    // The demo serves queries on :8080 unless told otherwise, and commits every second as the
    // seed walkthrough does (a `--config commit.interval.ms=..` given later overrides it).
    cli.app.http_addr.get_or_insert(([127, 0, 0, 1], 8080).into());
    cli.app.properties.insert(0, "commit.interval.ms=1000".to_owned());
    let input = DemoInput {
        per_second: cli.demo_clicks_per_second,
        max: cli.demo_clicks_max,
        users: cli.demo_users,
    };
    pipeline::app()
        .routes(ROUTES, routes)
        .on_start(move |streams| {
            if input.per_second == 0 {
                return;
            }
            println!(
                "[{}] producing {} demo clicks/s for {} users (event time advances 1 s per click, from 2024-01-05T10:00:00Z)",
                pipeline::APPLICATION_ID,
                input.per_second,
                input.users
            );
            // Runs until the process ends (the sender is leaked with the task).
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let cluster = streams.cluster().clone();
            tokio::spawn(async move {
                let _stop = stop;
                produce_demo_clicks(cluster, input, Arc::new(AtomicU64::new(0)), stopped).await;
            });
        })
        .run_with_flags(cli.app)
}
