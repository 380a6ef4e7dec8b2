//! Testing: a broker-free [`TestDriver`], and brokers for tests — the in-process mock cluster
//! and a real tansu broker process.
//!
//! Which to use:
//! - [`TestDriver`] — no broker at all: deterministic, multi-partition, with control over time,
//!   commits and crashes; runs the production task, store and commit code. For topology logic,
//!   state contents and recovery semantics.
//! - [`TestBroker::mock`] — in-process, starts in milliseconds, supports fault injection
//!   ([`EmbeddedCluster::inject_request_errors`]); cannot show exactly-once outcomes (aborted records
//!   stay visible to `read_committed`, `TxnOffsetCommit` stores nothing).
//! - [`TestBroker::tansu`] — a separate broker process on a free loopback port, for consumer
//!   groups across processes, rebalances, committed offsets and compacted topics; it cannot
//!   complete transactions (no `EndTxn` routing), so exactly-once runs do not finish on it.

mod driver;
mod tansu;
mod topic_reader;

use std::sync::Arc;

pub use driver::{CommitFault, InputTopic, OutputTopic, TestDriver, TestDriverBuilder, TestRecord};
pub use tansu::{TANSU_VERSION, TansuBroker};
pub use topic_reader::{RawRecord, read_topic};

use crate::error::Result;
use crate::kafka::{EmbeddedCluster, KafkaCluster, TopicSpec};

/// A broker started for one test; stopped when dropped.
#[derive(Debug)]
pub enum TestBroker {
    /// librdkafka's in-process mock cluster.
    Mock(Arc<EmbeddedCluster>),
    /// A tansu broker process.
    Tansu(TansuBroker),
}

impl TestBroker {
    /// Starts a one-broker in-process mock cluster.
    pub fn mock() -> Result<Self> {
        Ok(Self::Mock(Arc::new(EmbeddedCluster::start(1)?)))
    }

    /// Starts a tansu broker process on a free loopback port.
    pub fn tansu() -> Result<Self> {
        Ok(Self::Tansu(TansuBroker::start()?))
    }

    /// The `bootstrap.servers` string for clients and apps under test.
    pub fn bootstrap_servers(&self) -> &str {
        match self {
            Self::Mock(cluster) => cluster.bootstrap_servers(),
            Self::Tansu(broker) => broker.bootstrap_servers(),
        }
    }

    /// A cluster handle, e.g. to hand to an application under test.
    pub fn cluster(&self) -> KafkaCluster {
        match self {
            Self::Mock(cluster) => KafkaCluster::from(Arc::clone(cluster)),
            Self::Tansu(broker) => KafkaCluster::remote(broker.bootstrap_servers()),
        }
    }

    /// Creates a topic the way that works on this broker (the mock's own API, or admin requests).
    pub async fn create_topic(&self, name: &str, partitions: i32) -> Result<()> {
        self.cluster().create_topics(&[TopicSpec::new(name, partitions)]).await
    }
}
