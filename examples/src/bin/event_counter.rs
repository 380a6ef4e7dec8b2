//! `cargo run -p streams-examples --bin event-counter [-- --help]`: counts `events` per group and
//! per user and 10-second window.

fn main() -> streams_runtime::Result<()> {
    // Logs (task assignments, restorations, commits) to stderr; `RUST_LOG` filters, default warn.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    streams_examples::event_counter::pipeline::app().run()
}
