//! Typed access to the store partitions of the tasks an instance runs (also the test driver's).

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, ErrorKind, Result};
use crate::state::{KeyValueStore, SessionStore, SharedStore, StoreKind, WindowStore};
use crate::task::StoreRegistry;
use crate::topology::Topology;

/// The stores registered by an instance's open tasks, checked against the topology.
pub(crate) struct LocalStores<'a> {
    pub(crate) topology: &'a Topology,
    pub(crate) registry: &'a StoreRegistry,
    pub(crate) globals: &'a std::collections::HashMap<String, SharedStore>,
}

impl LocalStores<'_> {
    /// The local partitions of key-value store `name`, keyed by partition; a global table's
    /// store is its one full copy, as partition 0.
    pub(crate) fn key_value_store<K, V>(&self, name: &str) -> Result<Vec<(i32, KeyValueStore<K, V>)>>
    where
        K: Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned,
    {
        if let Some(store) = self.globals.get(name) {
            return Ok(vec![(0, KeyValueStore::new(SharedStore::clone(store)))]);
        }
        self.expect_store(name, |kind| matches!(kind, StoreKind::KeyValue), "key-value")?;
        Ok(self
            .local_partitions(name)
            .into_iter()
            .map(|(p, s)| (p, KeyValueStore::new(s)))
            .collect())
    }

    /// The local partitions of window store `name`, keyed by partition.
    pub(crate) fn window_store<K, V>(&self, name: &str, window_size_ms: i64) -> Result<Vec<(i32, WindowStore<K, V>)>>
    where
        K: Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned,
    {
        self.expect_store(name, |kind| matches!(kind, StoreKind::Window { .. }), "window")?;
        Ok(self
            .local_partitions(name)
            .into_iter()
            .map(|(p, s)| (p, WindowStore::new(s, window_size_ms)))
            .collect())
    }

    /// The local partitions of session store `name`, keyed by partition.
    pub(crate) fn session_store<K, V>(&self, name: &str) -> Result<Vec<(i32, SessionStore<K, V>)>>
    where
        K: Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned,
    {
        self.expect_store(name, |kind| matches!(kind, StoreKind::Session { .. }), "session")?;
        Ok(self
            .local_partitions(name)
            .into_iter()
            .map(|(p, s)| (p, SessionStore::new(s)))
            .collect())
    }

    fn expect_store(&self, name: &str, matches: impl Fn(StoreKind) -> bool, expected: &str) -> Result<()> {
        match self.topology.stores().find(|(spec, _)| spec.name == name) {
            Some((spec, _)) if matches(spec.kind) => Ok(()),
            Some((spec, _)) => Err(Error::new(
                ErrorKind::State,
                format!("store `{name}` is a {:?} store, not a {expected} store", spec.kind),
            )),
            None => {
                let known: Vec<_> = self.topology.stores().map(|(s, _)| format!("`{}`", s.name)).collect();
                Err(Error::new(
                    ErrorKind::State,
                    format!("no store named `{name}`; this topology has: {}", known.join(", ")),
                ))
            }
        }
    }

    fn local_partitions(&self, name: &str) -> Vec<(i32, SharedStore)> {
        let registry = self.registry.read().unwrap_or_else(|e| e.into_inner());
        let mut stores: Vec<_> = registry
            .iter()
            .filter(|((n, _), _)| n == name)
            .map(|((_, p), s)| (*p, Arc::clone(s)))
            .collect();
        stores.sort_by_key(|(p, _)| *p);
        stores
    }
}
