//! `/metrics`: the registry (the runtime's counters and histograms, and the app's own metrics)
//! in the OpenMetrics text format, plus what is read at scrape time from the running threads
//! (the stores' size on disk; from librdkafka's statistics, consumer lag and queue depth per
//! input partition, the round trip to each broker, and each producer's queue and transaction
//! state).

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
        queued
            .get_or_create(&vec![("thread", thread.clone())])
            .set(stats.fetch_queue);
        for (broker, seconds) in stats.broker_rtt {
            rtt.get_or_create(&vec![("thread", thread.clone()), ("broker", broker)])
                .set(seconds);
        }
    }
    register_producer_stats(&mut registry, streams);
    registry.register(
        "consumer_lag",
        "Records behind the high watermark per input partition",
        lag,
    );
    registry.register(
        "fetch_queue_records",
        "Records fetched and not yet polled by each stream thread's consumer (its queue depth; librdkafka's statistics cannot tell them apart by partition)",
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

/// Per stream thread: the producer's queue (records and bytes not yet delivered) and, under
/// exactly-once, its transaction state (one series of value 1, labelled with librdkafka's state
/// name) and epoch.
fn register_producer_stats(registry: &mut Registry, streams: &KafkaStreams) {
    let queued = Family::<Labels, Gauge>::default();
    let queued_bytes = Family::<Labels, Gauge>::default();
    let state = Family::<Labels, Gauge>::default();
    let epoch = Family::<Labels, Gauge>::default();
    for (thread, stats) in streams.producer_stats() {
        let by_thread = vec![("thread", thread.clone())];
        queued
            .get_or_create(&by_thread)
            .set(i64::try_from(stats.queued_records).unwrap_or(i64::MAX));
        queued_bytes
            .get_or_create(&by_thread)
            .set(i64::try_from(stats.queued_bytes).unwrap_or(i64::MAX));
        if let Some(name) = stats.transaction_state {
            state.get_or_create(&vec![("thread", thread), ("state", name)]).set(1);
        }
        if let Some(e) = stats.producer_epoch {
            epoch.get_or_create(&by_thread).set(e);
        }
    }
    registry.register(
        "producer_queue_records",
        "Records produced and not yet delivered, per stream thread",
        queued,
    );
    registry.register_with_unit(
        "producer_queue",
        "Bytes of the records produced and not yet delivered, per stream thread",
        Unit::Bytes,
        queued_bytes,
    );
    registry.register(
        "producer_transaction_state",
        "1 for the transactional producer's current state (librdkafka's name), per stream thread",
        state,
    );
    registry.register(
        "producer_epoch",
        "The transactional producer's epoch, per stream thread (it moves when the producer is replaced)",
        epoch,
    );
}
