//! Foreign-key table-table joins (Kafka Streams' KIP-213): each row of the left table refers to
//! a row of the right table through a key extracted from its value, and the joined table has a
//! row per left row, re-joined whenever either side changes. The tables need not be
//! co-partitioned; the join travels between their tasks through two internal topics:
//!
//! 1. the left task keeps each row's foreign key (`<store>-fk-prior`) and sends
//!    subscriptions keyed by foreign key to `<store>-fk-subscription` (partitioned like the right
//!    table): `Subscribe(left key)` on every update, `Unsubscribe` from the old foreign key when it
//!    changed, and `Unsubscribe` asking for an answer when the left row is deleted;
//! 2. the right task records them (`<store>-fk-subscriptions`) and answers each subscription,
//!    and every change of a right row to all its subscribers, with the right value (or `None`)
//!    through `<store>-fk-response` (partitioned like the left table);
//! 3. the left task re-joins the row's *current* value with the answer, and updates or deletes
//!    the joined row — unless the answer is stale: every subscription carries a hash of the left
//!    value it was sent for, echoed by its answers (and by change notifications, from the
//!    registry), and an answer whose hash is not the current value's is dropped (the answer to
//!    the current value is on its way). As KIP-213, this keeps a deleted or changed row's answers
//!    from joining a newer value.
//!
//! The result is eventually consistent (as in Kafka Streams): the joined row follows the right
//! side's changes as their notifications arrive; a left row updated twice in quick succession
//! joins only its latest value, since the answers to the earlier one are stale.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::codec::{Binary, Codec};
use crate::error::Result;
use crate::processor::{Record, TaskContext};
use crate::state::{KeyValueStore, SubscriptionStore};
use crate::topology::graph::node::{Children, Forward, Node, NodeFactory, operator};
use crate::topology::ops::aggregate::StoreData;
use crate::topology::ops::join::table_table::set_row;

/// What the left task tells the right task about one left row.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum Subscription<K> {
    /// The left row `key` (whose value hashes to `hash`) refers to this foreign key.
    Subscribe { key: K, hash: u64 },
    /// `answer`: the left row was deleted, and the answer (no value) lets the left task delete
    /// the joined row in order with the row's other answers.
    Unsubscribe { key: K, answer: bool },
}

/// The right task's answer: the right row a left row refers to, as of now.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Answer<KO, VO> {
    foreign_key: KO,
    value: Option<VO>,
    /// The hash of the left value the subscription was made for; `None` answers a deletion.
    hash: Option<u64>,
}

/// `left value → foreign key`.
pub(crate) type Extractor<V, KO> = dyn Fn(&V) -> KO + Send + Sync;
/// `(left value, right value if any) → joined value`, `None` when the join has no row.
pub(crate) type Joiner<V, VO, VR> = dyn Fn(&V, Option<&VO>) -> Option<VR> + Send + Sync;

/// Left task, step 1: keeps each row's foreign key in `prior` and sends subscriptions.
pub(crate) fn subscribe<K: StoreData, V: StoreData, KO: StoreData>(
    prior: String,
    extractor: Arc<Extractor<V, KO>>,
    children: Children<KO, Subscription<K>>,
) -> Arc<dyn NodeFactory<K, V>> {
    operator(children, move |build, next| {
        Ok(SubscribeProcessor::<K, V, KO> {
            prior: KeyValueStore::new(build.store(&prior)?),
            extractor: Arc::clone(&extractor),
            next,
        })
    })
}

/// Right task, step 2: records subscriptions in `registry` and answers them from `right`.
pub(crate) fn register<K: StoreData, KO: StoreData, VO: StoreData>(
    registry: String,
    right: String,
    stamp_deletions: bool,
    children: Children<K, Answer<KO, VO>>,
) -> Arc<dyn NodeFactory<KO, Subscription<K>>> {
    operator(children, move |build, next| {
        Ok(RegisterProcessor::<K, KO, VO> {
            registry: SubscriptionStore::new(build.store(&registry)?),
            right: KeyValueStore::new(build.store(&right)?),
            stamp_deletions,
            next,
        })
    })
}

/// Right task, step 2: sends every change of a right row to its subscribers in `registry`.
pub(crate) fn notify<K: StoreData, KO: StoreData, VO: StoreData>(
    registry: String,
    children: Children<K, Answer<KO, VO>>,
) -> Arc<dyn NodeFactory<KO, VO>> {
    operator(children, move |build, next| {
        Ok(NotifyProcessor::<K, KO, VO> {
            registry: SubscriptionStore::new(build.store(&registry)?),
            next,
        })
    })
}

/// Left task, step 3: joins the answer with the row's current value in `left`, into `result`.
pub(crate) fn resolve<K: StoreData, V: StoreData, KO: StoreData, VO: StoreData, VR: StoreData>(
    left: String,
    result: String,
    extractor: Arc<Extractor<V, KO>>,
    joiner: Arc<Joiner<V, VO, VR>>,
    children: Children<K, VR>,
) -> Arc<dyn NodeFactory<K, Answer<KO, VO>>> {
    operator(children, move |build, next| {
        Ok(ResolveProcessor::<K, V, KO, VO, VR> {
            left: KeyValueStore::new(build.store(&left)?),
            result: KeyValueStore::new(build.store(&result)?),
            extractor: Arc::clone(&extractor),
            joiner: Arc::clone(&joiner),
            next,
        })
    })
}

/// Bincode of a foreign key: how two foreign keys are compared (no `PartialEq` needed).
fn key_bytes<KO: StoreData>(key: &KO) -> Result<Vec<u8>> {
    Binary
        .to_bytes(key)
        .map_err(|e| crate::Error::new(crate::ErrorKind::Codec, "failed to encode a foreign key").with_source(e))
}

/// A stable hash (64-bit FNV-1a) of a left value's binary encoding: it travels with subscriptions and
/// answers and is kept in the registry, so it must not change between builds or processes.
fn value_hash<V: StoreData>(value: &V) -> Result<u64> {
    let bytes = Binary
        .to_bytes(value)
        .map_err(|e| crate::Error::new(crate::ErrorKind::Codec, "failed to encode a joined value").with_source(e))?;
    Ok(bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    }))
}

struct SubscribeProcessor<K, V, KO> {
    prior: KeyValueStore<K, KO>,
    extractor: Arc<Extractor<V, KO>>,
    next: Forward<KO, Subscription<K>>,
}

impl<K: StoreData, V: StoreData, KO: StoreData> Node<K, V> for SubscribeProcessor<K, V, KO> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        let Record { key, value, timestamp } = record;
        let foreign_key = (self.extractor)(&value);
        if let Some(old) = self.prior.get(&key)?
            && key_bytes(&old)? != key_bytes(&foreign_key)?
        {
            let leave = Subscription::Unsubscribe {
                key: key.clone(),
                answer: false,
            };
            self.next.forward(ctx, Record::new(old, leave, timestamp))?;
        }
        self.prior.put(&key, &foreign_key)?;
        let subscribe = Subscription::Subscribe {
            key,
            hash: value_hash(&value)?,
        };
        self.next.forward(ctx, Record::new(foreign_key, subscribe, timestamp))
    }

    fn delete(&mut self, ctx: &mut TaskContext, key: K, timestamp: i64) -> Result<()> {
        let Some(old) = self.prior.get(&key)? else {
            return Ok(());
        };
        self.prior.delete(&key)?;
        let leave = Subscription::Unsubscribe { key, answer: true };
        self.next.forward(ctx, Record::new(old, leave, timestamp))
    }
}

struct RegisterProcessor<K, KO, VO> {
    registry: SubscriptionStore,
    right: KeyValueStore<KO, VO>,
    stamp_deletions: bool,
    next: Forward<K, Answer<KO, VO>>,
}

impl<K: StoreData, KO: StoreData, VO: StoreData> Node<KO, Subscription<K>> for RegisterProcessor<K, KO, VO> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<KO, Subscription<K>>) -> Result<()> {
        let Record {
            key: foreign_key,
            value,
            timestamp,
        } = record;
        let encoded = self.registry.encode(&foreign_key)?;
        let (key, value, hash, timestamp) = match value {
            Subscription::Subscribe { key, hash } => {
                self.registry.subscribe(&encoded, &self.registry.encode(&key)?, hash);
                // Stamped with the later of the row's and the referenced row's times, as
                // Kafka Streams stamps its answers.
                match self.right.get_timestamped(&foreign_key)? {
                    Some((row, stored)) => (key, Some(row), Some(hash), stored.max(timestamp)),
                    None => (key, None, Some(hash), timestamp),
                }
            }
            Subscription::Unsubscribe { key, answer } => {
                self.registry.unsubscribe(&encoded, &self.registry.encode(&key)?);
                if !answer {
                    return Ok(());
                }
                let stored = match self.stamp_deletions {
                    true => self.right.get_timestamped(&foreign_key)?.map(|(_, t)| t),
                    false => None,
                };
                (key, None, None, stored.map_or(timestamp, |t| t.max(timestamp)))
            }
        };
        let answer = Answer {
            foreign_key,
            value,
            hash,
        };
        self.next.forward(ctx, Record::new(key, answer, timestamp))
    }
}

struct NotifyProcessor<K, KO, VO> {
    registry: SubscriptionStore,
    next: Forward<K, Answer<KO, VO>>,
}

impl<K: StoreData, KO: StoreData, VO: StoreData> NotifyProcessor<K, KO, VO> {
    /// Sends the right row's new state to every left row referring to it.
    fn notify(&mut self, ctx: &mut TaskContext, foreign_key: KO, value: Option<VO>, timestamp: i64) -> Result<()> {
        let encoded = self.registry.encode(&foreign_key)?;
        for (key, hash) in self.registry.subscribers(&encoded)? {
            let key: K = self.registry.decode(&key)?;
            let answer = Answer {
                foreign_key: foreign_key.clone(),
                value: value.clone(),
                hash: Some(hash),
            };
            self.next.forward(ctx, Record::new(key, answer, timestamp))?;
        }
        Ok(())
    }
}

impl<K: StoreData, KO: StoreData, VO: StoreData> Node<KO, VO> for NotifyProcessor<K, KO, VO> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<KO, VO>) -> Result<()> {
        self.notify(ctx, record.key, Some(record.value), record.timestamp)
    }

    fn delete(&mut self, ctx: &mut TaskContext, key: KO, timestamp: i64) -> Result<()> {
        self.notify(ctx, key, None, timestamp)
    }
}

struct ResolveProcessor<K, V, KO, VO, VR> {
    left: KeyValueStore<K, V>,
    result: KeyValueStore<K, VR>,
    extractor: Arc<Extractor<V, KO>>,
    joiner: Arc<Joiner<V, VO, VR>>,
    next: Forward<K, VR>,
}

impl<K: StoreData, V: StoreData, KO: StoreData, VO: StoreData, VR: StoreData> Node<K, Answer<KO, VO>>
    for ResolveProcessor<K, V, KO, VO, VR>
{
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, Answer<KO, VO>>) -> Result<()> {
        let Record { key, value, timestamp } = record;
        let joined = match (self.left.get(&key)?, value.hash) {
            // The answer is for the current left value (and so its foreign key).
            (Some(left), Some(hash))
                if hash == value_hash(&left)?
                    && key_bytes(&(self.extractor)(&left))? == key_bytes(&value.foreign_key)? =>
            {
                (self.joiner)(&left, value.value.as_ref())
            }
            // The row was deleted, and this answers the deletion.
            (None, None) => None,
            // Stale: sent for an earlier value (or before the row was deleted or re-created);
            // the answer to the current value is on its way.
            _ => return Ok(()),
        };
        set_row(ctx, &self.result, &mut self.next, key, joined, timestamp)
    }
}
