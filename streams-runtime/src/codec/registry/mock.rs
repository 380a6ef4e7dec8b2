//! An in-process registry for tests: the test driver's default, and any `mock://<scope>` URL.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use super::{RegistryClient, RegistryError, Schema};

/// A Schema Registry in memory. Identical schemas get one id (as in Confluent's registry); a
/// subject lists its versions in registration order. It checks no compatibility. For fault
/// injection, [`set_unavailable`](Self::set_unavailable) makes every request fail as a
/// registry outage does.
#[derive(Debug, Default)]
pub struct MockSchemaRegistry {
    state: Mutex<State>,
    unavailable: AtomicBool,
}

#[derive(Debug, Default)]
struct State {
    schemas: Vec<Schema>,
    ids: HashMap<Schema, u32>,
    subjects: BTreeMap<String, Vec<u32>>,
}

impl MockSchemaRegistry {
    /// A fresh, empty registry.
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// The registry of `scope`, shared by everything in this process that names it (a
    /// `schema.registry.url` of `mock://<scope>`); created empty on first use.
    pub fn scope(scope: &str) -> Arc<Self> {
        static SCOPES: OnceLock<Mutex<HashMap<String, Arc<MockSchemaRegistry>>>> = OnceLock::new();
        let mut scopes = SCOPES
            .get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Arc::clone(scopes.entry(scope.to_owned()).or_default())
    }

    /// Makes every request fail as unavailable (`true`) or answer again (`false`).
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    /// The subjects with at least one version.
    pub fn subjects(&self) -> Vec<String> {
        self.lock().subjects.keys().cloned().collect()
    }

    /// The ids of a subject's versions, oldest first.
    pub fn versions(&self, subject: &str) -> Vec<u32> {
        self.lock().subjects.get(subject).cloned().unwrap_or_default()
    }

    /// The latest version of `subject`: its id and schema.
    pub fn latest(&self, subject: &str) -> Option<(u32, Schema)> {
        let state = self.lock();
        let id = *state.subjects.get(subject)?.last()?;
        Some((id, state.schemas[(id - 1) as usize].clone()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn check_available(&self) -> Result<(), RegistryError> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(RegistryError::Unavailable {
                url: "mock://".to_owned(),
                reason: "the mock registry was made unavailable".to_owned(),
            });
        }
        Ok(())
    }
}

impl RegistryClient for MockSchemaRegistry {
    fn register(&self, subject: &str, schema: &Schema) -> Result<u32, RegistryError> {
        self.check_available()?;
        let mut state = self.lock();
        let id = match state.ids.get(schema) {
            Some(&id) => id,
            None => {
                state.schemas.push(schema.clone());
                let id = u32::try_from(state.schemas.len()).unwrap_or(u32::MAX);
                state.ids.insert(schema.clone(), id);
                id
            }
        };
        let versions = state.subjects.entry(subject.to_owned()).or_default();
        if !versions.contains(&id) {
            versions.push(id);
        }
        Ok(id)
    }

    fn schema_by_id(&self, id: u32) -> Result<Schema, RegistryError> {
        self.check_available()?;
        let state = self.lock();
        id.checked_sub(1)
            .and_then(|i| state.schemas.get(i as usize))
            .cloned()
            .ok_or_else(|| RegistryError::Refused {
                url: "mock://".to_owned(),
                reason: format!("schema {id} not found"),
            })
    }
}
