//! Secrets stay out of logs: the `Debug` of every configuration type shows a secret setting's
//! key but not its value.

use std::collections::BTreeMap;
use std::fmt;

/// What is shown instead of a secret value.
pub const REDACTED: &str = "[redacted]";

/// Whether the value of setting `key` is a secret: passwords (`sasl.password`,
/// `ssl.key.password`, …), anything named secret or token, the JAAS and OAUTHBEARER configs
/// (they embed credentials) and inline private keys.
pub fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "secret", "token", "credential", "user.info"]
        .iter()
        .any(|word| key.contains(word))
        || key.ends_with("sasl.jaas.config")
        || key.ends_with("sasl.oauthbearer.config")
        || key.ends_with("ssl.key.pem")
        || key.ends_with("ssl_key")
}

/// `value`, or [`REDACTED`] if `key` names a secret.
pub fn shown<'a>(key: &str, value: &'a str) -> &'a str {
    if is_secret(key) { REDACTED } else { value }
}

/// A property map whose `Debug` redacts secret values.
pub(crate) struct Redacted<'a>(pub(crate) &'a BTreeMap<String, String>);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| (k, shown(k, v))))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_recognised_by_name() {
        for secret in [
            "sasl.password",
            "consumer.sasl.password",
            "ssl.key.password",
            "ssl.keystore.password",
            "sasl.jaas.config",
            "sasl.oauthbearer.config",
            "sasl.oauthbearer.client.secret",
            "ssl.key.pem",
            "my.api.token",
        ] {
            assert!(is_secret(secret), "{secret}");
        }
        for plain in [
            "sasl.username",
            "sasl.mechanism",
            "ssl.key.location",
            "bootstrap.servers",
        ] {
            assert!(!is_secret(plain), "{plain}");
        }
    }
}
