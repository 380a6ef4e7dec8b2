//! `cargo run -p streams-examples --bin word-count [-- --help]`: counts words of `text-lines`.

fn main() -> streams_runtime::Result<()> {
    streams_examples::word_count::pipeline::app().run()
}
