//! Tasks: the unit of parallelism, one per (sub-topology, partition), each with its own
//! processors, stores and stream time.

mod env;
mod input_record;
mod partition_reader;
mod record_merge;
mod restore;
mod source_topics;
mod standby;
#[allow(clippy::module_inception)]
mod task;

pub use crate::naming::TaskId;
pub(crate) use env::{StoreRegistry, TaskEnv};
pub(crate) use input_record::InputRecord;
pub(crate) use partition_reader::{ApplyRecord, PartitionReader};
pub(crate) use record_merge::{FetchedLag, RecordMerge};
pub(crate) use source_topics::SourceTopics;
pub(crate) use standby::{StandbyRead, StandbyTask};
pub(crate) use task::{Outcome, Task};
