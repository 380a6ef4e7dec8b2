//! The Prometheus text exposition of an instance's metrics.

use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use crate::KafkaStreams;

/// Renders metrics; remembers the previous scrape to report the processing rate between scrapes.
#[derive(Debug)]
pub(crate) struct Exporter {
    last: Mutex<Option<(Instant, u64)>>,
}

impl Exporter {
    pub(crate) fn new() -> Self {
        Self { last: Mutex::new(None) }
    }

    pub(crate) fn render(&self, streams: &KafkaStreams) -> String {
        let m = streams.metrics();
        let app = escape(streams.application_id());
        let now = Instant::now();
        let rate = {
            let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            let rate = last.map_or(0.0, |(at, count)| {
                let secs = now.duration_since(at).as_secs_f64();
                if secs > 0.0 {
                    m.records_processed.saturating_sub(count) as f64 / secs
                } else {
                    0.0
                }
            });
            *last = Some((now, m.records_processed));
            rate
        };
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: String| {
            let _ = writeln!(out, "# HELP kafka_streams_{name} {help}");
            let _ = writeln!(out, "# TYPE kafka_streams_{name} {kind}");
            let _ = writeln!(out, "kafka_streams_{name}{{application_id=\"{app}\"}} {value}");
        };
        metric(
            "records_processed_total",
            "counter",
            "Records consumed and run through the topology.",
            m.records_processed.to_string(),
        );
        metric(
            "records_processed_rate",
            "gauge",
            "Records processed per second since the previous scrape.",
            format!("{rate:.3}"),
        );
        metric(
            "records_skipped_total",
            "counter",
            "Records skipped because they could not be decoded or processed.",
            m.records_skipped.to_string(),
        );
        metric(
            "records_dead_lettered_total",
            "counter",
            "Skipped records sent to a dead-letter topic.",
            m.records_dead_lettered.to_string(),
        );
        metric(
            "dropped_late_records_total",
            "counter",
            "Records dropped because their window had closed.",
            m.dropped_late_records.to_string(),
        );
        metric("commits_total", "counter", "Successful commits.", m.commits.to_string());
        metric(
            "aborted_commits_total",
            "counter",
            "Commits that failed and were rolled back.",
            m.aborted_commits.to_string(),
        );
        metric(
            "commit_latency_avg_seconds",
            "gauge",
            "Mean commit latency.",
            format!("{:.6}", m.commit_latency_avg.as_secs_f64()),
        );
        metric(
            "commit_latency_max_seconds",
            "gauge",
            "Slowest commit.",
            format!("{:.6}", m.commit_latency_max.as_secs_f64()),
        );
        metric(
            "punctuations_total",
            "counter",
            "Punctuations run by hand-written processors.",
            m.punctuations.to_string(),
        );
        metric(
            "punctuation_latency_avg_seconds",
            "gauge",
            "Mean punctuation latency.",
            format!("{:.6}", m.punctuation_latency_avg.as_secs_f64()),
        );
        metric(
            "punctuation_latency_max_seconds",
            "gauge",
            "Slowest punctuation.",
            format!("{:.6}", m.punctuation_latency_max.as_secs_f64()),
        );
        metric(
            "records_restored_total",
            "counter",
            "Changelog records replayed into local stores.",
            m.records_restored.to_string(),
        );
        metric(
            "bytes_restored_total",
            "counter",
            "Key and value bytes replayed into local stores.",
            m.bytes_restored.to_string(),
        );
        metric(
            "restore_time_seconds_total",
            "counter",
            "Time spent restoring stores.",
            format!("{:.6}", m.restore_time_total.as_secs_f64()),
        );
        metric(
            "state_store_size_bytes",
            "gauge",
            "Bytes the local stores occupy.",
            streams.state_store_size_bytes().to_string(),
        );
        metric(
            "failed_stream_threads",
            "gauge",
            "Stream threads stopped by an unrecoverable error.",
            m.failed_stream_threads.to_string(),
        );
        out.push_str("# HELP kafka_streams_consumer_lag Records behind the high watermark per input partition.\n");
        out.push_str("# TYPE kafka_streams_consumer_lag gauge\n");
        for (topic, partition, lag) in streams.consumer_lags() {
            let _ = writeln!(
                out,
                "kafka_streams_consumer_lag{{application_id=\"{app}\",topic=\"{}\",partition=\"{partition}\"}} {lag}",
                escape(&topic)
            );
        }
        out
    }
}

/// Escapes a Prometheus label value.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}
