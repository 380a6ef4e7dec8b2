//! Windows: time intervals that group records by event time.

mod time_window;
mod time_windows;
mod windowed;

pub use time_window::TimeWindow;
pub use time_windows::{TimeWindows, TumblingWindows};
pub use windowed::Windowed;
