//! Standby replicas (`num.standby.replicas`): where they go, and the thread that keeps them warm.
//!
//! librdkafka has no custom assignor, so placement cannot ride on the group protocol as in Kafka
//! Streams. Instead every instance computes it alike from the membership topic (DESIGN §3): for
//! each task with logged stores, the live members other than the task's active owner are ranked
//! by a rendezvous hash of (task, process id), and the first `num.standby.replicas` keep a
//! standby. The same view gives the same answer on every instance; when membership changes, the
//! answer changes minimally (rendezvous hashing moves only the tasks whose winner left).
//!
//! The standby thread re-reads membership every second, opens standbys that are now placed here
//! (unless the task is active here), closes those that are not, and replays each one's changelog
//! tail. A task that becomes active here finds its standby in `TaskEnv::standbys` and takes over
//! its warm stores (see `Task::open`).

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::thread::{Stop, ThreadStatus};
use crate::error::Result;
use crate::partitioner::murmur2;
use crate::query::{MemberInfo, Membership};
use crate::task::{StandbyTask, TaskEnv, TaskId};
use crate::topology::Topology;

const INTERVAL: Duration = Duration::from_millis(500);

/// The tasks `me` keeps a standby of: for each task with an active owner among `members`, the
/// `replicas` other members with the highest rendezvous score.
pub(crate) fn placed_on(me: &str, members: &[MemberInfo], tasks: &[TaskId], replicas: usize) -> Vec<TaskId> {
    let mut mine = Vec::new();
    for &task in tasks {
        let name = task.to_string();
        let Some(owner) = members.iter().find(|m| m.active_tasks.contains(&name)) else {
            continue;
        };
        let mut candidates: Vec<(i32, &str)> = members
            .iter()
            .filter(|m| m.process_id != owner.process_id)
            .map(|m| {
                (
                    murmur2(format!("{name}/{}", m.process_id).as_bytes()),
                    m.process_id.as_str(),
                )
            })
            .collect();
        // Highest score first; ties (never in practice) by process id, so all agree.
        candidates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
        if candidates.iter().take(replicas).any(|(_, p)| *p == me) {
            mine.push(task);
        }
    }
    mine
}

/// Every task whose sub-topology has a store worth keeping warm.
fn tasks_with_logged_stores(topology: &Topology, partitions: &HashMap<u32, i32>) -> Vec<TaskId> {
    topology
        .subtopologies
        .iter()
        .filter(|s| s.stores.iter().any(|spec| spec.logged))
        .flat_map(|s| {
            (0..partitions.get(&s.id).copied().unwrap_or(0)).map(move |partition| TaskId {
                subtopology: s.id,
                partition,
            })
        })
        .collect()
}

/// What the standby thread needs.
pub(crate) struct StandbyRunner {
    pub(crate) env: Arc<TaskEnv>,
    pub(crate) topology: Arc<Topology>,
    pub(crate) partitions: HashMap<u32, i32>,
    pub(crate) membership: Arc<Membership>,
    pub(crate) statuses: Vec<Arc<Mutex<ThreadStatus>>>,
    pub(crate) replicas: usize,
    pub(crate) stop: Arc<Stop>,
}

impl StandbyRunner {
    /// Keeps the placed standbys warm until stopped.
    pub(crate) fn run(self) -> Result<()> {
        let tasks = tasks_with_logged_stores(&self.topology, &self.partitions);
        while !self.stop.graceful.load(Ordering::Relaxed) && !self.stop.crash.load(Ordering::Relaxed) {
            if let Err(e) = self.round(&tasks) {
                tracing::warn!(error = %e, "standby maintenance failed; retrying");
            }
            std::thread::sleep(INTERVAL);
        }
        self.env.standbys.lock().unwrap_or_else(|e| e.into_inner()).clear();
        Ok(())
    }

    fn round(&self, tasks: &[TaskId]) -> Result<()> {
        let members = self.membership.members();
        let wanted: BTreeSet<TaskId> = placed_on(&self.env.process_id, &members, tasks, self.replicas)
            .into_iter()
            .collect();
        // Held for the whole round: a task being promoted waits for its standby's catch-up, and
        // a task opening here is registered before this lock is free again.
        let mut standbys = self.env.standbys.lock().unwrap_or_else(|e| e.into_inner());
        let registered: BTreeSet<(String, i32)> = self
            .env
            .registry
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect();
        let active: BTreeSet<TaskId> = self
            .statuses
            .iter()
            .flat_map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).tasks.clone())
            .chain(tasks.iter().copied().filter(|id| {
                self.topology
                    .subtopologies
                    .iter()
                    .filter(|s| s.id == id.subtopology)
                    .flat_map(|s| &s.stores)
                    .any(|spec| registered.contains(&(spec.name.clone(), id.partition)))
            }))
            .collect();
        standbys.retain(|id, standby| {
            let keep = wanted.contains(id) && !active.contains(id) && !standby.stale;
            if !keep {
                tracing::info!(task = %id, "standby closed");
            }
            keep
        });
        for &id in wanted.difference(&active) {
            if standbys.contains_key(&id) {
                continue;
            }
            let Some(sub) = self.topology.subtopologies.iter().find(|s| s.id == id.subtopology) else {
                continue;
            };
            let standby = StandbyTask::open(&self.env, sub, id.partition)?;
            tracing::info!(task = %id, "standby opened");
            standbys.insert(id, standby);
        }
        for standby in standbys.values_mut() {
            standby.catch_up(&self.env)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, active: &[&str]) -> MemberInfo {
        MemberInfo {
            process_id: id.to_owned(),
            endpoint: None,
            active_tasks: active.iter().map(|t| (*t).to_owned()).collect(),
            standby_tasks: Vec::new(),
            standby_lags: Vec::new(),
            lags: Vec::new(),
            updated_ms: 0,
        }
    }

    #[test]
    fn every_instance_computes_the_same_placement_never_on_the_owner() {
        let members = vec![member("a", &["0_0", "0_1"]), member("b", &["0_2"]), member("c", &[])];
        let tasks: Vec<TaskId> = (0..3)
            .map(|partition| TaskId {
                subtopology: 0,
                partition,
            })
            .collect();
        for replicas in 1..=2 {
            let placed: Vec<Vec<TaskId>> = ["a", "b", "c"]
                .iter()
                .map(|me| placed_on(me, &members, &tasks, replicas))
                .collect();
            for task in &tasks {
                let holders: Vec<usize> = (0..3).filter(|i| placed[*i].contains(task)).collect();
                assert_eq!(holders.len(), replicas, "task {task}: {replicas} standby(s)");
                let owner = if task.partition == 2 { 1 } else { 0 };
                assert!(!holders.contains(&owner), "never on the active owner");
            }
        }
        // A task without a live owner gets no standby (nothing to follow yet).
        let orphan = [TaskId {
            subtopology: 1,
            partition: 0,
        }];
        assert!(placed_on("c", &members, &orphan, 1).is_empty());
    }
}
