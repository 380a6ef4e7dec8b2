//! A standby task: the logged stores of a task another instance runs, kept close to their
//! changelogs here, so that if this instance takes the task over it restores only the tail.
//! Its stores live where the active task's would (same directory and checkpoint), so becoming
//! active is just closing the standby and opening the task.

use super::restore::{self, Mode};
use super::task::open_store;
use super::{TaskEnv, TaskId};
use crate::error::Result;
use std::sync::Arc;

use crate::state::{ChangelogPartition, SharedStore, Store, StoreBackend};
use crate::topology::Subtopology;

/// A standby's store handed to a read that accepts stale data, with what it needs to say how
/// far behind it is.
pub(crate) struct StandbyRead {
    pub(crate) store: SharedStore,
    /// The changelog offset the store reflects when it was handed out.
    pub(crate) changelog_offset: Option<i64>,
    changelog: Option<ChangelogPartition>,
}

impl StandbyRead {
    /// Offsets between the changelog's end now and this store's position (asks the broker).
    pub(crate) fn offset_lag(&self, env: &TaskEnv) -> Result<i64> {
        match &self.changelog {
            Some(changelog) => restore::offset_lag(env, changelog, self.changelog_offset),
            None => Ok(0),
        }
    }
}

pub(crate) struct StandbyTask {
    id: TaskId,
    /// Shared so that queries allowing stale reads can read them.
    stores: Vec<SharedStore>,
    /// Per store, the offsets it was behind its changelog at the last catch-up, before applying
    /// them (the standby thread catches up every half second).
    lags: Vec<i64>,
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
        let stores: Vec<SharedStore> = sub
            .stores
            .iter()
            .filter(|spec| spec.logged && spec.backend == StoreBackend::RocksDb)
            .map(|spec| open_store(env, spec, id, Mode::Standby).map(|(store, _)| store.shared()))
            .collect::<Result<_>>()?;
        Ok(Self {
            id,
            lags: vec![0; stores.len()],
            stores,
            stale: false,
        })
    }

    /// Applies what the changelogs gained since the last call; returns the records applied.
    pub(crate) fn catch_up(&mut self, env: &TaskEnv) -> Result<u64> {
        let mut applied = 0;
        for (shared, lag) in self.stores.iter().zip(&mut self.lags) {
            let mut store = Store::lock(shared);
            let Some(changelog) = store.changelog().cloned() else {
                continue;
            };
            match restore::replay(env, &mut store, &changelog, Mode::Standby)? {
                Some(r) => {
                    applied += r.records;
                    *lag = r.behind;
                }
                None => {
                    tracing::warn!(task = %self.id, store = store.name(), "standby store no longer matches its changelog; it will be rebuilt");
                    self.stale = true;
                }
            }
        }
        Ok(applied)
    }

    /// Per store: its name, the changelog offset it reflects (`None`: nothing applied yet) and
    /// its offset lag at the last catch-up.
    pub(crate) fn progress(&self) -> Vec<(String, Option<i64>, i64)> {
        self.stores
            .iter()
            .zip(&self.lags)
            .map(|(s, lag)| {
                let s = Store::lock(s);
                (s.name().to_owned(), s.changelog_offset(), *lag)
            })
            .collect()
    }

    /// The offsets all its stores together were behind their changelogs at the last catch-up.
    pub(crate) fn offset_lag(&self) -> i64 {
        self.lags.iter().sum()
    }

    /// Store `name` of this standby, for a stale read.
    pub(crate) fn read(&self, name: &str) -> Option<StandbyRead> {
        let store = self.stores.iter().find(|s| Store::lock(s).name() == name)?;
        let (changelog_offset, changelog) = {
            let locked = Store::lock(store);
            (locked.changelog_offset(), locked.changelog().cloned())
        };
        Some(StandbyRead {
            store: Arc::clone(store),
            changelog_offset,
            changelog,
        })
    }

    pub(crate) fn partition(&self) -> i32 {
        self.id.partition
    }
}
