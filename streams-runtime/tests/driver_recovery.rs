//! Commits, crashes and restarts on the broker-free test driver: the production commit
//! protocol and restoration against an in-memory log, where exactly-once outcomes can be
//! observed deterministically, crash by crash (the same claims on Apache Kafka, under `kill -9`
//! of real processes, are in `examples/tests/event_counter_on_kafka.rs`).

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use kafka_streams::config::ProcessingGuarantee::{self, AtLeastOnce, ExactlyOnceV2};
use kafka_streams::state::QueryableStores;
use kafka_streams::testing::{CommitFault, TestDriver, TestRecord};
use kafka_streams::topology::Topology;

const INPUT: &str = "clicks";
const OUTPUT: &str = "counts";
const STORE: &str = "click-counts";

/// Three batches of clicks, each a commit interval's worth.
fn batches() -> [Vec<Click>; 3] {
    [clicks(0, 400), clicks(400, 300), clicks(700, 350)]
}

/// What a `read_committed` consumer of the output reads, and the store, after an uninterrupted
/// run committing after every batch.
fn uninterrupted(
    topology: fn() -> Topology,
    guarantee: ProcessingGuarantee,
) -> (Vec<TestRecord<String, u64>>, TestDriver) {
    let driver = driver(topology(), "uninterrupted", guarantee);
    for batch in batches() {
        pipe_clicks(&driver, INPUT, &batch);
        commit_all(&driver);
    }
    let output = count_output(&driver, OUTPUT).read_records().expect("read");
    (output, driver)
}

/// Commits until nothing more is produced (a repartition topic needs two commits under EOS).
fn commit_all(driver: &TestDriver) {
    driver.commit().expect("commit");
    driver.commit().expect("commit");
}

fn windowed() -> Topology {
    click_count_topology(INPUT, OUTPUT, STORE)
}

/// The windowed count on a driver with three partitions per topic, configured by `config`.
fn windowed_on_three_partitions(config: kafka_streams::config::StreamsConfig) -> TestDriver {
    TestDriver::builder(windowed(), config)
        .partitions(3)
        .build()
        .expect("driver")
}

fn repartitioned() -> Topology {
    per_minute_topology(INPUT, OUTPUT, STORE)
}

fn window_store(driver: &TestDriver) -> BTreeMap<String, u64> {
    window_counts(driver, STORE)
}

fn key_value_store(driver: &TestDriver) -> BTreeMap<String, u64> {
    driver.key_value_entries(STORE).expect("store")
}

/// The acceptance check: a crash between two commits, then a restart, yields exactly the
/// output of an uninterrupted run — record for record, in order — and the same store.
fn crash_between_commits_matches_uninterrupted_run(
    topology: fn() -> Topology,
    store_contents: fn(&TestDriver) -> BTreeMap<String, u64>,
) {
    let (expected, reference) = uninterrupted(topology, ExactlyOnceV2);
    let [first, second, third] = batches();

    let driver = driver(topology(), "crashing", ExactlyOnceV2);
    pipe_clicks(&driver, INPUT, &first);
    commit_all(&driver);
    pipe_clicks(&driver, INPUT, &second);
    // Processed, written to the changelog overlay and the open transaction — then the process dies.
    driver.crash();
    assert!(!driver.is_running());
    driver.restart().expect("restart");
    commit_all(&driver);
    pipe_clicks(&driver, INPUT, &third);
    commit_all(&driver);

    let output = count_output(&driver, OUTPUT).read_records().expect("read");
    assert_eq!(output.len(), expected.len());
    assert!(output == expected, "output differs from the uninterrupted run");
    assert_eq!(store_contents(&driver), store_contents(&reference));
    // The crashed transaction's records were aborted, not lost: the second batch was read
    // again after the restart (repartitioned records of the aborted transaction were never
    // readable downstream, so only the first sub-topology redid work).
    assert_eq!(
        driver.metrics().records_processed,
        reference.metrics().records_processed + second.len() as u64
    );
}

#[test]
fn exactly_once_crash_between_commits_matches_an_uninterrupted_run() {
    crash_between_commits_matches_uninterrupted_run(windowed, window_store);
}

#[test]
fn exactly_once_crash_with_a_repartition_topic_matches_an_uninterrupted_run() {
    crash_between_commits_matches_uninterrupted_run(repartitioned, key_value_store);
}

#[test]
fn crash_after_the_broker_committed_replays_only_the_changelog_tail() {
    let (expected, reference) = uninterrupted(windowed, ExactlyOnceV2);
    let [first, second, third] = batches();
    let driver = driver(windowed(), "crash-after-commit", ExactlyOnceV2);
    pipe_clicks(&driver, INPUT, &first);
    driver.commit().expect("commit");
    pipe_clicks(&driver, INPUT, &second);
    let changelog = driver.output_topic_with::<Vec<u8>, Vec<u8>>(
        "crash-after-commit-click-counts-changelog",
        kafka_streams::codec::Bytes,
        kafka_streams::codec::Bytes,
    );
    assert!(!changelog.read_records().expect("changelog").is_empty());
    // The transaction commits on the broker, then the process dies before the local stores
    // apply it: their checkpoints lag the changelog by exactly that commit's writes.
    driver.inject_commit_fault(CommitFault::CrashAfterCommit);
    driver.commit().expect("commit");
    assert!(!driver.is_running());
    // The changelog records of the second commit, not read yet.
    let tail = changelog.read_records().expect("changelog").len();
    assert!(tail > 0);
    let restored_before = driver.metrics().records_restored;
    driver.restart().expect("restart");
    assert_eq!(driver.metrics().records_restored - restored_before, tail as u64);
    pipe_clicks(&driver, INPUT, &third);
    driver.commit().expect("commit");

    let output = count_output(&driver, OUTPUT).read_records().expect("read");
    assert!(output == expected, "output differs from the uninterrupted run");
    assert_eq!(window_counts(&driver, STORE), window_counts(&reference, STORE));
}

#[test]
fn at_least_once_crash_reprocesses_uncommitted_records() {
    let [first, second, _] = batches();
    let driver = driver(windowed(), "alos-crash", AtLeastOnce);
    pipe_clicks(&driver, INPUT, &first);
    driver.commit().expect("commit");
    pipe_clicks(&driver, INPUT, &second);
    driver.crash();
    driver.restart().expect("restart");
    driver.commit().expect("commit");

    // At-least-once: the second batch's outputs were visible before the crash and are produced
    // again after it; the counts themselves are exact (the store kept only committed state).
    let output = count_output(&driver, OUTPUT).read_records().expect("read");
    assert_eq!(output.len(), first.len() + 2 * second.len());
    let all: Vec<Click> = first.iter().chain(&second).cloned().collect();
    let latest: BTreeMap<String, u64> = output.into_iter().map(|r| (r.key, r.value.expect("count"))).collect();
    assert_eq!(latest, expected_counts(&all));
    assert_eq!(window_counts(&driver, STORE), expected_counts(&all));
}

#[test]
fn failed_and_fenced_commits_roll_back_and_reprocess_exactly() {
    for fault in [CommitFault::Abort, CommitFault::Fence] {
        let (expected, _) = uninterrupted(windowed, ExactlyOnceV2);
        let [first, second, third] = batches();
        let driver = driver(windowed(), "faults", ExactlyOnceV2);
        pipe_clicks(&driver, INPUT, &first);
        driver.commit().expect("commit");
        pipe_clicks(&driver, INPUT, &second);
        driver.inject_commit_fault(fault);
        driver.commit().expect("commit");
        assert_eq!(driver.metrics().aborted_commits, 1, "{fault:?}");
        assert!(driver.is_running());
        driver.commit().expect("commit");
        pipe_clicks(&driver, INPUT, &third);
        driver.commit().expect("commit");
        let output = count_output(&driver, OUTPUT).read_records().expect("read");
        assert!(
            output == expected,
            "{fault:?}: output differs from the uninterrupted run"
        );
    }
}

#[test]
fn wall_clock_time_drives_commits() {
    // Exactly-once's default commit interval is 100 ms: outputs become readable at the commit.
    let driver = driver(windowed(), "wall-clock", ExactlyOnceV2);
    let output = count_output(&driver, OUTPUT);
    pipe_clicks(&driver, INPUT, &clicks(0, 10));
    driver.advance_wall_clock(Duration::from_millis(60)).expect("advance");
    assert!(output.read_records().expect("read").is_empty());
    assert_eq!(driver.metrics().commits, 0);
    driver.advance_wall_clock(Duration::from_millis(40)).expect("advance");
    assert_eq!(output.read_records().expect("read").len(), 10);
    assert_eq!(driver.metrics().commits, 1);
}

#[test]
fn a_full_record_cache_forces_a_commit() {
    let config = kafka_streams::config::StreamsConfig::builder("cache")
        .processing_guarantee(ExactlyOnceV2)
        .cache_max_bytes_buffering(0)
        .build()
        .expect("config");
    let driver = windowed_on_three_partitions(config);
    // Without the wall clock moving, uncommitted state beyond the (64 KiB floor of the) cache
    // makes the runtime commit on its own.
    let many_users: Vec<Click> = (0..10_000)
        .map(|i| Click {
            user_id: format!("user-{i}"),
            timestamp_ms: START_MS,
        })
        .collect();
    pipe_clicks(&driver, INPUT, &many_users);
    assert!(driver.metrics().commits > 0);
    assert!(!count_output(&driver, OUTPUT).read_records().expect("read").is_empty());
}

#[test]
fn restart_uses_the_same_state_directory_and_keeps_committed_state() {
    let driver = driver(windowed(), "restart", AtLeastOnce);
    let input = clicks(0, 500);
    pipe_clicks(&driver, INPUT, &input);
    driver.commit().expect("commit");
    let dir = driver.state_dir();
    assert!(dir.join("restart").join("0_1").join("rocksdb").join(STORE).is_dir());
    let restored_before = driver.metrics().records_restored;
    driver.restart().expect("restart");
    // Everything was committed and applied locally: nothing to restore.
    assert_eq!(driver.metrics().records_restored, restored_before);
    assert_eq!(window_counts(&driver, STORE), expected_counts(&input));
}

/// A tmpfs of `bytes` mounted on a fresh directory, unmounted on drop: a disk that really fills.
/// Mounting needs root (as on the CI machines); elsewhere the test fails saying so.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(bytes: u64) -> Self {
        let dir = tempfile::tempdir().expect("mount point");
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("run mount");
        assert!(
            status.success(),
            "mounting a {bytes}-byte tmpfs needs root (this test fills a real disk)"
        );
        Self { dir }
    }

    fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Writes a filler file until the disk refuses even one more byte (ENOSPC).
    fn fill(&self) {
        use std::io::Write;
        let mut filler = std::fs::File::create(self.path().join("filler")).expect("filler");
        for size in [64 * 1024, 4096, 256, 1] {
            let chunk = vec![0u8; size];
            while filler.write_all(&chunk).and_then(|()| filler.flush()).is_ok() {}
        }
        let _ = filler.sync_all();
    }

    fn free(&self) {
        std::fs::remove_file(self.path().join("filler")).expect("remove the filler");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(self.dir.path()).status();
    }
}

/// The state directory fills up under exactly-once: the broker (the driver's log) commits a
/// batch whose RocksDB write then fails with "No space left on device". Committed input must
/// not be redone — before, the thread rolled back to the previous commit and reprocessed it on
/// every commit, duplicating outputs and double-counting state. Now the task is closed dirty
/// and reopened from its changelog (were there still no room, the thread would stop with the
/// error), and the output stays exactly once. The test driver, because exactly-once outcomes
/// are deterministic there; the disk is real (a 16 MiB tmpfs), filled by a file.
#[test]
fn a_full_disk_after_the_broker_commit_redoes_nothing() {
    let disk = SmallDisk::mount(16 * 1024 * 1024);
    let config = kafka_streams::config::StreamsConfig::builder("full-disk")
        .processing_guarantee(ExactlyOnceV2)
        .state_dir(disk.path().join("state"))
        .build()
        .expect("config");
    let driver = windowed_on_three_partitions(config);
    // The second batch spans many windows: thousands of store updates, more than the free room
    // in the last page of each store's write-ahead log.
    let batches = [clicks(0, 400), clicks(400, 20_000), clicks(20_400, 300)];
    pipe_clicks(&driver, INPUT, &batches[0]);
    commit_all(&driver);

    disk.fill();
    pipe_clicks(&driver, INPUT, &batches[1]);
    let restored_before = driver.metrics().records_restored;
    // The write fails; closing the task releases RocksDB's preallocated files, so the reopen
    // finds room and restores the committed batch from the changelog.
    driver.commit().expect("the task is reopened from its changelog");
    assert!(driver.is_running());
    assert!(
        driver.metrics().records_restored > restored_before,
        "the task whose write failed was restored from its changelog"
    );
    let output = count_output(&driver, OUTPUT).read_records().expect("read");
    assert_eq!(
        output.len(),
        batches[0].len() + batches[1].len(),
        "one update per click: the committed batch was not redone"
    );

    disk.free();
    pipe_clicks(&driver, INPUT, &batches[2]);
    commit_all(&driver);
    let reference = common::driver(windowed(), "reference", ExactlyOnceV2);
    for batch in &batches {
        pipe_clicks(&reference, INPUT, batch);
        commit_all(&reference);
    }
    assert_eq!(
        count_output(&driver, OUTPUT).read_records().expect("read"),
        count_output(&reference, OUTPUT).read_records().expect("read")
    );
    assert_eq!(window_store(&driver), window_store(&reference));
}

/// Commits that keep failing are not redone forever: once `task.timeout.ms` passed without a
/// successful commit, the stream thread fails with the last error (the driver returns it and
/// stops, as the instance's failure policy would stop or replace the thread). Restarted, the
/// work is done once. Kafka Streams bounds its retries the same way. On the driver, because the
/// failure is injected into every commit and its clock is the driver's.
#[test]
fn commits_that_keep_failing_fail_the_thread_after_the_task_timeout() {
    let config = kafka_streams::config::StreamsConfig::builder("task-timeout")
        .processing_guarantee(ExactlyOnceV2)
        .task_timeout(Duration::from_secs(1))
        .build()
        .expect("config");
    let driver = TestDriver::new(click_count_topology(INPUT, OUTPUT, STORE), config).expect("driver");
    let input = clicks(0, 50);
    pipe_clicks(&driver, INPUT, &input);
    let mut failure = None;
    for _ in 0..30 {
        driver.inject_commit_fault(CommitFault::Abort);
        if let Err(e) = driver.advance_wall_clock(Duration::from_millis(200)) {
            failure = Some(e);
            break;
        }
    }
    let error = failure
        .expect("the thread gives up after task.timeout.ms")
        .report()
        .to_string();
    assert!(error.contains("task.timeout.ms is 1000 ms"), "{error}");
    assert!(!driver.is_running(), "the thread is gone");
    assert!(driver.metrics().aborted_commits >= 5, "{:?}", driver.metrics());

    driver.restart().expect("restart");
    driver.commit().expect("commit");
    assert_eq!(
        window_counts(&driver, STORE),
        expected_counts(&input),
        "done once after the restart"
    );
}
