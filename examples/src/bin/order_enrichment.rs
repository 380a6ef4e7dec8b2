//! `cargo run -p kafka-streams-examples --bin order-enrichment [-- --help]`: joins `orders` with the
//! `customers` table into `enriched-orders`.

fn main() -> kafka_streams::Result<()> {
    kafka_streams_examples::order_enrichment::pipeline::app().run()
}
