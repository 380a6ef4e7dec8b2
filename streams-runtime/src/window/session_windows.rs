use std::time::Duration;

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Session windows: a key's records at most `inactivity_gap` apart belong to one session, which
/// grows (and merges with its neighbours) as records arrive; a session closes once stream time
/// passes its last record by the gap plus the grace period. As Kafka Streams' `SessionWindows`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionWindows {
    pub(crate) gap_ms: i64,
    pub(crate) grace_ms: i64,
}

impl SessionWindows {
    /// Sessions separated by at least `gap` without records; no grace period.
    pub fn with_inactivity_gap(gap: Duration) -> Self {
        Self {
            gap_ms: millis(gap),
            grace_ms: 0,
        }
    }

    /// Keeps accepting out-of-order records for `grace` after a session closed.
    #[must_use]
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace_ms = millis(grace);
        self
    }

    /// The inactivity gap in milliseconds.
    pub fn gap_ms(&self) -> i64 {
        self.gap_ms
    }

    /// The grace period in milliseconds.
    pub fn grace_ms(&self) -> i64 {
        self.grace_ms
    }
}
