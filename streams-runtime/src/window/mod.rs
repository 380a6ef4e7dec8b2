//! Windows: time intervals that group records by event time.

mod emit;
mod join_windows;
mod session_windows;
mod sliding_windows;
mod stack_text;
mod time_window;
mod time_windows;
mod windowed;

pub use emit::EmitStrategy;
pub use join_windows::JoinWindows;
pub use session_windows::SessionWindows;
pub use sliding_windows::SlidingWindows;
pub use time_window::{TimeWindow, parse_utc_ms};
pub use time_windows::{TimeWindows, TumblingWindows};
pub use windowed::Windowed;
