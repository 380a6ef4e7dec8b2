//! Joins: a stream with a table (`stream_table`), a stream with a stream within a window
//! (`stream_stream`), two tables by key (`table_table`) or by a foreign key (`foreign_key`), a
//! stream with a global table by a computed key (`global`).

pub(crate) mod foreign_key;
pub(crate) mod global;
pub(crate) mod stream_stream;
pub(crate) mod stream_table;
pub(crate) mod table_table;
