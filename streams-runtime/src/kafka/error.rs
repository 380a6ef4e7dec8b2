//! Errors of the Kafka client, as the runtime's [`Error`]. Where a failure decides what the
//! commit protocol does next it is classified instead (see the transport's `classify`).

use rdkafka::error::KafkaError;

use crate::error::{Error, ErrorKind};

impl Error {
    /// A Kafka client failure while doing `context`.
    pub(crate) fn kafka(context: impl Into<String>, source: KafkaError) -> Self {
        Self::new(ErrorKind::Kafka, context).with_source(source)
    }
}
