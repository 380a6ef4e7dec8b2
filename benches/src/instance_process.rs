//! One streams instance in a process of its own, for the benchmarks that `kill -9` one: the bench
//! binary runs itself again with arguments of its choosing, the child starts an instance and prints
//! its status as one JSON line every [`STATUS_INTERVAL`], and the parent reads the latest line.
//! A killed process leaves nothing behind but its state directory and its group membership, which
//! lasts until the broker's session timeout: the failover a user sees after a crash.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kafka_streams::KafkaStreams;
use serde::{Deserialize, Serialize};

/// How often a child reports.
pub const STATUS_INTERVAL: Duration = Duration::from_millis(20);

/// What a child instance reports of itself.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct InstanceStatus {
    /// Wall-clock ms when the status was taken (parent and children share the machine's clock).
    pub at_ms: i64,
    /// The active tasks (`0_3`), restored and processing.
    pub active: Vec<String>,
    /// The standby tasks, with the changelog offset each of their stores reflects.
    pub standby: Vec<(String, Vec<Option<i64>>)>,
    pub records_processed: u64,
    pub commits: u64,
    pub records_restored: u64,
    pub bytes_restored: u64,
    pub restore_time_ms: u64,
}

/// Wall-clock ms.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl InstanceStatus {
    /// `streams`' status now (also what the in-process runs compare before and after).
    pub fn of(streams: &KafkaStreams) -> Self {
        let metrics = streams.metrics();
        Self {
            at_ms: now_ms(),
            active: streams.active_tasks().iter().map(ToString::to_string).collect(),
            standby: streams
                .standby_tasks()
                .into_iter()
                .map(|s| {
                    let offsets = s.changelog_offsets.into_iter().map(|(_, o)| o).collect();
                    (s.task.to_string(), offsets)
                })
                .collect(),
            records_processed: metrics.records_processed,
            commits: metrics.commits,
            records_restored: metrics.records_restored,
            bytes_restored: metrics.bytes_restored,
            restore_time_ms: u64::try_from(metrics.restore_time_total.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

/// The child's side: reports `streams`' status on stdout until the process is killed (or its
/// parent goes away, which closes the pipe).
pub async fn report_until_killed(streams: &KafkaStreams) {
    let mut stdout = std::io::stdout().lock();
    loop {
        let line = serde_json::to_string(&InstanceStatus::of(streams)).expect("a status is plain data");
        if writeln!(stdout, "{line}").and_then(|()| stdout.flush()).is_err() {
            return;
        }
        tokio::time::sleep(STATUS_INTERVAL).await;
    }
}

/// The parent's side: a child instance process and its latest status.
pub struct InstanceProcess {
    child: Child,
    latest: Arc<Mutex<Option<InstanceStatus>>>,
}

impl InstanceProcess {
    /// Runs this executable again with `args` (which must make it call [`report_until_killed`]).
    pub fn spawn(args: &[String]) -> std::io::Result<Self> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let latest = Arc::new(Mutex::new(None));
        let sink = Arc::clone(&latest);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(status) = serde_json::from_str::<InstanceStatus>(&line) {
                    *sink.lock().unwrap_or_else(|e| e.into_inner()) = Some(status);
                }
            }
        });
        Ok(Self { child, latest })
    }

    /// The child's last report (default before its first).
    pub fn status(&self) -> InstanceStatus {
        self.latest
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_default()
    }

    /// `kill -9`: nothing of the child runs after this returns.
    pub fn kill(&mut self) -> std::io::Result<()> {
        self.child.kill()?;
        self.child.wait().map(drop)
    }
}

impl Drop for InstanceProcess {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}
