//! Everything that talks to Kafka: the embedded broker, the cluster handle, topic administration.

mod cluster;
mod connection_errors;
mod embedded;
mod headers;
mod topics;

pub use cluster::KafkaCluster;
pub(crate) use connection_errors::ConnectionErrors;
pub use embedded::EmbeddedCluster;
pub(crate) use headers::headers_of;
pub use topics::TopicSpec;
pub(crate) use topics::{delete_topics, existing_topics};
