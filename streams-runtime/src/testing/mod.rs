//! Testing: a broker-free [`TestDriver`], and brokers for tests — the in-process mock cluster
//! and a real Apache Kafka broker process. Behind the `test-util` feature: enable it in your
//! `[dev-dependencies]`, so production binaries do not carry it.
//!
//! Which to use:
//! - [`TestDriver`] — no broker at all: deterministic, multi-partition, with control over time,
//!   commits and crashes; runs the production task, store and commit code. For topology logic,
//!   state contents and recovery semantics.
//! - [`TestBroker::kafka`] — Apache Kafka 4.x (single-node KRaft) in its own JVM on free loopback
//!   ports: the broker users run. For everything about transactions, consumer groups, failover,
//!   outages ([`TestBroker::stop`] / [`TestBroker::start`] keep its data) and topic configs.
//! - [`TestBroker::mock`] — librdkafka's in-process mock cluster: starts in milliseconds and
//!   supports fault injection ([`EmbeddedCluster::inject_request_errors`]), but cannot show
//!   exactly-once outcomes (aborted records stay visible to `read_committed`, `TxnOffsetCommit`
//!   stores nothing) and ignores topic configs. The embedded default of `cargo run` demos.
//!
//! On either broker, [`TopicWriter`] writes test input (the runtime's codecs, Kafka's
//! partitioner) and [`read_topic`] reads output back.

mod driver;
mod instances;
mod kafka_broker;
mod temp_dir;
mod topic_writer;

use std::sync::Arc;

pub use crate::kafka::topic_reader::{
    PartitionOffsets, RawRecord, partition_offsets, read_topic, read_topic_uncommitted,
};
pub use driver::{CommitFault, InputTopic, OutputTopic, TestDriver, TestDriverBuilder, TestRecord};
pub use instances::TestInstances;
pub use kafka_broker::{KafkaBroker, SaslSslListener, unsecured_token};
pub use topic_writer::{TopicWriter, free_loopback_address};

use crate::error::{Error, ErrorKind, Result};
use crate::kafka::{EmbeddedCluster, KafkaCluster, TopicSpec};

/// A broker started for one test; stopped when dropped.
#[derive(Debug)]
pub enum TestBroker {
    /// librdkafka's in-process mock cluster.
    Mock(Arc<EmbeddedCluster>),
    /// An Apache Kafka broker process.
    Kafka(KafkaBroker),
}

impl TestBroker {
    /// Starts a one-broker in-process mock cluster.
    pub fn mock() -> Result<Self> {
        Ok(Self::Mock(Arc::new(EmbeddedCluster::start(1)?)))
    }

    /// Starts a single-node Apache Kafka broker process (installed by `scripts/setup.sh`) on free
    /// loopback ports with a fresh log directory, and waits until it answers metadata.
    pub fn kafka() -> Result<Self> {
        Ok(Self::Kafka(KafkaBroker::start_new()?))
    }

    /// Like [`kafka`](Self::kafka), with a `SASL_SSL` listener (TLS, SCRAM-SHA-256) knowing
    /// `users` (name, password); see [`KafkaBroker::sasl_ssl`].
    pub fn kafka_sasl_ssl(users: &[(&str, &str)]) -> Result<Self> {
        Ok(Self::Kafka(KafkaBroker::start_new_sasl_ssl(users)?))
    }

    /// The `bootstrap.servers` string for clients and apps under test.
    pub fn bootstrap_servers(&self) -> &str {
        match self {
            Self::Mock(cluster) => cluster.bootstrap_servers(),
            Self::Kafka(broker) => broker.bootstrap_servers(),
        }
    }

    /// A cluster handle, e.g. to hand to an application under test.
    pub fn cluster(&self) -> KafkaCluster {
        match self {
            Self::Mock(cluster) => KafkaCluster::from(Arc::clone(cluster)),
            Self::Kafka(broker) => KafkaCluster::remote(broker.bootstrap_servers()),
        }
    }

    /// Creates a topic the way that works on this broker (the mock's own API, or admin requests).
    pub async fn create_topic(&self, name: &str, partitions: i32) -> Result<()> {
        self.cluster().create_topics(&[TopicSpec::new(name, partitions)]).await
    }

    /// Stops the Kafka broker process, keeping its data for [`TestBroker::start`].
    pub fn stop(&mut self) -> Result<()> {
        self.kafka_broker()?.stop()
    }

    /// Starts the stopped Kafka broker again on the same data and address.
    pub fn start(&mut self) -> Result<()> {
        self.kafka_broker()?.start()
    }

    /// The broker's log so far (empty for the mock), for assertion messages.
    pub fn log(&self) -> String {
        match self {
            Self::Mock(_) => String::new(),
            Self::Kafka(broker) => broker.log(),
        }
    }

    fn kafka_broker(&mut self) -> Result<&mut KafkaBroker> {
        match self {
            Self::Kafka(broker) => Ok(broker),
            Self::Mock(_) => Err(Error::new(
                ErrorKind::Config,
                "the mock cluster cannot be stopped and started; use TestBroker::kafka()",
            )),
        }
    }
}
