//! An answer with where it came from: which instance served it and, for a stale read, how far
//! behind the active task the standby that answered was.

use serde::Deserialize;

/// A value and its provenance (see [`KeyValueClient::get_answer`](super::KeyValueClient::get_answer)).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Answer<V> {
    /// The value.
    pub value: V,
    /// The store partition holding the key.
    pub partition: i32,
    /// Process id of the instance that read it.
    pub served_by: String,
    /// Set when a standby replica answered (only with [`allow_stale`](super::QueryClient::allow_stale)).
    pub standby: Option<StandbyLag>,
}

/// How far the standby that answered trails the active task (Kafka Streams' `LagInfo`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct StandbyLag {
    /// The changelog offset its store reflects (`None`: nothing applied yet).
    pub changelog_offset: Option<i64>,
    /// Changelog offsets written beyond it when it answered (`None`: the broker could not say).
    pub offset_lag: Option<i64>,
}
