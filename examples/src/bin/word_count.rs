//! `cargo run -p kafka-streams-examples --bin word-count [-- --help]`: counts words of `text-lines`.

fn main() -> kafka_streams::Result<()> {
    kafka_streams_examples::word_count::pipeline::app().run()
}
