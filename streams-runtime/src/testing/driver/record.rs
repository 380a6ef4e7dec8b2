/// A typed record piped into or read from a topic of a [`TestDriver`](super::TestDriver).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestRecord<K, V> {
    /// The key.
    pub key: K,
    /// The value; `None` is a tombstone.
    pub value: Option<V>,
    /// Event time, epoch milliseconds; `None` when piping: the driver's wall-clock time.
    pub timestamp: Option<i64>,
    /// Headers, in order.
    pub headers: Vec<crate::processor::Header>,
    /// The partition; `None` when piping: murmur2 of the encoded key, as Kafka's producers do.
    pub partition: Option<i32>,
}

impl<K, V> TestRecord<K, V> {
    /// A record with `key` and `value`, stamped and partitioned by the driver.
    pub fn new(key: K, value: V) -> Self {
        Self {
            key,
            value: Some(value),
            timestamp: None,
            headers: Vec::new(),
            partition: None,
        }
    }

    /// A tombstone (no value) for `key`.
    pub fn tombstone(key: K) -> Self {
        Self {
            key,
            value: None,
            timestamp: None,
            headers: Vec::new(),
            partition: None,
        }
    }

    /// Sets the event time, epoch milliseconds.
    #[must_use]
    pub fn at(mut self, timestamp_ms: i64) -> Self {
        self.timestamp = Some(timestamp_ms);
        self
    }

    /// Adds a header.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.into(), Some(value.into())));
        self
    }

    /// Adds a header whose value is null (Kafka tells it apart from an empty one).
    #[must_use]
    pub fn with_null_header(mut self, name: impl Into<String>) -> Self {
        self.headers.push((name.into(), None));
        self
    }

    /// Writes the record to `partition` instead of the key's partition.
    #[must_use]
    pub fn to_partition(mut self, partition: i32) -> Self {
        self.partition = Some(partition);
        self
    }
}
