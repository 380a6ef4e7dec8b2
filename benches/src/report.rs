//! The results file: what ran, on which machine, and the ratios to the baselines.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

/// One measured run.
#[derive(Clone, Debug)]
pub struct Run {
    /// What ran.
    pub name: String,
    /// Records processed.
    pub records: u64,
    /// Wall-clock time, start to all records processed and committed.
    pub elapsed: Duration,
    /// CPU time of the whole process (every thread: stream thread, producers' polling threads,
    /// librdkafka's and the embedded broker's threads) over the same interval.
    pub cpu: Duration,
    /// CPU time of the thread that processes the records (the stream thread, the loop's
    /// thread; the whole process for single-threaded runs). Steadier than the throughput on a
    /// machine whose cores the broker and the input's producer share.
    pub thread_cpu: Duration,
}

impl Run {
    /// Records per second.
    pub fn rate(&self) -> f64 {
        self.records as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// CPU microseconds per record, all threads of the process.
    pub fn cpu_per_record_us(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.records.max(1) as f64
    }

    /// CPU microseconds per record of the processing thread.
    pub fn thread_cpu_per_record_us(&self) -> f64 {
        self.thread_cpu.as_secs_f64() * 1e6 / self.records.max(1) as f64
    }
}

/// A comparison of a framework run with its baseline.
pub struct Comparison {
    /// What is compared.
    pub title: String,
    /// The reference (hand-written loop, or RocksDB alone).
    pub baseline: Run,
    /// The framework doing the same work.
    pub framework: Run,
    /// What "good" means here.
    pub target: String,
}

impl Comparison {
    /// Framework throughput as a fraction of the baseline's.
    pub fn ratio(&self) -> f64 {
        self.framework.rate() / self.baseline.rate()
    }
}

/// The machine the numbers come from.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or_else(
            || "unknown".to_owned(),
            |kb| format!("{:.1} GiB", kb as f64 / 1024.0 / 1024.0),
        );
    format!(
        "{cpu}, {cores} cores, {memory} RAM, {} {}, {}",
        std::env::consts::OS,
        std::env::consts::ARCH,
        build_flags()
    )
}

/// What the build's target features mean for RocksDB, whose CRC32C (every write-ahead-log
/// record) is the hardware instruction only when compiled with SSE 4.2 (`.cargo/config.toml`).
fn build_flags() -> &'static str {
    if cfg!(not(target_arch = "x86_64")) {
        "built for the target's baseline CPU"
    } else if cfg!(target_feature = "sse4.2") {
        "built with SSE 4.2 (`.cargo/config.toml`: RocksDB's CRC32C in hardware)"
    } else {
        "built without SSE 4.2 (RocksDB's CRC32C in software)"
    }
}

/// Renders the comparisons as Markdown.
pub fn markdown(title: &str, setup: &str, comparisons: &[Comparison]) -> String {
    let mut out = format!("# {title}\n\nMachine: {}\n\n{setup}\n\n", machine());
    out.push_str(
        "| Comparison | Baseline | records/s | CPU µs/record | Framework | records/s | CPU µs/record | Ratio | Target |\n",
    );
    out.push_str("|:--|:--|--:|--:|:--|--:|--:|--:|:--|\n");
    for c in comparisons {
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {:.2} | {} | {:.0} | {:.2} | {:.2} | {} |",
            c.title,
            c.baseline.name,
            c.baseline.rate(),
            c.baseline.cpu_per_record_us(),
            c.framework.name,
            c.framework.rate(),
            c.framework.cpu_per_record_us(),
            c.ratio(),
            c.target
        );
    }
    out.push_str(
        "\nRatio = framework records/s ÷ baseline records/s, both measured in the same process on the same data. \
         CPU µs/record = CPU time of every thread of the process (the embedded broker's included) over the \
         timed interval ÷ records, from `/proc` (10 ms resolution).\n",
    );
    out.push_str(
        "\nThe processing thread alone (the stream thread, the loop's thread), CPU µs/record, from the \
         thread's `schedstat` (nanoseconds):\n\n\
         | Comparison | Baseline | Framework | Framework ÷ baseline |\n|:--|--:|--:|--:|\n",
    );
    for c in comparisons {
        let (baseline, framework) = (
            c.baseline.thread_cpu_per_record_us(),
            c.framework.thread_cpu_per_record_us(),
        );
        // Below the clock's resolution (a smoke run) there is no ratio to give.
        let ratio = if baseline > 0.0 {
            format!("{:.2}", framework / baseline)
        } else {
            "—".to_owned()
        };
        let _ = writeln!(out, "| {} | {baseline:.2} | {framework:.2} | {ratio} |", c.title);
    }
    out
}

/// Writes `benches/results/<name>.md`; returns its path.
pub fn write(name: &str, markdown: &str) -> std::io::Result<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("results");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.md"));
    std::fs::write(&path, markdown)?;
    Ok(path)
}
