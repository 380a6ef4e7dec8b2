//! A consumer outside any group, assigned to partitions from chosen offsets: the global thread
//! follows the global topics with one, the membership thread the membership topic.

use std::time::Duration;

use rdkafka::consumer::Consumer;
use rdkafka::{Offset, TopicPartitionList};

use super::polled::Polled;
use super::{ClientSettings, StreamsConsumer};
use crate::error::{Error, Result};

/// Where an assigned partition is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StartAt {
    /// The partition's first record still on the broker.
    Beginning,
    /// This offset.
    Offset(i64),
}

/// A group-less consumer of a fixed set of partitions.
pub(crate) struct AssignedConsumer {
    consumer: StreamsConsumer,
}

impl AssignedConsumer {
    /// Creates `what` (for error messages) from `settings` and assigns it `partitions`:
    /// (topic, partition, where to start).
    pub(crate) fn assign(settings: &ClientSettings, what: &str, partitions: &[(String, i32, StartAt)]) -> Result<Self> {
        let consumer = settings
            .clone()
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "false")
            .consumer(what)?;
        let mut assignment = TopicPartitionList::new();
        for (topic, partition, start) in partitions {
            let offset = match start {
                StartAt::Beginning => Offset::Beginning,
                StartAt::Offset(offset) => Offset::Offset(*offset),
            };
            assignment
                .add_partition_offset(topic, *partition, offset)
                .map_err(|e| Error::kafka(format!("failed to build the assignment of {what}"), e))?;
        }
        consumer
            .assign(&assignment)
            .map_err(|e| Error::kafka(format!("failed to assign {what} its partitions"), e))?;
        Ok(Self { consumer })
    }

    /// The next record, or the consumer's error (librdkafka keeps retrying), or `None` after
    /// `timeout`.
    pub(crate) fn poll(&self, timeout: Duration) -> Option<Result<Polled<'_>>> {
        super::polled::poll(&self.consumer, timeout)
    }
}
