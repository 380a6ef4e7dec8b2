use std::fmt;

use serde::{Deserialize, Serialize};

/// A half-open event-time interval `[start_ms, end_ms)` in epoch milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TimeWindow {
    /// Inclusive start, epoch milliseconds.
    pub start_ms: i64,
    /// Exclusive end, epoch milliseconds.
    pub end_ms: i64,
}

impl TimeWindow {
    /// Whether `timestamp_ms` falls inside the window.
    pub fn contains(&self, timestamp_ms: i64) -> bool {
        self.start_ms <= timestamp_ms && timestamp_ms < self.end_ms
    }
}

impl fmt::Display for TimeWindow {
    /// `2024-01-05T10:00:00Z/2024-01-05T10:05:00Z` (ISO 8601 interval, UTC).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (IsoText::of(self.start_ms), IsoText::of(self.end_ms)) {
            (Some(start), Some(end)) => {
                let mut text = super::stack_text::StackText::<64>::new();
                text.push_ascii(start.as_bytes());
                text.push_ascii(b"/");
                text.push_ascii(end.as_bytes());
                f.write_str(text.as_str())
            }
            _ => write!(f, "{}/{}", Utc(self.start_ms), Utc(self.end_ms)),
        }
    }
}

/// Formats epoch milliseconds as an ISO 8601 UTC timestamp, without a date-time dependency.
pub(crate) struct Utc(pub(crate) i64);

impl fmt::Display for Utc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(text) = IsoText::of(self.0) {
            return f.write_str(text.as_str());
        }
        let (year, month, day, h, m, s, millis) = fields(self.0);
        write!(f, "{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}")?;
        if millis != 0 {
            write!(f, ".{millis:03}")?;
        }
        f.write_str("Z")
    }
}

/// An instant of years 0–9999 as ISO 8601 text (`2024-01-05T10:00:00Z`, milliseconds only
/// when not 0), written digit by digit: windowed keys are formatted once per output record,
/// and `write!` with seven padded fields cost several times more.
pub(crate) struct IsoText {
    buf: [u8; 24],
    len: usize,
}

impl IsoText {
    /// `None` for years outside 0–9999 (formatted by the general path of [`Utc`]).
    pub(crate) fn of(epoch_ms: i64) -> Option<Self> {
        let (year, month, day, h, m, s, millis) = fields(epoch_ms);
        if !(0..=9999).contains(&year) {
            return None;
        }
        let mut buf = *b"0000-00-00T00:00:00.000Z";
        // Two digits at a time (every value here is 0–99 after the split): a division by a
        // constant each, where one per digit by a power of ten cost several times more.
        let two = |buf: &mut [u8; 24], at: usize, value: i64| {
            buf[at] = b'0' + (value / 10) as u8;
            buf[at + 1] = b'0' + (value % 10) as u8;
        };
        two(&mut buf, 0, year / 100);
        two(&mut buf, 2, year % 100);
        two(&mut buf, 5, month);
        two(&mut buf, 8, day);
        two(&mut buf, 11, h);
        two(&mut buf, 14, m);
        two(&mut buf, 17, s);
        let len = if millis == 0 {
            buf[19] = b'Z';
            20
        } else {
            buf[20] = b'0' + (millis / 100) as u8;
            two(&mut buf, 21, millis % 100);
            24
        };
        Some(Self { buf, len })
    }

    /// The text's bytes (ASCII).
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    fn as_str(&self) -> &str {
        // Only ASCII digits and separators are ever written, so this never fails.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

/// Year, month, day, hour, minute, second and millisecond of an epoch-millisecond instant (UTC).
fn fields(epoch_ms: i64) -> (i64, i64, i64, i64, i64, i64, i64) {
    let millis = epoch_ms.rem_euclid(1000);
    let secs = epoch_ms.div_euclid(1000);
    let (days, secs_of_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let (h, m, s) = (secs_of_day / 3600, secs_of_day / 60 % 60, secs_of_day % 60);
    (year, month, day, h, m, s, millis)
}

/// Parses an ISO 8601 UTC instant, `YYYY-MM-DDTHH:MM[:SS[.fff]][Z]` (as the windows print
/// them; the seed's `2024-01-05T10:00:00`), into epoch milliseconds.
pub fn parse_utc_ms(text: &str) -> Option<i64> {
    let text = text.strip_suffix('Z').unwrap_or(text);
    let (date, time) = text.split_once('T')?;
    let mut date = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (date.next()??, date.next()??, date.next()??);
    let (time, millis) = match time.split_once('.') {
        Some((time, fraction)) if (1..=3).contains(&fraction.len()) => (
            time,
            fraction.parse::<i64>().ok()? * 10_i64.pow(3 - fraction.len() as u32),
        ),
        Some(_) => return None,
        None => (time, 0),
    };
    let mut time = time.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (h, m) = (time.next()??, time.next()??);
    let s = time.next().map_or(Some(0), |s| s)?;
    let valid = (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && (0..24).contains(&h)
        && (0..60).contains(&m)
        && (0..60).contains(&s);
    let days = days_from_civil(year, month, day);
    (valid && civil_from_days(days) == (year, month, day))
        .then(|| ((days * 86_400 + h * 3600 + m * 60 + s) * 1000) + millis)
}

/// Proleptic Gregorian (year, month, day) → days since 1970-01-01; Howard Hinnant's algorithm.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 → proleptic Gregorian (year, month, day); Howard Hinnant's algorithm.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_instants_parse_back_to_what_they_print() {
        for ms in [0, 1_704_448_800_000, 1_704_448_800_123, -86_400_000, 951_782_400_000] {
            assert_eq!(parse_utc_ms(&Utc(ms).to_string()), Some(ms), "{}", Utc(ms));
        }
        assert_eq!(parse_utc_ms("2024-01-05T10:00:00"), Some(1_704_448_800_000));
        assert_eq!(parse_utc_ms("2024-01-05T10:00"), Some(1_704_448_800_000));
        for bad in [
            "",
            "2024-01-05",
            "2024-02-30T00:00:00",
            "2024-01-05T24:00:00",
            "10:00",
            "2024-01-05T10:00:00.1234",
        ] {
            assert_eq!(parse_utc_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_as_iso_interval() {
        // 2024-01-05T10:00:00Z, the seed walkthrough's window.
        let w = TimeWindow {
            start_ms: 1_704_448_800_000,
            end_ms: 1_704_449_100_000,
        };
        assert_eq!(w.to_string(), "2024-01-05T10:00:00Z/2024-01-05T10:05:00Z");
        assert_eq!(Utc(-1).to_string(), "1969-12-31T23:59:59.999Z");
        assert_eq!(Utc(951_782_400_000).to_string(), "2000-02-29T00:00:00Z");
    }

    /// The fast path (years 0–9999) writes what the general `write!` path writes.
    #[test]
    fn the_digit_path_matches_the_general_format() {
        let general = |ms: i64| {
            let millis = ms.rem_euclid(1000);
            let secs = ms.div_euclid(1000);
            let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
            let (year, month, day) = civil_from_days(days);
            let mut out = format!(
                "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
                sod / 3600,
                sod / 60 % 60,
                sod % 60
            );
            if millis != 0 {
                out += &format!(".{millis:03}");
            }
            out + "Z"
        };
        // Every few hours, minutes, seconds and milliseconds over 0000–9999 and around epoch.
        let mut ms = -62_167_219_200_000_i64; // 0000-01-01
        while ms < 253_402_300_800_000 {
            assert_eq!(Utc(ms).to_string(), general(ms), "{ms}");
            ms += 7_919_993_317;
        }
        for ms in [-1, 0, 1, 999, 1_000, 59_999, 1_704_448_800_123, 253_402_300_799_999] {
            assert_eq!(Utc(ms).to_string(), general(ms), "{ms}");
        }
        assert_eq!(Utc(253_402_300_800_000).to_string(), "10000-01-01T00:00:00Z");
        assert_eq!(Utc(-62_167_219_200_001).to_string(), "-001-12-31T23:59:59.999Z");
    }
}
