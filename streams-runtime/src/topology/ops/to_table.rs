//! `KStream::to_table`: a stream read as a table — each record upserts its key in a store.

use std::sync::Arc;

use crate::codec::Binary;
use crate::error::Result;
use crate::processor::{Record, TaskContext};
use crate::state::{KeyValueStore, StoreKind};
use crate::topology::dsl::grouped::{register_query, register_store, repartition_if_needed};
use crate::topology::dsl::kstream::KStream;
use crate::topology::dsl::ktable::KTable;
use crate::topology::dsl::materialized::Materialized;
use crate::topology::graph::node::{Forward, Node, operator};
use crate::topology::ops::aggregate::StoreData;

impl<K: StoreData, V: StoreData> KStream<K, V> {
    /// The latest value per key, kept in the store `materialized` names (changelogged and
    /// queryable); its stream is every update. Re-keyed streams are repartitioned first.
    pub fn to_table(&self, materialized: impl Into<Materialized>) -> KTable<K, V> {
        let materialized = materialized.into();
        let input = repartition_if_needed(self, &materialized.name, Arc::new(Binary));
        register_store(&input, &materialized, StoreKind::KeyValue);
        register_query::<K, V, _>(&input, &materialized.name, None);
        let name = materialized.name.clone();
        // How the table's task reads its keys: a stream joined with the table is repartitioned
        // with the same encoding, so equal keys meet in one partition.
        let key_codec = crate::topology::dsl::kstream::key_codec_of::<K>(input.partition_codec.as_ref());
        let stream = input.attach("TOTABLE", format!("stores: [{name}]"), false, |children| {
            operator(children, move |build, next| {
                Ok(ToTableProcessor {
                    store: KeyValueStore::new(build.store(&name)?),
                    next,
                })
            })
        });
        KTable {
            stream,
            store: materialized.name,
            key_codec,
        }
    }
}

struct ToTableProcessor<K, V> {
    store: KeyValueStore<K, V>,
    next: Forward<K, V>,
}

impl<K: StoreData, V: StoreData> Node<K, V> for ToTableProcessor<K, V> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        self.store
            .put_timestamped(&record.key, &record.value, record.timestamp)?;
        self.next.forward(ctx, record)
    }

    /// Only a table's stream carries deletes (`table.to_stream().to_table(..)`).
    fn delete(&mut self, ctx: &mut TaskContext, key: K, timestamp: i64) -> Result<()> {
        self.store.delete(&key)?;
        self.next.forward_delete(ctx, key, timestamp)
    }
}
