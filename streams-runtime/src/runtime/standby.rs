//! Standby replicas (`num.standby.replicas`): where they go, and the thread that keeps them warm.
//!
//! librdkafka has no custom assignor, so placement cannot ride on the group protocol as in Kafka
//! Streams. Instead every instance computes it alike (DESIGN §3): for each task with logged
//! stores, the first standby goes to the instance the group's assignor will hand the task to
//! if its active owner dies (see [`takeover`](super::takeover)), so a crash finds the stores
//! warm where the task lands. Where that cannot be predicted, and for further replicas, the
//! live members other than the owner are ranked by a rendezvous hash of (task, process id):
//! the same view gives the same answer on every instance, and when membership changes the
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

use super::takeover::{GroupWatch, range_taker};
use super::thread::{Stop, ThreadStatus};
use crate::error::{ErrorKind, Result, report};
use crate::partitioner::murmur2;
use crate::query::{MemberInfo, Membership};
use crate::task::{StandbyTask, TaskEnv, TaskId};
use crate::topology::Topology;

const INTERVAL: Duration = Duration::from_millis(500);

/// The tasks `me` keeps a standby of: for each task with an active owner among `members`, the
/// instance `taker(owner, task)` names (the one that would take the task over), then the
/// other members with the highest rendezvous score, `replicas` in all.
pub(crate) fn placed_on(
    me: &str,
    members: &[MemberInfo],
    tasks: &[TaskId],
    replicas: usize,
    taker: impl Fn(&str, TaskId) -> Option<String>,
) -> Vec<TaskId> {
    let mut mine = Vec::new();
    for &task in tasks {
        let name = task.to_string();
        let Some(owner) = members.iter().find(|m| m.active_tasks.contains(&name)) else {
            continue;
        };
        // A taker that is not a live member (a killed instance still in the group until its
        // session times out) keeps no standby: rendezvous fills that slot instead.
        let taker = taker(&owner.process_id, task)
            .filter(|t| *t != owner.process_id && members.iter().any(|m| m.process_id == *t));
        let mut candidates: Vec<(i32, &str)> = members
            .iter()
            .filter(|m| m.process_id != owner.process_id && Some(&m.process_id) != taker.as_ref())
            .map(|m| {
                (
                    murmur2(format!("{name}/{}", m.process_id).as_bytes()),
                    m.process_id.as_str(),
                )
            })
            .collect();
        // Highest score first; ties (never in practice) by process id, so all agree.
        candidates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
        let mut chosen = taker.as_deref().into_iter().chain(candidates.iter().map(|(_, p)| *p));
        if chosen.by_ref().take(replicas).any(|p| p == me) {
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
    /// The group's consumers, to predict who takes a task over; `None` where the group's
    /// assignment cannot be predicted (see [`takeover`](super::takeover)).
    pub(crate) group: Option<GroupWatch>,
}

impl StandbyRunner {
    /// Keeps the placed standbys warm until stopped.
    pub(crate) fn run(mut self) -> Result<()> {
        let tasks = tasks_with_logged_stores(&self.topology, &self.partitions);
        while !self.stop.graceful.load(Ordering::Relaxed) && !self.stop.crash.load(Ordering::Relaxed) {
            if let Err(e) = self.round(&tasks) {
                tracing::warn!(error = %report(&e), "standby maintenance failed; retrying");
            }
            std::thread::sleep(INTERVAL);
        }
        self.env.standbys.lock().unwrap_or_else(|e| e.into_inner()).clear();
        Ok(())
    }

    fn round(&mut self, tasks: &[TaskId]) -> Result<()> {
        let members = self.membership.members();
        let consumers = self.group.as_mut().and_then(GroupWatch::consumers);
        let partitions = &self.partitions;
        let taker = |owner: &str, task: TaskId| {
            let count = partitions.get(&task.subtopology).copied()?;
            range_taker(consumers?, owner, task.partition, count).map(str::to_owned)
        };
        let wanted: BTreeSet<TaskId> = placed_on(&self.env.process_id, &members, tasks, self.replicas, taker)
            .into_iter()
            .collect();
        maintain(&self.env, &self.topology, &self.statuses, tasks, &wanted)
    }
}

/// Opens the `wanted` standbys not active here, closes the others, catches them up.
fn maintain(
    env: &TaskEnv,
    topology: &Topology,
    statuses: &[Arc<Mutex<ThreadStatus>>],
    tasks: &[TaskId],
    wanted: &BTreeSet<TaskId>,
) -> Result<()> {
    // 1. Under the lock, briefly: close what is no longer wanted, decide what to open.
    let to_open: Vec<TaskId> = {
        let mut standbys = env.standbys.lock().unwrap_or_else(|e| e.into_inner());
        let active = active_here(env, topology, statuses, tasks);
        standbys.retain(|id, standby| {
            let keep = wanted.contains(id) && !active.contains(id) && !standby.stale;
            if !keep {
                tracing::info!(task = %id, "standby closed");
            }
            keep
        });
        wanted
            .difference(&active)
            .filter(|id| !standbys.contains_key(id))
            .copied()
            .collect()
    };
    // 2. Without it: a new standby's first restore can take minutes, and meanwhile stream
    // threads open tasks and the membership heartbeat reads the standbys. A task that
    // starts opening as active here meanwhile wins: its store lock refuses this open, or
    // step 3 drops the standby.
    let mut opened = Vec::new();
    for id in to_open {
        let Some(sub) = topology.subtopologies.iter().find(|s| s.id == id.subtopology) else {
            continue;
        };
        match StandbyTask::open(env, sub, id.partition) {
            Ok(standby) => opened.push((id, standby)),
            Err(e) if e.kind() == ErrorKind::Locked => {
                tracing::debug!(task = %id, "standby not opened: the task's stores are in use here");
            }
            Err(e) => return Err(e),
        }
    }
    // 3. Under the lock again: keep them unless their task became active here; catch up
    // (half a second of changelog writes).
    let mut standbys = env.standbys.lock().unwrap_or_else(|e| e.into_inner());
    let active = active_here(env, topology, statuses, tasks);
    for (id, standby) in opened {
        if active.contains(&id) {
            tracing::debug!(task = %id, "standby dropped: its task became active here");
        } else {
            tracing::info!(task = %id, "standby opened");
            standbys.insert(id, standby);
        }
    }
    for standby in standbys.values_mut() {
        standby.catch_up(env)?;
    }
    Ok(())
}

/// Tasks active here, or being opened as active (call with `env.standbys` locked).
fn active_here(
    env: &TaskEnv,
    topology: &Topology,
    statuses: &[Arc<Mutex<ThreadStatus>>],
    tasks: &[TaskId],
) -> BTreeSet<TaskId> {
    let registered: BTreeSet<(String, i32)> = env
        .registry
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .keys()
        .cloned()
        .collect();
    let opening = env.opening.lock().unwrap_or_else(|e| e.into_inner()).clone();
    statuses
        .iter()
        .flat_map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).tasks.clone())
        .chain(opening)
        .chain(tasks.iter().copied().filter(|id| {
            topology
                .subtopologies
                .iter()
                .filter(|s| s.id == id.subtopology)
                .flat_map(|s| &s.stores)
                .any(|spec| registered.contains(&(spec.name.clone(), id.partition)))
        }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::{ApplyRecord, PartitionReader};
    use std::sync::mpsc::{Receiver, Sender, channel};

    /// A changelog of one record whose read blocks until the test lets it go: a restore that
    /// takes as long as the test wants.
    struct GatedReader {
        entered: Mutex<Sender<()>>,
        release: Mutex<Receiver<()>>,
    }

    impl PartitionReader for GatedReader {
        fn watermarks(&self, _: &str, _: i32) -> Result<(i64, i64)> {
            Ok((0, 1))
        }

        fn log_end(&self, _: &str, _: i32) -> Result<i64> {
            Ok(1)
        }

        fn partitions(&self, _: &str) -> Result<i32> {
            Ok(1)
        }

        fn read(&self, _: &str, _: i32, _: i64, _: i64, apply: &mut ApplyRecord<'_>) -> Result<()> {
            let _ = self.entered.lock().unwrap_or_else(|e| e.into_inner()).send(());
            let _ = self.release.lock().unwrap_or_else(|e| e.into_inner()).recv();
            apply(0, b"\"user\"", Some(b"1"))
        }
    }

    /// A counting topology (one logged RocksDB store), an environment whose changelog reads
    /// block until released, the channel saying a read began, and the release.
    fn gated() -> (Topology, tempfile::TempDir, TaskEnv, Receiver<()>, Sender<()>) {
        use crate::codec::Utf8;
        use crate::topology::{Consumed, Materialized, StreamsBuilder};
        let builder = StreamsBuilder::new();
        builder
            .stream_with("in", Consumed::new(Utf8, Utf8))
            .group_by_key()
            .count(Materialized::named("counts"));
        let topology = builder.build().expect("topology");
        let dir = tempfile::tempdir().expect("tempdir");
        let (entered_tx, entered) = channel();
        let (release, release_rx) = channel();
        let reader = Arc::new(GatedReader {
            entered: Mutex::new(entered_tx),
            release: Mutex::new(release_rx),
        });
        let env = TaskEnv::for_tests("standby-lock", dir.path(), reader);
        (topology, dir, env, entered, release)
    }

    const TASK: TaskId = TaskId {
        subtopology: 0,
        partition: 0,
    };

    /// A standby's first restore runs without the standbys' lock: stream threads opening tasks
    /// and the membership heartbeat (which reads the standbys) go on meanwhile. Before, the
    /// standby thread held it for the whole restore, which can take minutes.
    #[test]
    fn a_standby_restores_without_holding_the_standbys_lock() {
        let (topology, _dir, env, entered, release) = gated();
        let wanted = BTreeSet::from([TASK]);
        std::thread::scope(|scope| {
            let maintained = scope.spawn(|| maintain(&env, &topology, &[], &[TASK], &wanted));
            entered.recv().expect("the standby's restore started");
            let free = env.standbys.try_lock().is_ok();
            release.send(()).expect("release the restore");
            maintained.join().expect("no panic").expect("standby opened");
            assert!(free, "the standbys' lock must be free while a standby restores");
        });
        assert!(env.standbys.lock().expect("lock").contains_key(&TASK));
    }

    /// An active task's restore does not hold the standbys' lock either (it held it until its
    /// stores were registered); it is marked as opening instead, so the standby thread keeps off.
    #[test]
    fn an_active_task_restores_without_holding_the_standbys_lock() {
        let (topology, _dir, env, entered, release) = gated();
        std::thread::scope(|scope| {
            let sub = &topology.subtopologies[0];
            let opened = scope.spawn(|| crate::task::Task::open(&env, sub, 0, topology.error_policies()).map(drop));
            entered.recv().expect("the task's restore started");
            let free = env.standbys.try_lock().is_ok();
            let marked = env.opening.lock().expect("lock").contains(&TASK);
            let keeps_off = active_here(&env, &topology, &[], &[TASK]).contains(&TASK);
            release.send(()).expect("release the restore");
            opened.join().expect("no panic").expect("task opened");
            assert!(free, "the standbys' lock must be free while a task restores");
            assert!(marked && keeps_off, "the standby thread must see the task as active");
        });
        assert!(env.opening.lock().expect("lock").is_empty());
    }

    /// Tasks 0_0, 0_1 and 0_2.
    fn three_tasks() -> Vec<TaskId> {
        (0..3)
            .map(|partition| TaskId {
                subtopology: 0,
                partition,
            })
            .collect()
    }

    fn member(id: &str, active: &[&str]) -> MemberInfo {
        MemberInfo {
            process_id: id.to_owned(),
            endpoint: None,
            active_tasks: active.iter().map(|t| (*t).to_owned()).collect(),
            standby_tasks: Vec::new(),
            standby_lags: Vec::new(),
            lags: Vec::new(),
            updated_ms: 0,
            shutdown_requested_ms: None,
        }
    }

    #[test]
    fn every_instance_computes_the_same_placement_never_on_the_owner() {
        let members = vec![member("a", &["0_0", "0_1"]), member("b", &["0_2"]), member("c", &[])];
        let tasks = three_tasks();
        for replicas in 1..=2 {
            let placed: Vec<Vec<TaskId>> = ["a", "b", "c"]
                .iter()
                .map(|me| placed_on(me, &members, &tasks, replicas, |_, _| None))
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
        assert!(placed_on("c", &members, &orphan, 1, |_, _| None).is_empty());
    }

    #[test]
    fn the_first_standby_goes_to_the_instance_that_would_take_the_task_over() {
        let members = vec![member("a", &["0_0", "0_1"]), member("b", &["0_2"]), member("c", &[])];
        let tasks = three_tasks();
        // a's tasks would go to c, b's to a.
        let taker = |owner: &str, _: TaskId| Some(if owner == "a" { "c" } else { "a" }.to_owned());
        let placed = |me, replicas| placed_on(me, &members, &tasks, replicas, taker);
        assert_eq!(placed("c", 1), tasks[..2]);
        assert_eq!(placed("a", 1), tasks[2..]);
        assert!(placed("b", 1).is_empty());
        // A second replica: the taker and one more, never the owner.
        assert_eq!(placed("c", 2), tasks);
        assert_eq!(placed("a", 2), tasks[2..]);
        assert_eq!(placed("b", 2), tasks[..2]);
        // A taker named as the owner itself (a stale view), or not a live member, is ignored:
        // rendezvous decides.
        for stale in [
            |owner: &str, _: TaskId| Some(owner.to_owned()),
            |_: &str, _: TaskId| Some("dead".to_owned()),
        ] {
            let holders: usize = ["a", "b", "c"]
                .iter()
                .map(|me| placed_on(me, &members, &tasks[..1], 1, stale).len())
                .sum();
            assert_eq!(holders, 1);
        }
    }
}
