//! The runtime's public error type.
//!
//! [`Error`] is opaque: match on [`Error::kind`] rather than on its internals, so new failure
//! causes can be added without breaking users.

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
    /// An operating-system level I/O failure (files, sockets, processes).
    Io,
    /// An interactive query was refused (bad request, unknown store) or could not be answered.
    Query,
    /// User code (a hand-written processor, a fallible user function) failed on a record.
    Processing,
}

/// An error from the streams runtime. Its message names the operation and the object involved.
pub struct Error {
    kind: ErrorKind,
    context: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// Creates an error of `kind` with a message saying which operation failed on which object.
    pub fn new(kind: ErrorKind, context: impl Into<String>) -> Self {
        Self {
            kind,
            context: context.into(),
            source: None,
        }
    }

    /// A failure of user code on a record (`ErrorKind::Processing`): the record is logged and
    /// skipped, the task goes on.
    pub fn processing(context: impl Into<String>) -> Self {
        Self::new(ErrorKind::Processing, context)
    }

    /// Attaches the underlying cause.
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The coarse category of this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Prefixes the message with what was being attempted (`"<context>: <message>"`), keeping
    /// the kind and the cause.
    pub(crate) fn context(mut self, context: impl Into<String>) -> Self {
        self.context = format!("{}: {}", context.into(), self.context);
        self
    }

    pub(crate) fn kafka(context: impl Into<String>, source: rdkafka::error::KafkaError) -> Self {
        Self::new(ErrorKind::Kafka, context).with_source(source)
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::new(ErrorKind::Io, context).with_source(source)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.context)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `main() -> Result<()>` prints Debug; keep it as readable as Display.
        write!(f, "{self} ({:?} error)", self.kind)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<ConfigError> for Error {
    fn from(err: ConfigError) -> Self {
        Self::new(ErrorKind::Config, "invalid streams configuration").with_source(err)
    }
}

impl From<crate::topology::TopologyError> for Error {
    fn from(err: crate::topology::TopologyError) -> Self {
        Self::new(ErrorKind::Config, "the topology was rejected").with_source(err)
    }
}
