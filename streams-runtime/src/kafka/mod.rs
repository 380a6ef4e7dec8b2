//! Everything that talks to Kafka: the embedded broker, the cluster handle, how clients are
//! created (settings, context, OAUTHBEARER tokens), topic administration.

mod client;
mod cluster;
#[cfg(feature = "embedded")]
mod embedded;
mod headers;
mod oauth;
mod topics;

pub(crate) use client::{ClientSettings, PlainProducer, StreamsAdmin, StreamsConsumer};
pub use cluster::KafkaCluster;
#[cfg(feature = "embedded")]
pub use embedded::EmbeddedCluster;
pub(crate) use headers::headers_of;
pub(crate) use oauth::{OAuth, answer_token_refreshes, uses_oauthbearer};
pub use oauth::{OAuthToken, TokenError, TokenProvider};
pub use topics::TopicSpec;
pub(crate) use topics::{delete_topics, existing_topics};
