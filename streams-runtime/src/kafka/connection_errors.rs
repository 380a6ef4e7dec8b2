//! Why a client could not talk to the cluster. librdkafka answers a request it could not send
//! with "Broker transport failure" and reports the cause — a wrong password, an untrusted
//! certificate, an unknown host — separately, to the client's error callback. This context
//! keeps that cause, so the first request of an application can fail with it.

use std::sync::Mutex;

use rdkafka::ClientContext;
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError;

/// A client context remembering the last connection-level error librdkafka reported.
#[derive(Debug, Default)]
pub(crate) struct ConnectionErrors {
    last: Mutex<Option<String>>,
}

impl ConnectionErrors {
    /// The last reported error (e.g. "SASL authentication error: Authentication failed …").
    pub(crate) fn last(&self) -> Option<String> {
        self.last.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl ClientContext for ConnectionErrors {
    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!(target: "librdkafka", %error, reason, "client error");
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason.to_owned());
    }
}

impl ConsumerContext for ConnectionErrors {}
