//! `cargo run -p streams-examples --bin click-aggregator`: the seed's click aggregation, end to end.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use streams_examples::click_aggregator::{APPLICATION_ID, AppOptions, INPUT_TOPIC, OUTPUT_TOPIC, RunningApp};

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
    /// Demo clicks to produce per second into `user-clicks` (0: none, e.g. with real input).
    #[arg(long, default_value_t = 200)]
    demo_clicks_per_second: u32,
    /// Stop producing demo clicks after this many.
    #[arg(long)]
    demo_clicks_max: Option<u64>,
    /// Number of distinct demo users.
    #[arg(long, default_value_t = 5)]
    demo_users: u64,
    /// Exit after this many seconds instead of waiting for Ctrl-C.
    #[arg(long)]
    run_for_secs: Option<u64>,
}

#[tokio::main]
async fn main() -> streams_runtime::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .init();
    let cli = Cli::parse();
    let options = AppOptions {
        bootstrap_servers: cli.bootstrap_servers.clone(),
        http_addr: cli.http_addr,
        demo_clicks_per_second: cli.demo_clicks_per_second,
        demo_clicks_max: cli.demo_clicks_max,
        demo_users: cli.demo_users,
    };
    let app = RunningApp::start(options).await?;
    match &cli.bootstrap_servers {
        None => println!(
            "[{APPLICATION_ID}] no bootstrap.servers given: started an embedded Kafka broker (librdkafka mock cluster) at {}",
            app.cluster.bootstrap_servers()
        ),
        Some(servers) => println!("[{APPLICATION_ID}] using Kafka at {servers}"),
    }
    println!(
        "[{APPLICATION_ID}] counting clicks from `{INPUT_TOPIC}` per user in 5-minute tumbling windows → `{OUTPUT_TOPIC}`"
    );
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
            _ = shutdown_signal() => break,
            _ = sleep_until(deadline) => break,
            _ = report.tick() => println!("[{APPLICATION_ID}] {}", app.progress()),
        }
    }
    println!("[{APPLICATION_ID}] stopping: committing offsets and closing");
    let summary = app.progress();
    app.shutdown().await?;
    println!("[{APPLICATION_ID}] done: {summary}");
    Ok(())
}

/// SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match terminate.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
