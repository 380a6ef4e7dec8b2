//! Windowed grouped streams: one type for time, sliding and session windows, whose `count`,
//! `reduce` and `aggregate` are written once. What differs between kinds of window — the
//! retention their store needs, its layout, and the operator that aggregates — each kind says
//! through [`Windowing`] (implemented beside its operator in `ops/windowed/`).

use std::sync::Arc;

use crate::codec::Binary;
use crate::state::StoreKind;
use crate::state::query_adapter::QueryLayout;
use crate::topology::dsl::grouped::{
    KGroupedStream, register_query_as, register_store, repartition_if_needed, window_retention,
};
use crate::topology::dsl::kstream::KStream;
use crate::topology::dsl::ktable::KTable;
use crate::topology::dsl::materialized::Materialized;
use crate::topology::graph::node::{Children, NodeFactory};
use crate::topology::ops::aggregate::{AggregateFn, MergeFn, StoreData, counting, folding, reducing};
use crate::window::{EmitStrategy, SessionWindows, SlidingWindows, TimeWindows, Windowed};

/// A grouped stream cut into windows of kind `W` ([`TimeWindows`], [`SlidingWindows`] or
/// [`SessionWindows`]), ready to aggregate per key and window.
pub struct WindowedKStream<K, V, W> {
    stream: KStream<K, V>,
    windows: W,
    emit: EmitStrategy,
}

/// A grouped stream cut into time windows (tumbling or hopping).
pub type TimeWindowedKStream<K, V> = WindowedKStream<K, V, TimeWindows>;
/// A grouped stream cut into sliding windows.
pub type SlidingWindowedKStream<K, V> = WindowedKStream<K, V, SlidingWindows>;
/// A grouped stream cut into sessions of activity.
pub type SessionWindowedKStream<K, V> = WindowedKStream<K, V, SessionWindows>;

/// A kind of window a grouped stream can be cut into: [`TimeWindows`], [`SlidingWindows`],
/// [`SessionWindows`]. Sealed: the runtime implements one operator per kind.
pub trait WindowKind: Windowing {}

impl<W: Windowing> WindowKind for W {}

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::window::TimeWindows {}
    impl Sealed for crate::window::SlidingWindows {}
    impl Sealed for crate::window::SessionWindows {}
}

/// What the windowed DSL needs from a kind of window. Public only as the bound of the sealed
/// [`WindowKind`]; its methods name the runtime's own types, which no user can reach.
#[doc(hidden)]
#[allow(private_interfaces)]
pub trait Windowing: sealed::Sealed + Copy + std::fmt::Debug + Send + Sync + 'static {
    /// The node's name in `describe()`.
    const NODE: &'static str;

    /// The retention the store needs at least: (ms, what it is, why), for the error message of
    /// a shorter configured one.
    fn needed_retention(&self) -> (i64, &'static str, &'static str);

    /// The store the aggregation keeps, given its retention: a window store unless the kind
    /// says otherwise.
    fn store_kind(&self, retention_ms: i64) -> StoreKind {
        StoreKind::Window { retention_ms }
    }

    /// How the store answers interactive queries.
    fn query_layout(&self) -> QueryLayout;

    /// The operator that aggregates with `spec.f` (and merges sessions with `spec.merge`).
    fn aggregator<K: StoreData, V: StoreData, A: StoreData>(
        self,
        spec: WindowedAggregation<K, V, A>,
        children: Children<Windowed<K>, A>,
    ) -> Arc<dyn NodeFactory<K, V>>;
}

/// What every windowed operator is built from.
pub(crate) struct WindowedAggregation<K, V, A> {
    pub(crate) store: String,
    pub(crate) emit: EmitStrategy,
    pub(crate) retention_ms: i64,
    pub(crate) f: Arc<AggregateFn<K, V, A>>,
    /// Combines the aggregates of two sessions a record brings together (sessions only).
    pub(crate) merge: Arc<MergeFn<K, A>>,
}

impl<K: StoreData, V: StoreData> KGroupedStream<K, V> {
    /// Cuts the groups into windows: [`TimeWindows`] (tumbling or hopping), [`SlidingWindows`]
    /// or [`SessionWindows`].
    pub fn windowed_by<W: WindowKind>(&self, windows: W) -> WindowedKStream<K, V, W> {
        WindowedKStream {
            stream: self.stream.clone_handle(),
            windows,
            emit: EmitStrategy::OnWindowUpdate,
        }
    }

    /// Cuts the groups into sliding windows (the same as [`windowed_by`](Self::windowed_by)).
    pub fn windowed_by_sliding(&self, windows: SlidingWindows) -> SlidingWindowedKStream<K, V> {
        self.windowed_by(windows)
    }

    /// Cuts the groups into sessions of activity (the same as [`windowed_by`](Self::windowed_by)).
    pub fn windowed_by_session(&self, windows: SessionWindows) -> SessionWindowedKStream<K, V> {
        self.windowed_by(windows)
    }
}

impl<K: StoreData, V: StoreData, W: WindowKind> WindowedKStream<K, V, W> {
    /// When results go downstream: on every update (the default) or once per window when it
    /// closes ([`EmitStrategy::OnWindowClose`], final results only).
    #[must_use]
    pub fn emit_strategy(mut self, emit: EmitStrategy) -> Self {
        self.emit = emit;
        self
    }

    /// Counts records per key and window.
    pub fn count(&self, materialized: impl Into<Materialized>) -> KTable<Windowed<K>, u64> {
        self.aggregate_with(materialized.into(), Arc::new(counting()), Arc::new(|_: &K, a, b| a + b))
    }

    /// Combines the values of each key and window with `reducer(aggregate, value)` (for
    /// sessions, also the aggregates of two sessions that merge).
    pub fn reduce(
        &self,
        reducer: impl Fn(V, V) -> V + Send + Sync + 'static,
        materialized: impl Into<Materialized>,
    ) -> KTable<Windowed<K>, V> {
        let reducer = Arc::new(reducer);
        let merge = Arc::clone(&reducer);
        self.aggregate_with(
            materialized.into(),
            Arc::new(reducing(move |a, b| reducer(a, b))),
            Arc::new(move |_: &K, a, b| merge(a, b)),
        )
    }

    /// The one path of every windowed aggregation: repartition if the key changed, check the
    /// store's retention, register store and query, attach the kind's operator.
    fn aggregate_with<A: StoreData>(
        &self,
        materialized: Materialized,
        f: Arc<AggregateFn<K, V, A>>,
        merge: Arc<MergeFn<K, A>>,
    ) -> KTable<Windowed<K>, A> {
        let input = repartition_if_needed(&self.stream, &materialized.name, Arc::new(Binary));
        let (needed, what, why) = self.windows.needed_retention();
        let retention_ms = window_retention(&input, &materialized, needed, what, why);
        register_store(&input, &materialized, self.windows.store_kind(retention_ms));
        register_query_as::<K, A, _>(&input, &materialized.name, self.windows.query_layout());
        let (windows, emit) = (self.windows, self.emit);
        let spec = WindowedAggregation {
            store: materialized.name.clone(),
            emit,
            retention_ms,
            f,
            merge,
        };
        let table = input.attach(
            W::NODE,
            format!("stores: [{}], windows: {windows:?}, emit: {emit:?}", materialized.name),
            false,
            |children| windows.aggregator(spec, children),
        );
        KTable {
            stream: table,
            store: materialized.name,
            key_codec: None,
        }
    }
}

/// Time and sliding windows never merge: their aggregate takes no merger.
impl<K: StoreData, V: StoreData, W: WindowKind + FixedWindows> WindowedKStream<K, V, W> {
    /// Folds the values of each key and window, starting from `initializer()` per window.
    pub fn aggregate<A: StoreData>(
        &self,
        initializer: impl Fn() -> A + Send + Sync + 'static,
        aggregator: impl Fn(&K, V, A) -> A + Send + Sync + 'static,
        materialized: impl Into<Materialized>,
    ) -> KTable<Windowed<K>, A> {
        let never_merged = Arc::new(|_: &K, a: A, _: A| a);
        self.aggregate_with(
            materialized.into(),
            Arc::new(folding(initializer, aggregator)),
            never_merged,
        )
    }
}

/// Windows whose bounds do not depend on the records (time, sliding): no two ever merge.
pub trait FixedWindows: WindowKind {}
impl FixedWindows for TimeWindows {}
impl FixedWindows for SlidingWindows {}

impl<K: StoreData, V: StoreData> SessionWindowedKStream<K, V> {
    /// Folds the values of each session from `initializer()`; `merger` combines the aggregates
    /// of two sessions that a record brings together.
    pub fn aggregate<A: StoreData>(
        &self,
        initializer: impl Fn() -> A + Send + Sync + 'static,
        aggregator: impl Fn(&K, V, A) -> A + Send + Sync + 'static,
        merger: impl Fn(&K, A, A) -> A + Send + Sync + 'static,
        materialized: impl Into<Materialized>,
    ) -> KTable<Windowed<K>, A> {
        self.aggregate_with(
            materialized.into(),
            Arc::new(folding(initializer, aggregator)),
            Arc::new(merger),
        )
    }
}
