//! Records and the per-task context processors run in.

mod context;
mod record;

pub(crate) use context::OutputRecord;
pub use context::TaskContext;
pub use record::Record;

/// Bounds every key and value flowing through a topology satisfies.
pub trait Data: Clone + Send + Sync + 'static {}
impl<T: Clone + Send + Sync + 'static> Data for T {}
