//! Without the `rocksdb` feature a persistent store lives in memory, and its changelog is what
//! survives a crash: the restarted instance must rebuild it from there, not start empty.
//!
//! `scripts/test.sh` runs this with `cargo test -p without-default-features`, so the runtime is
//! built as this package asks (no RocksDB, HTTP server or clap; `test-util` for the driver) and
//! the store is `state/memory_only.rs` (the workspace's test run excludes this package: there
//! the features of all members are unified). The test driver, because it runs the production
//! task, store, commit and restore code over an in-memory log, and a crash there drops every
//! store the instance held.

use kafka_streams::Windowed;
use kafka_streams::codec::Utf8;
use kafka_streams::config::StreamsConfig;
use kafka_streams::state::QueryableStores;
use kafka_streams::testing::TestDriver;

#[kafka_streams::topology(application_id = "memory-stores")]
mod counts {
    use kafka_streams::Windowed;

    #[source(topic = "events")]
    #[allow(dead_code, reason = "the source's types, named by the macro only")]
    pub(crate) type Events = (String, String);

    #[windowed(tumbling = "1m")]
    #[state_store(name = "counts")]
    pub(crate) fn count(#[from(Events)] _key: &String, _event: &String, count: &mut u64) {
        *count += 1;
    }

    #[sink(topic = "counts", from = count)]
    pub(crate) fn publish(key: Windowed<String>, count: u64) -> (String, u64) {
        (key.to_string(), count)
    }
}

const MINUTE: i64 = 60_000;

/// (key, window start, count) of every window in the store.
fn store(driver: &TestDriver) -> Vec<(String, i64, u64)> {
    driver
        .window_entries::<String, u64>("counts", MINUTE)
        .expect("store")
        .into_iter()
        .map(|(w, n): (Windowed<String>, u64)| (w.key, w.window.start_ms, n))
        .collect()
}

#[test]
fn a_crash_loses_nothing_committed_the_store_comes_back_from_its_changelog() -> kafka_streams::Result<()> {
    let config = StreamsConfig::builder("memory-stores").build()?;
    let driver = TestDriver::builder(counts::topology()?, config).partitions(2).build()?;
    let events = driver.input_topic_with::<String, String>("events", Utf8, Utf8)?;
    for (key, at) in [("a", 1_000), ("b", 2_000), ("a", 3_000), ("a", MINUTE + 1)] {
        events.pipe_at(key.to_owned(), "click".to_owned(), at)?;
    }
    driver.commit()?;
    let before = store(&driver);
    let a = "a".to_owned();
    assert_eq!(
        before,
        [(a.clone(), 0, 2), (a.clone(), MINUTE, 1), ("b".to_owned(), 0, 1)]
    );

    // The process dies: every store in it is gone; the restart restores them.
    driver.crash();
    driver.restart()?;
    assert_eq!(store(&driver), before, "the store is rebuilt from its changelog");

    // And counting goes on from the restored values, not from zero: the open window counts on;
    // the closed one (stream time, restored too, is past its end) drops a late record.
    events.pipe_at("a".to_owned(), "click".to_owned(), MINUTE + 2)?;
    events.pipe_at("a".to_owned(), "late".to_owned(), 4_000)?;
    driver.commit()?;
    assert_eq!(
        store(&driver),
        [(a.clone(), 0, 2), (a, MINUTE, 2), ("b".to_owned(), 0, 1)]
    );
    Ok(())
}

/// Without the `http` feature there is no server to start: an HTTP address is refused with a
/// clear error instead of being ignored. (`run_for_secs` bounds the run should the check be
/// missing, so the test fails instead of hanging.)
#[test]
fn an_http_address_without_the_http_feature_is_a_config_error() {
    let flags = kafka_streams::app::AppFlags {
        http_addr: Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
        run_for_secs: Some(1),
        ..kafka_streams::app::AppFlags::default()
    };
    let error = counts::app().run_with_flags(flags).expect_err("refused");
    assert_eq!(error.kind(), kafka_streams::ErrorKind::Config, "{error}");
    assert!(error.to_string().contains("needs the `http` feature"), "{error}");
}
