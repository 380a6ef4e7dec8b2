//! Task ids: how tasks, their state directories and their entries in the membership topic are named.

use std::fmt;
use std::str::FromStr;

/// A task of Kafka Streams: sub-topology `subtopology` over partition `partition` of its source topics.
/// Displays as Kafka Streams does, `<subtopology>_<partition>` (also its state directory name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId {
    /// Index of the sub-topology.
    pub subtopology: u32,
    /// Partition of the sub-topology's source topics.
    pub partition: i32,
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.subtopology, self.partition)
    }
}

impl FromStr for TaskId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (sub, partition) = s
            .split_once('_')
            .ok_or_else(|| format!("`{s}` is not a task id like `0_1`"))?;
        Ok(Self {
            subtopology: sub.parse().map_err(|_| format!("bad sub-topology in task id `{s}`"))?,
            partition: partition
                .parse()
                .map_err(|_| format!("bad partition in task id `{s}`"))?,
        })
    }
}
