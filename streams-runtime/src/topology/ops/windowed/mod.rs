//! Windowed aggregations: time windows, tumbling or hopping (`time`), record-defined sliding
//! windows (`sliding`), sessions that merge (`session`), and what happens to a window as stream
//! time passes it: emitted at close, expired after retention (`lifecycle`).

pub(crate) mod lifecycle;
pub(crate) mod session;
pub(crate) mod sliding;
pub(crate) mod time;
