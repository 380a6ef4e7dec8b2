//! Glue for macro-generated code. Not public API: names here may change in any release.
//!
//! The traits exist for their diagnostics: generated code routes every edge of a `#[topology]`
//! through them, so a type mismatch is reported with the rule and the fix, at the user's
//! `#[from(..)]` or `#[join(table = ..)]`.

pub use serde;
pub use serde_json;

/// The generated query `Client` and its methods: emitted when this crate has the `http`
/// feature (a `#[cfg]` in generated code would test the features of the user's crate, not this
/// one's), so the macros expand the same either way.
pub use crate::__with_http as with_http;

#[cfg(feature = "http")]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_http {
    ($($item:item)*) => { $($item)* };
}

#[cfg(not(feature = "http"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_http {
    ($($item:item)*) => {};
}

use crate::topology::{KStream, KTable};

/// A node output that a node taking `(K, V)` records can read.
#[diagnostic::on_unimplemented(
    message = "this node takes `({K}, {V})` records, but its `from` node emits `{Self}`",
    label = "emits a different key or value type",
    note = "a node's key and value parameters must have exactly the key and value types of the node it reads from; \
            convert in the upstream node or change the parameter types"
)]
pub trait Emits<K, V> {
    /// The stream.
    fn stream(&self) -> &KStream<K, V>;
}

impl<K, V> Emits<K, V> for KStream<K, V> {
    fn stream(&self) -> &KStream<K, V> {
        self
    }
}

/// The upstream stream of an edge, checked against the reader's parameter types.
pub fn edge<K, V, S: Emits<K, V>>(upstream: &S) -> &KStream<K, V> {
    upstream.stream()
}

/// A table a stream keyed by `K` can be joined with, yielding `VT` values.
#[diagnostic::on_unimplemented(
    message = "cannot join a stream keyed by `{K}` with `{Self}` as a table of `{VT}` values",
    label = "not a table keyed by `{K}` with `{VT}` values",
    note = "a stream-table join looks the stream's key up in the table, so both must have the same key type \
            (and be co-partitioned); re-key the stream first by returning `(new_key, value)` from an upstream \
            node, and make the joiner's table parameter the table's value type"
)]
pub trait TableOf<K, VT> {
    /// The table.
    fn table(&self) -> &KTable<K, VT>;
}

impl<K, VT> TableOf<K, VT> for KTable<K, VT> {
    fn table(&self) -> &KTable<K, VT> {
        self
    }
}

/// A table a node reads row by row (a table-table join, a table aggregation).
#[diagnostic::on_unimplemented(
    message = "this node reads a table of `({K}, {V})` rows, but `{Self}` is not one",
    label = "a table with other key or value types",
    note = "a node reading a table takes its exact key and value types; joining two tables by key needs the \
            same key type on both sides (by a foreign key: `foreign_key = fn(&V) -> OtherKey`)"
)]
pub trait TableRows<K, V> {
    /// The table.
    fn rows(&self) -> &KTable<K, V>;
}

impl<K, V> TableRows<K, V> for KTable<K, V> {
    fn rows(&self) -> &KTable<K, V> {
        self
    }
}

/// A table read by a node, checked against the node's parameter types.
pub fn table_rows<K, V, T: TableRows<K, V>>(table: &T) -> &KTable<K, V> {
    table.rows()
}

/// The table side of a join, checked against the stream's key type.
pub fn join_table<'a, K, V, VT, T: TableOf<K, VT>>(_stream: &KStream<K, V>, table: &'a T) -> &'a KTable<K, VT> {
    table.table()
}
