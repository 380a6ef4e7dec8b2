//! The driver's choice of the next record to process: the readable record with the lowest
//! timestamp across every input partition (the first input on a tie).
//!
//! Scanning every partition's head for every record cost the driver a read of each head (and a
//! cache miss on each) per record. A head depends only on its topic's log — which changes by
//! appends, transaction ends and deletions, each moving the topic's version — and on the
//! reader's positions, which have a version of their own. So the heads are kept between
//! choices, and only those of a topic whose version moved, or all after a position moved
//! elsewhere (a rollback's seek, a rejoin), are read again, besides the one just consumed.

use std::sync::Arc;

use super::log::{self, MemoryLog, Payload};
use super::transport::ReadPositions;
use crate::error::Result;

/// One input partition's head: where its reader stands once past unreadable records, and the
/// timestamp of the readable record there, if there is one.
#[derive(Clone, Copy, Debug, Default)]
struct Head {
    offset: i64,
    timestamp: Option<i64>,
}

/// The next record of each input, as of the versions it was read at.
#[derive(Debug)]
pub(super) struct InputHeads {
    heads: Vec<Head>,
    /// Per input (set at the first input of each topic): the topic version its heads are of.
    topic_versions: Vec<u64>,
    /// The positions' version the heads are of; `None` until the first choice (or after a
    /// failed one), when every head is read.
    positions_version: Option<u64>,
    /// The input the last choice consumed: its head moved on.
    consumed: Option<usize>,
}

/// The record chosen: the input's index, its offset and its payload.
pub(super) type Chosen = (usize, i64, Arc<Payload>);

impl InputHeads {
    pub(super) fn new(inputs: usize) -> Self {
        Self {
            heads: vec![Head::default(); inputs],
            topic_versions: vec![0; inputs],
            positions_version: None,
            consumed: None,
        }
    }

    /// Chooses the next record of `inputs` (sorted by topic; `new_topic` marks the first input
    /// of each topic) and moves its reader past it; readers that stood before records never
    /// delivered (aborted, deleted) move past those too, as a consumer does. `None`: nothing is
    /// readable.
    pub(super) fn choose(
        &mut self,
        log: &MemoryLog,
        positions: &mut ReadPositions,
        inputs: &[(String, i32)],
        new_topic: &[bool],
        read_committed: bool,
    ) -> Result<Option<Chosen>> {
        let positions_current = self.positions_version == Some(positions.version());
        // Invalid until this choice completes: an error half-way leaves no stale heads behind.
        self.positions_version = None;
        // Readers to move past undeliverable records: rare, applied after the scan.
        let mut skipped: Vec<(usize, i64)> = Vec::new();
        let mut topic_log = None;
        // The first input of the topic `topic_log` is (the last one looked up, after the scan).
        let mut topic_start = 0;
        let mut topic_current = false;
        let mut topic_positions = None;
        for (index, (topic, partition)) in inputs.iter().enumerate() {
            if new_topic[index] {
                let Some(found) = log.topic(topic) else {
                    return Err(log::unknown(topic, *partition));
                };
                topic_current = positions_current && self.topic_versions[index] == found.version();
                self.topic_versions[index] = found.version();
                topic_log = Some(found);
                topic_start = index;
                topic_positions = None;
            }
            if topic_current && self.consumed != Some(index) {
                continue;
            }
            let Some(partitions) = &topic_log else {
                return Err(log::unknown(topic, *partition));
            };
            let position = topic_positions
                .get_or_insert_with(|| positions.topic(topic))
                .map_or(0, |p| ReadPositions::of(p, *partition));
            let (offset, record) = partitions.next_readable(*partition, position, read_committed)?;
            if offset != position {
                skipped.push((index, offset));
            }
            self.heads[index] = Head {
                offset,
                timestamp: record.map(|r| r.timestamp),
            };
        }
        let best = self
            .heads
            .iter()
            .enumerate()
            .filter_map(|(index, head)| head.timestamp.map(|t| (index, head.offset, t)))
            .reduce(|best, other| if other.2 < best.2 { other } else { best });
        let chosen = match best {
            Some((index, offset, _)) => {
                let (topic, partition) = &inputs[index];
                let record = match &topic_log {
                    // Most topologies read one topic: no second look-up.
                    Some(last) if index >= topic_start => last.read(*partition, offset, read_committed),
                    _ => log
                        .topic(topic)
                        .and_then(|t| t.read(*partition, offset, read_committed)),
                }
                .ok_or_else(|| log::unknown(topic, *partition))?;
                Some((index, offset, Arc::clone(&record.payload)))
            }
            None => None,
        };
        for (index, offset) in skipped {
            let (topic, partition) = &inputs[index];
            positions.set(topic, *partition, offset);
        }
        if let Some((index, offset, _)) = &chosen {
            let (topic, partition) = &inputs[*index];
            positions.set(topic, *partition, offset + 1);
        }
        self.consumed = chosen.as_ref().map(|(index, _, _)| *index);
        self.positions_version = Some(positions.version());
        Ok(chosen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::driver::log::{LogRecord, Status};

    fn append(log: &mut MemoryLog, topic: &str, partition: i32, timestamp: i64, status: Status) {
        let payload = Payload {
            key: Some(format!("k{timestamp}").into_bytes()),
            value: None,
            timestamp,
            headers: Vec::new(),
        };
        let mut appender = log.topic_mut(topic).expect("topic");
        appender
            .append(partition, LogRecord::new(payload, status))
            .expect("append");
    }

    /// Chooses until nothing is readable; the timestamps in the order chosen.
    fn drain(
        heads: &mut InputHeads,
        log: &MemoryLog,
        positions: &mut ReadPositions,
        inputs: &[(String, i32)],
    ) -> Vec<i64> {
        let new_topic: Vec<bool> = (0..inputs.len())
            .map(|i| i == 0 || inputs[i].0 != inputs[i - 1].0)
            .collect();
        let mut chosen = Vec::new();
        while let Some((_, _, payload)) = heads.choose(log, positions, inputs, &new_topic, true).expect("choose") {
            chosen.push(payload.timestamp);
        }
        chosen
    }

    /// Kept heads are re-read whenever what they depend on changed: an append (also to a
    /// partition other than the one consumed), a transaction's end, a deletion, a seek.
    #[test]
    fn every_change_to_a_log_or_a_position_is_seen_by_the_next_choice() {
        let mut log = MemoryLog::default();
        log.create_topic("a", 2).expect("topic");
        log.create_topic("b", 1).expect("topic");
        let inputs = vec![("a".to_owned(), 0), ("a".to_owned(), 1), ("b".to_owned(), 0)];
        let (mut heads, mut positions) = (InputHeads::new(inputs.len()), ReadPositions::default());
        append(&mut log, "a", 0, 10, Status::Visible);
        append(&mut log, "a", 1, 20, Status::Visible);
        append(&mut log, "b", 0, 15, Status::Visible);
        assert_eq!(drain(&mut heads, &log, &mut positions, &inputs), [10, 15, 20]);

        // Appended after the heads were kept, to partitions not consumed last.
        append(&mut log, "b", 0, 5, Status::Visible);
        append(&mut log, "a", 0, 30, Status::Visible);
        assert_eq!(drain(&mut heads, &log, &mut positions, &inputs), [5, 30]);

        // An open transaction hides its record from a `read_committed` reader until it ends.
        append(&mut log, "a", 1, 40, Status::Open(7));
        assert_eq!(drain(&mut heads, &log, &mut positions, &inputs), Vec::<i64>::new());
        log.end_transaction(7, true);
        assert_eq!(drain(&mut heads, &log, &mut positions, &inputs), [40]);

        // A seek back (a rollback) reads the records again; a deletion moves the reader past.
        positions.set("a", 0, 0);
        positions.set("b", 0, 0);
        log.delete_records("b", 0, 1).expect("delete");
        assert_eq!(drain(&mut heads, &log, &mut positions, &inputs), [5, 10, 30]);
        assert_eq!(positions.get("b", 0), 2, "the reader moved past the deleted record");
    }
}
