//! A codec's own schema under its subject: registered on first use, its id kept.

use std::sync::OnceLock;

use super::{Schema, SchemaRegistrySlot};
use crate::codec::CodecError;

/// What an encoder writes with: its subject, its schema, and (once registered) the id.
#[derive(Debug)]
pub(crate) struct Registration {
    registry: SchemaRegistrySlot,
    subject: String,
    schema: Schema,
    id: OnceLock<u32>,
}

impl Registration {
    pub(crate) fn new(registry: &SchemaRegistrySlot, subject: String, schema: Schema) -> Self {
        Self {
            registry: registry.clone(),
            subject,
            schema,
            id: OnceLock::new(),
        }
    }

    /// The schema's id, registering it under the subject on the first call.
    pub(crate) fn id<T>(&self, format: &'static str) -> Result<u32, CodecError> {
        if let Some(&id) = self.id.get() {
            return Ok(id);
        }
        let id = self
            .registry
            .registry()
            .and_then(|registry| registry.register(&self.subject, &self.schema))
            .map_err(|e| CodecError::registry::<T>(format, "encoding", e))?;
        Ok(*self.id.get_or_init(|| id))
    }

    pub(crate) fn registry(&self) -> &SchemaRegistrySlot {
        &self.registry
    }
}
