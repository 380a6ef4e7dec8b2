//! The instance's state, as Kafka Streams' `KafkaStreams.State`, and what happens when a stream
//! thread fails ([`ThreadFailurePolicy`](crate::config::ThreadFailurePolicy), Kafka Streams'
//! `StreamsUncaughtExceptionHandler` responses).
//!
//! Each stream thread reports its phase (starting, rebalancing, running, stopped, failed); the
//! instance's [`State`] follows from them and from `close`: `Rebalancing` while any thread is
//! joining the group or opening (restoring) its tasks, `Running` once every live thread
//! processes, `PendingShutdown` → `NotRunning` on `close`, `PendingError` → `Error` when a
//! thread failed and the policy stops the instance. Restoration happens inside the assignment,
//! so `Running` also means restored: it is what `/health/ready` reports.

use std::fmt;
use std::sync::Mutex;

use tokio::sync::watch;

/// The state of a [`KafkaStreams`](crate::KafkaStreams) instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// Built, threads not started yet.
    Created,
    /// A thread is joining the group, or opening and restoring the tasks it was assigned.
    Rebalancing,
    /// Every stream thread is processing its tasks.
    Running,
    /// `close` was called; threads are committing and leaving the group.
    PendingShutdown,
    /// Closed; nothing runs.
    NotRunning,
    /// A stream thread failed and the policy stops the instance; the others are closing.
    PendingError,
    /// Stopped because of a failed stream thread.
    Error,
}

impl State {
    /// Kafka Streams' name (`RUNNING`, `PENDING_SHUTDOWN`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "CREATED",
            Self::Rebalancing => "REBALANCING",
            Self::Running => "RUNNING",
            Self::PendingShutdown => "PENDING_SHUTDOWN",
            Self::NotRunning => "NOT_RUNNING",
            Self::PendingError => "PENDING_ERROR",
            Self::Error => "ERROR",
        }
    }

    /// Whether the instance is processing or about to (Kafka Streams' `isRunningOrRebalancing`).
    pub fn is_running_or_rebalancing(self) -> bool {
        matches!(self, Self::Created | Self::Rebalancing | Self::Running)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one stream thread is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ThreadPhase {
    /// Started, no assignment handled yet.
    Starting,
    /// Between a revocation and the end of the next assignment (or with tasks still pending).
    Rebalancing,
    Running,
    Stopped,
    Failed,
}

#[derive(Debug)]
struct Phases {
    threads: Vec<ThreadPhase>,
    closing: bool,
    failed: bool,
}

/// The phases of an instance's stream threads and the [`State`] they make, published on a
/// watch channel.
#[derive(Debug)]
pub(crate) struct Lifecycle {
    phases: Mutex<Phases>,
    state: watch::Sender<State>,
}

impl Lifecycle {
    /// An instance of `threads` stream threads, all starting.
    pub(crate) fn new(threads: usize) -> Self {
        Self {
            phases: Mutex::new(Phases {
                threads: vec![ThreadPhase::Starting; threads],
                closing: false,
                failed: false,
            }),
            state: watch::Sender::new(State::Created),
        }
    }

    pub(crate) fn state(&self) -> State {
        *self.state.borrow()
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<State> {
        self.state.subscribe()
    }

    /// Stream thread `index` is now in `phase`.
    pub(crate) fn set_phase(&self, index: usize, phase: ThreadPhase) {
        self.update(|p| {
            if let Some(slot) = p.threads.get_mut(index) {
                *slot = phase;
            }
        });
    }

    /// A thread failed and the instance stops because of it.
    pub(crate) fn fail(&self) {
        self.update(|p| p.failed = true);
    }

    /// `close` was called.
    pub(crate) fn begin_shutdown(&self) {
        self.update(|p| p.closing = true);
    }

    /// Every thread has been joined.
    pub(crate) fn all_stopped(&self) {
        self.update(|p| {
            for phase in &mut p.threads {
                if *phase != ThreadPhase::Failed {
                    *phase = ThreadPhase::Stopped;
                }
            }
        });
    }

    fn update(&self, change: impl FnOnce(&mut Phases)) {
        let mut phases = self.phases.lock().unwrap_or_else(|e| e.into_inner());
        change(&mut phases);
        let next = derive(&phases);
        drop(phases);
        self.state.send_if_modified(|state| {
            let changed = *state != next;
            if changed {
                tracing::info!(from = %state, to = %next, "state transition");
            }
            *state = next;
            changed
        });
    }
}

/// The instance's state from its threads' phases.
fn derive(p: &Phases) -> State {
    let done = p
        .threads
        .iter()
        .all(|t| matches!(t, ThreadPhase::Stopped | ThreadPhase::Failed));
    let all_failed = !p.threads.is_empty() && p.threads.iter().all(|t| *t == ThreadPhase::Failed);
    if p.failed || all_failed {
        return if done { State::Error } else { State::PendingError };
    }
    if p.closing {
        return if done {
            State::NotRunning
        } else {
            State::PendingShutdown
        };
    }
    let live = p
        .threads
        .iter()
        .filter(|t| !matches!(t, ThreadPhase::Stopped | ThreadPhase::Failed));
    let mut any = false;
    for phase in live {
        any = true;
        if *phase != ThreadPhase::Running {
            return State::Rebalancing;
        }
    }
    if any { State::Running } else { State::NotRunning }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_follows_the_threads() {
        let lifecycle = Lifecycle::new(2);
        assert_eq!(lifecycle.state(), State::Created);
        lifecycle.set_phase(0, ThreadPhase::Running);
        assert_eq!(lifecycle.state(), State::Rebalancing, "thread 2 still starting");
        lifecycle.set_phase(1, ThreadPhase::Running);
        assert_eq!(lifecycle.state(), State::Running);
        lifecycle.set_phase(1, ThreadPhase::Rebalancing);
        assert_eq!(lifecycle.state(), State::Rebalancing);
        lifecycle.set_phase(1, ThreadPhase::Running);
        lifecycle.begin_shutdown();
        assert_eq!(lifecycle.state(), State::PendingShutdown);
        lifecycle.all_stopped();
        assert_eq!(lifecycle.state(), State::NotRunning);
    }

    #[test]
    fn a_failure_that_stops_the_instance_ends_in_error() {
        let lifecycle = Lifecycle::new(2);
        let mut watcher = lifecycle.subscribe();
        lifecycle.set_phase(0, ThreadPhase::Running);
        lifecycle.set_phase(1, ThreadPhase::Running);
        lifecycle.set_phase(0, ThreadPhase::Failed);
        lifecycle.fail();
        assert_eq!(lifecycle.state(), State::PendingError);
        lifecycle.begin_shutdown();
        assert_eq!(lifecycle.state(), State::PendingError, "an error is not a shutdown");
        lifecycle.all_stopped();
        assert_eq!(lifecycle.state(), State::Error);
        assert!(watcher.has_changed().expect("open"));
        assert_eq!(*watcher.borrow_and_update(), State::Error);
    }

    #[test]
    fn a_thread_being_replaced_keeps_the_instance_rebalancing() {
        let lifecycle = Lifecycle::new(1);
        lifecycle.set_phase(0, ThreadPhase::Running);
        lifecycle.set_phase(0, ThreadPhase::Starting);
        assert_eq!(lifecycle.state(), State::Rebalancing);
        lifecycle.set_phase(0, ThreadPhase::Failed);
        assert_eq!(lifecycle.state(), State::Error, "every thread failed");
    }
}
