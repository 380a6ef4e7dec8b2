//! The runtime's public error type.
//!
//! [`Error`] is opaque: match on [`Error::kind`] rather than on its internals, so new failure
//! causes can be added without breaking users.
//!
//! Its `Display` is its own message only; the cause is in [`std::error::Error::source`], so
//! reporters that walk the chain (anyhow, eyre, tracing) do not print it twice. `Debug` (what
//! `main() -> Result<()>` prints) and [`Error::report`] give the whole chain; the runtime's
//! logs use it too.

use std::fmt;

use crate::config::ConfigError;

/// Result alias used throughout the runtime.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, coarsely; stable across releases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The configuration was rejected; fix it and restart.
    Config,
    /// The Kafka client or broker failed.
    Kafka,
    /// A state store failed to open, read, write or restore.
    State,
    /// Kafka refused a record for good (too large, invalid): sending it again cannot help. A
    /// sink record so refused goes through the topology's processing-error policy; a changelog
    /// record stops the stream thread.
    Rejected,
    /// A state store is held by another handle (a stream thread giving its task up, a standby, a
    /// query, another process): it is live and left as it is; the open is retried later.
    Locked,
    /// A record could not be encoded or decoded.
    Codec,
    /// A service a codec needs (the Schema Registry) could not be reached. Not the record's
    /// fault: the runtime rolls back to the last commit and processes it again (until
    /// `task.timeout.ms`) instead of skipping it.
    Unavailable,
    /// An operating-system level I/O failure (files, sockets, processes).
    Io,
    /// An interactive query was refused (bad request, unknown store) or could not be answered.
    Query,
    /// User code (a hand-written processor, a fallible user function) failed on a record.
    Processing,
}

/// An error from the streams runtime. Its message names the operation and the object involved.
///
/// One pointer wide: every processor returns `Result<(), Error>` for every record, and a boxed
/// error lets that come back in a register instead of through a 48-byte slot in memory.
pub struct Error(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    context: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// Creates an error of `kind` with a message saying which operation failed on which object.
    pub fn new(kind: ErrorKind, context: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            kind,
            context: context.into(),
            source: None,
        }))
    }

    /// A failure of user code on a record (`ErrorKind::Processing`): the record is logged and
    /// skipped, the task goes on.
    pub fn processing(context: impl Into<String>) -> Self {
        Self::new(ErrorKind::Processing, context)
    }

    /// Attaches the underlying cause.
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.0.source = Some(Box::new(source));
        self
    }

    /// The coarse category of this error.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The message with its causes: `"<message>: <cause>: <cause of the cause>"`, for logs.
    pub fn report(&self) -> Report<'_, Self> {
        report(self)
    }

    /// Prefixes the message with what was being attempted (`"<context>: <message>"`), keeping
    /// the kind and the cause.
    pub(crate) fn context(mut self, context: impl Into<String>) -> Self {
        self.0.context = format!("{}: {}", context.into(), self.0.context);
        self
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::new(ErrorKind::Io, context).with_source(source)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.context)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `main() -> Result<()>` prints Debug: the message, its causes and the kind.
        write!(f, "{} ({:?} error)", self.report(), self.0.kind)
    }
}

/// An error and its causes, displayed as `"<error>: <cause>: <cause of the cause>"`.
pub struct Report<'a, E: ?Sized>(&'a E);

/// Displays `error` with its causes (see [`Report`]); for logs and messages that end up before
/// a person, where the cause is the useful part.
pub(crate) fn report<E: std::error::Error + ?Sized>(error: &E) -> Report<'_, E> {
    Report(error)
}

impl<E: std::error::Error + ?Sized> fmt::Display for Report<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(error) = cause {
            write!(f, ": {error}")?;
            cause = error.source();
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<ConfigError> for Error {
    fn from(err: ConfigError) -> Self {
        Self::new(ErrorKind::Config, "invalid streams configuration").with_source(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reporter that walks `source()` (anyhow, eyre, tracing) prints each cause once: the
    /// message does not repeat it; `report()` and `Debug` (what `main` prints) give all of it.
    #[test]
    fn the_message_leaves_the_cause_to_source_and_the_report_gives_the_chain() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "disk says no");
        let error = Error::io("cannot write the checkpoint", io).context("committing task 0_1");
        assert_eq!(error.to_string(), "committing task 0_1: cannot write the checkpoint");
        assert_eq!(
            std::error::Error::source(&error).map(ToString::to_string).as_deref(),
            Some("disk says no")
        );
        assert_eq!(size_of::<Result<()>>(), size_of::<usize>(), "returned in a register");
        assert_eq!(
            error.report().to_string(),
            "committing task 0_1: cannot write the checkpoint: disk says no"
        );
        assert_eq!(
            format!("{error:?}"),
            "committing task 0_1: cannot write the checkpoint: disk says no (Io error)"
        );
        let config = Error::from(ConfigError::Missing { key: "application.id" });
        assert_eq!(
            config.report().to_string(),
            "invalid streams configuration: `application.id` is required but was not set"
        );
    }
}
