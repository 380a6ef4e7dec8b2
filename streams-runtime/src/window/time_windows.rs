use std::time::Duration;

use super::TimeWindow;

/// Fixed-size windows aligned to the epoch: tumbling (`of(size)`, non-overlapping) or hopping
/// (`.advance_by(advance)`, a new window every `advance`, so a record falls into
/// `size / advance` of them); with a grace period for late records. As Kafka Streams'
/// `TimeWindows`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeWindows {
    size_ms: i64,
    advance_ms: i64,
    grace_ms: i64,
}

/// Tumbling windows are time windows whose advance equals their size.
pub type TumblingWindows = TimeWindows;

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl TimeWindows {
    /// Tumbling windows of `size` with no grace period.
    ///
    /// # Panics
    /// If `size` is zero: a zero-length window can hold no record.
    pub fn of(size: Duration) -> Self {
        let size_ms = millis(size);
        assert!(size_ms > 0, "window size must be at least 1 ms");
        Self {
            size_ms,
            advance_ms: size_ms,
            grace_ms: 0,
        }
    }

    /// Hopping windows: a new window of this size starts every `advance`.
    ///
    /// # Panics
    /// If `advance` is zero or larger than the size (records would fall between windows).
    #[must_use]
    pub fn advance_by(mut self, advance: Duration) -> Self {
        let advance_ms = millis(advance);
        assert!(
            advance_ms > 0 && advance_ms <= self.size_ms,
            "a window's advance must be between 1 ms and its size"
        );
        self.advance_ms = advance_ms;
        self
    }

    /// Keeps accepting out-of-order records for `grace` after a window ends.
    #[must_use]
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace_ms = millis(grace);
        self
    }

    /// Window size in milliseconds.
    pub fn size_ms(&self) -> i64 {
        self.size_ms
    }

    /// Advance in milliseconds (equal to the size for tumbling windows).
    pub fn advance_ms(&self) -> i64 {
        self.advance_ms
    }

    /// Grace period in milliseconds.
    pub fn grace_ms(&self) -> i64 {
        self.grace_ms
    }

    /// The latest-starting window holding `timestamp_ms` (for tumbling windows, the only one).
    pub fn window_for(&self, timestamp_ms: i64) -> TimeWindow {
        let start_ms = timestamp_ms - timestamp_ms.rem_euclid(self.advance_ms);
        TimeWindow {
            start_ms,
            end_ms: start_ms.saturating_add(self.size_ms),
        }
    }

    /// Every window holding `timestamp_ms`, oldest first. Hopping windows that would start
    /// before 0 do not exist for a record at or after 0 (as in Kafka Streams, whose event time
    /// starts at 0).
    pub fn windows_for(&self, timestamp_ms: i64) -> Vec<TimeWindow> {
        let latest = self.window_for(timestamp_ms).start_ms;
        let earliest = if timestamp_ms >= 0 { 0 } else { i64::MIN };
        let mut starts = Vec::new();
        let mut start = latest;
        while start > timestamp_ms - self.size_ms && start >= earliest {
            starts.push(start);
            start -= self.advance_ms;
        }
        starts
            .into_iter()
            .rev()
            .map(|start_ms| TimeWindow {
                start_ms,
                end_ms: start_ms.saturating_add(self.size_ms),
            })
            .collect()
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
    fn tumbling_assigns_the_aligned_window_and_closes_after_grace() {
        let windows = TimeWindows::of(Duration::from_secs(300)).grace(Duration::from_secs(30));
        // 10:00:30 → [10:00, 10:05)
        let w = windows.window_for(1_704_448_830_000);
        assert_eq!((w.start_ms, w.end_ms), (1_704_448_800_000, 1_704_449_100_000));
        assert_eq!(windows.windows_for(1_704_448_830_000), vec![w]);
        assert!(w.contains(1_704_448_830_000));
        assert!(!windows.is_closed(&w, w.end_ms + 29_999));
        assert!(windows.is_closed(&w, w.end_ms + 30_000));
        // Negative timestamps round down, not toward zero.
        assert_eq!(windows.window_for(-1).start_ms, -300_000);
    }

    #[test]
    fn hopping_windows_overlap() {
        let windows = TimeWindows::of(Duration::from_secs(300)).advance_by(Duration::from_secs(60));
        let starts: Vec<i64> = windows.windows_for(330_000).iter().map(|w| w.start_ms).collect();
        // 5:30 is in the windows starting at 1:00, 2:00, 3:00, 4:00 and 5:00 (not 0:00: it ends at 5:00).
        assert_eq!(starts, vec![60_000, 120_000, 180_000, 240_000, 300_000]);
        assert_eq!(windows.windows_for(300_000).first().map(|w| w.start_ms), Some(60_000));
        // No window starts before 0 for a record at or after 0 (Kafka Streams' rule).
        let starts: Vec<i64> = windows.windows_for(90_000).iter().map(|w| w.start_ms).collect();
        assert_eq!(starts, [0, 60_000]);
    }
}
