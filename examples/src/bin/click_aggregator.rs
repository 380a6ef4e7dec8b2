//! `cargo run -p streams-examples --bin click-aggregator`: the seed's click aggregation, end to end.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use streams_examples::click_aggregator::{APPLICATION_ID, AppOptions, INPUT_TOPIC, OUTPUT_TOPIC, RunningApp, STORE};
use streams_runtime::config::ProcessingGuarantee;

/// Counts clicks per user in 5-minute tumbling windows and serves the counts over HTTP.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// Kafka cluster to use, `host:port[,host:port…]`. Unset: start an embedded in-process broker.
    #[arg(long, env = "STREAMS_BOOTSTRAP_SERVERS")]
    bootstrap_servers: Option<String>,
    /// Address of the interactive-query HTTP server.
    #[arg(long, env = "STREAMS_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    http_addr: SocketAddr,
    /// `state.dir`: where RocksDB stores live (default: <tmp>/kafka-streams; with the embedded
    /// broker a fresh directory per run, since the broker's data does not outlive the process).
    #[arg(long, env = "STREAMS_STATE_DIR")]
    state_dir: Option<PathBuf>,
    /// `processing.guarantee`: `at_least_once` or `exactly_once_v2`.
    #[arg(long, env = "STREAMS_PROCESSING_GUARANTEE", default_value = "at_least_once")]
    processing_guarantee: String,
    /// Any Kafka Streams or librdkafka property, `key=value`; repeatable.
    #[arg(long = "config", value_name = "KEY=VALUE")]
    properties: Vec<String>,
    /// Demo clicks to produce per second into `user-clicks` (0: none, e.g. with real input).
    #[arg(long, default_value_t = 200)]
    demo_clicks_per_second: u32,
    /// Stop producing demo clicks after this many.
    #[arg(long)]
    demo_clicks_max: Option<u64>,
    /// Number of distinct demo users.
    #[arg(long, default_value_t = 5)]
    demo_users: u64,
    /// Exit after this many seconds instead of waiting for Ctrl-C / SIGTERM.
    #[arg(long)]
    run_for_secs: Option<u64>,
}

#[tokio::main]
async fn main() -> streams_runtime::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .init();
    let cli = Cli::parse();
    let guarantee: ProcessingGuarantee = cli.processing_guarantee.parse().map_err(streams_runtime::Error::from)?;
    let mut properties = Vec::new();
    for property in &cli.properties {
        let Some((key, value)) = property.split_once('=') else {
            eprintln!("error: `--config {property}` is not `key=value`, e.g. `--config commit.interval.ms=500`");
            std::process::exit(2);
        };
        properties.push((key.trim().to_owned(), value.trim().to_owned()));
    }
    let options = AppOptions {
        bootstrap_servers: cli.bootstrap_servers.clone(),
        http_addr: cli.http_addr,
        state_dir: cli.state_dir.clone(),
        processing_guarantee: guarantee,
        properties,
        demo_clicks_per_second: cli.demo_clicks_per_second,
        demo_clicks_max: cli.demo_clicks_max,
        demo_users: cli.demo_users,
    };
    let app = RunningApp::start(options).await?;
    match &cli.bootstrap_servers {
        None => println!(
            "[{APPLICATION_ID}] no bootstrap.servers given: started an embedded Kafka broker (librdkafka mock cluster) at {}",
            app.streams.cluster().bootstrap_servers()
        ),
        Some(servers) => println!("[{APPLICATION_ID}] using Kafka at {servers}"),
    }
    println!(
        "[{APPLICATION_ID}] counting clicks from `{INPUT_TOPIC}` per user in 5-minute tumbling windows into store `{STORE}` → `{OUTPUT_TOPIC}` ({guarantee})"
    );
    print!("{}", app.streams.describe());
    if cli.demo_clicks_per_second > 0 {
        println!(
            "[{APPLICATION_ID}] producing {} demo clicks/s for {} users (event time advances 1 s per click, from 2024-01-05T10:00:00Z)",
            cli.demo_clicks_per_second, cli.demo_users
        );
    }
    println!("[{APPLICATION_ID}] query: curl http://{}/counts/user-1", app.http_addr);
    println!(
        "[{APPLICATION_ID}]        curl 'http://{}/counts/user-1?window_start=1704448800000'",
        app.http_addr
    );
    println!("[{APPLICATION_ID}] press Ctrl-C (or send SIGTERM) to stop");

    let deadline = cli
        .run_for_secs
        .map(|s| tokio::time::Instant::now() + Duration::from_secs(s));
    let mut report = tokio::time::interval(Duration::from_secs(5));
    report.tick().await;
    loop {
        tokio::select! {
            () = streams_runtime::runtime::shutdown_signal() => break,
            () = sleep_until(deadline) => break,
            _ = report.tick() => println!("[{APPLICATION_ID}] {}", app.progress()),
        }
        if app.streams.is_stopped() {
            eprintln!("[{APPLICATION_ID}] every stream thread stopped; see the log above");
            break;
        }
    }
    println!("[{APPLICATION_ID}] stopping: committing and closing");
    app.streams.close().await?;
    println!("[{APPLICATION_ID}] done: {}", app.progress());
    app.shutdown().await
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
