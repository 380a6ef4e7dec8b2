use std::fmt;

use serde::{Deserialize, Serialize};

use super::TimeWindow;
use super::stack_text::write_at_once;
use super::time_window::Utc;

/// A key together with the window its aggregate belongs to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Windowed<K> {
    /// The grouping key.
    pub key: K,
    /// The window.
    pub window: TimeWindow,
}

impl<K: fmt::Display> fmt::Display for Windowed<K> {
    /// `user123@2024-01-05T10:00:00Z`, the seed's `key@window-start` form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_at_once(f, format_args!("{}@{}", self.key, Utc(self.window.start_ms)))
    }
}
