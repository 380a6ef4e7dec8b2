use std::time::Duration;

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// How far apart in event time two records of a stream-stream join may be: a left record at `t`
/// joins right records in `[t - before, t + after]`; records arriving after their window closed
/// (stream time past `t + after + grace`) are dropped. As Kafka Streams' `JoinWindows`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JoinWindows {
    pub(crate) before_ms: i64,
    pub(crate) after_ms: i64,
    pub(crate) grace_ms: i64,
}

impl JoinWindows {
    /// Records at most `time_difference` apart (either way) join; no grace period.
    pub fn of(time_difference: Duration) -> Self {
        let ms = millis(time_difference);
        Self {
            before_ms: ms,
            after_ms: ms,
            grace_ms: 0,
        }
    }

    /// A left record joins right records up to `before` earlier than itself.
    #[must_use]
    pub fn before(mut self, before: Duration) -> Self {
        self.before_ms = millis(before);
        self
    }

    /// A left record joins right records up to `after` later than itself.
    #[must_use]
    pub fn after(mut self, after: Duration) -> Self {
        self.after_ms = millis(after);
        self
    }

    /// Keeps accepting out-of-order records for `grace` after a window closes.
    #[must_use]
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace_ms = millis(grace);
        self
    }

    /// How long each side's records are kept: long enough for any partner to arrive.
    pub(crate) fn retention_ms(&self) -> i64 {
        self.before_ms
            .saturating_add(self.after_ms)
            .saturating_add(self.grace_ms)
    }
}
