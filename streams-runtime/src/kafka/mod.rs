//! Everything that talks to Kafka, and the only module that names rdkafka: the embedded
//! broker, the cluster handle, how clients are created (settings, context, OAUTHBEARER
//! tokens), topic administration, a stream thread's group consumer (rebalances, statistics),
//! its producer and the commit protocol's transport over it (transactions; failures classified
//! once, here, into abortable, fenced, fatal or a rejected record), and the readers
//! restoration and standbys use.

mod assigned_consumer;
mod client;
mod cluster;
mod consumer_stats;
#[cfg(feature = "embedded")]
mod embedded;
mod error;
mod group_consumer;
mod groups;
mod headers;
mod oauth;
mod partition_map;
mod partition_reader;
mod polled;
mod producer;
mod producer_stats;
mod record_producer;
#[cfg(any(test, feature = "test-util"))]
mod test_clients;
#[cfg(any(test, feature = "test-util"))]
pub(crate) mod topic_reader;
mod topics;
mod transport;

pub(crate) use assigned_consumer::{AssignedConsumer, StartAt};
pub(crate) use client::{
    ClientSettings, FETCH_QUEUE_BACKOFF, InstanceClients, PlainProducer, StreamsAdmin, StreamsConsumer,
};
pub use cluster::KafkaCluster;
pub(crate) use consumer_stats::ConsumerStats;
#[cfg(feature = "embedded")]
pub use embedded::EmbeddedCluster;
pub(crate) use group_consumer::{GroupConsumer, RebalanceListener, ThreadConsumer};
pub(crate) use groups::{delete_groups, group_members, live_groups};
pub(crate) use headers::headers_of;
pub(crate) use oauth::{OAuth, answer_token_refreshes, uses_oauthbearer};
pub use oauth::{OAuthToken, TokenError, TokenProvider};
pub(crate) use partition_reader::KafkaPartitionReader;
pub(crate) use producer_stats::{ProducerStats, SharedProducerStats};
pub(crate) use record_producer::RecordProducer;
#[cfg(any(test, feature = "test-util"))]
pub(crate) use test_clients::{AckedProducer, answers_metadata};
pub use topics::TopicSpec;
pub(crate) use topics::{delete_topics, existing_topics, partition_count};
pub(crate) use transport::KafkaTransport;
