//! A tansu broker process for multi-process tests.

use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

use crate::error::{Error, ErrorKind, Result};

/// The tansu version the harness and `scripts/setup.sh` agree on.
pub const TANSU_VERSION: &str = "0.6.0";

const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// A tansu broker with in-memory storage, listening on a free loopback port.
///
/// The process is killed when this value is dropped.
#[derive(Debug)]
pub struct TansuBroker {
    child: Child,
    bootstrap_servers: String,
    log_path: PathBuf,
}

impl TansuBroker {
    /// Finds the tansu binary (`$TANSU_BIN`, `PATH`, then `~/.cargo/bin`), starts it and waits
    /// until it answers a metadata request.
    pub fn start() -> Result<Self> {
        let binary = find_binary()?;
        let port = free_port()?;
        let url = format!("tcp://127.0.0.1:{port}");
        let log_path = std::env::temp_dir().join(format!("tansu-{}-{port}.log", std::process::id()));
        let log =
            File::create(&log_path).map_err(|e| Error::io(format!("failed to create `{}`", log_path.display()), e))?;
        let log_err = log
            .try_clone()
            .map_err(|e| Error::io("failed to duplicate the tansu log handle", e))?;
        let child = Command::new(&binary)
            .args(["broker", "--listener-url", &url, "--advertised-listener-url", &url])
            .args(["--storage-engine", "memory://tansu/"])
            .env(
                "RUST_LOG",
                std::env::var("TANSU_LOG").unwrap_or_else(|_| "warn".to_owned()),
            )
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| Error::io(format!("failed to start `{}`", binary.display()), e))?;
        let mut broker = Self {
            child,
            bootstrap_servers: format!("127.0.0.1:{port}"),
            log_path,
        };
        broker.wait_until_ready()?;
        Ok(broker)
    }

    /// The `bootstrap.servers` string of this broker.
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap_servers
    }

    /// Everything the broker has logged so far (useful in assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    fn wait_until_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let addr: SocketAddr = self
            .bootstrap_servers
            .parse()
            .map_err(|_| Error::new(ErrorKind::Io, format!("bad tansu address `{}`", self.bootstrap_servers)))?;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!("tansu exited during start-up ({status}); its log:\n{}", self.log()),
                ));
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() && self.answers_metadata() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!(
                        "tansu did not answer on {addr} within {STARTUP_TIMEOUT:?}; its log:\n{}",
                        self.log()
                    ),
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn answers_metadata(&self) -> bool {
        let consumer: Option<BaseConsumer> = ClientConfig::new()
            .set("bootstrap.servers", &self.bootstrap_servers)
            .create()
            .ok();
        consumer.is_some_and(|c| c.fetch_metadata(None, Duration::from_secs(2)).is_ok())
    }
}

impl Drop for TansuBroker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log_path);
    }
}

fn find_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("TANSU_BIN") {
        return Ok(PathBuf::from(path));
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")));
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .chain(cargo_home.map(|home| home.join("bin")))
        .map(|dir| dir.join("tansu"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Io,
                format!(
                    "tansu {TANSU_VERSION} is not installed; run `scripts/setup.sh --tansu` \
                     (or set TANSU_BIN to its path)"
                ),
            )
        })
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| Error::io("failed to find a free loopback port", e))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| Error::io("failed to read a bound port", e))
}
