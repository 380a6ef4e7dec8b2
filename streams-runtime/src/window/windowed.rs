use std::fmt;

use serde::{Deserialize, Serialize};

use super::TimeWindow;
use super::stack_text::StackText;
use super::time_window::{IsoText, Utc};

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
        // Key and start gathered on the stack, so `to_string()` allocates once; only the key
        // goes through `core::fmt`, the instant's digits are written directly.
        let mut text = StackText::<128>::new();
        if let Some(start) = IsoText::of(self.window.start_ms)
            && fmt::Write::write_fmt(&mut text, format_args!("{}@", self.key)).is_ok()
            && text.push_ascii(start.as_bytes())
        {
            return f.write_str(text.as_str());
        }
        write!(f, "{}@{}", self.key, Utc(self.window.start_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn windowed(key: &str, start_ms: i64) -> Windowed<String> {
        Windowed {
            key: key.to_owned(),
            window: TimeWindow {
                start_ms,
                end_ms: start_ms.saturating_add(300_000),
            },
        }
    }

    /// The stack path and the general path (a key too long for the stack text, a year past
    /// 9999) write the same form.
    #[test]
    fn formats_as_key_at_window_start_on_every_path() {
        assert_eq!(
            windowed("user123", 1_704_448_800_000).to_string(),
            "user123@2024-01-05T10:00:00Z"
        );
        assert_eq!(
            windowed("ü", 1_704_448_800_123).to_string(),
            "ü@2024-01-05T10:00:00.123Z"
        );
        let long = "k".repeat(200);
        assert_eq!(
            windowed(&long, 1_704_448_800_000).to_string(),
            format!("{long}@2024-01-05T10:00:00Z")
        );
        assert_eq!(
            windowed("user123", 253_402_300_800_000).to_string(),
            "user123@10000-01-01T00:00:00Z"
        );
        assert_eq!(
            windowed("k", 253_402_300_500_000).window.to_string(),
            "9999-12-31T23:55:00Z/10000-01-01T00:00:00Z"
        );
    }
}
