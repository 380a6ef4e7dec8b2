//! What the `#[topology]` macros expand to, run: each module declares a topology with the macros
//! and drives it on the broker-free `TestDriver` (records in, records and store contents out).
//! The compile-time side (what the macros reject, and with which message) is `ui.rs`.

pub mod error_policy;
pub mod global_join;
pub mod processor;
pub mod repartition;
pub mod sessions;
pub mod sliding;
pub mod split;
pub mod stream_join;
pub mod table_joins;
pub mod table_ops;
