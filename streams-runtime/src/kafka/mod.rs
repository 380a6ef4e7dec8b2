//! Everything that talks to Kafka: the embedded broker, the cluster handle, topic administration.

mod cluster;
mod embedded;
mod topics;

pub use cluster::KafkaCluster;
pub use embedded::EmbeddedCluster;
pub use topics::TopicSpec;
