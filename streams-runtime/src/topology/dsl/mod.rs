//! The typed API a topology is written in: `StreamsBuilder`, `KStream`, `KTable`, grouped and
//! time-windowed streams, and the settings operations take (`Materialized`, `Repartitioned`,
//! error policies, branches). The operations themselves are in `ops`.

pub(crate) mod branch;
pub(crate) mod builder;
pub(crate) mod error_policy;
pub(crate) mod grouped;
pub(crate) mod kstream;
pub(crate) mod ktable;
pub(crate) mod materialized;
pub(crate) mod repartition;
pub(crate) mod windowed;
