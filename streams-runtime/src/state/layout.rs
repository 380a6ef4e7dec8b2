//! On-disk layout, as Kafka Streams: `<state.dir>/<application.id>/<task>/rocksdb/<store>`.

use std::path::{Path, PathBuf};

use crate::naming::TaskId;

/// `<state.dir>/<application.id>/<task>`.
pub(crate) fn task_dir(state_dir: &Path, application_id: &str, task: TaskId) -> PathBuf {
    state_dir.join(application_id).join(task.to_string())
}

/// `<state.dir>/<application.id>/global/rocksdb/<store>`: a global table's store.
pub(crate) fn global_store_dir(state_dir: &Path, application_id: &str, store: &str) -> PathBuf {
    state_dir
        .join(application_id)
        .join("global")
        .join("rocksdb")
        .join(store)
}

/// `<state.dir>/<application.id>/<task>/rocksdb/<store>`.
pub(crate) fn store_dir(state_dir: &Path, application_id: &str, task: TaskId, store: &str) -> PathBuf {
    task_dir(state_dir, application_id, task).join("rocksdb").join(store)
}
