//! What librdkafka's periodic statistics (`statistics.interval.ms`) tell about a stream
//! thread's consumer: lag per partition, records fetched and not yet polled, each partition's end,
//! and the round trip to each broker. Read at every commit into the thread's status, and from
//! there by `/metrics` and the membership entry.

use rdkafka::Statistics;

use super::partition_map::PartitionMap;
use crate::task::FetchedLag;

/// A stream thread consumer's statistics, as of librdkafka's last report.
#[derive(Clone, Debug, Default)]
pub(crate) struct ConsumerStats {
    /// (topic, partition, records behind the high watermark), partitions being fetched.
    pub(crate) lags: Vec<(String, i32, i64)>,
    /// Records fetched and not yet polled: the consumer's queue depth. Per consumer, not per
    /// partition: every partition's fetch queue is forwarded to the consumer's one queue, and
    /// librdkafka's per-partition `fetchq_cnt` reports that queue's length.
    pub(crate) fetch_queue: i64,
    /// (broker `host:port`, mean request round trip in seconds over the last interval).
    pub(crate) broker_rtt: Vec<(String, f64)>,
}

impl ConsumerStats {
    pub(crate) fn from_statistics(statistics: &Statistics) -> Self {
        let mut lags = Vec::new();
        let mut fetch_queue = 0;
        for (topic, t) in &statistics.topics {
            for (&partition, p) in t.partitions.iter().filter(|(p, _)| **p >= 0) {
                if p.consumer_lag >= 0 && p.fetch_state == "active" {
                    lags.push((topic.clone(), partition, p.consumer_lag));
                }
                if p.fetch_state == "active" {
                    fetch_queue = fetch_queue.max(p.fetchq_cnt);
                }
            }
        }
        lags.sort();
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

/// What one statistics report says of a partition: where it ends and how far librdkafka's
/// fetcher is, to tell a merging task whether an empty partition's records are on their way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PartitionReport {
    /// The last stable offset under `read_committed` (records of open transactions cannot be
    /// read yet), else the high watermark; `None` until a fetch or an offset lookup told it.
    pub(crate) end: Option<i64>,
    pub(crate) fetch: Fetch,
}

/// The fetcher's state for one partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fetch {
    /// Assigned, not fetching yet (looking up the committed offset, where to start, the
    /// leader's epoch): the fetch starts at `from`, the committed offset or else the log start
    /// (`auto.offset.reset=earliest`, as stream threads set it).
    Starting { from: i64 },
    /// Fetching: `next` is the next offset to fetch; it started at `from`, the committed offset
    /// or else the log start (`None` if neither is known). Before the first poll, records in
    /// `[from, next)` were fetched and wait in librdkafka's queue (librdkafka's `fetchq_cnt`
    /// cannot tell: it counts the consumer's whole queue, which every partition's is
    /// forwarded to).
    Fetching { next: i64, from: Option<i64> },
    /// Not assigned here, or being stopped.
    NotFetched,
}

impl PartitionReport {
    /// Whether records of the partition are on their way to a consumer at `position` (`None`:
    /// the application has polled nothing of it since it was assigned or moved, so librdkafka's
    /// fetcher is asked instead).
    pub(crate) fn lag(&self, position: Option<i64>) -> FetchedLag {
        let behind_if = |behind: bool| {
            if behind {
                FetchedLag::Behind
            } else {
                FetchedLag::CaughtUp
            }
        };
        match (position, self.end, self.fetch) {
            (_, _, Fetch::NotFetched) => FetchedLag::Unknown,
            (Some(position), Some(end), _) => behind_if(end > position),
            // Polled, but no report of the end since: the next report (500 ms) tells.
            (Some(_), None, _) => FetchedLag::Unknown,
            // Not polled yet: records not fetched yet are on their way, and so are records the
            // fetch moved past (queued: a transaction marker or an aborted batch among them
            // ends with a marker, and polling a marker gives the partition a position).
            (None, end, Fetch::Fetching { next, from }) => match (end, from) {
                (None, _) => FetchedLag::Behind,
                (Some(end), _) if end > next => FetchedLag::Behind,
                (Some(_), Some(from)) => behind_if(next > from),
                (Some(_), None) => FetchedLag::Unknown,
            },
            (None, end, Fetch::Starting { from }) => behind_if(end.is_none_or(|end| end > from)),
        }
    }
}

/// The end and fetch state of each partition in `statistics` (see [`PartitionReport`]).
pub(crate) fn partition_reports(statistics: &Statistics, read_committed: bool) -> PartitionMap<PartitionReport> {
    statistics
        .topics
        .iter()
        .flat_map(|(topic, t)| {
            t.partitions
                .iter()
                .filter(|(p, _)| **p >= 0)
                .map(move |(p, s)| ((topic.clone(), *p), partition_report(s, read_committed)))
        })
        .collect()
}

fn partition_report(stats: &rdkafka::statistics::Partition, read_committed: bool) -> PartitionReport {
    let end = if read_committed {
        stats.ls_offset
    } else {
        stats.hi_offset
    };
    let start = [stats.committed_offset, stats.lo_offset]
        .into_iter()
        .find(|offset| *offset >= 0);
    let fetch = match stats.fetch_state.as_str() {
        _ if !stats.desired => Fetch::NotFetched,
        "stopping" | "stopped" => Fetch::NotFetched,
        "active" if stats.next_offset >= 0 => Fetch::Fetching {
            next: stats.next_offset,
            from: start,
        },
        _ => Fetch::Starting {
            from: start.unwrap_or(0),
        },
    };
    PartitionReport {
        end: (end >= 0).then_some(end),
        fetch,
    }
}

#[cfg(test)]
mod tests {
    use super::{Fetch, FetchedLag, PartitionReport, partition_report};

    const BEHIND: FetchedLag = FetchedLag::Behind;
    const CAUGHT_UP: FetchedLag = FetchedLag::CaughtUp;
    const UNKNOWN: FetchedLag = FetchedLag::Unknown;

    fn report(end: Option<i64>, fetch: Fetch) -> PartitionReport {
        PartitionReport { end, fetch }
    }

    #[test]
    fn a_polled_partition_is_behind_while_below_the_reported_end() {
        let fetching = Fetch::Fetching {
            next: 100,
            from: Some(90),
        };
        assert_eq!(report(Some(100), fetching).lag(Some(90)), BEHIND);
        assert_eq!(report(Some(100), fetching).lag(Some(100)), CAUGHT_UP);
        assert_eq!(report(None, fetching).lag(Some(100)), UNKNOWN);
        assert_eq!(report(Some(100), Fetch::NotFetched).lag(Some(90)), UNKNOWN);
    }

    #[test]
    fn before_the_first_poll_the_fetcher_tells() {
        let fetching = |next, from| Fetch::Fetching { next, from };
        // Nothing fetched since the committed offset, which is the end: caught up although the
        // position is unknown.
        assert_eq!(report(Some(100), fetching(100, Some(100))).lag(None), CAUGHT_UP);
        // Still on the broker; no answer yet.
        assert_eq!(report(Some(100), fetching(90, Some(90))).lag(None), BEHIND);
        assert_eq!(report(None, fetching(90, Some(90))).lag(None), BEHIND);
        // Fetched up to the end, not polled yet: queued.
        assert_eq!(report(Some(100), fetching(100, Some(93))).lag(None), BEHIND);
        // Where the fetch started is not known.
        assert_eq!(report(Some(100), fetching(100, None)).lag(None), UNKNOWN);
        // Looking up where to start: records are coming if the end is past the start, or
        // while the end is not known.
        assert_eq!(report(Some(100), Fetch::Starting { from: 95 }).lag(None), BEHIND);
        assert_eq!(report(Some(100), Fetch::Starting { from: 100 }).lag(None), CAUGHT_UP);
        assert_eq!(report(None, Fetch::Starting { from: 0 }).lag(None), BEHIND);
        // Not fetched here at all.
        assert_eq!(report(Some(100), Fetch::NotFetched).lag(None), UNKNOWN);
    }

    fn stats(
        desired: bool,
        fetch_state: &str,
        next_offset: i64,
        committed_offset: i64,
    ) -> rdkafka::statistics::Partition {
        rdkafka::statistics::Partition {
            desired,
            fetch_state: fetch_state.to_owned(),
            next_offset,
            fetchq_cnt: 3,
            committed_offset,
            lo_offset: 10,
            hi_offset: 100,
            ls_offset: 80,
            ..Default::default()
        }
    }

    #[test]
    fn librdkafka_statistics_are_read_into_a_report() {
        let read = |desired, state, next, committed, read_committed| {
            partition_report(&stats(desired, state, next, committed), read_committed)
        };
        assert_eq!(
            read(true, "active", 50, 40, false),
            report(
                Some(100),
                Fetch::Fetching {
                    next: 50,
                    from: Some(40)
                }
            )
        );
        assert_eq!(read(true, "active", 50, 40, true).end, Some(80));
        assert_eq!(
            read(true, "offset-query", -1001, 40, false).fetch,
            Fetch::Starting { from: 40 }
        );
        // No committed offset: from the log start.
        assert_eq!(
            read(true, "active", 50, -1001, false).fetch,
            Fetch::Fetching {
                next: 50,
                from: Some(10)
            }
        );
        assert_eq!(
            read(true, "none", -1001, -1001, false).fetch,
            Fetch::Starting { from: 10 }
        );
        assert_eq!(read(true, "stopped", 50, 40, false).fetch, Fetch::NotFetched);
        assert_eq!(read(false, "active", 50, 40, false).fetch, Fetch::NotFetched);
        let mut unknown_end = stats(true, "none", -1001, -1001);
        unknown_end.hi_offset = -1001;
        assert_eq!(partition_report(&unknown_end, false).end, None);
    }
}
