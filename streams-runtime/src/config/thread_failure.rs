//! `stream.thread.failure.policy`: what a failed stream thread leads to.

use std::str::FromStr;

use super::ConfigError;

/// What a failed stream thread leads to (Kafka Streams' `StreamThreadExceptionResponse`);
/// setting `stream.thread.failure.policy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ThreadFailurePolicy {
    /// A new thread takes the failed one's place (after a short pause); its tasks move back to
    /// it through a rebalance, restored from their changelogs.
    ReplaceThread,
    /// The instance stops: the other threads commit and close, the state becomes
    /// [`State::Error`](crate::State::Error) and `run_until_signal` / `App::run` return the thread's error
    /// (a non-zero exit). Kafka Streams' default.
    #[default]
    ShutdownClient,
    /// Every instance of the application stops: this one as with `ShutdownClient`, the others
    /// once they read its request on the membership topic (within a second or so); each ends in
    /// [`State::Error`](crate::State::Error). Requests older than an instance's start are
    /// ignored, so restarted instances run again.
    ShutdownApplication,
}

impl FromStr for ThreadFailurePolicy {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "replace_thread" => Ok(Self::ReplaceThread),
            "shutdown_client" => Ok(Self::ShutdownClient),
            "shutdown_application" => Ok(Self::ShutdownApplication),
            other => Err(ConfigError::Invalid {
                key: "stream.thread.failure.policy",
                reason: format!("`{other}` is not one of `replace_thread`, `shutdown_client`, `shutdown_application`"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_from_their_setting_values() {
        assert_eq!("replace_thread".parse(), Ok(ThreadFailurePolicy::ReplaceThread));
        assert_eq!("shutdown_client".parse(), Ok(ThreadFailurePolicy::ShutdownClient));
        assert_eq!(
            "shutdown_application".parse(),
            Ok(ThreadFailurePolicy::ShutdownApplication)
        );
        let error = "shutdown_everything".parse::<ThreadFailurePolicy>().unwrap_err();
        assert!(error.to_string().contains("`stream.thread.failure.policy`"), "{error}");
    }
}
