use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use super::PartitionReader;
use crate::config::ProcessingGuarantee;
use crate::processor::clock::Clock;
use crate::state::{RocksResources, SharedStore};

/// Stores of the tasks this instance runs, by (store name, partition), for local queries.
pub(crate) type StoreRegistry = Arc<RwLock<HashMap<(String, i32), SharedStore>>>;

/// What every task of an instance needs to open its stores and restore them.
pub(crate) struct TaskEnv {
    pub(crate) application_id: String,
    /// This instance's id, kept in its state directory across restarts.
    pub(crate) process_id: String,
    pub(crate) state_dir: PathBuf,
    pub(crate) guarantee: ProcessingGuarantee,
    pub(crate) rocks: RocksResources,
    pub(crate) registry: StoreRegistry,
    /// Reads changelogs (restore) and input watermarks outside the consumer group.
    pub(crate) reader: Arc<dyn PartitionReader>,
    /// Wall-clock time (commit intervals, changelog timestamps).
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) metrics: Arc<crate::metrics::Metrics>,
    /// Global tables' stores by name (filled by [`crate::runtime::global`] before tasks run).
    pub(crate) globals: HashMap<String, SharedStore>,
    /// Standby tasks this instance keeps warm (see `runtime::standby`).
    pub(crate) standbys: std::sync::Mutex<HashMap<super::TaskId, super::StandbyTask>>,
    /// Tasks a stream thread is opening as active here: the standby thread neither opens nor
    /// keeps a standby of them. Changed only while `standbys` is locked, so the two agree.
    pub(crate) opening: std::sync::Mutex<std::collections::HashSet<super::TaskId>>,
}

#[cfg(test)]
impl TaskEnv {
    /// An at-least-once environment with default RocksDB settings, state under `state_dir`,
    /// changelogs read through `reader`, and a manual clock at 0.
    pub(crate) fn for_tests(
        application_id: &str,
        state_dir: &std::path::Path,
        reader: Arc<dyn PartitionReader>,
    ) -> Self {
        Self {
            application_id: application_id.to_owned(),
            process_id: "me".to_owned(),
            state_dir: state_dir.to_owned(),
            guarantee: ProcessingGuarantee::AtLeastOnce,
            rocks: RocksResources::new(&crate::config::RocksDbConfig::default()),
            registry: Arc::default(),
            metrics: Arc::default(),
            reader,
            clock: Arc::new(crate::processor::clock::ManualClock::new(0)),
            globals: HashMap::new(),
            standbys: std::sync::Mutex::default(),
            opening: std::sync::Mutex::default(),
        }
    }
}
