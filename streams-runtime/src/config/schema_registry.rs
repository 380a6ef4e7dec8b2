//! Where the Schema Registry codecs find the registry: Confluent's serializer settings, under
//! the same names (`schema.registry.url`, `basic.auth.user.info`, `bearer.auth.token`).

use super::ConfigError;

/// The Confluent Schema Registry an application's `Avro`, `Protobuf` and `JsonSchema` codecs
/// use (the `schema-registry` feature). Its `Debug` redacts the credentials.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SchemaRegistryConfig {
    urls: Vec<String>,
    basic_auth_user_info: Option<String>,
    bearer_auth_token: Option<String>,
}

impl std::fmt::Debug for SchemaRegistryConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |set: bool| if set { Some(super::redact::REDACTED) } else { None };
        f.debug_struct("SchemaRegistryConfig")
            .field("urls", &self.urls)
            .field("basic_auth_user_info", &hidden(self.basic_auth_user_info.is_some()))
            .field("bearer_auth_token", &hidden(self.bearer_auth_token.is_some()))
            .finish()
    }
}

impl SchemaRegistryConfig {
    /// `schema.registry.url`: the registry's base URLs (tried in order), `http://` or
    /// `https://`; `mock://<scope>` is an in-process registry shared by everything in the
    /// process that names the same scope (for tests, as in Confluent's serializers). Empty when
    /// not set.
    pub fn urls(&self) -> &[String] {
        &self.urls
    }
    /// `basic.auth.user.info`: `user:password` for HTTP basic authentication.
    pub fn basic_auth_user_info(&self) -> Option<&str> {
        self.basic_auth_user_info.as_deref()
    }
    /// `bearer.auth.token`: a token for HTTP bearer authentication.
    pub fn bearer_auth_token(&self) -> Option<&str> {
        self.bearer_auth_token.as_deref()
    }

    /// Records `key` if it is a registry setting (also with the `schema.registry.` prefix, as
    /// Confluent accepts); `false` for any other key.
    pub(super) fn set(&mut self, key: &str, value: &str) -> bool {
        let key = match key {
            "schema.registry.url" => key,
            other => other.strip_prefix("schema.registry.").unwrap_or(other),
        };
        match key {
            "schema.registry.url" => {
                self.urls = value
                    .split(',')
                    .map(str::trim)
                    .filter(|u| !u.is_empty())
                    .map(|u| u.trim_end_matches('/').to_owned())
                    .collect();
            }
            "basic.auth.user.info" => self.basic_auth_user_info = Some(value.to_owned()),
            "bearer.auth.token" => self.bearer_auth_token = Some(value.to_owned()),
            // Confluent's way of saying where credentials come from; only `USER_INFO` (the
            // default) and `URL` mean anything here, and both are read as given.
            "basic.auth.credentials.source" | "bearer.auth.credentials.source" => {}
            _ => return false,
        }
        true
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if let Some(url) = self.urls.iter().find(|u| {
            !["http://", "https://", "mock://"]
                .iter()
                .any(|scheme| u.starts_with(scheme))
        }) {
            return Err(ConfigError::Invalid {
                key: "schema.registry.url",
                reason: format!("`{url}` is not an `http://`, `https://` or `mock://` URL"),
            });
        }
        if self
            .basic_auth_user_info
            .as_deref()
            .is_some_and(|info| !info.contains(':'))
        {
            return Err(ConfigError::Invalid {
                key: "basic.auth.user.info",
                reason: "it must be `user:password`".to_owned(),
            });
        }
        if self.basic_auth_user_info.is_some() && self.bearer_auth_token.is_some() {
            return Err(ConfigError::Conflict {
                first: "basic.auth.user.info".to_owned(),
                second: "bearer.auth.token".to_owned(),
                reason: "the registry takes one kind of credentials; remove one".to_owned(),
            });
        }
        Ok(())
    }
}
