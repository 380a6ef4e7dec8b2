//! Global tables at run time: their stores, the bootstrap that fills them from their topics
//! before any task runs, and the global thread that applies later updates.
//!
//! On an instance a global store is a RocksDB store under
//! `<state.dir>/<application.id>/global/rocksdb/<store>` whose checkpoint holds, with the data,
//! the next offset of every partition of its topic (as Kafka Streams' global checkpoint file):
//! a restart reads only what the topic gained meanwhile. A checkpoint that does not fit the topic
//! (recreated, or truncated past it) rebuilds the store from the beginning. The test driver keeps
//! them in memory.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::thread::Stop;
use crate::error::{Error, Result, report};
use crate::kafka::{AssignedConsumer, InstanceClients, StartAt};
use crate::state::{Backend, MemoryBackend, RocksBackend, RocksResources, SharedStore, Store, layout};
use crate::task::TaskEnv;
use crate::topology::Topology;
use crate::topology::ops::join::global::GlobalSpec;

/// Where global stores live: on disk for an instance, in memory for the test driver.
pub(crate) enum GlobalStorage<'a> {
    Disk {
        state_dir: &'a Path,
        application_id: &'a str,
        rocks: &'a RocksResources,
    },
    /// The test driver's.
    #[cfg(any(test, feature = "test-util"))]
    Memory,
}

impl GlobalStorage<'_> {
    fn open(&self, store: &str) -> Result<Store> {
        let backend: Box<dyn Backend> = match self {
            GlobalStorage::Disk {
                state_dir,
                application_id,
                rocks,
            } => {
                let dir = layout::global_store_dir(state_dir, application_id, store);
                match RocksBackend::open(&dir, rocks) {
                    Ok(backend) => Box::new(backend),
                    // Another instance (of this process) has it open: never delete its files.
                    Err(e) if e.kind() == crate::ErrorKind::Locked => {
                        return Err(e.context(format!(
                            "global store `{store}` is in use: is another instance running on state directory `{}`?",
                            state_dir.display()
                        )));
                    }
                    Err(e) => {
                        tracing::warn!(store, error = %report(&e), "global store is unreadable; rebuilding it from its topic");
                        let _ = std::fs::remove_dir_all(&dir);
                        Box::new(RocksBackend::open(&dir, rocks)?)
                    }
                }
            }
            #[cfg(any(test, feature = "test-util"))]
            GlobalStorage::Memory => Box::new(MemoryBackend::default()),
        };
        Store::new(store.to_owned(), None, backend)
    }

    /// Empties a store whose checkpoint does not fit its topic.
    fn wipe(&self, shared: &SharedStore, store: &str) -> Result<()> {
        let mut locked = Store::lock(shared);
        // Close the RocksDB before deleting its files.
        *locked = Store::new(store.to_owned(), None, Box::new(MemoryBackend::default()))?;
        #[allow(irrefutable_let_patterns, reason = "`Memory` exists with the test support only")]
        if let GlobalStorage::Disk {
            state_dir,
            application_id,
            ..
        } = self
        {
            let dir = layout::global_store_dir(state_dir, application_id, store);
            std::fs::remove_dir_all(&dir).map_err(|e| Error::io(format!("failed to wipe `{}`", dir.display()), e))?;
        }
        *locked = self.open(store)?;
        Ok(())
    }
}

/// The stores of the topology's global tables, as they were left (empty at first).
pub(crate) fn stores(topology: &Topology, storage: &GlobalStorage<'_>) -> Result<HashMap<String, SharedStore>> {
    topology
        .globals
        .iter()
        .map(|g| Ok((g.store.clone(), storage.open(&g.store)?.shared())))
        .collect()
}

/// Closes the global stores (their RocksDB files are released; reads find them empty).
pub(crate) fn close(stores: &HashMap<String, SharedStore>) -> Result<()> {
    for (name, shared) in stores {
        *Store::lock(shared) = Store::new(name.clone(), None, Box::new(MemoryBackend::default()))?;
    }
    Ok(())
}

/// The checkpoint key of one partition of a global topic.
fn position_key(topic: &str, partition: i32) -> String {
    format!("{topic}-{partition}")
}

/// Brings every global store up to the end of its topic, from its checkpoint; returns where each
/// partition stopped (topic, partition, next offset), for the global thread to go on from.
pub(crate) fn bootstrap(
    env: &TaskEnv,
    topology: &Topology,
    storage: &GlobalStorage<'_>,
) -> Result<Vec<(String, i32, i64)>> {
    let mut positions = Vec::new();
    for global in &topology.globals {
        let began = Instant::now();
        let store = store_of(env, global)?;
        let partitions = env.reader.partitions(&global.topic)?;
        let mut ranges = Vec::new();
        let checkpoint = Store::lock(&store).input_positions().clone();
        let mut fits = true;
        for partition in 0..partitions {
            let (low, high) = env.reader.watermarks(&global.topic, partition)?;
            let from = checkpoint.get(&position_key(&global.topic, partition)).copied();
            fits &= from.is_none_or(|from| (low..=high).contains(&from));
            ranges.push((partition, low, high, from));
        }
        if !fits {
            tracing::warn!(topic = %global.topic, store = %global.store, "the global store's checkpoint does not fit its topic (recreated or truncated?); rebuilding it");
            storage.wipe(&store, &global.store)?;
        }
        let (mut records, mut bytes) = (0_u64, 0_u64);
        let mut reached = BTreeMap::new();
        for (partition, low, high, from) in ranges {
            let from = if fits { from.unwrap_or(low) } else { low };
            env.reader
                .read(&global.topic, partition, from, high, &mut |_, key, value| {
                    records += 1;
                    bytes += (key.len() + value.map_or(0, <[u8]>::len)) as u64;
                    // At start-up, nothing to stop for: the start waits for the registry.
                    apply(global, &store, Some(key), value, &|| false)
                })?;
            reached.insert(position_key(&global.topic, partition), high);
            positions.push((global.topic.clone(), partition, high));
        }
        flush(&store, &reached)?;
        env.metrics.record_restore(records, bytes, began.elapsed());
        tracing::info!(topic = %global.topic, store = %global.store, records, from_checkpoint = fits && !checkpoint.is_empty(), "global table bootstrapped");
    }
    Ok(positions)
}

/// Applies one record; a record that does not decode is logged and skipped, as on streams. A
/// codec that cannot reach a service it needs (the Schema Registry) is not the record's fault:
/// the record is tried again, every 100 ms (the registry client paces its own retries too),
/// until it applies or `give_up()` (the thread is stopping; the test driver's caller hears of
/// it at once), when the error is returned and the record stays unapplied.
pub(crate) fn apply(
    global: &GlobalSpec,
    store: &SharedStore,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    give_up: &dyn Fn() -> bool,
) -> Result<()> {
    loop {
        match (global.apply)(store, key, value) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == crate::ErrorKind::Unavailable => {
                if give_up() {
                    return Err(e);
                }
                tracing::warn!(topic = %global.topic, error = %report(&e), "a global table record waits for a service its codec needs; retrying");
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => {
                tracing::warn!(topic = %global.topic, error = %report(&e), "skipping a global table record that could not be applied");
                return Ok(());
            }
        }
    }
}

/// Makes the applied records readable and durable, with the positions they reach (global
/// stores have no commits: what is applied is kept).
pub(crate) fn flush(store: &SharedStore, positions: &BTreeMap<String, i64>) -> Result<()> {
    let mut s = Store::lock(store);
    let writes = s.pending_writes();
    let mut all = s.input_positions().clone();
    all.extend(positions.iter().map(|(k, v)| (k.clone(), *v)));
    s.apply_committed(&writes, None, &all)
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
    clients: &InstanceClients,
    topology: Arc<Topology>,
    positions: Vec<(String, i32, i64)>,
    stop: Arc<Stop>,
) -> Result<()> {
    let mut config = clients.consumer();
    config
        .set("group.id", format!("{}-global", env.application_id))
        .set_isolation(env.guarantee);
    let assignment: Vec<(String, i32, StartAt)> = positions
        .into_iter()
        .map(|(topic, partition, offset)| (topic, partition, StartAt::Offset(offset)))
        .collect();
    let consumer = AssignedConsumer::assign(&config, "the global consumer", &assignment)?;
    let by_topic: HashMap<&str, (&GlobalSpec, SharedStore)> = topology
        .globals
        .iter()
        .map(|g| Ok((g.topic.as_str(), (g, store_of(&env, g)?))))
        .collect::<Result<_>>()?;
    while !stop.graceful.load(Ordering::Relaxed) && !stop.crash.load(Ordering::Relaxed) {
        let mut touched: Vec<(&SharedStore, BTreeMap<String, i64>)> = Vec::new();
        // Drain what is there, then make it readable in one go.
        let mut next = consumer.poll(Duration::from_millis(100));
        while let Some(polled) = next {
            match polled {
                Ok(message) => {
                    if let Some((global, store)) = by_topic.get(message.topic()) {
                        let stopping = || stop.graceful.load(Ordering::Relaxed) || stop.crash.load(Ordering::Relaxed);
                        if apply(global, store, message.key(), message.value(), &stopping).is_err() {
                            // Stopping with the record unapplied: keep what was applied before
                            // it; the next start reads on from there.
                            break;
                        }
                        let at = position_key(message.topic(), message.partition());
                        match touched.iter_mut().find(|(s, _)| Arc::ptr_eq(s, store)) {
                            Some((_, reached)) => {
                                reached.insert(at, message.offset() + 1);
                            }
                            None => touched.push((store, BTreeMap::from([(at, message.offset() + 1)]))),
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %report(&e), "global consumer error; retrying"),
            }
            next = consumer.poll(Duration::ZERO);
        }
        for (store, reached) in touched {
            flush(store, &reached)?;
        }
    }
    Ok(())
}
