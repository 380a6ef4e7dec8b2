//! Example applications for kafka-streams. Each has a binary in `src/bin/` and tests in `tests/`.

pub mod click_aggregator;
pub mod event_counter;
pub mod order_enrichment;
pub mod word_count;
