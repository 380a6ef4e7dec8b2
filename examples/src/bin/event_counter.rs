//! `cargo run -p streams-examples --bin event-counter [-- --help]`: counts `events` per group and
//! per user and 10-second window.

fn main() -> streams_runtime::Result<()> {
    // Logs go to stderr through the app's subscriber: `RUST_LOG` filters, `--log-format json`.
    streams_examples::event_counter::pipeline::app().run()
}
