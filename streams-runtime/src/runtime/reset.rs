//! Starting an application over: Kafka Streams' application reset tool and `cleanUp()` in one.
//!
//! A reset deletes what the application derived, never its input or output topics: the internal
//! topics of its topology (changelogs, repartition topics, `<application.id>-membership`), the
//! committed offsets of its
//! consumer groups (`<application.id>` and the global tables' `<application.id>-global`), and
//! the local state directory `<state.dir>/<application.id>`. The next start reads every input
//! from the beginning (`auto.offset.reset` is `earliest`) and rebuilds all state.
//!
//! Every instance must be stopped first: a group that still has members is not deleted, and the
//! reset fails naming it; a local state directory in use by a running instance is refused too.
//!
//! Kafka Streams' tool deletes every topic named like an internal topic of the application id;
//! that also matches the topics of an application whose id extends this one (`clicks` and
//! `clicks-v2`). Here only the topology's own are deleted; other topics named like them (say,
//! of a store since removed) are listed in [`ResetPlan::not_deleted`] for you to check.

use std::path::PathBuf;

use crate::config::StreamsConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::kafka::{self, KafkaCluster};
use crate::naming;
use crate::topology::Topology;

/// What a reset deletes (or, from [`plan_reset`], would delete).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResetPlan {
    /// Internal topics of the topology that exist on the cluster.
    pub topics: Vec<String>,
    /// Topics named like internal topics of the application id that this topology does not
    /// have (left alone).
    pub not_deleted: Vec<String>,
    /// Consumer groups of the application that exist on the cluster.
    pub groups: Vec<String>,
    /// The local state directory, if there is one.
    pub local_state: Option<PathBuf>,
}

impl std::fmt::Display for ResetPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |items: &[String]| {
            if items.is_empty() {
                "none".to_owned()
            } else {
                items.join(", ")
            }
        };
        writeln!(f, "internal topics: {}", list(&self.topics))?;
        if !self.not_deleted.is_empty() {
            writeln!(
                f,
                "left alone (named like internal topics, not of this topology): {}",
                list(&self.not_deleted)
            )?;
        }
        writeln!(f, "consumer groups (committed offsets): {}", list(&self.groups))?;
        match &self.local_state {
            Some(dir) => write!(f, "local state: {}", dir.display()),
            None => write!(f, "local state: none"),
        }
    }
}

/// The internal topics `topology` uses as application `application_id`.
fn internal_topics(application_id: &str, topology: &Topology) -> Vec<String> {
    let mut names: Vec<String> = topology
        .subtopologies
        .iter()
        .flat_map(|s| s.stores.iter().filter(|store| store.logged))
        .map(|store| naming::changelog_topic(application_id, &store.name))
        .chain(topology.repartition_sources(application_id))
        .chain([naming::membership_topic(application_id)])
        .collect();
    names.sort();
    names.dedup();
    names
}

/// What [`reset`] would delete for `topology` run as the application `config` names on `cluster`.
pub async fn plan_reset(cluster: &KafkaCluster, config: &StreamsConfig, topology: &Topology) -> Result<ResetPlan> {
    let client = super::with_client_properties(cluster.clone(), config).client_settings();
    let application_id = config.application_id().to_owned();
    let own = internal_topics(&application_id, topology);
    let mut found: Vec<String> = kafka::existing_topics(&client)
        .await?
        .into_iter()
        .filter(|name| naming::is_internal_topic(&application_id, name))
        .collect();
    found.sort();
    let groups = kafka::live_groups(
        &client,
        vec![application_id.clone(), format!("{application_id}-global")],
    )
    .await?;
    let (topics, not_deleted) = found.into_iter().partition(|t| own.contains(t));
    let dir = config.state_dir().join(config.application_id());
    Ok(ResetPlan {
        topics,
        not_deleted,
        groups,
        local_state: dir.exists().then_some(dir),
    })
}

/// Deletes what [`plan_reset`] lists; returns what was deleted. Fails, deleting nothing more,
/// when an instance still runs (its group has members, or it holds the local state directory).
pub async fn reset(cluster: &KafkaCluster, config: &StreamsConfig, topology: &Topology) -> Result<ResetPlan> {
    let plan = plan_reset(cluster, config, topology).await?;
    // The local directory first: if an instance here still runs, nothing else is touched.
    let local_lock = match &plan.local_state {
        Some(_) => Some(
            super::state_dir_lock::acquire(config.state_dir(), config.application_id()).map_err(|e| {
                Error::new(
                    ErrorKind::State,
                    "stop every instance of the application before resetting it",
                )
                .with_source(e)
            })?,
        ),
        None => None,
    };
    let client = super::with_client_properties(cluster.clone(), config).client_settings();
    kafka::delete_groups(&client, &plan.groups).await?;
    kafka::delete_topics(&client, &plan.topics).await?;
    if let Some(dir) = &plan.local_state {
        drop(local_lock);
        std::fs::remove_dir_all(dir).map_err(|e| Error::io(format!("failed to delete `{}`", dir.display()), e))?;
    }
    tracing::info!(application_id = config.application_id(), %plan, "application reset");
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_topics_are_recognised_by_name() {
        for internal in [
            "clicks-app-click-counts-changelog",
            "clicks-app-by-region-repartition",
            "clicks-app-membership",
        ] {
            assert!(naming::is_internal_topic("clicks-app", internal), "{internal}");
        }
        for other in [
            "clicks",
            "clicks-app",
            "clicks-app-counts",
            "clicks-application-x-changelog",
            "other-app-x-changelog",
        ] {
            assert!(!naming::is_internal_topic("clicks-app", other), "{other}");
        }
    }
}
