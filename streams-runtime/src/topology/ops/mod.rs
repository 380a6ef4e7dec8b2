//! The operators: the processors each DSL operation adds to the graph, one kind per file, each
//! built per task from a function the DSL calls (mostly through `graph::node::operator`):
//! reading topics (`source`, `table_source`), record-at-a-time operations (`stateless`,
//! `process`, `to_table`, `table_ops`), aggregations (`aggregate`), joins (`join`) and
//! windowed aggregations (`windowed`). No DSL method lives here.

pub(crate) mod aggregate;
pub(crate) mod join;
pub(crate) mod process;
pub(crate) mod source;
pub(crate) mod stateless;
pub(crate) mod table_ops;
pub(crate) mod table_source;
pub(crate) mod to_table;
pub(crate) mod windowed;
