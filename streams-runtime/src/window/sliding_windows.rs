use std::time::Duration;

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Sliding windows: windows of a fixed time difference whose bounds are set by the records
/// themselves, so every distinct set of a key's records at most `time_difference` apart is
/// aggregated exactly once. A record at `t` lands in its own window `[t − d, t]`, in the existing
/// windows that cover `t`, and opens the window `[t + 1, t + 1 + d]` when later records fall in
/// it. Both bounds are inclusive (the emitted `TimeWindow`'s `end_ms` is the last millisecond
/// in it). As Kafka Streams' `SlidingWindows`, including its grace period for late records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlidingWindows {
    pub(crate) time_difference_ms: i64,
    pub(crate) grace_ms: i64,
}

impl SlidingWindows {
    /// Windows spanning `time_difference` (both ends included), with no grace period.
    ///
    /// # Panics
    /// If `time_difference` is zero: such windows would only ever hold records of one instant,
    /// which a tumbling window of 1 ms does better.
    pub fn with_time_difference(time_difference: Duration) -> Self {
        // Bounded so that window arithmetic (`t − 2d`, `t + 1 + d`) cannot overflow; the bound
        // is millions of years.
        let time_difference_ms = millis(time_difference).min(i64::MAX / 4);
        assert!(
            time_difference_ms > 0,
            "a sliding window's time difference must be at least 1 ms"
        );
        Self {
            time_difference_ms,
            grace_ms: 0,
        }
    }

    /// Keeps accepting out-of-order records for `grace` after a window ends.
    #[must_use]
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace_ms = millis(grace);
        self
    }

    /// The time difference (window length) in milliseconds.
    pub fn time_difference_ms(&self) -> i64 {
        self.time_difference_ms
    }

    /// The grace period in milliseconds.
    pub fn grace_ms(&self) -> i64 {
        self.grace_ms
    }
}
