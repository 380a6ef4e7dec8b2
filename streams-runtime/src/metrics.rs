//! The runtime's metrics, kept in a `prometheus-client` registry: counters, and latency
//! histograms labelled by stream thread (commits, record processing, end-to-end) and task
//! (punctuations), which a scraper can aggregate across instances. The per-record histograms
//! sample one record in [`RECORD_LATENCY_SAMPLE`]: measuring every record would cost two clock
//! reads and a histogram update per record, a few percent of the per-record work. `/metrics` encodes the registry (with the `http` feature), the
//! app registers its own metrics in it ([`KafkaStreams::with_metrics_registry`]), and
//! [`Metrics::snapshot`] reads the same values back as a typed [`MetricsSnapshot`].
//!
//! Rates are left to PromQL (`rate(kafka_streams_records_processed_total[1m])`): a rate
//! computed between scrapes is wrong as soon as two scrapers poll.
//!
//! [`KafkaStreams::with_metrics_registry`]: crate::KafkaStreams::with_metrics_registry

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

/// Label sets: `[("thread", name)]`, `[("task", id)]`.
type Labels = Vec<(&'static str, String)>;
type LatencyFamily = Family<Labels, Histogram, fn() -> Histogram>;

/// 0.5 ms to ~16 s, doubling: commit and punctuation latencies from local to stalled.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// 1 µs to ~4 s, by fours: one record's processing, from a map to a slow store write.
fn process_latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_001, 4.0, 12))
}

/// 1 ms to ~9 minutes, doubling: from a record's timestamp to the end of its processing, from
/// live traffic to a backlog being worked off.
fn end_to_end_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 20))
}

/// One stream thread's per-record latency histograms (handles sharing the registry's series).
#[derive(Clone, Debug)]
pub(crate) struct RecordLatency {
    processing: Histogram,
    end_to_end: Histogram,
}

impl RecordLatency {
    /// A sampled record's processing time and its end-to-end latency (from its timestamp to
    /// now, `end_to_end_ms`; a record stamped in the future counts as 0).
    pub(crate) fn observe(&self, processing: Duration, end_to_end_ms: i64) {
        self.processing.observe(processing.as_secs_f64());
        self.end_to_end.observe(end_to_end_ms.max(0) as f64 / 1000.0);
    }
}

/// One record in this many is timed for the per-record latency histograms.
pub(crate) const RECORD_LATENCY_SAMPLE: u64 = 64;

/// Instance-wide metrics, updated lock-free by stream threads (a labelled histogram takes a
/// read lock to find its series, once per commit or punctuation).
pub struct Metrics {
    registry: Mutex<Registry>,
    records_processed: Counter,
    records_skipped: Counter,
    records_dead_lettered: Counter,
    dropped_late_records: Counter,
    commits: Counter,
    aborted_commits: Counter,
    commit_latency: LatencyFamily,
    process_latency: LatencyFamily,
    record_e2e_latency: LatencyFamily,
    punctuations: Counter,
    punctuation_latency: LatencyFamily,
    records_restored: Counter,
    bytes_restored: Counter,
    restore_time: Counter<f64, AtomicU64>,
    failed_stream_threads: Gauge,
    /// For the snapshot's averages and maxima (histograms keep neither exactly).
    commit_latency_total_us: AtomicU64,
    commit_latency_max_us: AtomicU64,
    punctuation_latency_total_us: AtomicU64,
    punctuation_latency_max_us: AtomicU64,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Metrics").field(&self.snapshot()).finish()
    }
}

impl Default for Metrics {
    /// Metrics without an `application_id` label (the test driver's).
    fn default() -> Self {
        Self::labelled(None)
    }
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
    /// The metrics of the application `application_id`, every series labelled with it.
    pub(crate) fn new(application_id: &str) -> Self {
        Self::labelled(Some(application_id))
    }

    fn labelled(application_id: Option<&str>) -> Self {
        let metrics = Self {
            registry: Mutex::new(Registry::default()),
            records_processed: Counter::default(),
            records_skipped: Counter::default(),
            records_dead_lettered: Counter::default(),
            dropped_late_records: Counter::default(),
            commits: Counter::default(),
            aborted_commits: Counter::default(),
            commit_latency: Family::new_with_constructor(latency_histogram),
            process_latency: Family::new_with_constructor(process_latency_histogram),
            record_e2e_latency: Family::new_with_constructor(end_to_end_histogram),
            punctuations: Counter::default(),
            punctuation_latency: Family::new_with_constructor(latency_histogram),
            records_restored: Counter::default(),
            bytes_restored: Counter::default(),
            restore_time: Counter::default(),
            failed_stream_threads: Gauge::default(),
            commit_latency_total_us: AtomicU64::new(0),
            commit_latency_max_us: AtomicU64::new(0),
            punctuation_latency_total_us: AtomicU64::new(0),
            punctuation_latency_max_us: AtomicU64::new(0),
        };
        metrics.register_own(application_id);
        metrics
    }

    /// Registers the runtime's metrics (clones share their values) as `kafka_streams_*`, in a
    /// sub-registry: the app's own metrics at the root keep their names.
    fn register_own(&self, application_id: Option<&str>) {
        let mut root = self.registry();
        let mut r = root.sub_registry_with_prefix("kafka_streams");
        if let Some(id) = application_id {
            r = r.sub_registry_with_label(("application_id".into(), id.to_owned().into()));
        }
        let m = self;
        r.register(
            "records_processed",
            "Records consumed and run through the topology",
            m.records_processed.clone(),
        );
        r.register(
            "records_skipped",
            "Records skipped because they could not be decoded or processed",
            m.records_skipped.clone(),
        );
        r.register(
            "records_dead_lettered",
            "Skipped records sent to a dead-letter topic",
            m.records_dead_lettered.clone(),
        );
        r.register(
            "dropped_late_records",
            "Records dropped because their window had closed",
            m.dropped_late_records.clone(),
        );
        r.register("commits", "Successful commits", m.commits.clone());
        r.register(
            "aborted_commits",
            "Commits that failed and were rolled back",
            m.aborted_commits.clone(),
        );
        r.register_with_unit(
            "commit_latency",
            "Time a commit took (flush, offsets or transaction), per stream thread",
            Unit::Seconds,
            m.commit_latency.clone(),
        );
        r.register_with_unit(
            "process_latency",
            "Time to process one record through its task (sampled: one record in 16), per stream thread",
            Unit::Seconds,
            m.process_latency.clone(),
        );
        r.register_with_unit(
            "record_e2e_latency",
            "From a record's timestamp to the end of its processing (sampled: one record in 16), per stream \
             thread",
            Unit::Seconds,
            m.record_e2e_latency.clone(),
        );
        r.register(
            "punctuations",
            "Punctuations run by hand-written processors",
            m.punctuations.clone(),
        );
        r.register_with_unit(
            "punctuation_latency",
            "Time a punctuation took, per task",
            Unit::Seconds,
            m.punctuation_latency.clone(),
        );
        r.register(
            "records_restored",
            "Changelog records replayed into local stores",
            m.records_restored.clone(),
        );
        r.register(
            "bytes_restored",
            "Key and value bytes replayed into local stores",
            m.bytes_restored.clone(),
        );
        r.register_with_unit(
            "restore_time",
            "Time spent restoring stores",
            Unit::Seconds,
            m.restore_time.clone(),
        );
        r.register(
            "failed_stream_threads",
            "Stream threads stopped by an unrecoverable error",
            m.failed_stream_threads.clone(),
        );
    }

    /// The registry: the runtime's metrics, and the app's own once registered.
    pub(crate) fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn record_processed(&self) {
        self.records_processed.inc();
    }

    pub(crate) fn record_dead_lettered(&self) {
        self.records_dead_lettered.inc();
    }

    pub(crate) fn record_skipped(&self) {
        self.records_skipped.inc();
    }

    pub(crate) fn record_commit(&self, thread: &str, latency: Duration) {
        self.commits.inc();
        self.commit_latency
            .get_or_create(&vec![("thread", thread.to_owned())])
            .observe(latency.as_secs_f64());
        let us = latency.as_micros() as u64;
        self.commit_latency_total_us.fetch_add(us, Ordering::Relaxed);
        self.commit_latency_max_us.fetch_max(us, Ordering::Relaxed);
    }

    /// The per-record latency histograms of stream thread `thread`, held by the thread so a
    /// sampled record costs no label lookup.
    pub(crate) fn record_latency(&self, thread: &str) -> RecordLatency {
        let labels = vec![("thread", thread.to_owned())];
        RecordLatency {
            processing: self.process_latency.get_or_create(&labels).clone(),
            end_to_end: self.record_e2e_latency.get_or_create(&labels).clone(),
        }
    }

    pub(crate) fn record_punctuation(&self, task: &impl std::fmt::Display, latency: Duration) {
        self.punctuations.inc();
        self.punctuation_latency
            .get_or_create(&vec![("task", task.to_string())])
            .observe(latency.as_secs_f64());
        let us = latency.as_micros() as u64;
        self.punctuation_latency_total_us.fetch_add(us, Ordering::Relaxed);
        self.punctuation_latency_max_us.fetch_max(us, Ordering::Relaxed);
    }

    pub(crate) fn record_aborted_commit(&self) {
        self.aborted_commits.inc();
    }

    pub(crate) fn record_restore(&self, records: u64, bytes: u64, took: Duration) {
        self.records_restored.inc_by(records);
        self.bytes_restored.inc_by(bytes);
        self.restore_time.inc_by(took.as_secs_f64());
    }

    pub(crate) fn record_late_drops(&self, dropped: u64) {
        // Called for every record; an atomic add of 0 is not free.
        if dropped > 0 {
            self.dropped_late_records.inc_by(dropped);
        }
    }

    pub(crate) fn record_failed_thread(&self) {
        self.failed_stream_threads.inc();
    }

    /// Reads every metric.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let commits = self.commits.get();
        let total = self.commit_latency_total_us.load(Ordering::Relaxed);
        let punctuations = self.punctuations.get();
        let punctuation_total = self.punctuation_latency_total_us.load(Ordering::Relaxed);
        MetricsSnapshot {
            records_processed: self.records_processed.get(),
            records_skipped: self.records_skipped.get(),
            records_dead_lettered: self.records_dead_lettered.get(),
            commits,
            commit_latency_avg: Duration::from_micros(total.checked_div(commits).unwrap_or(0)),
            commit_latency_max: Duration::from_micros(self.commit_latency_max_us.load(Ordering::Relaxed)),
            aborted_commits: self.aborted_commits.get(),
            records_restored: self.records_restored.get(),
            bytes_restored: self.bytes_restored.get(),
            restore_time_total: Duration::from_secs_f64(self.restore_time.get()),
            dropped_late_records: self.dropped_late_records.get(),
            failed_stream_threads: self.failed_stream_threads.get().unsigned_abs(),
            punctuations,
            punctuation_latency_avg: Duration::from_micros(punctuation_total.checked_div(punctuations).unwrap_or(0)),
            punctuation_latency_max: Duration::from_micros(self.punctuation_latency_max_us.load(Ordering::Relaxed)),
        }
    }
}
