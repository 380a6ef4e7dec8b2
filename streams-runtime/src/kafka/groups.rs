//! Consumer groups: which exist and deleting them (the application reset), and who is in the
//! application's group (standby placement).

use std::time::Duration;

use rdkafka::admin::AdminOptions;
use rdkafka::consumer::Consumer;
use rdkafka::error::RDKafkaErrorCode;

use super::{ClientSettings, StreamsConsumer};
use crate::error::{Error, ErrorKind, Result};

const TIMEOUT: Duration = Duration::from_secs(30);

/// Those of `groups` the cluster knows (in any state but `Dead`).
pub(crate) async fn live_groups(client: &ClientSettings, groups: Vec<String>) -> Result<Vec<String>> {
    let client = client.clone();
    tokio::task::spawn_blocking(move || -> Result<Vec<String>> {
        let consumer = client.consumer("a client that looks up consumer groups")?;
        let mut live = Vec::new();
        for group in groups {
            let listed = consumer
                .fetch_group_list(Some(&group), TIMEOUT)
                .map_err(|e| Error::kafka(format!("failed to look up consumer group `{group}`"), e))?;
            if listed.groups().iter().any(|g| g.name() == group && g.state() != "Dead") {
                live.push(group);
            }
        }
        Ok(live)
    })
    .await
    .map_err(|e| Error::new(ErrorKind::Kafka, "the consumer group lookups panicked").with_source(e))?
}

/// Deletes `groups`; one that is gone already is fine. A group that still has members (an
/// instance runs) is an [`ErrorKind::State`] error naming it.
pub(crate) async fn delete_groups(client: &ClientSettings, groups: &[String]) -> Result<()> {
    if groups.is_empty() {
        return Ok(());
    }
    let admin = client.admin("the admin client that deletes consumer groups")?;
    let options = AdminOptions::new().operation_timeout(Some(TIMEOUT));
    let names: Vec<&str> = groups.iter().map(String::as_str).collect();
    let results = admin
        .delete_groups(&names, &options)
        .await
        .map_err(|e| Error::kafka("failed to delete consumer groups", e))?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::GroupIdNotFound)) => {}
            Err((group, RDKafkaErrorCode::NonEmptyGroup)) => {
                return Err(Error::new(
                    ErrorKind::State,
                    format!(
                        "consumer group `{group}` still has members: stop every instance of the application before resetting it"
                    ),
                ));
            }
            Err((group, code)) => {
                return Err(Error::new(
                    ErrorKind::Kafka,
                    format!("failed to delete consumer group `{group}`: {code}"),
                ));
            }
        }
    }
    Ok(())
}

/// The members of consumer group `group` as its coordinator describes them: (member id,
/// client id) each. Blocks up to `timeout`.
pub(crate) fn group_members(
    consumer: &StreamsConsumer,
    group: &str,
    timeout: Duration,
) -> Result<Vec<(String, String)>> {
    let listed = consumer
        .fetch_group_list(Some(group), timeout)
        .map_err(|e| Error::kafka(format!("failed to describe consumer group `{group}`"), e))?;
    Ok(listed
        .groups()
        .iter()
        .filter(|g| g.name() == group)
        .flat_map(|g| g.members())
        .map(|m| (m.id().to_owned(), m.client_id().to_owned()))
        .collect())
}
