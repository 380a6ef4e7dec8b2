//! Counters and timings the runtime keeps (exported over HTTP in a later issue).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Instance-wide metrics, updated lock-free by stream threads.
#[derive(Debug, Default)]
pub struct Metrics {
    records_processed: AtomicU64,
    records_skipped: AtomicU64,
    records_dead_lettered: AtomicU64,
    commits: AtomicU64,
    commit_latency_total_us: AtomicU64,
    commit_latency_max_us: AtomicU64,
    aborted_commits: AtomicU64,
    records_restored: AtomicU64,
    bytes_restored: AtomicU64,
    restore_time_total_us: AtomicU64,
    dropped_late_records: AtomicU64,
    failed_stream_threads: AtomicU64,
    punctuations: AtomicU64,
    punctuation_latency_total_us: AtomicU64,
    punctuation_latency_max_us: AtomicU64,
}

/// A point-in-time copy of [`Metrics`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetricsSnapshot {
    /// Records consumed and run through the topology.
    pub records_processed: u64,
    /// Records skipped because they could not be decoded or processed.
    pub records_skipped: u64,
    /// Of the skipped records, those sent to a dead-letter topic.
    pub records_dead_lettered: u64,
    /// Successful commits.
    pub commits: u64,
    /// Mean commit latency.
    pub commit_latency_avg: Duration,
    /// Slowest commit.
    pub commit_latency_max: Duration,
    /// Commits that failed and were rolled back (transaction aborts included).
    pub aborted_commits: u64,
    /// Changelog records replayed into local stores.
    pub records_restored: u64,
    /// Key and value bytes of those records.
    pub bytes_restored: u64,
    /// Time spent restoring.
    pub restore_time_total: Duration,
    /// Records dropped because their window had closed.
    pub dropped_late_records: u64,
    /// Stream threads that stopped on an unrecoverable error.
    pub failed_stream_threads: u64,
    /// Punctuations run (hand-written processors' `punctuate` calls).
    pub punctuations: u64,
    /// Mean time a punctuation took.
    pub punctuation_latency_avg: Duration,
    /// Slowest punctuation.
    pub punctuation_latency_max: Duration,
}

impl Metrics {
    pub(crate) fn record_processed(&self) {
        self.records_processed.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn record_dead_lettered(&self) {
        self.records_dead_lettered.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn record_skipped(&self) {
        self.records_skipped.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn record_commit(&self, latency: Duration) {
        let us = latency.as_micros() as u64;
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.commit_latency_total_us.fetch_add(us, Ordering::Relaxed);
        self.commit_latency_max_us.fetch_max(us, Ordering::Relaxed);
    }

    pub(crate) fn record_punctuation(&self, latency: Duration) {
        let us = latency.as_micros() as u64;
        self.punctuations.fetch_add(1, Ordering::Relaxed);
        self.punctuation_latency_total_us.fetch_add(us, Ordering::Relaxed);
        self.punctuation_latency_max_us.fetch_max(us, Ordering::Relaxed);
    }

    pub(crate) fn record_aborted_commit(&self) {
        self.aborted_commits.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn record_restore(&self, records: u64, bytes: u64, took: Duration) {
        self.records_restored.fetch_add(records, Ordering::Relaxed);
        self.bytes_restored.fetch_add(bytes, Ordering::Relaxed);
        self.restore_time_total_us
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    pub(crate) fn record_late_drops(&self, dropped: u64) {
        self.dropped_late_records.fetch_add(dropped, Ordering::Relaxed);
    }

    pub(crate) fn record_failed_thread(&self) {
        self.failed_stream_threads.fetch_add(1, Ordering::Relaxed);
    }

    /// Reads every metric.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let commits = self.commits.load(Ordering::Relaxed);
        let total = self.commit_latency_total_us.load(Ordering::Relaxed);
        let punctuations = self.punctuations.load(Ordering::Relaxed);
        let punctuation_total = self.punctuation_latency_total_us.load(Ordering::Relaxed);
        MetricsSnapshot {
            records_processed: self.records_processed.load(Ordering::Relaxed),
            records_skipped: self.records_skipped.load(Ordering::Relaxed),
            records_dead_lettered: self.records_dead_lettered.load(Ordering::Relaxed),
            commits,
            commit_latency_avg: Duration::from_micros(total.checked_div(commits).unwrap_or(0)),
            commit_latency_max: Duration::from_micros(self.commit_latency_max_us.load(Ordering::Relaxed)),
            aborted_commits: self.aborted_commits.load(Ordering::Relaxed),
            records_restored: self.records_restored.load(Ordering::Relaxed),
            bytes_restored: self.bytes_restored.load(Ordering::Relaxed),
            restore_time_total: Duration::from_micros(self.restore_time_total_us.load(Ordering::Relaxed)),
            dropped_late_records: self.dropped_late_records.load(Ordering::Relaxed),
            failed_stream_threads: self.failed_stream_threads.load(Ordering::Relaxed),
            punctuations,
            punctuation_latency_avg: Duration::from_micros(punctuation_total.checked_div(punctuations).unwrap_or(0)),
            punctuation_latency_max: Duration::from_micros(self.punctuation_latency_max_us.load(Ordering::Relaxed)),
        }
    }
}
