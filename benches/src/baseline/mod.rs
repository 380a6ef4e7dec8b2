//! Hand-written baselines: what a careful engineer would write with rdkafka (and RocksDB)
//! directly for the same pipelines, with the same commit discipline (flush outputs, then commit
//! offsets, every commit interval) — the yardstick for the framework's overhead.

mod kafka_loop;
mod rocksdb_only;
mod stateless;
mod windowed_count;

pub use kafka_loop::FETCH_WAIT_MAX_MS;
pub use rocksdb_only::rocksdb_get_put;
pub use stateless::stateless_passthrough;
pub use windowed_count::windowed_count;
