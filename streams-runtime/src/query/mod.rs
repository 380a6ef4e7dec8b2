//! Interactive queries: every instance answers for every key, from its local stores or by
//! asking the instance that owns the key's partition.
//!
//! - `adapter`: typed store reads behind JSON, registered per store when the topology is built;
//! - `membership`: which instance runs which task and where it answers, over a compacted topic.

pub(crate) mod adapter;
mod answer;
#[cfg(feature = "http")]
mod client;
mod membership;
#[cfg(feature = "http")]
mod page;
#[cfg(feature = "http")]
pub(crate) mod routes;

pub(crate) use adapter::{QueryLayout, StoreQuery, TypedStoreQuery};
pub use answer::{Answer, StandbyLag};
#[cfg(feature = "http")]
pub use client::{
    DEFAULT_RETRIES, DEFAULT_TIMEOUT, KeyValueClient, MAX_RETRY_WAIT, QueryClient, SessionClient, WindowClient,
};
pub use membership::MemberInfo;
pub(crate) use membership::Membership;
