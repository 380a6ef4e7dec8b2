//! Global tables: a topic replicated in full on every instance (all partitions, no tasks), kept
//! up to date by the instance's global thread, and stream-global joins that look a key computed
//! from each record up in it — no co-partitioning or repartitioning needed.
//!
//! The local copy lives in memory and is rebuilt from the topic at every start, before any stream
//! thread processes a record (as Kafka Streams bootstraps global stores); the topic itself is
//! its changelog, so it should be compacted.

use std::marker::PhantomData;
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::processor::Data;
use crate::state::{KeyValueStore, SharedStore};
use crate::topology::dsl::builder::{Consumed, StreamsBuilder};
use crate::topology::dsl::kstream::KStream;
use crate::topology::graph;
use crate::topology::ops::aggregate::StoreData;
use crate::topology::ops::join::global::{self, GlobalSpec};

/// A table replicated in full on every instance; join streams with it by a key computed from
/// each record ([`KStream::join_global`]).
pub struct GlobalKTable<K, V> {
    store: String,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K, V> GlobalKTable<K, V> {
    /// The name of its (in-memory, per instance) store.
    pub fn store_name(&self) -> &str {
        &self.store
    }
}

impl StreamsBuilder {
    /// A global table over every partition of `topic`, read as `consumed` says, in the store
    /// `store` (names must be unique among the topology's stores).
    pub fn global_table_with<K: StoreData, V: StoreData>(
        &self,
        topic: &str,
        consumed: Consumed<K, V>,
        store: &str,
    ) -> GlobalKTable<K, V> {
        let decoding = consumed.into_decoding();
        let source_topic = topic.to_owned();
        let apply = move |store: &SharedStore, key: Option<&[u8]>, value: Option<&[u8]>| -> Result<()> {
            let Some(key) = key else {
                return Err(Error::new(
                    ErrorKind::Codec,
                    format!("a record of global table topic `{source_topic}` has no key"),
                ));
            };
            let typed = KeyValueStore::<K, V>::new(SharedStore::clone(store));
            let key = decoding.key(&source_topic, Some(key))?;
            match value {
                None => typed.delete(&key),
                Some(value) => typed.put(&key, &decoding.value(&source_topic, value)?),
            }
        };
        let mut g = graph::lock(self.graph());
        if let Some(problem) = crate::naming::topic_name_problem(topic) {
            g.errors.push(format!("global table topic: {problem}"));
        }
        if g.stores.iter().any(|(s, _)| s.name == store) || g.globals.iter().any(|s| s.store == store) {
            g.errors
                .push(format!("store `{store}` is declared twice; store names must be unique"));
        }
        g.globals.push(GlobalSpec {
            topic: topic.to_owned(),
            store: store.to_owned(),
            apply: Arc::new(apply),
        });
        let sub = g.new_sub();
        g.add_node(
            "GLOBAL-TABLE",
            Some(&format!("{store}-global")),
            sub,
            None,
            format!("topic: {topic}, store: {store}"),
        );
        GlobalKTable {
            store: store.to_owned(),
            _types: PhantomData,
        }
    }
}

impl<K: Data, V: Data> KStream<K, V> {
    /// Inner stream-global join: looks `key_mapper(key, value)` up in `global`; records whose
    /// key is absent are dropped. The stream is not repartitioned.
    pub fn join_global<GK: StoreData, GV: StoreData, VR: Data>(
        &self,
        global: &GlobalKTable<GK, GV>,
        key_mapper: impl Fn(&K, &V) -> GK + Send + Sync + 'static,
        joiner: impl Fn(&K, &V, &GV) -> VR + Send + Sync + 'static,
    ) -> KStream<K, VR> {
        self.global_join(global, "GLOBAL-JOIN", key_mapper, move |k, v, g| {
            g.map(|g| joiner(k, v, g))
        })
    }

    /// Left stream-global join: like [`join_global`](Self::join_global), with `None` for keys
    /// absent from the global table.
    pub fn left_join_global<GK: StoreData, GV: StoreData, VR: Data>(
        &self,
        global: &GlobalKTable<GK, GV>,
        key_mapper: impl Fn(&K, &V) -> GK + Send + Sync + 'static,
        joiner: impl Fn(&K, &V, Option<&GV>) -> VR + Send + Sync + 'static,
    ) -> KStream<K, VR> {
        self.global_join(global, "GLOBAL-LEFTJOIN", key_mapper, move |k, v, g| {
            Some(joiner(k, v, g))
        })
    }

    fn global_join<GK: StoreData, GV: StoreData, VR: Data>(
        &self,
        global: &GlobalKTable<GK, GV>,
        kind: &'static str,
        key_mapper: impl Fn(&K, &V) -> GK + Send + Sync + 'static,
        joiner: impl Fn(&K, &V, Option<&GV>) -> Option<VR> + Send + Sync + 'static,
    ) -> KStream<K, VR> {
        let store = global.store.clone();
        let key_mapper: Arc<global::KeyMapper<K, V, GK>> = Arc::new(key_mapper);
        let joiner: Arc<global::GlobalJoiner<K, V, GV, VR>> = Arc::new(joiner);
        self.attach(kind, format!("global store: {store}"), false, |children| {
            global::lookup(store.clone(), key_mapper, joiner, children)
        })
    }
}
