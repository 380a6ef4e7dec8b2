use thiserror::Error;

/// A configuration value or combination the runtime cannot start with.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required setting has no value.
    #[error("`{key}` is required but was not set")]
    Missing {
        /// The setting's Kafka Streams name.
        key: &'static str,
    },
    /// A numeric setting got something else.
    #[error("`{key}` must be a non-negative whole number, got `{value}`")]
    NotANumber {
        /// The setting's name.
        key: String,
        /// The rejected value.
        value: String,
    },
    /// A setting has a value outside its allowed set.
    #[error("invalid `{key}`: {reason}")]
    Invalid {
        /// The setting's name.
        key: &'static str,
        /// Why, and what to use instead.
        reason: String,
    },
    /// A librdkafka property the runtime manages itself was passed through.
    #[error("`{key}` is managed by the streams runtime and cannot be set directly; use `{owner}`")]
    Managed {
        /// The rejected passthrough property.
        key: String,
        /// The setting that controls it.
        owner: &'static str,
    },
    /// A properties file that cannot be read or parsed.
    #[error("{path}{}: {reason}", if *line > 0 { format!(" line {line}") } else { String::new() })]
    File {
        /// The file, as given.
        path: String,
        /// The line (from 1) of the problem; 0 when the file could not be read at all.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// Two settings that cannot be combined.
    #[error("`{first}` cannot be combined with `{second}`: {reason}")]
    Conflict {
        /// One setting, as `key=value`.
        first: String,
        /// The other setting, as `key=value`.
        second: String,
        /// Why, and the fix.
        reason: String,
    },
}
