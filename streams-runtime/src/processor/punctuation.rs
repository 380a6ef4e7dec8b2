//! Punctuation schedules: when a processor's `punctuate` runs, with Kafka Streams' semantics.
//!
//! - **Stream time**: aligned to 0, so the first punctuation fires with the first record a task
//!   processes; afterwards whenever stream time reaches the next due time. Driven by data only:
//!   no records, no punctuation.
//! - **Wall-clock time**: first due one interval after the processor was initialized; checked by
//!   the stream thread between records (and by the test driver's `advance_wall_clock`).
//!
//! Either kind fires at most once per check, with the current time: when time jumped over
//! several intervals, the missed ones are skipped, not replayed in a burst.

use std::time::Duration;

/// What drives a punctuation schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PunctuationType {
    /// The task's stream time (the largest event time seen); advances only with records.
    StreamTime,
    /// The wall clock of the stream thread; advances without records.
    WallClockTime,
}

/// Identifies one schedule of a processor, as returned by `InitContext::schedule`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ScheduleId(pub(crate) usize);

/// One call of a processor's `punctuate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Punctuation {
    /// The schedule that fired.
    pub schedule: ScheduleId,
    /// What drives it.
    pub kind: PunctuationType,
    /// The current stream time or wall-clock time (milliseconds), by kind.
    pub timestamp: i64,
}

/// One schedule and its next due time.
#[derive(Clone, Debug)]
pub(crate) struct Schedule {
    pub(crate) id: ScheduleId,
    pub(crate) kind: PunctuationType,
    interval_ms: i64,
    next_ms: i64,
}

impl Schedule {
    /// A schedule registered at wall-clock time `now_ms`.
    pub(crate) fn new(id: ScheduleId, kind: PunctuationType, interval: Duration, now_ms: i64) -> Self {
        let interval_ms = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX).max(1);
        let next_ms = match kind {
            PunctuationType::StreamTime => 0,
            PunctuationType::WallClockTime => now_ms.saturating_add(interval_ms),
        };
        Self {
            id,
            kind,
            interval_ms,
            next_ms,
        }
    }

    /// Whether the schedule fires at `now_ms` (a time of its kind); if so, it moves on to the
    /// next due time.
    pub(crate) fn fire(&mut self, now_ms: i64) -> bool {
        if now_ms < self.next_ms {
            return false;
        }
        let next = self.next_ms.saturating_add(self.interval_ms);
        // Missed intervals are skipped: the next one is counted from now.
        self.next_ms = if now_ms >= next {
            now_ms.saturating_add(self.interval_ms)
        } else {
            next
        };
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fires(schedule: &mut Schedule, times: &[i64]) -> Vec<i64> {
        times.iter().copied().filter(|&t| schedule.fire(t)).collect()
    }

    #[test]
    fn stream_time_fires_on_the_first_record_then_every_interval() {
        let mut s = Schedule::new(
            ScheduleId(0),
            PunctuationType::StreamTime,
            Duration::from_millis(10),
            999,
        );
        // Stream time before any record is i64::MIN: nothing fires.
        assert!(!s.fire(i64::MIN));
        assert_eq!(fires(&mut s, &[0, 5, 9, 10, 15, 19, 20]), vec![0, 10, 20]);
    }

    #[test]
    fn a_jump_over_several_intervals_fires_once_and_realigns() {
        let mut s = Schedule::new(ScheduleId(0), PunctuationType::StreamTime, Duration::from_millis(10), 0);
        assert_eq!(fires(&mut s, &[3, 47, 50, 56, 57]), vec![3, 47, 57]);
    }

    #[test]
    fn wall_clock_starts_one_interval_after_registration() {
        let mut s = Schedule::new(
            ScheduleId(1),
            PunctuationType::WallClockTime,
            Duration::from_millis(100),
            1_000,
        );
        assert_eq!(
            fires(&mut s, &[1_000, 1_099, 1_100, 1_150, 1_200, 1_450]),
            vec![1_100, 1_200, 1_450]
        );
    }
}
