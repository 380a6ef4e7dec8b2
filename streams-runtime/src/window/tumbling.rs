use std::time::Duration;

use super::TimeWindow;

/// Fixed-size, non-overlapping windows aligned to the epoch, with a grace period for late records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TumblingWindows {
    size_ms: i64,
    grace_ms: i64,
}

impl TumblingWindows {
    /// Windows of `size` with no grace period.
    ///
    /// # Panics
    /// If `size` is zero: a zero-length window can hold no record.
    pub fn of(size: Duration) -> Self {
        let size_ms = i64::try_from(size.as_millis()).unwrap_or(i64::MAX);
        assert!(size_ms > 0, "tumbling window size must be at least 1 ms");
        Self { size_ms, grace_ms: 0 }
    }

    /// Keeps accepting out-of-order records for `grace` after a window ends.
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace_ms = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
        self
    }

    /// Window size in milliseconds.
    pub fn size_ms(&self) -> i64 {
        self.size_ms
    }

    /// Grace period in milliseconds.
    pub fn grace_ms(&self) -> i64 {
        self.grace_ms
    }

    /// The one window holding `timestamp_ms`.
    pub fn window_for(&self, timestamp_ms: i64) -> TimeWindow {
        let start_ms = timestamp_ms - timestamp_ms.rem_euclid(self.size_ms);
        TimeWindow {
            start_ms,
            end_ms: start_ms.saturating_add(self.size_ms),
        }
    }

    /// Whether `window` no longer accepts records once stream time has reached `stream_time_ms`.
    pub fn is_closed(&self, window: &TimeWindow, stream_time_ms: i64) -> bool {
        stream_time_ms >= window.end_ms.saturating_add(self.grace_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assigns_the_aligned_window_and_closes_after_grace() {
        let windows = TumblingWindows::of(Duration::from_secs(300)).grace(Duration::from_secs(30));
        // 10:00:30 → [10:00, 10:05)
        let w = windows.window_for(1_704_448_830_000);
        assert_eq!((w.start_ms, w.end_ms), (1_704_448_800_000, 1_704_449_100_000));
        assert!(w.contains(1_704_448_830_000));
        assert!(!windows.is_closed(&w, w.end_ms + 29_999));
        assert!(windows.is_closed(&w, w.end_ms + 30_000));
        // Negative timestamps round down, not toward zero.
        assert_eq!(windows.window_for(-1).start_ms, -300_000);
    }
}
