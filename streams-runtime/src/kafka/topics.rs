//! Topic creation and deletion on real brokers through the admin API.

use std::time::Duration;

use rdkafka::admin::{AdminOptions, NewTopic, TopicReplication};
use rdkafka::consumer::Consumer;
use rdkafka::types::RDKafkaErrorCode;

use super::client::ClientSettings;
use crate::error::{Error, ErrorKind, Result};

/// A topic the runtime needs: name, partition count and topic-level configs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicSpec {
    /// Topic name.
    pub name: String,
    /// Number of partitions.
    pub partitions: i32,
    /// Topic configs such as `cleanup.policy=compact`.
    pub config: Vec<(String, String)>,
}

impl TopicSpec {
    /// A topic with default configs.
    pub fn new(name: impl Into<String>, partitions: i32) -> Self {
        Self {
            name: name.into(),
            partitions,
            config: Vec::new(),
        }
    }

    /// Adds a topic-level config.
    #[must_use]
    pub fn with_config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.push((key.into(), value.into()));
        self
    }
}

const ADMIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Creates the topics that do not exist yet; topics that already exist are left as they are
/// (and cost no admin request, so apps also start where admin requests are not allowed).
pub(crate) async fn create_topics(client_config: &ClientSettings, specs: &[TopicSpec]) -> Result<()> {
    let existing = existing_topics(client_config).await?;
    let specs: Vec<&TopicSpec> = specs.iter().filter(|s| !existing.contains(&s.name)).collect();
    if specs.is_empty() {
        return Ok(());
    }
    let admin = client_config.admin("the Kafka admin client")?;
    let new_topics: Vec<NewTopic<'_>> = specs
        .iter()
        .map(|spec| {
            spec.config.iter().fold(
                NewTopic::new(&spec.name, spec.partitions, TopicReplication::Fixed(-1)),
                |topic, (k, v)| topic.set(k, v),
            )
        })
        .collect();
    let options = AdminOptions::new()
        .operation_timeout(Some(ADMIN_TIMEOUT))
        .request_timeout(Some(ADMIN_TIMEOUT));
    let results = admin
        .create_topics(&new_topics, &options)
        .await
        .map_err(|e| Error::kafka("failed to create topics", e))?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => {
                return Err(Error::new(
                    ErrorKind::Kafka,
                    format!("failed to create topic `{topic}`: {code}"),
                ));
            }
        }
    }
    Ok(())
}

/// Deletes `names` (a topic already gone counts as deleted) and waits until the metadata no
/// longer lists them, so a start right after finds none half-deleted and creates them afresh.
pub(crate) async fn delete_topics(client_config: &ClientSettings, names: &[String]) -> Result<()> {
    if names.is_empty() {
        return Ok(());
    }
    let admin = client_config.admin("the Kafka admin client")?;
    let options = AdminOptions::new()
        .operation_timeout(Some(ADMIN_TIMEOUT))
        .request_timeout(Some(ADMIN_TIMEOUT));
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let results = admin
        .delete_topics(&refs, &options)
        .await
        .map_err(|e| Error::kafka("failed to delete topics", e))?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::UnknownTopicOrPartition)) => {}
            Err((topic, code)) => {
                return Err(Error::new(
                    ErrorKind::Kafka,
                    format!("failed to delete topic `{topic}`: {code}"),
                ));
            }
        }
    }
    let deadline = std::time::Instant::now() + DELETION_TIMEOUT;
    loop {
        let existing = existing_topics(client_config).await?;
        let left: Vec<&str> = refs.iter().copied().filter(|name| existing.contains(*name)).collect();
        if left.is_empty() {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(Error::new(
                ErrorKind::Kafka,
                format!(
                    "topics still listed {DELETION_TIMEOUT:?} after their deletion: {}",
                    left.join(", ")
                ),
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// How long [`delete_topics`] waits for deleted topics to disappear from the metadata.
const DELETION_TIMEOUT: Duration = Duration::from_secs(60);

/// The names of the cluster's topics: every topic the metadata lists, one with an error (a
/// leader election under way) included — it exists, so it is neither created again nor left
/// out of a deletion.
pub(crate) async fn existing_topics(client_config: &ClientSettings) -> Result<std::collections::HashSet<String>> {
    let config = client_config.clone();
    tokio::task::spawn_blocking(move || {
        let metadata = config
            .consumer("a client to list topics")?
            .fetch_metadata(None, ADMIN_TIMEOUT)
            .map_err(|e| Error::kafka("failed to list topics", e))?;
        Ok(metadata.topics().iter().map(|t| t.name().to_owned()).collect())
    })
    .await
    .map_err(|e| Error::new(ErrorKind::Kafka, "the metadata request panicked").with_source(e))?
}

/// Partitions of `topic`, or `None` if it does not exist.
pub(crate) async fn partition_count(config: &ClientSettings, topic: &str) -> Result<Option<i32>> {
    let (config, name) = (config.clone(), topic.to_owned());
    let metadata = tokio::task::spawn_blocking(move || {
        // The first request of the application: if the cluster cannot be reached, say why.
        let consumer = config.consumer("a client")?;
        consumer
            .fetch_metadata(Some(&name), Duration::from_secs(30))
            .map_err(|e| {
                // librdkafka delivers the cause as an event: serve the client's queue for it.
                let _ = consumer.poll(Duration::from_millis(500));
                (e, consumer.context().last_error())
            })
            .map_err(|(e, cause)| match cause {
                Some(cause) => Error::kafka(format!("failed to read metadata of `{name}`: {cause}"), e),
                None => Error::kafka(format!("failed to read metadata of `{name}`"), e),
            })
    })
    .await
    .map_err(|e| Error::new(ErrorKind::Kafka, "the metadata request panicked").with_source(e))??;
    Ok(metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic && t.error().is_none())
        .map(|t| t.partitions().len() as i32)
        .filter(|&n| n > 0))
}
