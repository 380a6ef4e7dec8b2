//! Start-up checks of source topics and creation of changelog and repartition topics.

use std::collections::HashMap;

use crate::error::{Error, ErrorKind, Result};
use crate::kafka::{KafkaCluster, TopicSpec, partition_count};
use crate::naming;
use crate::state::StoreKind;
use crate::topology::Topology;
use crate::topology::graph::topic::TopicName;

/// Extra time a window changelog keeps records beyond the store's retention (Kafka Streams'
/// `windowstore.changelog.additional.retention.ms`).
const WINDOW_CHANGELOG_EXTRA_RETENTION_MS: i64 = 24 * 3_600_000;

/// Partition counts of every sub-topology, after creating the internal topics it needs.
pub(crate) async fn prepare(
    cluster: &KafkaCluster,
    application_id: &str,
    topology: &Topology,
) -> Result<HashMap<u32, i32>> {
    let consumer = cluster.client_settings();
    let mut source_partitions = HashMap::new();
    for name in external_sources(topology) {
        if let Some(count) = partition_count(&consumer, &name).await? {
            source_partitions.insert(name, count);
        }
    }
    let (partitions, mut specs) = plan(application_id, topology, &source_partitions)?;
    specs.push(TopicSpec::new(naming::membership_topic(application_id), 1).with_config("cleanup.policy", "compact"));
    cluster.create_topics(&specs).await?;
    for spec in &specs {
        match partition_count(&consumer, &spec.name).await? {
            Some(count) if count != spec.partitions => {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!(
                        "internal topic `{}` has {count} partitions but needs {}; delete it (its data is derived) and restart",
                        spec.name, spec.partitions
                    ),
                ));
            }
            _ => {}
        }
    }
    Ok(partitions)
}

/// The external topics the topology reads.
pub(crate) fn external_sources(topology: &Topology) -> Vec<String> {
    let mut names: Vec<String> = topology
        .subtopologies
        .iter()
        .flat_map(|s| &s.sources)
        .filter_map(|(topic, _)| match topic {
            TopicName::External(name) => Some(name.clone()),
            TopicName::Repartition(_) => None,
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// From the partition counts of the existing external source topics: every sub-topology's
/// partition count and the internal topics to create. Missing sources and co-partitioned
/// inputs that disagree are errors.
pub(crate) fn plan(
    application_id: &str,
    topology: &Topology,
    source_partitions: &HashMap<String, i32>,
) -> Result<(HashMap<u32, i32>, Vec<TopicSpec>)> {
    let mut partitions: HashMap<u32, i32> = HashMap::new();
    // External sources fix their sub-topology's partition count; co-partitioned inputs must agree.
    for sub in &topology.subtopologies {
        let mut seen: Vec<(String, i32)> = Vec::new();
        for (topic, _) in &sub.sources {
            if let TopicName::External(name) = topic {
                let count = source_partitions.get(name).copied().ok_or_else(|| {
                    Error::new(
                        ErrorKind::Config,
                        format!("source topic `{name}` does not exist; create it before starting `{application_id}`"),
                    )
                })?;
                seen.push((name.clone(), count));
            }
        }
        if let Some((first, count)) = seen.first()
            && let Some((other, other_count)) = seen.iter().find(|(_, c)| c != count)
        {
            return Err(Error::new(
                ErrorKind::Config,
                format!(
                    "sub-topology {} reads `{first}` ({count} partitions) and `{other}` ({other_count} partitions); \
                     co-partitioned inputs need the same partition count — repartition one of them",
                    sub.id
                ),
            ));
        }
        if let Some((_, count)) = seen.first() {
            partitions.insert(sub.id, *count);
        }
    }
    // Repartition topics take their own count if set, else that of the external topics their
    // reader is co-partitioned with (a join with a table), else their writer's; they fix their
    // reader's count.
    let mut specs = Vec::new();
    for repartition in &topology.repartitions {
        let topic = TopicName::Repartition(repartition.name.clone());
        let reader = topology
            .subtopologies
            .iter()
            .find(|s| s.sources.iter().any(|(t, _)| *t == topic));
        let count = repartition
            .partitions
            .or_else(|| reader.and_then(|r| partitions.get(&r.id).copied()))
            .or_else(|| partitions.get(&repartition.upstream).copied())
            .unwrap_or(1);
        if let Some(reader) = reader {
            partitions.insert(reader.id, count);
        }
        specs.push(
            TopicSpec::new(topic.resolve(application_id), count)
                .with_config("cleanup.policy", "delete")
                .with_config("retention.ms", "-1"),
        );
    }
    for sub in &topology.subtopologies {
        let count = partitions.get(&sub.id).copied().unwrap_or(1);
        for store in sub.stores.iter().filter(|s| s.logged) {
            let name = naming::changelog_topic(application_id, &store.name);
            let spec = match store.kind {
                StoreKind::KeyValue => TopicSpec::new(name, count).with_config("cleanup.policy", "compact"),
                StoreKind::Window { retention_ms } | StoreKind::Session { retention_ms } => TopicSpec::new(name, count)
                    .with_config("cleanup.policy", "compact,delete")
                    .with_config(
                        "retention.ms",
                        (retention_ms + WINDOW_CHANGELOG_EXTRA_RETENTION_MS).to_string(),
                    ),
            };
            specs.push(spec);
        }
    }
    Ok((partitions, specs))
}
