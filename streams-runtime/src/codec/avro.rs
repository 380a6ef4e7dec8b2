//! Avro bodies: values are written with their type's schema (`#[derive(AvroSchema)]`); records
//! are read with the schema they were written with (by id, from the registry) and resolved to
//! the type's, so a field added with a default on either side is read as Avro's schema
//! evolution says.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

pub use apache_avro::AvroSchema;
use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::writer::datum::GenericDatumWriter;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::CodecError;
use super::registry::{Body, RegistryCodec, Schema, SchemaRegistrySlot, SchemaType, writer_schema};

/// Avro values of `T` in Confluent's Schema Registry wire format: what Kafka Streams'
/// `SpecificAvroSerde` / `KafkaAvroSerializer` read and write.
pub type Avro<T> = RegistryCodec<T, AvroBody<T>>;

/// The Avro body of [`Avro`].
pub struct AvroBody<T> {
    schema: apache_avro::Schema,
    registered: Schema,
    /// Writer schemas by id, parsed once; `None` for `T`'s own (nothing to resolve).
    writers: Mutex<HashMap<u32, Option<Arc<apache_avro::Schema>>>>,
    types: std::marker::PhantomData<fn() -> T>,
}

impl<T: 'static> AvroBody<T> {
    /// The schema a record was written with, if not `T`'s own.
    fn writer(&self, id: u32, registry: &SchemaRegistrySlot) -> Result<Option<Arc<apache_avro::Schema>>, CodecError> {
        if let Some(writer) = self.writers.lock().unwrap_or_else(PoisonError::into_inner).get(&id) {
            return Ok(writer.clone());
        }
        let registered = writer_schema::<T>(registry, id, SchemaType::Avro, Self::NAME)?;
        let writer = if registered.text == self.registered.text {
            None
        } else {
            let parsed = apache_avro::Schema::parse_str(&registered.text)
                .map_err(|e| CodecError::decode::<T>(Self::NAME, format!("schema {id} does not parse: {e}")))?;
            (parsed != self.schema).then(|| Arc::new(parsed))
        };
        self.writers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, writer.clone());
        Ok(writer)
    }

    const NAME: &'static str = "Avro";
}

impl<T> Body<T> for AvroBody<T>
where
    T: AvroSchema + Serialize + DeserializeOwned + 'static,
{
    const FORMAT: &'static str = Self::NAME;

    fn new() -> Self {
        let schema = T::get_schema();
        Self {
            registered: Schema::avro(&schema),
            schema,
            writers: Mutex::default(),
            types: std::marker::PhantomData,
        }
    }

    fn schema(&self) -> Schema {
        self.registered.clone()
    }

    fn encode(&self, value: &T, out: &mut Vec<u8>) -> Result<(), CodecError> {
        GenericDatumWriter::builder(&self.schema)
            .build()
            .and_then(|writer| writer.write_ser(out, value))
            .map(drop)
            .map_err(|e| CodecError::encode::<T>(Self::NAME, e))
    }

    fn decode(&self, id: u32, mut body: &[u8], registry: &SchemaRegistrySlot) -> Result<T, CodecError> {
        let writer = self.writer(id, registry)?;
        let reader = match &writer {
            Some(writer) => GenericDatumReader::builder(writer).reader_schema(&self.schema).build(),
            None => GenericDatumReader::builder(&self.schema).build(),
        };
        let value = reader
            .and_then(|reader| reader.read_value(&mut body))
            .map_err(|e| CodecError::decode::<T>(Self::NAME, e))?;
        apache_avro::from_value(&value).map_err(|e| CodecError::decode::<T>(Self::NAME, e))
    }
}
