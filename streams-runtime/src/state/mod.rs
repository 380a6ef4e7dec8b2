//! State stores: typed key-value and window stores over a byte-level backend (RocksDB or memory;
//! memory only without the `rocksdb` feature), with an in-memory overlay of uncommitted writes.
//!
//! Write path: a processor's `put` lands in the store's overlay (the record cache). At commit the
//! overlay is produced to the store's changelog partition and, only after the commit succeeded
//! (offsets committed, or the Kafka transaction committed), applied to the backend in one write
//! batch together with the changelog offset it reflects. So the backend never holds uncommitted
//! state, and its recorded offset is always exact: after any crash, restore replays only the
//! changelog tail after that offset — no wipe-and-restore, under either processing guarantee.

mod backend;
mod checkpoint;
mod join_buffer;
mod key_layout;
mod key_value;
pub(crate) mod layout;
mod memory;
#[cfg(not(feature = "rocksdb"))]
mod memory_only;
mod pending_writes;
pub(crate) mod query_adapter;
pub(crate) mod queryable;
#[cfg(feature = "rocksdb")]
mod rocks;
mod session;
mod spec;
mod store;
mod stream_clock;
mod subscription_store;
mod unmatched_buffer;
mod window;

pub use key_value::KeyValueStore;
pub use queryable::QueryableStores;
pub use session::SessionStore;
pub use spec::{StoreBackend, StoreKind, StoreSpec};
pub(crate) use window::WindowKeys;
pub use window::WindowStore;

pub(crate) use backend::Backend;
pub(crate) use checkpoint::Checkpoint;
pub(crate) use join_buffer::JoinBuffer;
pub(crate) use memory::MemoryBackend;
#[cfg(not(feature = "rocksdb"))]
pub(crate) use memory_only::{RocksBackend, RocksResources};
#[cfg(feature = "rocksdb")]
pub(crate) use rocks::{RocksBackend, RocksResources};
pub(crate) use store::{ChangelogPartition, SharedStore, Store};
pub(crate) use stream_clock::StreamClock;
pub(crate) use subscription_store::SubscriptionStore;
pub(crate) use unmatched_buffer::{Unmatched, UnmatchedBuffer};

/// Store sizes summed per store name (a store has a partition in each task): (store, bytes),
/// sorted by store.
pub(crate) fn sum_by_store(sizes: impl IntoIterator<Item = (String, u64)>) -> Vec<(String, u64)> {
    let mut sums = std::collections::BTreeMap::<String, u64>::new();
    for (store, bytes) in sizes {
        *sums.entry(store).or_default() += bytes;
    }
    sums.into_iter().collect()
}
