//! Stream-stream windowed joins on the broker-free test driver, with Kafka Streams' semantics as
//! the oracle: pairs within the window joined (stamped with the later time), left/outer records
//! without partner emitted once — only after their window closed — late records dropped, and
//! the buffers surviving a crash.

use std::time::Duration;

use kafka_streams::codec::{Bytes, Utf8};
use kafka_streams::config::{ProcessingGuarantee, StreamsConfig};
use kafka_streams::testing::{OutputTopic, TestDriver};
use kafka_streams::topology::{StreamsBuilder, Topology};
use kafka_streams::window::JoinWindows;

#[derive(Clone, Copy)]
enum Kind {
    Inner,
    Left,
    Outer,
}

/// Impressions ⋈ clicks by ad id within 10 s; results as text.
fn topology(kind: Kind) -> Topology {
    let builder = StreamsBuilder::new();
    let impressions = builder.stream::<String, String>("impressions");
    let clicks = builder.stream::<String, String>("clicks");
    let windows = JoinWindows::of(Duration::from_secs(10));
    let joined = match kind {
        Kind::Inner => impressions.join_stream(&clicks, windows, "ad-clicks", |_, i, c| format!("{i}+{c}")),
        Kind::Left => impressions.left_join_stream(&clicks, windows, "ad-clicks", |_, i, c| {
            format!("{i}+{}", c.map_or("-", String::as_str))
        }),
        Kind::Outer => impressions.outer_join_stream(&clicks, windows, "ad-clicks", |_, i, c| {
            format!("{}+{}", i.map_or("-", String::as_str), c.map_or("-", String::as_str))
        }),
    };
    joined.to_with("joined", Utf8, Utf8);
    builder.build().expect("topology")
}

fn driver(kind: Kind, guarantee: ProcessingGuarantee) -> TestDriver {
    let config = StreamsConfig::builder("ads")
        .processing_guarantee(guarantee)
        .build()
        .expect("config");
    // One partition: stream time is per task, and these cases follow one task's clock.
    TestDriver::new(topology(kind), config).expect("driver")
}

struct Feed<'a> {
    driver: &'a TestDriver,
    out: OutputTopic<String, String>,
}

impl<'a> Feed<'a> {
    fn new(driver: &'a TestDriver) -> Self {
        Self {
            driver,
            out: driver.output_topic_with("joined", Utf8, Utf8),
        }
    }

    fn impression(&self, ad: &str, name: &str, at: i64) {
        let topic = self.driver.input_topic::<String, String>("impressions").expect("input");
        topic.pipe_at(ad.to_owned(), name.to_owned(), at).expect("pipe");
    }

    fn click(&self, ad: &str, name: &str, at: i64) {
        let topic = self.driver.input_topic::<String, String>("clicks").expect("input");
        topic.pipe_at(ad.to_owned(), name.to_owned(), at).expect("pipe");
    }

    /// (key, value, timestamp) emitted since the last call, after a commit.
    fn emitted(&self) -> Vec<(String, String, i64)> {
        self.driver.commit().expect("commit");
        self.out
            .read_records()
            .expect("read")
            .into_iter()
            .map(|r| (r.key, r.value.expect("value"), r.timestamp.expect("timestamp")))
            .collect()
    }
}

fn s(v: &str) -> String {
    v.to_owned()
}

#[test]
fn inner_join_pairs_records_within_the_window_both_ways() {
    let driver = driver(Kind::Inner, ProcessingGuarantee::AtLeastOnce);
    let feed = Feed::new(&driver);
    feed.impression("a", "i1", 1_000);
    feed.click("a", "c1", 5_000);
    assert_eq!(
        feed.emitted(),
        [(s("a"), s("i1+c1"), 5_000)],
        "stamped with the later time"
    );
    // A click with no impression, then an impression 14 s later: too far apart.
    feed.click("b", "c2", 6_000);
    feed.impression("b", "i2", 20_000);
    assert_eq!(feed.emitted(), []);
    // An impression joins every click within 10 s before or after it.
    feed.click("a", "c3", 11_000);
    assert_eq!(
        feed.emitted(),
        [(s("a"), s("i1+c3"), 11_000)],
        "exactly 10 s apart still joins"
    );
    feed.impression("a", "i3", 14_000);
    assert_eq!(
        feed.emitted(),
        [(s("a"), s("i3+c1"), 14_000), (s("a"), s("i3+c3"), 14_000)]
    );
}

#[test]
fn left_join_emits_a_lone_record_once_its_window_closed_and_only_then() {
    let driver = driver(Kind::Left, ProcessingGuarantee::AtLeastOnce);
    let feed = Feed::new(&driver);
    feed.impression("c", "i1", 1_000);
    feed.impression("d", "i2", 2_000);
    feed.click("d", "c1", 3_000);
    assert_eq!(
        feed.emitted(),
        [(s("d"), s("i2+c1"), 3_000)],
        "no `i1+-` yet: a click may still come"
    );
    // Stream time 11 000 = 1 000 + 10 s: the window of i1 is still open.
    feed.click("x", "c2", 11_000);
    assert_eq!(feed.emitted(), []);
    // Past it: i1 is emitted alone, stamped with its own time; i2 never alone (it was joined).
    feed.click("x", "c3", 11_001);
    assert_eq!(feed.emitted(), [(s("c"), s("i1+-"), 1_000)]);
    feed.click("x", "c4", 40_000);
    assert_eq!(feed.emitted(), [], "each lone record once");
}

#[test]
fn outer_join_emits_lone_records_of_both_sides() {
    let driver = driver(Kind::Outer, ProcessingGuarantee::AtLeastOnce);
    let feed = Feed::new(&driver);
    feed.impression("a", "i1", 1_000);
    feed.click("b", "c1", 2_000);
    feed.click("a", "c2", 3_000);
    assert_eq!(feed.emitted(), [(s("a"), s("i1+c2"), 3_000)]);
    feed.impression("z", "i9", 30_000);
    assert_eq!(feed.emitted(), [(s("b"), s("-+c1"), 2_000)]);
}

#[test]
fn a_record_after_its_window_closed_is_dropped_and_counted() {
    let driver = driver(Kind::Inner, ProcessingGuarantee::AtLeastOnce);
    let feed = Feed::new(&driver);
    feed.click("a", "c1", 5_000);
    feed.click("z", "c2", 30_000);
    // 5 000 + 10 s < 30 000: too late to join c1.
    feed.impression("a", "i1", 5_000);
    assert_eq!(feed.emitted(), []);
    assert_eq!(driver.metrics().dropped_late_records, 1);
}

#[test]
fn buffers_expire_with_tombstones_and_survive_a_crash() {
    let driver = driver(Kind::Left, ProcessingGuarantee::ExactlyOnceV2);
    let feed = Feed::new(&driver);
    feed.impression("c", "i1", 1_000);
    driver.commit().expect("commit");
    // The lone impression waits in the outer buffer — restored after a crash, emitted once.
    driver.crash();
    driver.restart().expect("restart");
    feed.click("x", "c1", 12_000);
    assert_eq!(feed.emitted(), [(s("c"), s("i1+-"), 1_000)]);
    // Stream time 40 000 > 1 000 + before + after + grace: i1 leaves the impressions buffer.
    feed.impression("x", "i2", 40_000);
    driver.commit().expect("commit");
    let changelog = driver.output_topic_with::<Vec<u8>, Vec<u8>>("ads-ad-clicks-this-join-changelog", Bytes, Bytes);
    let mut records = changelog.read_records().expect("read");
    // The join's stream time is committed beside the buffered records, under a marker key
    // (`[0xff; 4]` + name) no buffered record can have.
    let clock_records = records.iter().filter(|r| r.key.starts_with(&[0xff; 4])).count();
    assert!(clock_records >= 1, "the join's stream time is in its changelog");
    records.retain(|r| !r.key.starts_with(&[0xff; 4]));
    assert_eq!(
        records.iter().filter(|r| r.value.is_none()).count(),
        1,
        "one tombstone: i1"
    );
    assert_eq!(
        records.iter().filter(|r| r.value.is_some()).count(),
        2,
        "i1 and i2 buffered"
    );
}

#[test]
fn re_keyed_inputs_are_repartitioned_before_joining() {
    let builder = StreamsBuilder::new();
    let views = builder.stream::<String, String>("views").map(|user, page| (page, user));
    let likes = builder.stream::<String, String>("likes");
    views
        .join_stream(
            &likes,
            JoinWindows::of(Duration::from_secs(60)),
            "view-likes",
            |page, viewer, liker| format!("{page}:{viewer}:{liker}"),
        )
        .to_with("view-likes", Utf8, Utf8);
    let topology = builder.build().expect("topology");
    assert!(
        topology.describe().contains("view-likes-left-repartition"),
        "{}",
        topology.describe()
    );
    let config = StreamsConfig::builder("pages").build().expect("config");
    let driver = TestDriver::builder(topology, config)
        .partitions(3)
        .build()
        .expect("driver");
    let views = driver.input_topic::<String, String>("views").expect("input");
    let likes = driver.input_topic::<String, String>("likes").expect("input");
    // Likes are keyed by page as produced (murmur2 of the JSON key); the re-keyed views are
    // repartitioned with the same encoding, so every page meets its likes in one task.
    let pages = ["/home", "/docs", "/cart", "/blog", "/jobs", "/about"];
    for (i, page) in pages.iter().enumerate() {
        views.pipe_at(format!("viewer-{i}"), s(page), 1_000).expect("pipe");
        likes.pipe_at(s(page), format!("liker-{i}"), 2_000).expect("pipe");
    }
    driver.commit().expect("commit");
    let mut out = driver
        .output_topic_with::<String, String>("view-likes", Utf8, Utf8)
        .read_values()
        .expect("read");
    out.sort();
    let mut expected: Vec<String> = pages
        .iter()
        .enumerate()
        .map(|(i, page)| format!("{page}:viewer-{i}:liker-{i}"))
        .collect();
    expected.sort();
    assert_eq!(out, expected);
}
