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
    /// `basic.auth.credentials.source` / `bearer.auth.credentials.source`, checked by `validate`.
    credential_sources: Vec<(&'static str, String)>,
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
                self.urls = Vec::new();
                for url in value.split(',').map(str::trim).filter(|u| !u.is_empty()) {
                    // Credentials in the URL (`http://user:password@host`) move to
                    // `basic.auth.user.info`, so URLs can be shown in logs and errors.
                    let (url, user_info) = split_user_info(url);
                    if let Some(user_info) = user_info {
                        self.basic_auth_user_info.get_or_insert(user_info);
                    }
                    self.urls.push(url.trim_end_matches('/').to_owned());
                }
            }
            "basic.auth.user.info" => self.basic_auth_user_info = Some(value.to_owned()),
            "bearer.auth.token" => self.bearer_auth_token = Some(value.to_owned()),
            "basic.auth.credentials.source" => self
                .credential_sources
                .push(("basic.auth.credentials.source", value.to_ascii_uppercase())),
            "bearer.auth.credentials.source" => self
                .credential_sources
                .push(("bearer.auth.credentials.source", value.to_ascii_uppercase())),
            _ => return false,
        }
        true
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        // Confluent's ways of saying where credentials come from: those given here directly.
        for (key, source) in &self.credential_sources {
            let known: &[&str] = if *key == "basic.auth.credentials.source" {
                &["USER_INFO", "URL"]
            } else {
                &["STATIC_TOKEN"]
            };
            if !known.contains(&source.as_str()) {
                return Err(ConfigError::Invalid {
                    key,
                    reason: format!(
                        "`{source}` is not supported; use {} and give the credentials directly",
                        known.join(" or ")
                    ),
                });
            }
        }
        if !cfg!(any(feature = "ssl", feature = "ssl-vendored"))
            && let Some(url) = self.urls.iter().find(|u| u.starts_with("https://"))
        {
            return Err(ConfigError::Invalid {
                key: "schema.registry.url",
                reason: format!("`{url}` needs TLS: build kafka-streams with the `ssl` (or `ssl-vendored`) feature"),
            });
        }
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

/// `scheme://user:password@host…` → (`scheme://host…`, `Some("user:password")`).
fn split_user_info(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None);
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rsplit_once('@') {
        Some((user_info, host)) => (
            format!("{scheme}://{host}{}", &rest[authority_end..]),
            Some(user_info.to_owned()),
        ),
        None => (url.to_owned(), None),
    }
}
