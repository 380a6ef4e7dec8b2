//! Attribute macros for streams-runtime: `#[topology]`, `#[windowed]`, `#[state_store]`, …
//!
//! Use them through `streams_runtime`, which re-exports them. Expansions name only the runtime's
//! public API and `::streams_runtime::__private`.
