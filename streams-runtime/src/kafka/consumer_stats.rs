//! What librdkafka's periodic statistics (`statistics.interval.ms`) tell about a stream
//! thread's consumer: lag and fetched-but-unpolled records per partition, each partition's end,
//! and the round trip to each broker. Read at every commit into the thread's status, and from
//! there by `/metrics` and the membership entry.

use rdkafka::Statistics;

use super::partition_map::PartitionMap;

/// A stream thread consumer's statistics, as of librdkafka's last report.
#[derive(Clone, Debug, Default)]
pub(crate) struct ConsumerStats {
    /// (topic, partition, records behind the high watermark), partitions being fetched.
    pub(crate) lags: Vec<(String, i32, i64)>,
    /// (topic, partition, records fetched and not yet polled): the consumer's queue depth.
    pub(crate) fetch_queue: Vec<(String, i32, i64)>,
    /// (broker `host:port`, mean request round trip in seconds over the last interval).
    pub(crate) broker_rtt: Vec<(String, f64)>,
}

impl ConsumerStats {
    pub(crate) fn from_statistics(statistics: &Statistics) -> Self {
        let mut lags = Vec::new();
        let mut fetch_queue = Vec::new();
        for (topic, t) in &statistics.topics {
            for (&partition, p) in t.partitions.iter().filter(|(p, _)| **p >= 0) {
                if p.consumer_lag >= 0 && p.fetch_state == "active" {
                    lags.push((topic.clone(), partition, p.consumer_lag));
                }
                if p.fetch_state == "active" {
                    fetch_queue.push((topic.clone(), partition, p.fetchq_cnt));
                }
            }
        }
        lags.sort();
        fetch_queue.sort();
        let mut broker_rtt: Vec<(String, f64)> = statistics
            .brokers
            .values()
            // Bootstrap and coordinator pseudo-brokers have negative ids.
            .filter(|b| b.nodeid >= 0)
            .filter_map(|b| Some((b.nodename.clone(), b.rtt.as_ref()?.avg as f64 / 1e6)))
            .collect();
        broker_rtt.sort_by(|a, b| a.0.cmp(&b.0));
        Self {
            lags,
            fetch_queue,
            broker_rtt,
        }
    }
}

/// The end of each partition in `statistics`: the last stable offset under `read_committed`
/// (records of open transactions cannot be read yet), else the high watermark.
pub(crate) fn partition_ends(statistics: &Statistics, read_committed: bool) -> PartitionMap<i64> {
    statistics
        .topics
        .iter()
        .flat_map(|(topic, t)| {
            t.partitions
                .iter()
                .map(|(p, s)| (*p, if read_committed { s.ls_offset } else { s.hi_offset }))
                .filter(|&(p, end)| p >= 0 && end >= 0)
                .map(move |(p, end)| ((topic.clone(), p), end))
        })
        .collect()
}
