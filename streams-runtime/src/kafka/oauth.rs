//! SASL/OAUTHBEARER tokens from the application: the hook behind MSK IAM, Confluent Cloud
//! OAuth and any OIDC provider librdkafka does not build in.
//!
//! librdkafka asks for a token when a client starts and again before the current one expires
//! (at 80 % of its lifetime). The runtime answers from the user's [`TokenProvider`], for every
//! client it creates: the stream threads' consumers and producers, the restore, global and
//! membership clients and the admin clients. rust-rdkafka only serves refresh requests on clients
//! whose queue is polled, which an admin client's is not, so every client is also handed a token
//! the moment it is created ([`OAuth::install`]) and the long-lived admin client is handed a fresh
//! one before each use. librdkafka's built-in methods (`sasl.oauthbearer.method=oidc`, the
//! unsecured development tokens) keep working when no provider is set.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use rdkafka::ClientContext;
use rdkafka::client::Client;

use crate::error::{Error, ErrorKind, Result};

/// A SASL/OAUTHBEARER token: the bearer string the broker validates, who it names, and when it
/// expires.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthToken {
    /// The token itself (for example a signed JWT, or an MSK IAM signed URL).
    pub token: String,
    /// The Kafka principal the token authenticates (e.g. the JWT's `sub`).
    pub principal_name: String,
    /// When the token expires, in milliseconds since the Unix epoch. librdkafka asks for the next
    /// token at 80 % of the remaining lifetime.
    pub expires_at_ms: i64,
}

impl fmt::Debug for OAuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthToken")
            .field("token", &"[redacted]")
            .field("principal_name", &self.principal_name)
            .field("expires_at_ms", &self.expires_at_ms)
            .finish()
    }
}

/// What a [`TokenProvider`] returns when it has no token: the client retries, and a client that
/// cannot get its first token fails to start with this message.
pub type TokenError = Box<dyn StdError + Send + Sync>;

/// Supplies SASL/OAUTHBEARER tokens to every Kafka client of an instance (Java's
/// `sasl.login.callback.handler.class`). Set it with
/// [`KafkaCluster::with_token_provider`](crate::kafka::KafkaCluster::with_token_provider) or the
/// generated app's `App::token_provider`, together with `sasl.mechanism=OAUTHBEARER`.
///
/// Called from the clients' own threads, possibly from several at once, whenever a client starts
/// and before a token expires: return a cached token while it is still valid, and fetch a new one
/// only when it is not (an async fetch can run on a runtime handle the provider keeps).
pub trait TokenProvider: Send + Sync + 'static {
    /// A valid token. `oauthbearer_config` is the `sasl.oauthbearer.config` property, if set.
    fn token(&self, oauthbearer_config: Option<&str>) -> std::result::Result<OAuthToken, TokenError>;
}

impl<F> TokenProvider for F
where
    F: Fn(Option<&str>) -> std::result::Result<OAuthToken, TokenError> + Send + Sync + 'static,
{
    fn token(&self, oauthbearer_config: Option<&str>) -> std::result::Result<OAuthToken, TokenError> {
        self(oauthbearer_config)
    }
}

/// The token provider of a cluster's clients, if any; cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct OAuth(Option<Arc<dyn TokenProvider>>);

impl fmt::Debug for OAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Some(TokenProvider)"
        } else {
            "None"
        })
    }
}

impl OAuth {
    pub(crate) fn new(provider: Arc<dyn TokenProvider>) -> Self {
        Self(Some(provider))
    }

    pub(crate) fn is_set(&self) -> bool {
        self.0.is_some()
    }

    /// The answer to librdkafka's refresh request (rdkafka's
    /// [`ClientContext::generate_oauth_token`]).
    pub(crate) fn generate(
        &self,
        oauthbearer_config: Option<&str>,
    ) -> std::result::Result<rdkafka::client::OAuthToken, Box<dyn StdError>> {
        let provider = self.0.as_ref().ok_or(
            "sasl.mechanism=OAUTHBEARER without a token provider: set one (KafkaCluster::with_token_provider) \
             or use sasl.oauthbearer.method=oidc",
        )?;
        let token = provider
            .token(oauthbearer_config)
            .map_err(|e| -> Box<dyn StdError> { e })?;
        Ok(rdkafka::client::OAuthToken {
            token: token.token,
            principal_name: token.principal_name,
            lifetime_ms: token.expires_at_ms,
        })
    }

    /// Hands `client` a token now, so it can connect before anything polls it (and an admin
    /// client, which rust-rdkafka never polls for refreshes, gets a fresh one). Does nothing
    /// without a provider or when the client does not use OAUTHBEARER.
    pub(crate) fn install<C: ClientContext>(&self, client: &Client<C>, config: &rdkafka::ClientConfig) -> Result<()> {
        if !self.is_set() || !uses_oauthbearer(config) {
            return Ok(());
        }
        let token = self.generate(config.get("sasl.oauthbearer.config")).map_err(|e| {
            Error::new(
                ErrorKind::Kafka,
                format!("the OAUTHBEARER token provider failed: {}", crate::error::report(&*e)),
            )
        })?;
        client.set_oauthbearer_token(&token).map_err(|e| {
            Error::new(
                ErrorKind::Kafka,
                format!("librdkafka refused the OAUTHBEARER token: {e}"),
            )
        })
    }
}

/// The items of a `ClientContext` impl that answer librdkafka's token refresh requests from the
/// [`OAuth`] in field `$oauth`: every runtime context has them, so no client misses the provider
/// (without one, a refresh request gets an error saying what to configure).
macro_rules! answer_token_refreshes {
    ($oauth:ident) => {
        const ENABLE_REFRESH_OAUTH_TOKEN: bool = true;

        fn generate_oauth_token(
            &self,
            oauthbearer_config: Option<&str>,
        ) -> std::result::Result<rdkafka::client::OAuthToken, Box<dyn std::error::Error>> {
            self.$oauth.generate(oauthbearer_config)
        }
    };
}
pub(crate) use answer_token_refreshes;

/// Whether the client authenticates with SASL/OAUTHBEARER (`sasl.mechanism`, or librdkafka's
/// alias `sasl.mechanisms`).
pub(crate) fn uses_oauthbearer(config: &rdkafka::ClientConfig) -> bool {
    ["sasl.mechanism", "sasl.mechanisms"]
        .iter()
        .filter_map(|key| config.get(key))
        .any(|m| m.trim().eq_ignore_ascii_case("OAUTHBEARER"))
}

/// Setting a token on a client directly, as librdkafka's refresh handler does.
trait SetToken {
    fn set_oauthbearer_token(&self, token: &rdkafka::client::OAuthToken) -> std::result::Result<(), String>;
}

impl<C: ClientContext> SetToken for Client<C> {
    // The crate's one unsafe block: rust-rdkafka sets tokens only from the refresh events of
    // clients it polls, and never polls an admin client's, so the token is set the way its own
    // refresh handler does it, through librdkafka's C API.
    #[allow(unsafe_code)]
    fn set_oauthbearer_token(&self, token: &rdkafka::client::OAuthToken) -> std::result::Result<(), String> {
        use std::ffi::CString;
        let value = CString::new(token.token.as_str()).map_err(|_| "the token contains a NUL byte".to_owned())?;
        let principal =
            CString::new(token.principal_name.as_str()).map_err(|_| "the principal contains a NUL byte".to_owned())?;
        let mut errstr = vec![0u8; 512];
        // SAFETY: the client pointer is live for `self`'s lifetime; the strings outlive the call,
        // which copies them; no extensions are passed (null, 0); errstr is a writable buffer of
        // the length given.
        let code = unsafe {
            rdkafka::bindings::rd_kafka_oauthbearer_set_token(
                self.native_ptr(),
                value.as_ptr(),
                token.lifetime_ms,
                principal.as_ptr(),
                std::ptr::null_mut(),
                0,
                errstr.as_mut_ptr().cast(),
                errstr.len(),
            )
        };
        if code == rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            return Ok(());
        }
        let end = errstr.iter().position(|b| *b == 0).unwrap_or(errstr.len());
        Err(String::from_utf8_lossy(&errstr[..end]).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mechanism_is_read_under_both_names_and_any_case() {
        let mut config = rdkafka::ClientConfig::new();
        assert!(!uses_oauthbearer(&config));
        config.set("sasl.mechanism", "SCRAM-SHA-256");
        assert!(!uses_oauthbearer(&config));
        config.set("sasl.mechanism", "oauthbearer");
        assert!(uses_oauthbearer(&config));
        let mut alias = rdkafka::ClientConfig::new();
        alias.set("sasl.mechanisms", "OAUTHBEARER");
        assert!(uses_oauthbearer(&alias));
    }

    #[test]
    fn without_a_provider_a_refresh_request_says_what_to_configure() {
        let error = OAuth::default().generate(None).err().expect("no provider").to_string();
        assert!(error.contains("token provider"), "{error}");
    }

    #[test]
    fn a_closure_is_a_provider_and_its_error_reaches_librdkafka() {
        let oauth = OAuth::new(Arc::new(
            |config: Option<&str>| -> std::result::Result<OAuthToken, TokenError> {
                match config {
                    Some("fail") => Err("identity provider unreachable".into()),
                    _ => Ok(OAuthToken {
                        token: "t".into(),
                        principal_name: "alice".into(),
                        expires_at_ms: 42,
                    }),
                }
            },
        ));
        let Ok(token) = oauth.generate(None) else {
            panic!("the provider's token")
        };
        assert_eq!(
            (token.token.as_str(), token.principal_name.as_str(), token.lifetime_ms),
            ("t", "alice", 42)
        );
        let error = oauth.generate(Some("fail")).err().expect("the provider's error");
        assert_eq!(error.to_string(), "identity provider unreachable");
    }

    #[test]
    fn debug_hides_the_token() {
        let token = OAuthToken {
            token: "secret-bearer".into(),
            principal_name: "alice".into(),
            expires_at_ms: 1,
        };
        assert!(!format!("{token:?}").contains("secret-bearer"));
    }
}
