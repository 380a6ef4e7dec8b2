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
//!
//! [`KafkaBroker::start_new_sasl_ssl`] adds a `SASL_SSL` listener as secured clusters have one:
//! TLS with a self-signed certificate for `127.0.0.1` made by the JDK's `keytool`, and
//! SCRAM-SHA-256 users written into the cluster metadata when the log directory is formatted
//! (`kafka-storage format --add-scram`). The plaintext listener stays, for the test's own setup.
//! The same listener takes SASL/OAUTHBEARER with Apache Kafka's unsecured token validator
//! (unsigned JWTs, as [`unsecured_token`] makes), and makes each session last only as long as
//! its token (`connections.max.reauth.ms`), so a client that does not refresh its token loses
//! its connections.

use std::fmt::Write as _;
use std::fs::File;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};

const STARTUP_TIMEOUT: Duration = Duration::from_secs(90);
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);
/// The JVM heap: enough for a test broker once the log cleaner's dedupe buffer is small.
const HEAP: &str = "-Xmx768m";

/// The keystore password of the test broker's self-signed certificate (test-only).
const KEYSTORE_PASSWORD: &str = "test-broker-keystore";

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
    sasl_ssl: Option<SaslSslListener>,
}

/// The broker's `SASL_SSL` listener: where it is, the CA certificate that verifies it, and the
/// SCRAM users it knows.
#[derive(Clone, Debug)]
pub struct SaslSslListener {
    bootstrap_servers: String,
    ca_location: PathBuf,
    port: u16,
    users: Vec<(String, String)>,
}

impl SaslSslListener {
    /// `bootstrap.servers` of the secured listener.
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap_servers
    }

    /// The PEM file of the (self-signed) certificate the listener presents, for `ssl.ca.location`.
    pub fn ca_location(&self) -> &Path {
        &self.ca_location
    }

    /// The cluster as a client logging in as `user` with `password` over SASL_SSL/SCRAM-SHA-256
    /// sees it (the certificate verified against [`Self::ca_location`], host name included).
    pub fn cluster(&self, user: &str, password: &str) -> crate::kafka::KafkaCluster {
        self.with_mechanism("SCRAM-SHA-256")
            .with_property("sasl.username", user)
            .with_property("sasl.password", password)
    }

    /// The cluster as a client authenticating over SASL_SSL/OAUTHBEARER with tokens from
    /// `provider` sees it (the broker accepts [`unsecured_token`]s).
    pub fn oauth_cluster(&self, provider: impl crate::kafka::TokenProvider) -> crate::kafka::KafkaCluster {
        self.with_mechanism("OAUTHBEARER").with_token_provider(provider)
    }

    /// This listener over SASL_SSL with SASL `mechanism`, its certificate verified.
    fn with_mechanism(&self, mechanism: &str) -> crate::kafka::KafkaCluster {
        crate::kafka::KafkaCluster::remote(&self.bootstrap_servers)
            .with_property("security.protocol", "SASL_SSL")
            .with_property("sasl.mechanism", mechanism)
            .with_property("ssl.ca.location", self.ca_location.display().to_string())
    }
}

/// An unsigned JWT (`"alg":"none"`) naming `principal`, valid from now for `lifetime`: what
/// Apache Kafka's default (unsecured, development-only) OAUTHBEARER validator accepts.
pub fn unsecured_token(principal: &str, lifetime: Duration) -> crate::kafka::OAuthToken {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let expires = now + lifetime;
    let claims = serde_json::json!({
        "sub": principal,
        "iat": now.as_secs_f64(),
        "exp": expires.as_secs_f64(),
    });
    crate::kafka::OAuthToken {
        token: format!(
            "{}.{}.",
            base64url(br#"{"alg":"none"}"#),
            base64url(claims.to_string().as_bytes())
        ),
        principal_name: principal.to_owned(),
        expires_at_ms: expires.as_millis() as i64,
    }
}

/// Base64url without padding (RFC 4648 §5), as JWTs encode their parts.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

impl KafkaBroker {
    /// Formats a fresh log directory, starts the broker and waits until it answers metadata.
    pub fn start_new() -> Result<Self> {
        Self::start_with(None)
    }

    /// Like [`start_new`](Self::start_new), with a `SASL_SSL` listener beside the plaintext one
    /// whose SCRAM-SHA-256 users are `users` (name, password); see [`Self::sasl_ssl`].
    pub fn start_new_sasl_ssl(users: &[(&str, &str)]) -> Result<Self> {
        let users = users.iter().map(|(u, p)| ((*u).to_owned(), (*p).to_owned())).collect();
        Self::start_with(Some(users))
    }

    fn start_with(sasl_users: Option<Vec<(String, String)>>) -> Result<Self> {
        let libs = find_libs()?;
        let dir = unique_dir()?;
        let [broker_port, controller_port, sasl_ssl_port] = free_ports()?;
        std::fs::create_dir_all(dir.join("data"))
            .map_err(|e| Error::io(format!("failed to create `{}`", dir.display()), e))?;
        let sasl_ssl = match sasl_users {
            Some(users) => {
                let port = sasl_ssl_port;
                let ca_location = make_certificate(&dir)?;
                Some(SaslSslListener {
                    bootstrap_servers: format!("127.0.0.1:{port}"),
                    ca_location,
                    port,
                    users,
                })
            }
            None => None,
        };
        let properties = server_properties(&dir, broker_port, controller_port, sasl_ssl.as_ref());
        std::fs::write(dir.join("server.properties"), properties)
            .map_err(|e| Error::io("failed to write the broker's server.properties", e))?;
        let mut broker = Self {
            libs,
            dir,
            broker_port,
            bootstrap_servers: format!("127.0.0.1:{broker_port}"),
            child: None,
            starts: 0,
            sasl_ssl,
        };
        broker.format()?;
        broker.start()?;
        Ok(broker)
    }

    /// The `SASL_SSL` listener, if the broker was started with one.
    pub fn sasl_ssl(&self) -> Option<&SaslSslListener> {
        self.sasl_ssl.as_ref()
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
            .args(
                self.sasl_ssl
                    .iter()
                    .flat_map(|l| &l.users)
                    .flat_map(|(user, password)| {
                        [
                            "--add-scram".to_owned(),
                            format!("SCRAM-SHA-256=[name={user},password={password}]"),
                        ]
                    }),
            )
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
        crate::kafka::answers_metadata(self.bootstrap_servers())
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
fn server_properties(dir: &Path, broker_port: u16, controller_port: u16, sasl_ssl: Option<&SaslSslListener>) -> String {
    let mut p = String::new();
    let mut set = |k: &str, v: &str| {
        let _ = writeln!(p, "{k}={v}");
    };
    set("process.roles", "broker,controller");
    set("node.id", "1");
    set("controller.quorum.voters", &format!("1@127.0.0.1:{controller_port}"));
    let secured = sasl_ssl
        .map(|l| format!(",SASL_SSL://127.0.0.1:{}", l.port))
        .unwrap_or_default();
    set(
        "listeners",
        &format!("PLAINTEXT://127.0.0.1:{broker_port},CONTROLLER://127.0.0.1:{controller_port}{secured}"),
    );
    set(
        "advertised.listeners",
        &format!("PLAINTEXT://127.0.0.1:{broker_port}{secured}"),
    );
    set("controller.listener.names", "CONTROLLER");
    set("inter.broker.listener.name", "PLAINTEXT");
    set(
        "listener.security.protocol.map",
        "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL",
    );
    if sasl_ssl.is_some() {
        set("sasl.enabled.mechanisms", "SCRAM-SHA-256,OAUTHBEARER");
        set(
            "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config",
            "org.apache.kafka.common.security.scram.ScramLoginModule required;",
        );
        // No callback handler configured: Kafka validates unsigned JWTs (its unsecured
        // validator). A positive max re-auth makes a session end when its token expires.
        set(
            "listener.name.sasl_ssl.oauthbearer.sasl.jaas.config",
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;",
        );
        set(
            "listener.name.sasl_ssl.oauthbearer.connections.max.reauth.ms",
            "3600000",
        );
        set("ssl.keystore.location", &dir.join("broker.p12").display().to_string());
        set("ssl.keystore.type", "PKCS12");
        set("ssl.keystore.password", KEYSTORE_PASSWORD);
        set("ssl.key.password", KEYSTORE_PASSWORD);
    }
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

/// Makes the broker's key and self-signed certificate for `127.0.0.1` in `dir/broker.p12` with
/// the JDK's `keytool`, and exports the certificate as PEM (`dir/ca.pem`, returned) for clients.
fn make_certificate(dir: &Path) -> Result<PathBuf> {
    let keytool = std::env::var_os("JAVA_HOME")
        .map(|home| Path::new(&home).join("bin").join("keytool"))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("keytool"));
    let keystore = dir.join("broker.p12");
    let ca = dir.join("ca.pem");
    let store = [
        "-keystore",
        &keystore.display().to_string(),
        "-storetype",
        "PKCS12",
        "-storepass",
        KEYSTORE_PASSWORD,
    ]
    .map(str::to_owned);
    let steps: [Vec<String>; 2] = [
        [
            "-genkeypair",
            "-alias",
            "broker",
            "-keyalg",
            "RSA",
            "-keysize",
            "2048",
            "-validity",
            "7",
        ]
        .into_iter()
        .chain([
            "-dname",
            "CN=127.0.0.1",
            "-ext",
            "SAN=IP:127.0.0.1,DNS:localhost",
            "-keypass",
            KEYSTORE_PASSWORD,
        ])
        .chain(["-noprompt"])
        .map(str::to_owned)
        .chain(store.iter().cloned())
        .collect(),
        [
            "-exportcert",
            "-rfc",
            "-alias",
            "broker",
            "-file",
            &ca.display().to_string(),
        ]
        .map(str::to_owned)
        .into_iter()
        .chain(store.iter().cloned())
        .collect(),
    ];
    for args in steps {
        let output = Command::new(&keytool)
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Error::io("failed to run the JDK's `keytool` (JAVA_HOME or PATH?)", e))?;
        if !output.status.success() {
            return Err(Error::new(
                ErrorKind::Io,
                format!(
                    "`keytool {}` failed ({}): {}{}",
                    args[0],
                    output.status,
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                ),
            ));
        }
    }
    Ok(ca)
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
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&next().to_be_bytes());
    bytes[8..].copy_from_slice(&next().to_be_bytes());
    base64url(&bytes)
}

/// `N` free loopback ports, all different: each is held until every one is found (ports asked
/// for one after the other can come back equal — the broker and controller listeners once got
/// the same port, and Kafka refused to start).
fn free_ports<const N: usize>() -> Result<[u16; N]> {
    let listeners = (0..N)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| Error::io("failed to find a free loopback port", e))?;
    let mut ports = [0; N];
    for (port, listener) in ports.iter_mut().zip(&listeners) {
        *port = listener
            .local_addr()
            .map_err(|e| Error::io("failed to find a free loopback port", e))?
            .port();
    }
    Ok(ports)
}

#[cfg(test)]
mod tests {
    use super::{base64_uuid, base64url};

    #[test]
    fn base64url_matches_rfc_4648_without_padding() {
        for (input, encoded) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64url(input.as_bytes()), encoded);
        }
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }

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
