//! Foreign-key table-table joins in the DSL (Kafka Streams' KIP-213): the graph of the three
//! steps — subscriptions from the left task, answers from the right task, the re-join on the
//! left — through two internal topics. How each step works is in `ops/join/foreign_key.rs`.

use std::sync::Arc;

use crate::codec::{Binary, Codec};
use crate::state::StoreKind;
use crate::topology::dsl::grouped::{register_query, register_store};
use crate::topology::dsl::ktable::KTable;
use crate::topology::dsl::materialized::Materialized;
use crate::topology::dsl::repartition::through_topic;
use crate::topology::graph;
use crate::topology::ops::aggregate::StoreData;
use crate::topology::ops::join::foreign_key;

impl<K: StoreData, V: StoreData> KTable<K, V> {
    /// Inner foreign-key join: for each row of this table whose `foreign_key(value)` is a key of
    /// `other`, a joined row `joiner(value, other value)` under this row's key.
    pub fn join_foreign_key<KO: StoreData, VO: StoreData, VR: StoreData>(
        &self,
        other: &KTable<KO, VO>,
        foreign_key: impl Fn(&V) -> KO + Send + Sync + 'static,
        joiner: impl Fn(&V, &VO) -> VR + Send + Sync + 'static,
        materialized: impl Into<Materialized>,
    ) -> KTable<K, VR> {
        self.foreign_key_join(
            other,
            Arc::new(foreign_key),
            Arc::new(move |v: &V, vo: Option<&VO>| vo.map(|vo| joiner(v, vo))),
            materialized.into(),
            "FK-JOIN",
        )
    }

    /// Left foreign-key join: a joined row for every row of this table, with the referred row
    /// of `other` if there is one.
    pub fn left_join_foreign_key<KO: StoreData, VO: StoreData, VR: StoreData>(
        &self,
        other: &KTable<KO, VO>,
        foreign_key: impl Fn(&V) -> KO + Send + Sync + 'static,
        joiner: impl Fn(&V, Option<&VO>) -> VR + Send + Sync + 'static,
        materialized: impl Into<Materialized>,
    ) -> KTable<K, VR> {
        self.foreign_key_join(
            other,
            Arc::new(foreign_key),
            Arc::new(move |v: &V, vo: Option<&VO>| Some(joiner(v, vo))),
            materialized.into(),
            "FK-LEFTJOIN",
        )
    }

    fn foreign_key_join<KO: StoreData, VO: StoreData, VR: StoreData>(
        &self,
        other: &KTable<KO, VO>,
        extractor: Arc<foreign_key::Extractor<V, KO>>,
        joiner: Arc<foreign_key::Joiner<V, VO, VR>>,
        materialized: Materialized,
        kind: &'static str,
    ) -> KTable<K, VR> {
        let name = materialized.name.clone();
        let left = &self.stream;
        let right = &other.stream;
        {
            let mut g = graph::lock(&left.graph);
            g.require_key_value(&self.store, "a foreign-key join");
            g.require_key_value(&other.store, "a foreign-key join");
        }

        // 1. Left task: subscriptions, keyed by foreign key, to the right table's partitions.
        let prior = Materialized::named(format!("{name}-fk-prior"));
        register_store(left, &prior, StoreKind::KeyValue);
        let subscriptions = left.attach(
            kind,
            format!("stores: [{}], right table: {}", prior.name, other.store),
            true,
            |children| foreign_key::subscribe::<K, V, KO>(prior.name.clone(), Arc::clone(&extractor), children),
        );
        let right_codec: Arc<dyn Codec<KO>> = other.key_codec.clone().unwrap_or_else(|| Arc::new(Binary));
        let subscriptions = through_topic(&subscriptions, &format!("{name}-fk-subscription"), right_codec, None);

        // 2. Right task: record subscriptions, answer them and every right-row change.
        graph::lock(&left.graph).union(subscriptions.sub, right.sub);
        let registry = Materialized::named(format!("{name}-fk-subscriptions"));
        register_store(&subscriptions, &registry, StoreKind::KeyValue);
        let answers = subscriptions.attach(
            "FK-SUBSCRIPTIONS",
            format!("stores: [{}, {}]", registry.name, other.store),
            true,
            |children| {
                foreign_key::register::<K, KO, VO>(
                    registry.name.clone(),
                    other.store.clone(),
                    kind != "FK-LEFTJOIN",
                    children,
                )
            },
        );
        let changes = right.attach(
            "FK-RIGHT-CHANGES",
            format!("stores: [{}]", registry.name),
            true,
            |children| foreign_key::notify::<K, KO, VO>(registry.name.clone(), children),
        );
        let left_codec: Arc<dyn Codec<K>> = self.key_codec.clone().unwrap_or_else(|| Arc::new(Binary));
        let answers = through_topic(
            &answers.merge(&changes),
            &format!("{name}-fk-response"),
            left_codec,
            None,
        );

        // 3. Left task again: join the row's current value with the answer.
        graph::lock(&left.graph).union(answers.sub, left.sub);
        register_store(&answers, &materialized, StoreKind::KeyValue);
        register_query::<K, VR, _>(&answers, &name, None);
        let joined = answers.attach(
            "FK-JOIN-RESULT",
            format!("stores: [{}, {name}]", self.store),
            false,
            |children| {
                foreign_key::resolve::<K, V, KO, VO, VR>(self.store.clone(), name.clone(), extractor, joiner, children)
            },
        );
        KTable {
            stream: joined,
            store: name,
            key_codec: self.key_codec.clone(),
        }
    }
}
