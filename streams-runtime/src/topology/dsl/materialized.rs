use crate::state::StoreBackend;

/// How an aggregation's result is stored: its (required) name, backend and changelogging.
///
/// Store names come from the user, never from a node's position, so editing a topology does not
/// orphan state; the name also names the changelog topic `<application.id>-<name>-changelog`.
#[derive(Clone, Debug)]
pub struct Materialized {
    pub(crate) name: String,
    pub(crate) backend: StoreBackend,
    pub(crate) logged: bool,
    /// Window stores: how long windows are kept after they start (default: one day, and at
    /// least size + grace).
    pub(crate) retention_ms: Option<i64>,
}

impl Materialized {
    /// A RocksDB store named `name`, backed by a changelog topic.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            backend: StoreBackend::RocksDb,
            logged: true,
            retention_ms: None,
        }
    }

    /// For a window store: keep each window for `retention` after it starts (then it is deleted
    /// locally and tombstoned in the changelog); at least the window size plus grace.
    #[must_use]
    pub fn with_retention(mut self, retention: std::time::Duration) -> Self {
        self.retention_ms = Some(i64::try_from(retention.as_millis()).unwrap_or(i64::MAX));
        self
    }

    /// Keeps the store in memory (restored from the changelog on every start).
    #[must_use]
    pub fn in_memory(mut self) -> Self {
        self.backend = StoreBackend::InMemory;
        self
    }

    /// Disables the changelog: the store is lost with the local state directory.
    #[must_use]
    pub fn without_logging(mut self) -> Self {
        self.logged = false;
        self
    }
}

impl From<&str> for Materialized {
    fn from(name: &str) -> Self {
        Self::named(name)
    }
}
