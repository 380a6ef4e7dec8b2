//! Kafka Streams for Rust: a typed stream-processing runtime on rdkafka and RocksDB.
//!
//! Applications are normally declared with the attribute macros re-exported here and run with
//! `cargo run`; this crate holds everything they expand into.
//!
//! Without `bootstrap.servers` an application starts an embedded in-process broker (librdkafka's
//! mock cluster), so examples run on a fresh machine; point it at a real cluster with
//! `--bootstrap-servers` or `STREAMS_BOOTSTRAP_SERVERS`.

#![warn(missing_docs)]
// Without `http` nothing serves queries, so the store adapters, standby reads and membership
// routing the server reads are built but unread; the default build keeps the lint.
#![cfg_attr(not(feature = "http"), allow(dead_code))]

pub mod app;
pub mod codec;
pub mod config;
mod error;
pub mod kafka;
mod metrics;
/// Internal topic names and Kafka's topic-name rules (the `kafka-streams-naming` crate, which the
/// macros use too).
pub use kafka_streams_naming as naming;
pub mod partitioner;
pub mod processor;
pub mod query;
pub mod runtime;
#[cfg(feature = "http")]
pub mod server;
pub mod state;
pub mod task;
// Test support: feature `test-util`, for `[dev-dependencies]`.
#[cfg(any(test, feature = "test-util"))]
pub mod testing;
pub mod topology;
mod txn;
pub mod window;

#[doc(hidden)]
pub mod __private;

pub use error::{Error, ErrorKind, Report, Result};
pub use kafka_streams_macros::{join, sink, source, state_store, table, topology, windowed};
/// The `prometheus-client` the metrics registry is of
/// ([`KafkaStreams::with_metrics_registry`]): the app's own metrics use this version.
pub use prometheus_client;
pub use runtime::{KafkaStreams, State};
pub use window::{TimeWindow, Windowed};
