/// How a store is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    /// One value per key.
    KeyValue,
    /// One value per (key, window start).
    Window {
        /// How long a window is kept after it starts, in milliseconds.
        retention_ms: i64,
    },
    /// One value per (key, session).
    Session {
        /// How long a session is kept after it ends, in milliseconds.
        retention_ms: i64,
    },
}

/// Where a store keeps its data locally.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StoreBackend {
    /// RocksDB under `<state.dir>/<application.id>/<task>/rocksdb/<store>`; survives restarts.
    #[default]
    RocksDb,
    /// Memory only; rebuilt from the changelog on every start.
    InMemory,
}

/// A store declared by a topology.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreSpec {
    /// User-given name; also names the changelog topic.
    pub name: String,
    /// Layout.
    pub kind: StoreKind,
    /// Local storage.
    pub backend: StoreBackend,
    /// Whether writes go to a changelog topic (needed for fault tolerance).
    pub logged: bool,
}
