//! The instance's process id, kept in `<state.dir>/<application.id>/kafka-streams-process-metadata`
//! as Kafka Streams does, so it survives restarts (it names the transactional producers).

use std::path::Path;

use crate::error::{Error, Result};

const FILE: &str = "kafka-streams-process-metadata";

pub(crate) fn load_or_create(state_dir: &Path, application_id: &str) -> Result<String> {
    let dir = state_dir.join(application_id);
    let path = dir.join(FILE);
    if let Ok(text) = std::fs::read_to_string(&path)
        && let Ok(value) = serde_json::from_str::<serde_json::Value>(&text)
        && let Some(id) = value.get("processId").and_then(|v| v.as_str())
        && !id.is_empty()
    {
        return Ok(id.to_owned());
    }
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::io(format!("failed to create state directory `{}`", dir.display()), e))?;
    let id = new_id();
    let body = serde_json::json!({ "version": 1, "processId": id }).to_string();
    std::fs::write(&path, body).map_err(|e| Error::io(format!("failed to write `{}`", path.display()), e))?;
    Ok(id)
}

/// 128 bits from the clock, the pid and std's randomly seeded hasher, hex-encoded.
fn new_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    format!("{:016x}{:016x}", hasher.finish(), nanos as u64)
}
