//! The registry's REST API over `schema_registry_converter`'s blocking client.

use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use schema_registry_converter::blocking::schema_registry::{self as rest, SrSettings};
use schema_registry_converter::error::SRCError;
use schema_registry_converter::schema_registry_common::{RawError, SchemaType as RestType, SuppliedSchema};

use super::{RegistryClient, RegistryError, Schema, SchemaType};
use crate::config::{SchemaRegistryConfig, defaults};

/// A registry reached over HTTP(S). The blocking client is built on first use, and a call made
/// on an async runtime's thread runs on a helper thread (reqwest's blocking client panics
/// inside a runtime); the caller still waits for it.
pub(super) struct HttpRegistry {
    config: SchemaRegistryConfig,
    url: String,
    settings: OnceLock<Result<SrSettings, RegistryError>>,
    /// When the last call found the registry unavailable: the next is delayed until
    /// [`defaults::SCHEMA_REGISTRY_RETRY_BACKOFF_MS`] after it, so a stream thread that retries
    /// the record does not spin against a registry that is down.
    last_outage: Mutex<Option<Instant>>,
}

impl HttpRegistry {
    /// A registry at `config`'s URLs: at least one, as `SchemaRegistry::connect` checks.
    pub(super) fn new(config: &SchemaRegistryConfig) -> Self {
        Self {
            config: config.clone(),
            url: config.urls().join(","),
            settings: OnceLock::new(),
            last_outage: Mutex::new(None),
        }
    }

    fn settings(&self) -> Result<&SrSettings, RegistryError> {
        self.settings
            .get_or_init(|| {
                let urls = self.config.urls();
                let mut builder = SrSettings::new_builder(urls[0].clone());
                for url in &urls[1..] {
                    builder.add_url(url.clone());
                }
                if let Some((user, password)) = self.config.basic_auth_user_info().and_then(|i| i.split_once(':')) {
                    builder.set_basic_authorization(user, Some(password));
                }
                if let Some(token) = self.config.bearer_auth_token() {
                    builder.set_token_authorization(token);
                }
                builder.set_timeout(Duration::from_millis(defaults::SCHEMA_REGISTRY_REQUEST_TIMEOUT_MS));
                builder.build().map_err(|e| self.error(e))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Runs a REST call, off any async runtime, pausing first after a recent outage.
    fn call<R: Send>(&self, f: impl FnOnce(&SrSettings) -> Result<R, SRCError> + Send) -> Result<R, RegistryError> {
        let last_outage = *self.last_outage.lock().unwrap_or_else(PoisonError::into_inner);
        let result = off_runtime(|| {
            if let Some(at) = last_outage {
                let backoff = Duration::from_millis(defaults::SCHEMA_REGISTRY_RETRY_BACKOFF_MS);
                std::thread::sleep(backoff.saturating_sub(at.elapsed()));
            }
            let settings = self.settings()?;
            f(settings).map_err(|e| self.error(e))
        });
        let outage = matches!(&result, Err(e) if e.is_retriable());
        *self.last_outage.lock().unwrap_or_else(PoisonError::into_inner) = outage.then(Instant::now);
        result
    }

    /// A failed call as the codecs see it: `Refused` only when the registry answered that the
    /// schema or subject does not exist (404) or refused the schema (409 incompatible, 422
    /// invalid); anything else — no answer, a timeout, 5xx (Confluent answers 500 when its own
    /// Kafka store is down), 401/403, 429, a body that does not parse — is `Unavailable`: the
    /// record is not at fault and is retried, never skipped.
    fn error(&self, e: SRCError) -> RegistryError {
        let reason = match &e.cause {
            Some(cause) => format!("{}: {cause}", e.error),
            None => e.error.clone(),
        };
        let url = self.url.clone();
        let answered = std::error::Error::source(&e)
            .and_then(|source| source.downcast_ref::<RawError>())
            .map(|raw| http_status(raw.error_code));
        if matches!(answered, Some(404 | 409 | 422)) {
            RegistryError::Refused { url, reason }
        } else {
            RegistryError::Unavailable { url, reason }
        }
    }
}

impl RegistryClient for HttpRegistry {
    fn register(&self, subject: &str, schema: &Schema) -> Result<u32, RegistryError> {
        let supplied = SuppliedSchema::new(None, rest_type(schema.schema_type), schema.text.clone());
        self.call(|settings| rest::post_schema(settings, subject.to_owned(), supplied))
            .map(|registered| registered.id)
    }

    fn schema_by_id(&self, id: u32) -> Result<Schema, RegistryError> {
        let registered = self.call(|settings| rest::get_schema_by_id(id, settings))?;
        let schema_type = match registered.schema_type {
            RestType::Avro => SchemaType::Avro,
            RestType::Protobuf => SchemaType::Protobuf,
            RestType::Json => SchemaType::Json,
            other => {
                return Err(RegistryError::Refused {
                    url: self.url.clone(),
                    reason: format!("schema {id} is of type {other:?}, which no codec here reads"),
                });
            }
        };
        Ok(Schema {
            schema_type,
            text: registered.schema,
        })
    }
}

impl Drop for HttpRegistry {
    fn drop(&mut self) {
        // reqwest's blocking client must not be dropped inside an async runtime either.
        let settings = self.settings.take();
        off_runtime(move || drop(settings));
    }
}

/// The HTTP status of a registry error code: Confluent's codes are the status (`409`) or the
/// status followed by two digits (`40403`, `50001`).
fn http_status(error_code: u32) -> u32 {
    if error_code >= 10_000 {
        error_code / 100
    } else {
        error_code
    }
}

fn rest_type(schema_type: SchemaType) -> RestType {
    match schema_type {
        SchemaType::Avro => RestType::Avro,
        SchemaType::Protobuf => RestType::Protobuf,
        SchemaType::Json => RestType::Json,
    }
}

/// Runs `f` here, or on a short-lived thread when this thread is inside an async runtime.
fn off_runtime<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|scope| match scope.spawn(f).join() {
        Ok(result) => result,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}
