//! Example applications for streams-runtime. Each has a binary in `src/bin/` and a test in `tests/`.

pub mod click_aggregator;
