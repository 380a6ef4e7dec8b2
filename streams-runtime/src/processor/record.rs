/// A typed record flowing between processor nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record<K, V> {
    /// The key (partitioning and grouping go by it).
    pub key: K,
    /// The value.
    pub value: V,
    /// Event time, epoch milliseconds.
    pub timestamp: i64,
}

impl<K, V> Record<K, V> {
    /// A record with `key`, `value` and event time `timestamp` (epoch milliseconds).
    pub fn new(key: K, value: V, timestamp: i64) -> Self {
        Self { key, value, timestamp }
    }

    /// The same record with a new key and value.
    pub fn with<K2, V2>(&self, key: K2, value: V2) -> Record<K2, V2> {
        Record {
            key,
            value,
            timestamp: self.timestamp,
        }
    }
}

/// A record header: its name and its value, which Kafka allows to be null — distinct from an
/// empty value, and kept distinct from the input to the outputs.
pub type Header = (String, Option<Vec<u8>>);
