//! Global tables at run time: their in-memory stores, the bootstrap that fills them from their
//! topics before any task runs, and the global thread that applies later updates.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};

use super::thread::Stop;
use crate::error::{Error, Result};
use crate::state::{MemoryBackend, SharedStore, Store};
use crate::task::TaskEnv;
use crate::topology::Topology;
use crate::topology::global_table::GlobalSpec;

/// Empty stores for the topology's global tables.
pub(crate) fn stores(topology: &Topology) -> Result<HashMap<String, SharedStore>> {
    topology
        .globals
        .iter()
        .map(|g| {
            let store = Store::new(g.store.clone(), None, Box::new(MemoryBackend::default()))?;
            Ok((g.store.clone(), store.shared()))
        })
        .collect()
}

/// Reads every global topic to its end into its store; returns where each partition stopped
/// (topic, partition, next offset), for the global thread to go on from.
pub(crate) fn bootstrap(env: &TaskEnv, topology: &Topology) -> Result<Vec<(String, i32, i64)>> {
    let mut positions = Vec::new();
    for global in &topology.globals {
        let store = store_of(env, global)?;
        let partitions = env.reader.partitions(&global.topic)?;
        let mut records = 0_u64;
        for partition in 0..partitions {
            let (low, high) = env.reader.watermarks(&global.topic, partition)?;
            env.reader
                .read(&global.topic, partition, low, high, &mut |_, key, value| {
                    records += 1;
                    apply(global, &store, Some(key), value);
                    Ok(())
                })?;
            positions.push((global.topic.clone(), partition, high));
        }
        flush(&store)?;
        tracing::info!(topic = %global.topic, store = %global.store, records, "global table bootstrapped");
    }
    Ok(positions)
}

/// Applies one record; a record that does not decode is logged and skipped, as on streams.
pub(crate) fn apply(global: &GlobalSpec, store: &SharedStore, key: Option<&[u8]>, value: Option<&[u8]>) {
    if let Err(e) = (global.apply)(store, key, value) {
        tracing::warn!(topic = %global.topic, error = %e, "skipping a global table record that could not be applied");
    }
}

/// Makes the applied records readable from the backend (global stores have no commits).
pub(crate) fn flush(store: &SharedStore) -> Result<()> {
    let mut s = Store::lock(store);
    let writes = s.pending_writes();
    s.apply_committed(&writes, None, &Default::default())
}

pub(crate) fn store_of(env: &TaskEnv, global: &GlobalSpec) -> Result<SharedStore> {
    env.globals.get(&global.store).cloned().ok_or_else(|| {
        Error::new(
            crate::ErrorKind::State,
            format!("global store `{}` was not created", global.store),
        )
    })
}

/// The global thread: follows every global topic from where the bootstrap stopped until `stop`.
pub(crate) fn run(
    env: Arc<TaskEnv>,
    topology: Arc<Topology>,
    positions: Vec<(String, i32, i64)>,
    stop: Arc<Stop>,
) -> Result<()> {
    let mut config = env.client_config_with(&env.consumer_config);
    config
        .set("group.id", format!("{}-global", env.application_id))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false");
    let consumer: BaseConsumer = config
        .create()
        .map_err(|e| Error::kafka("failed to create the global consumer", e))?;
    let mut assignment = TopicPartitionList::new();
    for (topic, partition, offset) in &positions {
        assignment
            .add_partition_offset(topic, *partition, Offset::Offset(*offset))
            .map_err(|e| Error::kafka("failed to build the global assignment", e))?;
    }
    consumer
        .assign(&assignment)
        .map_err(|e| Error::kafka("failed to assign the global topics", e))?;
    let by_topic: HashMap<&str, (&GlobalSpec, SharedStore)> = topology
        .globals
        .iter()
        .map(|g| Ok((g.topic.as_str(), (g, store_of(&env, g)?))))
        .collect::<Result<_>>()?;
    while !stop.graceful.load(Ordering::Relaxed) && !stop.crash.load(Ordering::Relaxed) {
        let mut touched: Vec<&SharedStore> = Vec::new();
        // Drain what is there, then make it readable in one go.
        let mut next = consumer.poll(Duration::from_millis(100));
        while let Some(polled) = next {
            match polled {
                Ok(message) => {
                    if let Some((global, store)) = by_topic.get(message.topic()) {
                        apply(global, store, message.key(), message.payload());
                        if !touched.iter().any(|s| Arc::ptr_eq(s, store)) {
                            touched.push(store);
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "global consumer error; retrying"),
            }
            next = consumer.poll(Duration::ZERO);
        }
        for store in touched {
            flush(store)?;
        }
    }
    Ok(())
}
