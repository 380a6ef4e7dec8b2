//! The exclusive lock an instance holds on `<state.dir>/<application.id>/.lock` while it runs.
//!
//! Two instances on one state directory would share the process id kept there (so one
//! `transactional.id`: they fence each other in turn) and each would wipe the stores the other
//! writes. Kafka Streams' `StateDirectory` locks the directory the same way and refuses to start;
//! so do we, naming the process that holds it. The lock is an OS file lock (`flock`): it goes when
//! its holder exits, even by `kill -9`, so a crash never leaves a stale lock behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result, report};

const FILE: &str = ".lock";

/// How long a start waits for a holder in this process that is still stopping (an instance
/// dropped without `close`, whose threads finish their last commit).
const WAIT_FOR_STOPPING_HOLDER: Duration = Duration::from_secs(5);

/// Held for the life of an instance; dropping it releases the directory.
#[derive(Debug)]
pub(crate) struct StateDirLock {
    _file: File,
}

/// Locks `<state_dir>/<application_id>`, creating it, or explains who holds it.
pub(crate) fn acquire(state_dir: &Path, application_id: &str) -> Result<StateDirLock> {
    acquire_within(state_dir, application_id, WAIT_FOR_STOPPING_HOLDER)
}

fn acquire_within(state_dir: &Path, application_id: &str, wait: Duration) -> Result<StateDirLock> {
    let dir = state_dir.join(application_id);
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::io(format!("failed to create state directory `{}`", dir.display()), e))?;
    let path = dir.join(FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Error::io(format!("failed to open `{}`", path.display()), e))?;
    let deadline = Instant::now() + wait;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(TryLockError::WouldBlock) => return Err(in_use(&mut file, &dir, &path, application_id)),
            Err(TryLockError::Error(e)) => {
                return Err(Error::io(format!("failed to lock `{}`", path.display()), e));
            }
        }
    }
    // The holder's pid, for the message another instance prints; the lock itself is the flock.
    let pid = std::process::id().to_string();
    let written = file
        .set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| file.write_all(pid.as_bytes()));
    if let Err(e) = written {
        tracing::warn!(path = %path.display(), error = %report(&e), "could not record this process in the state directory lock");
    }
    Ok(StateDirLock { _file: file })
}

fn in_use(file: &mut File, dir: &Path, path: &Path, application_id: &str) -> Error {
    let mut holder = String::new();
    let _ = file.read_to_string(&mut holder);
    let holder = match holder.trim() {
        "" => String::new(),
        pid => format!(" (process {pid})"),
    };
    Error::new(
        ErrorKind::Config,
        format!(
            "state directory `{}` of application `{application_id}` is in use by another instance{holder}, \
             which holds `{}`; two instances on one state.dir would fence each other's transactions and \
             wipe each other's stores: give each instance its own state.dir",
            dir.display(),
            path.display()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = acquire(dir.path(), "app").expect("first lock");
        let refused = acquire_within(dir.path(), "app", Duration::ZERO).expect_err("second lock");
        assert_eq!(refused.kind(), ErrorKind::Config);
        let message = refused.report().to_string();
        assert!(message.contains("is in use by another instance"), "{message}");
        assert!(
            message.contains(&format!("process {}", std::process::id())),
            "{message}"
        );
        assert!(
            acquire(dir.path(), "other-app").is_ok(),
            "another application's directory is free"
        );
        drop(first);
        acquire(dir.path(), "app").expect("free again once dropped");
    }
}
