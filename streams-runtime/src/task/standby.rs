//! A standby task: the logged stores of a task another instance runs, kept close to their
//! changelogs here, so that if this instance takes the task over it restores only the tail.
//! Its stores live where the active task's would (same directory and checkpoint), so becoming
//! active is just closing the standby and opening the task.

use super::restore::{self, Mode};
use super::task::open_store;
use super::{TaskEnv, TaskId};
use crate::error::Result;
use crate::state::{SharedStore, Store, StoreBackend};
use crate::topology::Subtopology;

pub(crate) struct StandbyTask {
    id: TaskId,
    /// Shared so that queries allowing stale reads can read them.
    stores: Vec<SharedStore>,
    /// A store stopped matching its changelog: drop and reopen (which rebuilds it).
    pub(crate) stale: bool,
}

impl StandbyTask {
    /// Opens (and catches up) the RocksDB, logged stores of task `id`; in-memory or unlogged
    /// stores have nothing to keep warm.
    pub(crate) fn open(env: &TaskEnv, sub: &Subtopology, partition: i32) -> Result<Self> {
        let id = TaskId {
            subtopology: sub.id,
            partition,
        };
        let stores = sub
            .stores
            .iter()
            .filter(|spec| spec.logged && spec.backend == StoreBackend::RocksDb)
            .map(|spec| open_store(env, spec, id, Mode::Standby).map(|(store, _)| store.shared()))
            .collect::<Result<_>>()?;
        Ok(Self {
            id,
            stores,
            stale: false,
        })
    }

    /// Applies what the changelogs gained since the last call; returns the records applied.
    pub(crate) fn catch_up(&mut self, env: &TaskEnv) -> Result<u64> {
        let mut applied = 0;
        for shared in &self.stores {
            let mut store = Store::lock(shared);
            let Some(changelog) = store.changelog().cloned() else {
                continue;
            };
            match restore::replay(env, &mut store, &changelog, Mode::Standby)? {
                Some(r) => applied += r.records,
                None => {
                    tracing::warn!(task = %self.id, store = store.name(), "standby store no longer matches its changelog; it will be rebuilt");
                    self.stale = true;
                }
            }
        }
        Ok(applied)
    }

    /// Changelog offset each store reflects (`None`: nothing applied yet).
    pub(crate) fn changelog_offsets(&self) -> Vec<(String, Option<i64>)> {
        self.stores
            .iter()
            .map(|s| {
                let s = Store::lock(s);
                (s.name().to_owned(), s.changelog_offset())
            })
            .collect()
    }

    /// Store `name` of this standby, for a stale read.
    pub(crate) fn store(&self, name: &str) -> Option<SharedStore> {
        self.stores.iter().find(|s| Store::lock(s).name() == name).cloned()
    }

    pub(crate) fn partition(&self) -> i32 {
        self.id.partition
    }
}
