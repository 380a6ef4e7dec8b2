//! A consumed record, borrowed from the consumer that returned it.

use std::time::Duration;

use rdkafka::Message;
use rdkafka::consumer::{BaseConsumer, ConsumerContext};
use rdkafka::message::BorrowedMessage;

use crate::error::{Error, Result};
use crate::processor::Header;
use crate::task::InputRecord;

/// A record a consumer returned, borrowed from it.
pub(crate) struct Polled<'a> {
    message: BorrowedMessage<'a>,
    headers: Vec<Header>,
}

impl<'a> Polled<'a> {
    pub(super) fn new(message: BorrowedMessage<'a>) -> Self {
        Self {
            headers: super::headers_of(&message),
            message,
        }
    }

    /// The topic it was read from.
    pub(crate) fn topic(&self) -> &str {
        self.message.topic()
    }

    /// Its partition.
    pub(crate) fn partition(&self) -> i32 {
        self.message.partition()
    }

    /// Its offset.
    pub(crate) fn offset(&self) -> i64 {
        self.message.offset()
    }

    /// Its key, if any.
    pub(crate) fn key(&self) -> Option<&[u8]> {
        self.message.key()
    }

    /// Its value; `None` for a tombstone.
    pub(crate) fn value(&self) -> Option<&[u8]> {
        self.message.payload()
    }

    /// The record as a task reads it.
    pub(crate) fn input(&self) -> InputRecord<'_> {
        InputRecord {
            topic: self.message.topic(),
            partition: self.message.partition(),
            offset: self.message.offset(),
            key: self.message.key(),
            value: self.message.payload(),
            // No timestamp is Kafka's -1: the source refuses it (through the error policy) unless
            // the topology's timestamp extractor assigns one; it is never taken for 1970.
            timestamp: self.message.timestamp().to_millis().unwrap_or(-1),
            headers: &self.headers,
        }
    }
}

/// The next record of `consumer`, or its error (librdkafka keeps retrying), or `None` after
/// `timeout`.
pub(super) fn poll<C: ConsumerContext>(consumer: &BaseConsumer<C>, timeout: Duration) -> Option<Result<Polled<'_>>> {
    Some(
        consumer
            .poll(timeout)?
            .map(Polled::new)
            .map_err(|e| Error::kafka("the consumer failed", e)),
    )
}
