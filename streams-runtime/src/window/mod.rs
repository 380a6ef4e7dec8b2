//! Windows: time intervals that group records by event time.

mod time_window;
mod tumbling;
mod windowed;

pub use time_window::TimeWindow;
pub use tumbling::TumblingWindows;
pub use windowed::Windowed;
