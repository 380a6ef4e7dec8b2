//! Why a produce or a commit failed, decided once where the broker client reports it.
//!
//! The commit protocol only needs to know what to do next: abort and redo the work, replace the
//! producer, or stop on a record Kafka will never take. The transport classifies each failure
//! into one of these at the client boundary (the rdkafka transport from librdkafka's own
//! `is_fatal` / `txn_requires_abort` / error code; the test driver from the fault it injects), so
//! nothing above it inspects error chains.

use crate::error::Error;

/// A failed produce or commit, with what it means for the producer.
#[derive(Debug)]
pub(crate) enum CommitError {
    /// Nothing since the last commit became durable and the producer is still usable: abort,
    /// roll every task back to its last commit, process again (a timeout, an unreachable broker,
    /// a transaction gone abortable, offsets that could not be committed).
    Abortable(Error),
    /// Another producer took this transactional id over (a newer owner of these tasks): this
    /// producer may never commit again. Its tasks close and the thread rejoins the group.
    Fenced(Error),
    /// The producer failed in a way it cannot recover from: it is replaced, the tasks close and
    /// the thread rejoins the group.
    Fatal(Error),
    /// Kafka refuses this record for good (too large, invalid): sending it again cannot help.
    /// A sink record goes through the processing-error policy; a changelog record stops the thread.
    Rejected(Error),
}

impl CommitError {
    /// Whether the producer must be replaced before anything else is sent (fenced or fatal).
    pub(crate) fn is_fatal(&self) -> bool {
        matches!(self, Self::Fenced(_) | Self::Fatal(_))
    }

    /// The error itself, for logs and callers.
    pub(crate) fn error(&self) -> &Error {
        match self {
            Self::Abortable(e) | Self::Fenced(e) | Self::Fatal(e) | Self::Rejected(e) => e,
        }
    }

    /// The error itself, owned.
    pub(crate) fn into_error(self) -> Error {
        match self {
            Self::Abortable(e) | Self::Fenced(e) | Self::Fatal(e) | Self::Rejected(e) => e,
        }
    }
}

impl std::fmt::Display for CommitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self {
            Self::Abortable(_) => "abortable",
            Self::Fenced(_) => "fenced",
            Self::Fatal(_) => "fatal",
            Self::Rejected(_) => "rejected record",
        };
        write!(f, "{what}: {}", crate::error::report(self.error()))
    }
}
