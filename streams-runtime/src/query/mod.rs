//! Interactive queries: every instance answers for every key, from its local stores or by
//! asking the instance that owns the key's partition.
//!
//! - the store adapters: typed store reads behind JSON, registered per store when the topology
//!   is built (`state::query_adapter`, below the topology that registers them);
//! - `membership`: which instance runs which task and where it answers, over a compacted topic;
//! - the typed client and the pages it reads; the HTTP routes that answer it are the server's
//!   (`server::query_routes`).

mod answer;
#[cfg(feature = "http")]
mod client;
mod membership;
#[cfg(feature = "http")]
pub(crate) mod page;

pub use answer::{Answer, StandbyLag};
#[cfg(feature = "http")]
pub use client::{
    DEFAULT_RETRIES, DEFAULT_TIMEOUT, KeyValueClient, MAX_RETRY_WAIT, QueryClient, SessionClient, WindowClient,
};
pub use membership::MemberInfo;
pub(crate) use membership::Membership;
