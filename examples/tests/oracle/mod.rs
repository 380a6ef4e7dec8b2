//! The differential oracle's harness: seeded random inputs, the same case run by Kafka Streams'
//! `TopologyTestDriver` (the Java program in `benches/kafka-streams-java`, one JVM per topology
//! for all its cases) and by our `TestDriver`, and a record-for-record comparison.
//!
//! Both sides see the same records in the same order, one partition per topic, the record cache
//! off (every update is forwarded) and at-least-once. Compared per case: every output record
//! (topic, key, value or tombstone, timestamp) in the order produced per topic, then every entry
//! of the named stores (sorted). Keys and values are strings on both sides; a windowed key is
//! written `key@start/end`.

pub(crate) mod cases;
pub(crate) mod java;

use std::collections::{BTreeSet, HashMap};

use kafka_streams::codec::{Json, Utf8};
use kafka_streams::config::StreamsConfig;
use kafka_streams::testing::{InputTopic, TestDriver, TestRecord};
use kafka_streams::topology::{Topology, TopologyError};
use kafka_streams::{TimeWindow, Windowed};

pub(crate) use cases::{Case, Input};

/// How many seeds each topology runs (`ORACLE_SEEDS`, default 200) and the first one
/// (`ORACLE_FIRST_SEED`, default 1): `scripts/oracle.sh` runs more.
fn seeds() -> std::ops::Range<u64> {
    let var = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .map(|v| {
                v.parse()
                    .unwrap_or_else(|_| panic!("{name} must be a number, not `{v}`"))
            })
            .unwrap_or(default)
    };
    let first = var("ORACLE_FIRST_SEED", 1);
    first..first + var("ORACLE_SEEDS", 200)
}

/// One topology as both sides run it.
pub(crate) struct Spec {
    /// The name the Java oracle knows it by (`OracleTopologies.build`).
    pub name: &'static str,
    pub application_id: &'static str,
    pub topology: fn() -> Result<Topology, TopologyError>,
    /// The topics it reads and how their records are made.
    pub inputs: &'static [Input],
    /// The topics it writes, in the order the Java side lists them.
    pub outputs: &'static [&'static str],
    /// Whether output keys are windowed (written as JSON `Windowed<String>` on our side).
    pub windowed: bool,
    /// How far back an out-of-order record may go, and where event time starts (see
    /// [`cases::generate`]).
    pub disorder_ms: i64,
    pub origin_ms: i64,
    /// Applied to both sides' lines before they are compared: [`exact`], or one of the named
    /// rules below for a difference the README's "Semantics" section explains.
    pub normalize: fn(Vec<String>) -> Vec<String>,
    /// A topic that gets one last record (key `flush`, a minute after the latest event time),
    /// so that both sides emit what waits for stream time (lone join results).
    pub flush: Option<&'static str>,
    /// `store NAME ENTRY VALUE` lines of its stores, given the keys the case used.
    pub stores: fn(&TestDriver, &BTreeSet<String>) -> kafka_streams::Result<Vec<String>>,
}

impl Spec {
    /// A topology compared as it is: keys not windowed, out of order by up to
    /// [`cases::DISORDER_MS`] from time 0, the lines compared [`exact`]ly, no flush record.
    pub(crate) fn new(
        name: &'static str,
        application_id: &'static str,
        topology: fn() -> Result<Topology, TopologyError>,
        inputs: &'static [Input],
        outputs: &'static [&'static str],
        stores: fn(&TestDriver, &BTreeSet<String>) -> kafka_streams::Result<Vec<String>>,
    ) -> Self {
        Self {
            name,
            application_id,
            topology,
            inputs,
            outputs,
            windowed: false,
            disorder_ms: cases::DISORDER_MS,
            origin_ms: 0,
            normalize: exact,
            flush: None,
            stores,
        }
    }
}

/// Runs every seed on both sides and fails with the first differences, each with its input.
pub(crate) fn check(spec: &Spec) {
    let cases: Vec<Case> = seeds()
        .map(|seed| {
            let mut case = cases::generate(seed, spec.inputs, spec.disorder_ms, spec.origin_ms);
            if let Some(topic) = spec.flush {
                let latest = case.records.iter().map(|r| r.timestamp).max().unwrap_or(0);
                case.records.push(cases::Record {
                    topic,
                    key: "flush".to_owned(),
                    value: Some("flush".to_owned()),
                    timestamp: latest + 60_000,
                });
            }
            case
        })
        .collect();
    let expected = java::run(spec.name, &cases);
    let mut failures = Vec::new();
    for case in &cases {
        let ours = (spec.normalize)(run(spec, case).unwrap_or_else(|e| vec![format!("error\t{e:#}")]));
        let theirs = (spec.normalize)(expected.get(&case.seed).cloned().unwrap_or_default());
        if ours != theirs {
            failures.push(describe_difference(case, &theirs, &ours));
        }
    }
    assert!(
        failures.is_empty(),
        "`{}` differs from Kafka Streams in {} of {} cases; the first:\n\n{}",
        spec.name,
        failures.len(),
        cases.len(),
        failures.iter().take(2).cloned().collect::<Vec<_>>().join("\n\n")
    );
}

/// The case on our `TestDriver`, as lines in the Java oracle's format.
fn run(spec: &Spec, case: &Case) -> kafka_streams::Result<Vec<String>> {
    let config = StreamsConfig::builder(spec.application_id)
        .cache_max_bytes_buffering(0)
        .build()?;
    let driver = TestDriver::builder((spec.topology)()?, config).partitions(1).build()?;
    let mut inputs: HashMap<&str, InputTopic<String, String>> = HashMap::new();
    let mut keys = BTreeSet::new();
    for record in &case.records {
        keys.insert(record.key.clone());
        let input = match inputs.entry(record.topic) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(driver.input_topic_with::<String, String>(record.topic, Utf8, Utf8)?)
            }
        };
        let piped = match &record.value {
            Some(value) => TestRecord::new(record.key.clone(), value.clone()),
            None => TestRecord::tombstone(record.key.clone()),
        };
        input.pipe_record(piped.at(record.timestamp))?;
    }
    driver.commit()?;
    let mut lines = Vec::new();
    for topic in spec.outputs {
        let records: Vec<(String, Option<String>, Option<i64>)> = if spec.windowed {
            driver
                .output_topic_with::<Windowed<String>, String>(topic, Json, Utf8)
                .read_records()?
                .into_iter()
                .map(|r| (window(&r.key.key, &r.key.window), r.value, r.timestamp))
                .collect()
        } else {
            driver
                .output_topic_with::<String, String>(topic, Utf8, Utf8)
                .read_records()?
                .into_iter()
                .map(|r| (r.key, r.value, r.timestamp))
                .collect()
        };
        for (key, value, timestamp) in records {
            let value = value.unwrap_or_else(|| cases::NULL.to_owned());
            lines.push(format!("out\t{topic}\t{key}\t{value}\t{}", timestamp.unwrap_or(-1)));
        }
    }
    let mut stores = (spec.stores)(&driver, &keys)?;
    stores.sort();
    lines.extend(stores);
    Ok(lines)
}

/// Compares the lines as they are.
pub(crate) fn exact(lines: Vec<String>) -> Vec<String> {
    lines
}

/// Without the tombstones followed at once by an update of the same key: Kafka Streams deletes
/// a session and sends it again when a record falls inside it (its window unchanged); we send
/// the update only.
pub(crate) fn without_replaced_tombstones(lines: Vec<String>) -> Vec<String> {
    let parse = |line: &str| -> Option<(String, String, bool)> {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields[..] {
            ["out", topic, key, value, _] => Some((topic.to_owned(), key.to_owned(), value == cases::NULL)),
            _ => None,
        }
    };
    let mut out = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if let (Some((topic, key, true)), Some(Some((next_topic, next_key, false)))) =
            (parse(line), lines.get(i + 1).map(|next| parse(next)))
            && (topic, key) == (next_topic, next_key)
        {
            continue;
        }
        out.push(line.clone());
    }
    out
}

/// Without redundant tombstones: a delete of a key whose last record on the topic was a delete,
/// or that had none. Kafka Streams' foreign-key join sends one for every deleted left row, also
/// when its join result was gone already (its product deleted before); we delete only rows
/// the joined table has.
pub(crate) fn without_redundant_tombstones(lines: Vec<String>) -> Vec<String> {
    let mut present: HashMap<(String, String), bool> = HashMap::new();
    lines
        .into_iter()
        .filter(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let ["out", topic, key, value, _] = fields[..] else {
                return true;
            };
            let had = present.insert((topic.to_owned(), key.to_owned()), value != cases::NULL);
            value != cases::NULL || had == Some(true)
        })
        .collect()
}

/// Lone left/outer join results (a value with a `-` side) after the joined ones, each kind in
/// its order: when a lone result goes out depends, in Kafka Streams, on a throttling heuristic
/// (it checks for closed windows only when a record moves stream time, and only once the
/// earliest time it remembers is past the grace period); we emit it as soon as stream time
/// passes its window's close. What is emitted, with which timestamps and in which order per
/// kind, must be equal.
pub(crate) fn lone_results_apart(lines: Vec<String>) -> Vec<String> {
    let lone = |line: &String| line.starts_with("out\t") && (line.contains("\t-+") || line.contains("+-\t"));
    let (lone, joined): (Vec<String>, Vec<String>) = lines.into_iter().partition(lone);
    joined.into_iter().chain(lone).collect()
}

/// A store entry line, as the oracle writes it.
pub(crate) fn entry(store: &str, key: &str, value: impl std::fmt::Display) -> String {
    format!("store\t{store}\t{key}\t{value}")
}

/// A windowed key, as the oracle writes it.
pub(crate) fn window(key: &str, window: &TimeWindow) -> String {
    format!("{key}@{}/{}", window.start_ms, window.end_ms)
}

fn describe_difference(case: &Case, theirs: &[String], ours: &[String]) -> String {
    let mut text = format!(
        "seed {} (rerun: ORACLE_FIRST_SEED={} ORACLE_SEEDS=1)\ninput (topic, key, value, timestamp):\n",
        case.seed, case.seed
    );
    for r in &case.records {
        let value = r.value.as_deref().unwrap_or(cases::NULL);
        text.push_str(&format!("  {} {} {} {}\n", r.topic, r.key, value, r.timestamp));
    }
    text.push_str("Kafka Streams (-) vs ours (+):\n");
    text.push_str(&line_diff(theirs, ours));
    text
}

/// A longest-common-subsequence diff: `  ` both, `- ` Kafka Streams only, `+ ` ours only.
fn line_diff(a: &[String], b: &[String]) -> String {
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            out.push_str(&format!("    {}\n", a[i]));
            (i, j) = (i + 1, j + 1);
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push_str(&format!("  + {}\n", b[j]));
            j += 1;
        } else {
            out.push_str(&format!("  - {}\n", a[i]));
            i += 1;
        }
    }
    out
}
