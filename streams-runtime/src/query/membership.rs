//! Who runs which tasks, and where they answer queries. librdkafka has no custom assignor, so
//! the member metadata Kafka Streams keeps in assignor user data travels over a compacted
//! topic instead: every instance publishes its entry to `<application.id>-membership` (key =
//! process id) when its tasks change and every few seconds, and reads everyone's.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, report};
use crate::kafka::{AssignedConsumer, ClientSettings, RecordProducer, StartAt};
use crate::naming;
use crate::task::TaskId;

/// Entries not refreshed for this long belong to instances presumed gone.
const STALE_AFTER: Duration = Duration::from_secs(15);
/// The most wall-clock skew between two instances tolerated: an entry whose own timestamp is
/// older than this (plus `STALE_AFTER`) is a long-gone instance's, read back from history.
const MAX_CLOCK_SKEW: Duration = Duration::from_secs(300);

/// An entry and when this instance last received it (its own monotonic clock).
#[derive(Clone, Debug)]
struct Heard {
    info: MemberInfo,
    at: Instant,
}

impl Heard {
    fn now(info: MemberInfo) -> Self {
        Self {
            info,
            at: Instant::now(),
        }
    }
}

/// Whether an entry received at `received` and stamped `updated_ms` by its publisher is still
/// fresh. Judged on this instance's clock: a publisher whose wall clock runs behind (by less
/// than `MAX_CLOCK_SKEW`) stays visible, where comparing its stamp with our clock made it
/// vanish (503s, standby churn) once the skew passed 15 s. The stamp only rules out entries of
/// instances gone long before this one started, read back from the compacted topic.
fn is_fresh(received: Instant, updated_ms: i64, now: Instant, now_ms: i64) -> bool {
    now.duration_since(received) < STALE_AFTER
        && now_ms - updated_ms < i64::try_from((STALE_AFTER + MAX_CLOCK_SKEW).as_millis()).unwrap_or(i64::MAX)
}
const HEARTBEAT: Duration = Duration::from_secs(3);
const CHECK: Duration = Duration::from_millis(200);

/// One instance, as published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberInfo {
    /// The instance's process id (stable across restarts, kept in its state directory).
    pub process_id: String,
    /// Its query endpoint (`application.server`), if it serves queries.
    pub endpoint: Option<String>,
    /// Tasks it runs, as `<sub-topology>_<partition>`.
    pub active_tasks: Vec<String>,
    /// Standby tasks it keeps warm.
    pub standby_tasks: Vec<String>,
    /// Per standby task, the changelog offsets it was behind at its last catch-up (Kafka
    /// Streams' task lags; a caught-up standby trails by at most half a second of writes).
    #[serde(default)]
    pub standby_lags: Vec<(String, i64)>,
    /// Consumer lag per input partition: (topic, partition, records behind).
    pub lags: Vec<(String, i32, i64)>,
    /// When it published this, epoch milliseconds.
    pub updated_ms: i64,
    /// Set when a stream thread of this instance failed under
    /// `stream.thread.failure.policy=shutdown_application`: when (epoch ms) it asked every
    /// instance to stop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shutdown_requested_ms: Option<i64>,
}

/// What this instance currently is (called by the membership thread).
pub(crate) type SelfInfo = Box<dyn Fn() -> MemberInfo + Send + Sync>;
/// Called (once) when another instance asks the application to shut down.
pub(crate) type ShutdownHook = Box<dyn Fn(&MemberInfo) + Send + Sync>;

/// The membership view of one instance, kept current by a background thread.
pub(crate) struct Membership {
    process_id: String,
    members: Arc<RwLock<HashMap<String, Heard>>>,
    stop: Arc<AtomicBool>,
    leave: Arc<AtomicBool>,
    thread: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Membership {
    /// Starts publishing `me()` and reading everyone's entries.
    pub(crate) fn start(
        client_config: &ClientSettings,
        application_id: &str,
        process_id: &str,
        me: SelfInfo,
        on_shutdown_request: ShutdownHook,
    ) -> Result<Self> {
        let started_ms = now_ms();
        let topic = naming::membership_topic(application_id);
        let producer = RecordProducer::new(client_config.clone().set("linger.ms", "0"), "the membership producer")?;
        let consumer = AssignedConsumer::assign(
            client_config
                .clone()
                .set("group.id", format!("{application_id}-membership-reader")),
            "the membership reader",
            &[(topic.clone(), 0, StartAt::Beginning)],
        )?;
        let members = Arc::new(RwLock::new(HashMap::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let leave = Arc::new(AtomicBool::new(true));
        let thread = {
            let (members, stop, leave, process_id) = (
                Arc::clone(&members),
                Arc::clone(&stop),
                Arc::clone(&leave),
                process_id.to_owned(),
            );
            std::thread::Builder::new()
                .name(format!("{application_id}-membership"))
                .spawn(move || {
                    let shutdown = ShutdownWatch {
                        started_ms,
                        hook: on_shutdown_request,
                        seen: AtomicBool::new(false),
                    };
                    run(
                        &topic,
                        &process_id,
                        &producer,
                        &consumer,
                        &members,
                        &stop,
                        &me,
                        &shutdown,
                    );
                    if leave.load(Ordering::Relaxed) {
                        // A shutdown request goes out before the entry is removed.
                        let info = me();
                        if info.shutdown_requested_ms.is_some() {
                            publish(&topic, &process_id, &producer, info);
                        }
                        // Others stop routing here at once instead of after the staleness timeout.
                        let _ = producer.send(&topic, &process_id, None);
                        let _ = producer.flush(Duration::from_secs(5));
                    }
                })
                .map_err(|e| Error::io("failed to start the membership thread", e))?
        };
        Ok(Self {
            process_id: process_id.to_owned(),
            members,
            stop,
            leave,
            thread: std::sync::Mutex::new(Some(thread)),
        })
    }

    /// Every instance with a fresh entry (this one included), by process id.
    pub(crate) fn members(&self) -> Vec<MemberInfo> {
        let (now, now_ms) = (Instant::now(), now_ms());
        let mut out: Vec<MemberInfo> = self
            .members
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter(|heard| is_fresh(heard.at, heard.info.updated_ms, now, now_ms))
            .map(|heard| heard.info.clone())
            .collect();
        out.sort_by(|a, b| a.process_id.cmp(&b.process_id));
        out
    }

    /// The other instance running `task` with a query endpoint (the most recently updated
    /// claim wins while a rebalance settles).
    pub(crate) fn remote_owner(&self, task: TaskId) -> Option<MemberInfo> {
        let task = task.to_string();
        self.members()
            .into_iter()
            .filter(|m| m.process_id != self.process_id && m.endpoint.is_some() && m.active_tasks.contains(&task))
            .max_by_key(|m| m.updated_ms)
    }

    /// Stops the thread; `leaving` publishes a tombstone first (a graceful close), otherwise the
    /// entry just goes stale (a crash).
    pub(crate) fn stop(&self, leaving: bool) {
        self.leave.store(leaving, Ordering::Relaxed);
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        self.stop(true);
    }
}

/// Other instances' shutdown requests, as the membership thread reads them.
struct ShutdownWatch {
    /// Requests made before this instance started are history, not meant for it.
    started_ms: i64,
    hook: ShutdownHook,
    seen: AtomicBool,
}

impl ShutdownWatch {
    fn check(&self, own_process_id: &str, info: &MemberInfo) {
        if info.process_id != own_process_id
            && info.shutdown_requested_ms.is_some_and(|at| at >= self.started_ms)
            && !self.seen.swap(true, Ordering::Relaxed)
        {
            (self.hook)(info);
        }
    }
}

/// Sends `info` as this instance's entry, stamped now.
fn publish(topic: &str, process_id: &str, producer: &RecordProducer, mut info: MemberInfo) -> MemberInfo {
    info.updated_ms = now_ms();
    match serde_json::to_vec(&info) {
        Ok(payload) => {
            if let Err(e) = producer.send(topic, process_id, Some(&payload)) {
                tracing::warn!(error = %report(&e), "failed to publish membership");
            }
        }
        Err(e) => tracing::warn!(error = %report(&e), "failed to encode membership"),
    }
    info
}

#[allow(clippy::too_many_arguments)]
fn run(
    topic: &str,
    process_id: &str,
    producer: &RecordProducer,
    consumer: &AssignedConsumer,
    members: &RwLock<HashMap<String, Heard>>,
    stop: &AtomicBool,
    me: &SelfInfo,
    shutdown: &ShutdownWatch,
) {
    let mut published: Option<(MemberInfo, Instant)> = None;
    while !stop.load(Ordering::Relaxed) {
        let info = me();
        let changed = published.as_ref().is_none_or(|(last, at)| {
            last.active_tasks != info.active_tasks
                || last.standby_tasks != info.standby_tasks
                || last.endpoint != info.endpoint
                || last.shutdown_requested_ms != info.shutdown_requested_ms
                || at.elapsed() >= HEARTBEAT
        });
        if changed {
            let info = publish(topic, process_id, producer, info);
            // Our own view is current at once, even before the topic round trip.
            members
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert(process_id.to_owned(), Heard::now(info.clone()));
            published = Some((info, Instant::now()));
        }
        producer.serve();
        let deadline = Instant::now() + CHECK;
        while Instant::now() < deadline {
            match consumer.poll(Duration::from_millis(50)) {
                Some(Ok(message)) => {
                    let Some(key) = message.key().and_then(|k| std::str::from_utf8(k).ok()) else {
                        continue;
                    };
                    let mut members = members.write().unwrap_or_else(|e| e.into_inner());
                    match message.value().map(serde_json::from_slice::<MemberInfo>) {
                        Some(Ok(info)) => {
                            shutdown.check(process_id, &info);
                            members.insert(key.to_owned(), Heard::now(info));
                        }
                        Some(Err(e)) => tracing::debug!(error = %report(&e), "ignoring an unreadable membership entry"),
                        None => {
                            members.remove(key);
                        }
                    }
                }
                Some(Err(e)) => tracing::debug!(error = %report(&e), "membership read failed; retrying"),
                None => break,
            }
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness_is_judged_on_this_instances_clock() {
        let now = Instant::now();
        let now_ms = 1_800_000_000_000;
        let ago = |secs| now.checked_sub(Duration::from_secs(secs)).expect("uptime");
        // A publisher whose wall clock runs 60 s behind, heard from a second ago: fresh (its
        // stamp alone made it look a minute old, and it was dropped).
        assert!(is_fresh(ago(1), now_ms - 61_000, now, now_ms));
        // Not heard from for longer than the staleness timeout: gone, whatever its stamp says.
        assert!(!is_fresh(ago(16), now_ms, now, now_ms));
        // Read back from the topic's history at start-up, published an hour ago: gone at once.
        assert!(!is_fresh(now, now_ms - 3_600_000, now, now_ms));
    }
}
