//! Typed handles on the driver's topics: pipe records in, read records out.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use super::record::TestRecord;
use super::{Core, RawRecord, SharedCore, lock_core};
use crate::codec::Codec;
use crate::error::{Error, ErrorKind, Result};

/// A source topic of the driven topology, with the codecs its records are written with.
pub struct InputTopic<K, V> {
    pub(super) name: String,
    pub(super) key_codec: Arc<dyn Codec<K>>,
    pub(super) value_codec: Arc<dyn Codec<V>>,
    pub(super) core: SharedCore,
}

impl<K: 'static, V: 'static> InputTopic<K, V> {
    /// The topic's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Writes `key` → `value` stamped with the driver's wall-clock time, then processes
    /// everything that became readable.
    pub fn pipe(&self, key: K, value: V) -> Result<()> {
        self.pipe_record(TestRecord::new(key, value))
    }

    /// Writes `key` → `value` with event time `timestamp_ms`, then processes.
    pub fn pipe_at(&self, key: K, value: V, timestamp_ms: i64) -> Result<()> {
        self.pipe_record(TestRecord::new(key, value).at(timestamp_ms))
    }

    /// Writes one record, then processes.
    pub fn pipe_record(&self, record: TestRecord<K, V>) -> Result<()> {
        self.pipe_records([record])
    }

    /// Writes all `records` first, then processes: records of different partitions are then
    /// interleaved by event time, as a stream thread that fetched them together would.
    pub fn pipe_records(&self, records: impl IntoIterator<Item = TestRecord<K, V>>) -> Result<()> {
        let raw = records
            .into_iter()
            .map(|r| self.encode(r))
            .collect::<Result<Vec<_>>>()?;
        let mut core = lock_core(&self.core);
        core.append(&self.name, raw)?;
        core.run()
    }

    fn encode(&self, record: TestRecord<K, V>) -> Result<RawRecord> {
        let codec_error = |e: crate::codec::CodecError| {
            Error::new(e.error_kind(), format!("cannot encode a record for `{}`", self.name)).with_source(e)
        };
        Ok(RawRecord {
            key: Some(self.key_codec.encode_owned(record.key).map_err(codec_error)?),
            value: record
                .value
                .map(|v| self.value_codec.encode_owned(v))
                .transpose()
                .map_err(codec_error)?,
            timestamp: record.timestamp,
            headers: record.headers,
            partition: record.partition,
        })
    }
}

/// A topic the driven topology writes to, read as a `read_committed` consumer would: under
/// exactly-once only committed records, in the order they were written.
pub struct OutputTopic<K, V> {
    pub(super) name: String,
    pub(super) key_codec: Arc<dyn Codec<K>>,
    pub(super) value_codec: Arc<dyn Codec<V>>,
    pub(super) core: SharedCore,
    /// Next offset to read, per partition.
    pub(super) positions: Mutex<HashMap<i32, i64>>,
}

impl<K: 'static, V: 'static> OutputTopic<K, V> {
    /// The topic's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every record not read yet, in the order they were written.
    pub fn read_records(&self) -> Result<Vec<TestRecord<K, V>>> {
        let raw = {
            let core = lock_core(&self.core);
            let mut positions = self.positions.lock().unwrap_or_else(|e| e.into_inner());
            Core::read_committed(&core, &self.name, &mut positions)?
        };
        raw.into_iter()
            .map(|(partition, r)| self.decode(partition, r))
            .collect()
    }

    /// Keys and values of every record not read yet; a tombstone is an error (use
    /// [`read_records`](Self::read_records) to see them).
    pub fn read_key_values(&self) -> Result<Vec<(K, V)>> {
        self.read_records()?
            .into_iter()
            .map(|r| match r.value {
                Some(value) => Ok((r.key, value)),
                None => Err(Error::new(
                    ErrorKind::Codec,
                    format!("`{}` holds a tombstone; read it with `read_records`", self.name),
                )),
            })
            .collect()
    }

    /// Values of every record not read yet (tombstones are an error, as in
    /// [`read_key_values`](Self::read_key_values)).
    pub fn read_values(&self) -> Result<Vec<V>> {
        Ok(self.read_key_values()?.into_iter().map(|(_, v)| v).collect())
    }

    /// The latest value per key among the records not read yet (a tombstone removes its key),
    /// as a table reading this topic would hold it.
    pub fn read_key_values_to_map(&self) -> Result<HashMap<K, V>>
    where
        K: Eq + Hash,
    {
        let mut table = HashMap::new();
        for record in self.read_records()? {
            match record.value {
                Some(value) => table.insert(record.key, value),
                None => table.remove(&record.key),
            };
        }
        Ok(table)
    }

    fn decode(&self, partition: i32, raw: RawRecord) -> Result<TestRecord<K, V>> {
        let codec_error = |e: crate::codec::CodecError| {
            Error::new(e.error_kind(), format!("cannot decode a record of `{}`", self.name)).with_source(e)
        };
        let key = match &raw.key {
            Some(bytes) => self.key_codec.decode(bytes),
            None => self.key_codec.decode_absent(),
        }
        .map_err(codec_error)?;
        let value = raw
            .value
            .map(|bytes| self.value_codec.decode(&bytes))
            .transpose()
            .map_err(codec_error)?;
        Ok(TestRecord {
            key,
            value,
            timestamp: raw.timestamp,
            headers: raw.headers,
            partition: Some(partition),
        })
    }
}
