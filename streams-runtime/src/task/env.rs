use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use rdkafka::ClientConfig;

use crate::config::ProcessingGuarantee;
use crate::state::{RocksResources, SharedStore};

/// Stores of the tasks this instance runs, by (store name, partition), for local queries.
pub(crate) type StoreRegistry = Arc<RwLock<HashMap<(String, i32), SharedStore>>>;

/// What every task of an instance needs to open its stores and restore them.
pub(crate) struct TaskEnv {
    pub(crate) application_id: String,
    pub(crate) state_dir: PathBuf,
    pub(crate) guarantee: ProcessingGuarantee,
    pub(crate) rocks: RocksResources,
    /// `bootstrap.servers` plus passthrough properties.
    pub(crate) client_config: ClientConfig,
    pub(crate) registry: StoreRegistry,
    pub(crate) metrics: Arc<crate::runtime::Metrics>,
}
