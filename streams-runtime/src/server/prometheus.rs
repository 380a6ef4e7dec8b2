//! `/metrics`: the registry (the runtime's counters and histograms, and the app's own metrics)
//! in the OpenMetrics text format, plus what is read at scrape time from the running threads
//! (the stores' size on disk; from librdkafka's statistics, consumer lag and queue depth per
//! input partition and the round trip to each broker).

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};

use crate::KafkaStreams;

/// A series' labels, e.g. `[("topic", ..), ("partition", ..)]`.
type Labels = Vec<(&'static str, String)>;

/// The content type of [`render`]'s text.
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The exposition of `streams`' metrics.
pub(crate) fn render(streams: &KafkaStreams) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = streams.with_metrics_registry(|registry| encode_registry(&mut out, registry));
    let _ = encode_registry(&mut out, &scraped(streams));
    let _ = encode_eof(&mut out);
    out
}

/// The gauges read now: they live in the threads' last reported status, not in counters.
fn scraped(streams: &KafkaStreams) -> Registry {
    let mut registry = Registry::with_prefix_and_labels(
        "kafka_streams",
        [("application_id".into(), streams.application_id().to_owned().into())].into_iter(),
    );
    let size = Family::<Labels, Gauge>::default();
    for (store, bytes) in streams.state_store_sizes() {
        size.get_or_create(&vec![("store", store)])
            .set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }
    registry.register_with_unit("state_store_size", "Bytes each local store occupies", Unit::Bytes, size);
    // One read of the threads' statistics for the three families.
    let lag = Family::<Labels, Gauge>::default();
    let queued = Family::<Labels, Gauge>::default();
    let rtt = Family::<Labels, Gauge<f64, AtomicU64>>::default();
    for (thread, stats) in streams.consumer_stats() {
        for (topic, partition, records) in stats.lags {
            lag.get_or_create(&vec![("topic", topic), ("partition", partition.to_string())])
                .set(records);
        }
        for (topic, partition, records) in stats.fetch_queue {
            queued
                .get_or_create(&vec![("topic", topic), ("partition", partition.to_string())])
                .set(records);
        }
        for (broker, seconds) in stats.broker_rtt {
            rtt.get_or_create(&vec![("thread", thread.clone()), ("broker", broker)])
                .set(seconds);
        }
    }
    registry.register(
        "consumer_lag",
        "Records behind the high watermark per input partition",
        lag,
    );
    registry.register(
        "fetch_queue_records",
        "Records fetched and not yet polled per input partition, the consumer queue depth",
        queued,
    );
    registry.register_with_unit(
        "broker_rtt",
        "Mean request round trip to each broker over the last statistics interval, per stream thread",
        Unit::Seconds,
        rtt,
    );
    registry
}
