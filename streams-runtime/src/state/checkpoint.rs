use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What a store's committed state reflects, written in the same batch as the state itself:
/// the last changelog offset, and the input positions (next offset per source topic of the
/// task's partition) of the commit that produced it.
///
/// The input positions let a task skip records its state already reflects even when the broker
/// lost or never stored the consumer offsets (e.g. the mock cluster's `TxnOffsetCommit`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Checkpoint {
    pub(crate) changelog_offset: Option<i64>,
    pub(crate) input_positions: BTreeMap<String, i64>,
}
