//! The processors each DSL operation adds to the graph, one operation per file (with its DSL
//! method): reading topics (`source`, `table_source`), record-at-a-time operations
//! (`stateless`, `process`, `to_table`, `table_ops`), aggregations (`aggregate`), joins
//! (`join`) and windowed aggregations (`windowed`).

pub(crate) mod aggregate;
pub(crate) mod join;
pub(crate) mod process;
pub(crate) mod source;
pub(crate) mod stateless;
pub(crate) mod table_ops;
pub(crate) mod table_source;
pub(crate) mod to_table;
pub(crate) mod windowed;
