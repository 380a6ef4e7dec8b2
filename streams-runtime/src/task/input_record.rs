//! The record a task processes, as its stream thread consumed it.

/// A record consumed from a source topic partition.
#[derive(Clone, Copy, Debug)]
pub(crate) struct InputRecord<'a> {
    pub(crate) topic: &'a str,
    pub(crate) partition: i32,
    pub(crate) offset: i64,
    pub(crate) key: Option<&'a [u8]>,
    pub(crate) value: Option<&'a [u8]>,
    /// Broker timestamp, epoch milliseconds.
    pub(crate) timestamp: i64,
    pub(crate) headers: &'a [crate::processor::Header],
}
