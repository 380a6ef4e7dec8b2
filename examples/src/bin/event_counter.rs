//! `cargo run -p kafka-streams-examples --bin event-counter [-- --help]`: counts `events` per group and
//! per user and 10-second window.

fn main() -> kafka_streams::Result<()> {
    // Logs go to stderr through the app's subscriber: `RUST_LOG` filters, `--log-format json`.
    kafka_streams_examples::event_counter::pipeline::app().run()
}
