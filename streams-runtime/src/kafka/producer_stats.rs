//! What librdkafka's periodic statistics tell about a stream thread's producer: the records
//! and bytes waiting to be sent, and under exactly-once the transaction's state and the
//! producer epoch (a new epoch is a fenced or replaced producer). Kept where the thread's status
//! can reach it, and read by `/metrics` when scraped.

use std::sync::{Arc, Mutex};

use rdkafka::Statistics;

/// A producer's latest statistics, written by its client context at every report and read at
/// scrape time (a snapshot taken at commits would go stale when nothing is committed).
#[derive(Clone, Debug, Default)]
pub(crate) struct SharedProducerStats(Arc<Mutex<ProducerStats>>);

impl SharedProducerStats {
    pub(crate) fn get(&self) -> ProducerStats {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn set(&self, stats: ProducerStats) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = stats;
    }
}

/// A stream thread producer's statistics, as of librdkafka's last report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ProducerStats {
    /// Records produced and not yet delivered (librdkafka's queue).
    pub(crate) queued_records: u64,
    /// Their bytes.
    pub(crate) queued_bytes: u64,
    /// librdkafka's transactional state (`Ready`, `InTransaction`, `BeginCommit`,
    /// `AbortableError`, `FatalError`, …); `None` without transactions.
    pub(crate) transaction_state: Option<String>,
    /// The transactional producer's epoch; `None` without transactions or before one is
    /// assigned.
    pub(crate) producer_epoch: Option<i64>,
}

impl ProducerStats {
    pub(crate) fn from_statistics(statistics: &Statistics) -> Self {
        let eos = statistics
            .eos
            .as_ref()
            .filter(|eos| !eos.txn_state.is_empty() && eos.txn_state != "Init");
        Self {
            queued_records: statistics.msg_cnt,
            queued_bytes: statistics.msg_size,
            transaction_state: eos.map(|eos| eos.txn_state.clone()),
            producer_epoch: eos.map(|eos| eos.producer_epoch).filter(|&epoch| epoch >= 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use rdkafka::statistics::ExactlyOnceSemantics;

    use super::*;

    #[test]
    fn queue_depth_and_transaction_state_are_read() {
        let statistics = Statistics {
            msg_cnt: 12,
            msg_size: 3_400,
            eos: Some(ExactlyOnceSemantics {
                txn_state: "InTransaction".into(),
                producer_epoch: 3,
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            ProducerStats::from_statistics(&statistics),
            ProducerStats {
                queued_records: 12,
                queued_bytes: 3_400,
                transaction_state: Some("InTransaction".into()),
                producer_epoch: Some(3),
            }
        );
        // An idempotent producer without transactions reports `Init` and no epoch.
        let plain = Statistics {
            eos: Some(ExactlyOnceSemantics {
                txn_state: "Init".into(),
                producer_epoch: -1,
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(ProducerStats::from_statistics(&plain), ProducerStats::default());
    }
}
