//! CPU time of this process's threads, grouped by thread name, from `/proc/self/task/*`: where
//! a run spends its cycles (stream thread, producer polling, librdkafka broker threads), not
//! only how long it takes. A thread's time comes from its `schedstat` (nanoseconds), since the
//! 10 ms ticks of `stat` were a tenth of a stream thread's whole CPU in a 200 000-record run;
//! the process total (which also counts threads that exited) from `/proc/self/stat` ticks.

use std::collections::BTreeMap;
use std::time::Duration;

/// Clock ticks per second of `/proc` CPU times (`sysconf(_SC_CLK_TCK)`; 100 on Linux).
const TICKS_PER_SECOND: u64 = 100;

/// CPU time (user + system) per thread name at one moment.
#[derive(Clone, Debug, Default)]
pub struct CpuSnapshot {
    /// Nanoseconds per thread name.
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
                let Some((name, ticks)) = std::fs::read_to_string(task.path().join("stat"))
                    .ok()
                    .and_then(|s| parse_stat(&s))
                else {
                    continue;
                };
                let nanos = std::fs::read_to_string(task.path().join("schedstat"))
                    .ok()
                    .and_then(|s| parse_schedstat(&s))
                    .unwrap_or_else(|| ticks_to_nanos(ticks));
                *by_thread.entry(name).or_insert(0) += nanos;
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
            .filter_map(|(name, &nanos)| {
                let spent = nanos.saturating_sub(earlier.by_thread.get(name).copied().unwrap_or(0));
                (spent > 0).then(|| (name.clone(), Duration::from_nanos(spent)))
            })
            .collect();
        CpuUsage {
            total: Duration::from_nanos(ticks_to_nanos(self.process_ticks.saturating_sub(earlier.process_ticks))),
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

/// Nanoseconds on the CPU: the first field of a `schedstat` line (`run wait timeslices`).
fn parse_schedstat(schedstat: &str) -> Option<u64> {
    schedstat.split_whitespace().next()?.parse().ok()
}

fn ticks_to_nanos(ticks: u64) -> u64 {
    ticks * 1_000_000_000 / TICKS_PER_SECOND
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_thread_name_with_spaces() {
        let stat = "42 (producer polling) S 1 2 3 4 5 6 7 8 9 10 250 17 0 0";
        assert_eq!(parse_stat(stat), Some(("producer polling".to_owned(), 267)));
    }

    #[test]
    fn reads_nanoseconds_from_schedstat() {
        assert_eq!(parse_schedstat("1239477 0 1\n"), Some(1_239_477));
        assert_eq!(parse_schedstat(""), None);
    }

    /// A thread's CPU is measured in nanoseconds, not in 10 ms ticks.
    #[test]
    fn a_threads_cpu_is_measured_finer_than_a_tick() {
        let name = "cpu-test-spin";
        let spent = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let before = CpuSnapshot::now();
                let mut x = 0_u64;
                for i in 0..20_000_000_u64 {
                    x = std::hint::black_box(x.wrapping_add(i));
                }
                CpuSnapshot::now().since(&before).of_thread(name)
            })
            .expect("thread")
            .join()
            .expect("join");
        assert!(spent > Duration::ZERO);
        assert_ne!(spent.subsec_nanos() % 10_000_000, 0, "{spent:?} is whole ticks");
    }
}
