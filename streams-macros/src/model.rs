//! What a `#[topology]` module declares, after parsing and before expansion.

use proc_macro2::Span;
use syn::{Expr, Ident, LitStr, Type};

/// The whole topology module.
pub(crate) struct TopologyDef {
    pub(crate) application_id: LitStr,
    pub(crate) error_policy: ErrorPolicyDef,
    /// The runtime crate's path in generated code (`#[topology(crate = "..")]`).
    pub(crate) runtime: syn::Path,
    pub(crate) nodes: Vec<Node>,
}

/// `#[topology(on_error = "..", dead_letter_topic = "..")]`: what happens to records that do not
/// decode or whose user function returns `Err`.
#[derive(Clone, Default)]
pub(crate) enum ErrorPolicyDef {
    #[default]
    Continue,
    Fail,
    DeadLetter(LitStr),
}

/// One annotated item: a typed processor node.
pub(crate) struct Node {
    pub(crate) name: Ident,
    pub(crate) kind: NodeKind,
    /// Upstream nodes (several: their streams are merged).
    pub(crate) from: Vec<Ident>,
}

/// How a record is passed to a user function parameter.
#[derive(Clone)]
pub(crate) struct Param {
    /// The type without a leading `&`.
    pub(crate) ty: Type,
    pub(crate) by_ref: bool,
    pub(crate) span: Span,
}

/// What a stateless function does with each record, read off its return type.
#[derive(Clone)]
pub(crate) enum Shape {
    /// `-> (K2, V2)`: a new key and value.
    KeyValue(Type, Type),
    /// `-> Option<(K2, V2)>`: zero or one new record.
    OptionKeyValue(Type, Type),
    /// `-> Vec<(K2, V2)>`: any number of new records.
    ManyKeyValues(Type, Type),
    /// `-> V2`: a new value, same key.
    Value(Type),
    /// `-> Option<V2>`: zero or one new value, same key.
    OptionValue(Type),
    /// `-> Vec<V2>`: any number of values, same key.
    ManyValues(Type),
    /// `-> bool`: keep the record or drop it.
    Filter,
    /// `-> ()`: look at the record, pass it on.
    Peek,
}

impl Shape {
    /// Whether the output key differs from the input key.
    pub(crate) fn rekeys(&self) -> bool {
        matches!(
            self,
            Self::KeyValue(..) | Self::OptionKeyValue(..) | Self::ManyKeyValues(..)
        )
    }
}

/// A user function over (optional key, value), with its output shape.
#[derive(Clone)]
pub(crate) struct StatelessFn {
    pub(crate) key: Option<Param>,
    pub(crate) value: Param,
    pub(crate) shape: Shape,
    /// Returns `Result<shape, E>`: an `Err` is a processing error of the record.
    pub(crate) fallible: bool,
    /// Transforms: `#[repartition(partitions = n)]` sends the output through the repartition
    /// topic named after the function (with `n` partitions, or as many as its input).
    pub(crate) repartition: Option<Option<i32>>,
    /// Filters: `#[branch(split = "name")]` makes it one branch of a first-match split of its
    /// input (the branches of a split are its filters in declaration order).
    pub(crate) split: Option<LitStr>,
}

/// Codec selection for a topic's keys or values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Utf8,
    Binary,
    Bytes,
    /// The Schema Registry formats: a codec on the topology's registry, with the topic's subject.
    Avro,
    Protobuf,
    JsonSchema,
}

/// Topic codecs: explicit, or picked per type (String → UTF-8, `Vec<u8>` → bytes, else JSON).
#[derive(Clone, Default)]
pub(crate) struct Formats {
    pub(crate) key: Option<(Format, Span)>,
    pub(crate) value: Option<(Format, Span)>,
}

#[allow(clippy::large_enum_variant)] // built once per node at compile time
pub(crate) enum NodeKind {
    /// `#[source(topic = ..)]` on `type X = (K, V);` (as is) or on a function (transformed).
    Source {
        topic: LitStr,
        formats: Formats,
        timestamp: Option<Expr>,
        key: Type,
        value: Type,
        transform: Option<StatelessFn>,
    },
    /// `#[table(topic = .., store = ..)]` on `type X = (K, V);`.
    Table {
        topic: LitStr,
        store: Store,
        formats: Formats,
        key: Type,
        value: Type,
        /// `global`: replicated in full on every instance, joined by a computed key.
        global: bool,
    },
    /// A function with `#[from(..)]` and no role attribute.
    Transform(StatelessFn),
    /// `#[table(store = ..)]` on a function with `#[from(..)]`: its output, materialized as a
    /// table (`to_table`), readable by joins and table aggregations like a `#[table]`.
    ToTable { store: Store, transform: StatelessFn },
    /// `#[state_store(name = ..)]` (and maybe `#[windowed(..)]`) on `fn(&K, &V, &mut A)`.
    Aggregate {
        store: Store,
        window: Option<Window>,
        key: Param,
        value: Param,
        aggregate: Type,
        /// A table aggregation: `group_by = f, subtract = g` on a function reading a table.
        regroup: Option<Regroup>,
    },
    /// `#[join(table = ..)]` on `fn([&K,] &V, &T) -> R` (inner) or `.., Option<&T>) -> R` (left);
    /// `#[join(stream = .., within = "..")]` on the same shapes, or `(.., Option<&V>, Option<&T>)`
    /// (outer), for a windowed stream-stream join.
    Join {
        /// The table or the other stream.
        table: Ident,
        /// `Some` for a stream-stream join.
        window: Option<JoinWindowDef>,
        key: Option<Param>,
        value: Param,
        table_value: Param,
        left: bool,
        /// Stream joins: the first value is optional too (outer join).
        outer: bool,
        /// `#[join(global = G, key = f)]`: `f(&K, &V)` gives the global table's key.
        global_key: Option<syn::Path>,
        /// Table-table joins: `foreign_key = f` (`fn(&V) -> KO`) joins by a key extracted from
        /// the left value instead of by key.
        foreign_key: Option<syn::Path>,
        /// Table-table joins: the joined table's store (default: the function name, kebab-case).
        store: Option<LitStr>,
        output: Type,
    },
    /// `#[processor(from = .., stores(..))]` on `type X = P;`: a hand-written
    /// `Processor` (created with `P::default()` per task) with the stores it uses.
    Processor {
        processor: Type,
        stores: Vec<ProcessorStore>,
    },
    /// `#[sink(topic = .., from = ..)]` on a function whose output is written to the topic.
    Sink {
        topic: LitStr,
        formats: Formats,
        transform: StatelessFn,
    },
}

/// `#[state_store(.., group_by = f, subtract = g)]`: re-key a table's rows with
/// `f(&K, &V) -> (K2, V2)` and aggregate them per new key, `g` removing a row's old value.
#[derive(Clone)]
pub(crate) struct Regroup {
    pub(crate) by: syn::Path,
    pub(crate) subtract: syn::Path,
}

/// A store a `#[processor]` uses: `key_value(name = .., key = K, value = V)` or
/// `window(name = .., key = K, value = V, size = "..", retention = "..")`.
#[derive(Clone)]
pub(crate) struct ProcessorStore {
    pub(crate) store: Store,
    pub(crate) key: Type,
    pub(crate) value: Type,
    /// Window stores: size and retention, milliseconds.
    pub(crate) window: Option<(u64, u64)>,
}

/// The store of a table-table join named by its function: `price_orders` → `price-orders`.
pub(crate) fn join_store_name(function: &Ident, store: Option<&LitStr>) -> String {
    store.map_or_else(|| function.to_string().replace('_', "-"), LitStr::value)
}

impl NodeKind {
    /// A table of this application's tasks (from a topic or a stream), not a global one.
    pub(crate) fn is_local_table(&self) -> bool {
        matches!(self, NodeKind::Table { global: false, .. } | NodeKind::ToTable { .. })
    }

    /// A `#[table(store = ..)]` node that can derive a table from a table: an infallible filter
    /// (`KTable::filter`, a row that stops matching is deleted) or value mapping
    /// (`KTable::map_values`).
    pub(crate) fn is_table_derivation(&self) -> bool {
        matches!(self, NodeKind::ToTable { transform, .. }
            if !transform.fallible
                && transform.repartition.is_none()
                && transform.split.is_none()
                && matches!(transform.shape, Shape::Filter | Shape::Value(_)))
    }
}

/// A state store declaration.
#[derive(Clone)]
pub(crate) struct Store {
    pub(crate) name: LitStr,
    pub(crate) in_memory: bool,
    pub(crate) logged: bool,
}

/// A stream-stream join's window: `within` either way, plus `grace`; milliseconds.
#[derive(Clone, Copy)]
pub(crate) struct JoinWindowDef {
    pub(crate) within_ms: u64,
    pub(crate) grace_ms: u64,
}

/// A `#[windowed(..)]` declaration; durations in milliseconds.
#[derive(Clone)]
pub(crate) struct Window {
    pub(crate) kind: WindowKind,
    pub(crate) grace_ms: Option<u64>,
    /// `emit = "final"`: once per window at close, instead of on every update.
    pub(crate) emit_final: bool,
    /// Session windows: `merge = path`, a `fn(A, A) -> A` combining two sessions' aggregates.
    pub(crate) merge: Option<syn::Path>,
    pub(crate) retention_ms: Option<u64>,
}

#[derive(Clone)]
pub(crate) enum WindowKind {
    Tumbling { size_ms: u64 },
    Hopping { size_ms: u64, advance_ms: u64 },
    Sliding { time_difference_ms: u64 },
    Session { inactivity_gap_ms: u64 },
}
