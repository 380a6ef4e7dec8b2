//! The place a topology's codecs find their registry once the runtime has connected it.

use std::sync::{Arc, OnceLock};

use super::{RegistryError, SchemaRegistry};

/// A registry to be connected when the topology starts: handed to codecs while the topology
/// is built ([`StreamsBuilder::schema_registry`](crate::topology::StreamsBuilder::schema_registry)),
/// filled by the runtime from `schema.registry.url` (or by the test driver with a mock).
#[derive(Clone, Debug, Default)]
pub struct SchemaRegistrySlot(Arc<OnceLock<SchemaRegistry>>);

impl SchemaRegistrySlot {
    /// A slot already holding `registry`: for codecs used outside a topology.
    pub fn connected(registry: SchemaRegistry) -> Self {
        let slot = Self::default();
        slot.connect(registry);
        slot
    }

    /// Connects the slot; `false` if it was connected already (the first registry stays).
    pub fn connect(&self, registry: SchemaRegistry) -> bool {
        self.0.set(registry).is_ok()
    }

    /// The connected registry.
    pub fn registry(&self) -> Result<&SchemaRegistry, RegistryError> {
        self.0.get().ok_or_else(|| RegistryError::Refused {
            url: "(none)".to_owned(),
            reason: "no schema registry is connected: set `schema.registry.url`".to_owned(),
        })
    }

    /// Whether the slot holds a registry.
    pub fn is_connected(&self) -> bool {
        self.0.get().is_some()
    }
}
