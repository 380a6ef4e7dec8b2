//! What a topology does with a record it cannot handle: one that does not decode, or on which a
//! user function or processor returns an error.
//!
//! The default, [`ErrorPolicy::LogAndContinue`], never stops the application: a poison record
//! is logged (task, topic, partition, offset, error), counted in `records_skipped`, and its
//! offset committed like any other, so it is not read again. [`ErrorPolicy::DeadLetter`] does
//! the same and also produces the record, unchanged, to a dead-letter topic with headers saying
//! what failed — in the same commit (transaction) as the input offset, so it is there exactly
//! once. [`ErrorPolicy::LogAndFail`] stops the stream thread at the record instead (the
//! offset is not committed): choose it when a person should look before anything goes on; after
//! a restart the same record fails again.

/// The choice for one class of errors.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ErrorPolicy {
    /// Log and skip the record (the default).
    #[default]
    LogAndContinue,
    /// Skip the record and produce it, raw, to this topic with headers describing the failure:
    /// `__streams.errors.exception` (the error kind), `__streams.errors.message`,
    /// `__streams.errors.topic`, `__streams.errors.partition`, `__streams.errors.offset`.
    DeadLetter {
        /// The dead-letter topic (it must exist, like any sink topic).
        topic: String,
    },
    /// Stop the stream thread at the record, which stays uncommitted.
    LogAndFail,
}

impl ErrorPolicy {
    /// [`ErrorPolicy::DeadLetter`] to `topic`.
    pub fn dead_letter(topic: impl Into<String>) -> Self {
        Self::DeadLetter { topic: topic.into() }
    }

    /// The dead-letter topic, if any.
    pub fn dead_letter_topic(&self) -> Option<&str> {
        match self {
            Self::DeadLetter { topic } => Some(topic),
            _ => None,
        }
    }
}

/// The policies of one topology.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorPolicies {
    /// Records whose key or value does not decode with the source's codecs.
    pub deserialization: ErrorPolicy,
    /// Records on which a user function (`try_map`, …) or processor returned an error.
    pub processing: ErrorPolicy,
}
