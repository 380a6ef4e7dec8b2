//! The typed API a topology is written in: `StreamsBuilder`, `KStream`, `KTable`, grouped
//! streams and tables, one windowed stream type, global tables, joins, the Processor API's
//! `process` and `Stores`, and the settings operations take (`Materialized`, `Repartitioned`,
//! error policies, branches). Each method wires the graph (repartitioning, stores, queries,
//! sub-topologies) and attaches the operators of `ops`.

pub(crate) mod branch;
pub(crate) mod builder;
pub(crate) mod error_policy;
pub(crate) mod foreign_key_join;
pub(crate) mod global_ktable;
pub(crate) mod grouped;
pub(crate) mod grouped_table;
pub(crate) mod joins;
pub(crate) mod kstream;
pub(crate) mod ktable;
pub(crate) mod materialized;
pub(crate) mod process;
pub(crate) mod repartition;
pub(crate) mod stream_join;
pub(crate) mod windowed;
