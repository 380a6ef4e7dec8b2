//! `cargo run -p streams-examples --bin order-enrichment [-- --help]`: joins `orders` with the
//! `customers` table into `enriched-orders`.

fn main() -> streams_runtime::Result<()> {
    streams_examples::order_enrichment::pipeline::app().run()
}
