//! CPU time of this process's threads, grouped by thread name, from `/proc/self/task/*/stat`:
//! where a run spends its cycles (stream thread, producer polling, librdkafka broker threads),
//! not only how long it takes.

use std::collections::BTreeMap;
use std::time::Duration;

/// Clock ticks per second of `/proc` CPU times (`sysconf(_SC_CLK_TCK)`; 100 on Linux).
const TICKS_PER_SECOND: u64 = 100;

/// CPU time (user + system) per thread name at one moment.
#[derive(Clone, Debug, Default)]
pub struct CpuSnapshot {
    by_thread: BTreeMap<String, u64>,
    /// Threads that exited are gone from `/proc`; the process total still counts them.
    process_ticks: u64,
}

impl CpuSnapshot {
    /// Reads the current CPU times (empty where `/proc` is not available).
    pub fn now() -> Self {
        let mut by_thread = BTreeMap::new();
        if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
            for task in tasks.flatten() {
                if let Some((name, ticks)) = std::fs::read_to_string(task.path().join("stat"))
                    .ok()
                    .and_then(|s| parse_stat(&s))
                {
                    *by_thread.entry(name).or_insert(0) += ticks;
                }
            }
        }
        let process_ticks = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|s| parse_stat(&s))
            .map_or(0, |(_, ticks)| ticks);
        Self {
            by_thread,
            process_ticks,
        }
    }

    /// CPU time spent since `earlier`: the process total and the threads that used any.
    pub fn since(&self, earlier: &CpuSnapshot) -> CpuUsage {
        let threads = self
            .by_thread
            .iter()
            .filter_map(|(name, &ticks)| {
                let spent = ticks.saturating_sub(earlier.by_thread.get(name).copied().unwrap_or(0));
                (spent > 0).then(|| (name.clone(), ticks_to_duration(spent)))
            })
            .collect();
        CpuUsage {
            total: ticks_to_duration(self.process_ticks.saturating_sub(earlier.process_ticks)),
            threads,
        }
    }
}

/// CPU time of one measured interval.
#[derive(Clone, Debug, Default)]
pub struct CpuUsage {
    /// All threads of the process.
    pub total: Duration,
    /// Per thread name (threads sharing a name are summed).
    pub threads: Vec<(String, Duration)>,
}

impl CpuUsage {
    /// The CPU time of the threads called `name` (as Linux shows it: cut at 15 characters).
    pub fn of_thread(&self, name: &str) -> Duration {
        let shown: String = name.chars().take(15).collect();
        self.threads
            .iter()
            .filter(|(thread, _)| *thread == shown)
            .map(|(_, time)| *time)
            .sum()
    }
}

/// `(thread name, utime + stime)` from a `stat` line; the name is in parentheses and may contain
/// spaces, so fields are counted after the closing one.
fn parse_stat(stat: &str) -> Option<(String, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?.to_owned();
    let fields: Vec<&str> = stat.get(close + 2..)?.split_whitespace().collect();
    // After the name: state is field 3, utime field 14, stime field 15 (1-based in proc(5)).
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((name, utime + stime))
}

fn ticks_to_duration(ticks: u64) -> Duration {
    Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_thread_name_with_spaces() {
        let stat = "42 (producer polling) S 1 2 3 4 5 6 7 8 9 10 250 17 0 0";
        assert_eq!(parse_stat(stat), Some(("producer polling".to_owned(), 267)));
    }
}
