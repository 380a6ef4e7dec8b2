//! An Apache Kafka broker process for tests: single-node KRaft (broker and controller in one
//! JVM) on free loopback ports, with its own log directory.
//!
//! `scripts/setup.sh` installs the broker's jars from Maven Central into
//! `$STREAMS_KAFKA_HOME/libs` (`scripts/env.sh` pins the version and the directory). The broker is
//! formatted once per log directory; [`KafkaBroker::stop`] and [`KafkaBroker::start`] keep the
//! directory and the ports, so an outage test restarts the same broker with the same data and
//! clients reconnect to the address they already know.
//!
//! Sized for a 2-core test machine: a 768 MiB heap, 5 partitions for `__consumer_offsets` and
//! `__transaction_state`, replication factor 1, no initial rebalance delay.

use std::fmt::Write as _;
use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

use crate::error::{Error, ErrorKind, Result};

const STARTUP_TIMEOUT: Duration = Duration::from_secs(90);
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);
/// The JVM heap: enough for a test broker once the log cleaner's dedupe buffer is small.
const HEAP: &str = "-Xmx768m";

/// A single-node Apache Kafka broker process; killed and its log directory removed on drop (its
/// log is kept beside it when the drop happens in a failing test).
#[derive(Debug)]
pub struct KafkaBroker {
    libs: PathBuf,
    dir: PathBuf,
    broker_port: u16,
    bootstrap_servers: String,
    child: Option<Child>,
    starts: u32,
}

impl KafkaBroker {
    /// Formats a fresh log directory, starts the broker and waits until it answers metadata.
    pub fn start_new() -> Result<Self> {
        let libs = find_libs()?;
        let dir = unique_dir()?;
        let broker_port = free_port()?;
        let controller_port = free_port()?;
        std::fs::create_dir_all(dir.join("data"))
            .map_err(|e| Error::io(format!("failed to create `{}`", dir.display()), e))?;
        let properties = server_properties(&dir, broker_port, controller_port);
        std::fs::write(dir.join("server.properties"), properties)
            .map_err(|e| Error::io("failed to write the broker's server.properties", e))?;
        let mut broker = Self {
            libs,
            dir,
            broker_port,
            bootstrap_servers: format!("127.0.0.1:{broker_port}"),
            child: None,
            starts: 0,
        };
        broker.format()?;
        broker.start()?;
        Ok(broker)
    }

    /// The `bootstrap.servers` string of this broker (the same across restarts).
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap_servers
    }

    /// Whether the broker process is running.
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Starts the broker again on the same log directory and ports (a no-op when it runs), and
    /// waits until it answers metadata.
    pub fn start(&mut self) -> Result<()> {
        if self.child.is_some() {
            return Ok(());
        }
        self.starts += 1;
        let log_path = self.log_path();
        let log = File::options()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| Error::io(format!("failed to open `{}`", log_path.display()), e))?;
        let log_err = log
            .try_clone()
            .map_err(|e| Error::io("failed to duplicate the broker log handle", e))?;
        let started = Instant::now();
        let child = self
            .java()
            .args(["-Xms256m", HEAP, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"])
            .arg("kafka.Kafka")
            .arg(self.dir.join("server.properties"))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| Error::io("failed to start the Kafka broker (`java` on PATH or JAVA_HOME?)", e))?;
        self.child = Some(child);
        self.wait_until_ready()?;
        tracing::info!(
            bootstrap_servers = %self.bootstrap_servers(),
            start = self.starts,
            ready_after_ms = started.elapsed().as_millis() as u64,
            rss_mib = self.rss_kib().map(|k| k / 1024),
            "Apache Kafka broker ready"
        );
        Ok(())
    }

    /// Stops the broker (SIGTERM, a controlled shutdown; SIGKILL after 30 s), keeping its log
    /// directory for [`KafkaBroker::start`].
    pub fn stop(&mut self) -> Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let deadline = Instant::now() + SHUTDOWN_TIMEOUT;
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
            }
        }
        tracing::info!(bootstrap_servers = %self.bootstrap_servers(), "Apache Kafka broker stopped");
        Ok(())
    }

    /// Kills the broker with SIGKILL (no controlled shutdown), keeping its log directory.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Everything the broker has logged so far (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The last `lines` lines of the broker's log.
    pub fn log_tail(&self, lines: usize) -> String {
        let log = self.log();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// The resident set size of the broker process in KiB, if it runs.
    pub fn rss_kib(&self) -> Option<u64> {
        let pid = self.child.as_ref()?.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("broker.log")
    }

    fn java(&self) -> Command {
        let java = std::env::var_os("JAVA_HOME")
            .map(|home| Path::new(&home).join("bin").join("java"))
            .filter(|p| p.is_file())
            .unwrap_or_else(|| PathBuf::from("java"));
        let mut command = Command::new(java);
        command.arg("-cp").arg(format!("{}/*", self.libs.display()));
        command
    }

    fn format(&self) -> Result<()> {
        // URL-safe base64 may start with '-', which the tool's argument parser takes for an option
        // (seen: "argument --cluster-id/-t: expected one argument"): such ids are drawn again.
        let cluster_id = std::iter::repeat_with(base64_uuid)
            .find(|id| !id.starts_with('-'))
            .unwrap_or_default();
        let output = self
            .java()
            .args([
                "-Xmx256m",
                "-XX:TieredStopAtLevel=1",
                "kafka.tools.StorageTool",
                "format",
            ])
            .arg(format!("--cluster-id={cluster_id}"))
            .arg("-c")
            .arg(self.dir.join("server.properties"))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Error::io("failed to run Kafka's StorageTool (`java` on PATH or JAVA_HOME?)", e))?;
        if output.status.success() {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::Io,
            format!(
                "formatting the Kafka log directory failed ({}):\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        ))
    }

    fn wait_until_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let addr = SocketAddr::from(([127, 0, 0, 1], self.broker_port));
        loop {
            let exited = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = exited {
                self.child = None;
                return Err(Error::new(
                    ErrorKind::Io,
                    format!(
                        "the Kafka broker exited during start-up ({status}); its log ends:\n{}",
                        self.log_tail(40)
                    ),
                ));
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() && self.answers_metadata() {
                return Ok(());
            }
            if Instant::now() > deadline {
                self.kill();
                return Err(Error::new(
                    ErrorKind::Io,
                    format!(
                        "the Kafka broker did not answer on {addr} within {STARTUP_TIMEOUT:?}; its log ends:\n{}",
                        self.log_tail(40)
                    ),
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn answers_metadata(&self) -> bool {
        let consumer: Option<BaseConsumer> = ClientConfig::new()
            .set("bootstrap.servers", self.bootstrap_servers())
            .create()
            .ok();
        consumer.is_some_and(|c| {
            c.fetch_metadata(None, Duration::from_secs(2))
                .is_ok_and(|m| !m.brokers().is_empty())
        })
    }
}

impl Drop for KafkaBroker {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            // A failing test: keep the broker's log for the post-mortem (the data goes).
            let kept = self.dir.with_extension("broker.log");
            if std::fs::copy(self.log_path(), &kept).is_ok() {
                eprintln!("the Kafka broker's log is kept at {}", kept.display());
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The broker's configuration: KRaft combined mode with a static one-voter quorum, loopback
/// listeners, and internal topics sized for one node. (Java properties: comments on their own
/// line only.)
fn server_properties(dir: &Path, broker_port: u16, controller_port: u16) -> String {
    let mut p = String::new();
    let mut set = |k: &str, v: &str| {
        let _ = writeln!(p, "{k}={v}");
    };
    set("process.roles", "broker,controller");
    set("node.id", "1");
    set("controller.quorum.voters", &format!("1@127.0.0.1:{controller_port}"));
    set(
        "listeners",
        &format!("PLAINTEXT://127.0.0.1:{broker_port},CONTROLLER://127.0.0.1:{controller_port}"),
    );
    set("advertised.listeners", &format!("PLAINTEXT://127.0.0.1:{broker_port}"));
    set("controller.listener.names", "CONTROLLER");
    set("inter.broker.listener.name", "PLAINTEXT");
    set(
        "listener.security.protocol.map",
        "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    );
    set("log.dirs", &dir.join("data").display().to_string());
    set("num.partitions", "1");
    set("offsets.topic.replication.factor", "1");
    set("offsets.topic.num.partitions", "5");
    set("transaction.state.log.replication.factor", "1");
    set("transaction.state.log.min.isr", "1");
    set("transaction.state.log.num.partitions", "5");
    set("share.coordinator.state.topic.replication.factor", "1");
    set("share.coordinator.state.topic.min.isr", "1");
    set("group.initial.rebalance.delay.ms", "0");
    set("log.cleaner.dedupe.buffer.size", "2097152");
    // Tests replay fixed historical timestamps (e.g. 2024): with the default 7-day retention the
    // broker would delete their records within a minute of start-up. Topics that set their own
    // `retention.ms` (window changelogs) still expire by it.
    set("log.retention.ms", "-1");
    set("num.network.threads", "2");
    set("num.io.threads", "4");
    p
}

/// The jar directory: `$STREAMS_KAFKA_HOME/libs`, else the newest install under
/// `~/.cache/streams-rs/` (where `scripts/setup.sh` puts it).
fn find_libs() -> Result<PathBuf> {
    if let Some(home) = std::env::var_os("STREAMS_KAFKA_HOME") {
        let libs = Path::new(&home).join("libs");
        if libs.join(".complete").is_file() {
            return Ok(libs);
        }
    }
    let cache = std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache").join("streams-rs"));
    let mut installs: Vec<PathBuf> = cache
        .and_then(|c| std::fs::read_dir(c).ok())
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("kafka-"))
                && p.join("libs/.complete").is_file()
        })
        .collect();
    installs.sort();
    installs.pop().map(|p| p.join("libs")).ok_or_else(|| {
        Error::new(
            ErrorKind::Io,
            "Apache Kafka is not installed for tests; run `scripts/setup.sh` (it resolves the broker \
             from Maven Central into ~/.cache/streams-rs/kafka-<version>) or set STREAMS_KAFKA_HOME",
        )
    })
}

fn unique_dir() -> Result<PathBuf> {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("streams-kafka-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(dir)
}

/// A random 16-byte id in URL-safe base64 without padding (22 characters), as `StorageTool
/// random-uuid` prints, without a second JVM start.
fn base64_uuid() -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
        ^ (u128::from(std::process::id()) << 64);
    // splitmix64 over the seed: uniqueness, not secrecy, is what a test cluster id needs.
    // A counter too, so two ids drawn within one clock tick differ.
    static DRAWS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let draw = DRAWS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut state = seed as u64 ^ (seed >> 64) as u64 ^ draw.wrapping_mul(0xD6E8_FEB8_6659_FD93);
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut bytes = [0u8; 18];
    bytes[..8].copy_from_slice(&next().to_be_bytes());
    bytes[8..16].copy_from_slice(&next().to_be_bytes());
    // Base64 of 16 bytes: five 3-byte groups and one lone byte (2 characters, no padding); the
    // two zero bytes past the end stand in for the missing input.
    bytes
        .chunks(3)
        .flat_map(|c| {
            let group = (u32::from(c[0]) << 16) | (u32::from(c[1]) << 8) | u32::from(c[2]);
            (0..4).map(move |i| ALPHABET[((group >> (18 - 6 * i)) & 0x3f) as usize] as char)
        })
        .take(22)
        .collect()
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| Error::io("failed to find a free loopback port", e))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| Error::io("failed to read a bound port", e))
}

#[cfg(test)]
mod tests {
    use super::base64_uuid;

    #[test]
    fn cluster_ids_are_22_url_safe_base64_characters_and_differ() {
        let ids: Vec<String> = (0..1_000).map(|_| base64_uuid()).collect();
        for id in &ids {
            assert_eq!(id.len(), 22, "{id}");
            assert!(
                id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{id}"
            );
        }
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
    }
}
