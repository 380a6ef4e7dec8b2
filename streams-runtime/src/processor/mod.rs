//! Records, the per-task context processors run in, and the Processor API (hand-written
//! processors with stores and punctuators).

pub(crate) mod clock;
mod context;
mod custom;
mod punctuation;
mod record;

pub(crate) use context::OutputRecord;
pub use context::TaskContext;
pub(crate) use custom::Downstream;
pub use custom::{InitContext, Processor, ProcessorContext};
pub(crate) use punctuation::Schedule;
pub use punctuation::{Punctuation, PunctuationType, ScheduleId};
pub use record::{Header, Record};

/// Bounds every key and value flowing through a topology satisfies.
pub trait Data: Clone + Send + Sync + 'static {}
impl<T: Clone + Send + Sync + 'static> Data for T {}
