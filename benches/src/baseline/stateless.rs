//! Stateless baseline: consume clicks, drop `/home`, keep the URL, produce — by hand.

use std::time::Duration;

use kafka_streams::kafka::KafkaCluster;
use rdkafka::message::Message;

use super::kafka_loop::{forwarded_headers, run, send};
use crate::data::Click;

/// `n` clicks of `input` → filter → map_values → `output`, with rdkafka only.
pub fn stateless_passthrough(
    cluster: &KafkaCluster,
    input: &str,
    output: &str,
    n: u64,
    commit_interval: Duration,
    ready: &std::sync::atomic::AtomicBool,
) -> (std::time::Instant, crate::cpu::CpuSnapshot) {
    run(
        cluster,
        input,
        "baseline-stateless",
        n,
        commit_interval,
        ready,
        |message, producer| {
            let Some(payload) = message.payload() else { return };
            let Ok(click) = serde_json::from_slice::<Click>(payload) else {
                return;
            };
            if click.url == "/home" {
                return;
            }
            let timestamp = message.timestamp().to_millis().unwrap_or(0);
            send(
                producer,
                output,
                None,
                (message.key().unwrap_or_default(), click.url.as_bytes()),
                timestamp,
                forwarded_headers(message),
            );
        },
        |_| {},
    )
}
