//! Stream operations on the broker-free test driver: `split`/`branch`, explicit `repartition`
//! with a partition count, and `to_table` — exact records out and store contents.

use std::collections::BTreeMap;

use kafka_streams::codec::{Json, Utf8};
use kafka_streams::config::StreamsConfig;
use kafka_streams::testing::TestDriver;
use kafka_streams::topology::{Materialized, Repartitioned, StreamsBuilder, Topology};

fn driver(topology: Topology, partitions: i32) -> TestDriver {
    let config = StreamsConfig::builder("ops").build().expect("config");
    TestDriver::builder(topology, config)
        .partitions(partitions)
        .build()
        .expect("driver")
}

fn s(v: &str) -> String {
    v.to_owned()
}

#[test]
fn split_sends_each_record_to_the_first_matching_branch() {
    let builder = StreamsBuilder::new();
    let branches = builder
        .stream::<String, i64>("amounts")
        .split()
        .branch(|_, a| *a >= 1_000)
        .branch(|_, a| *a > 0)
        .default_branch();
    assert_eq!(branches.len(), 3);
    for (branch, topic) in branches.iter().zip(["large", "small", "other"]) {
        branch.to_with(topic, Utf8, Json);
    }
    let dropped = builder
        .stream::<String, i64>("more-amounts")
        .split()
        .branch(|_, a| *a > 0)
        .no_default_branch();
    dropped[0].to_with("positive", Utf8, Json);
    let driver = driver(builder.build().expect("topology"), 1);

    let amounts = driver.input_topic::<String, i64>("amounts").expect("input");
    for (k, a) in [("a", 5_000), ("b", 1_000), ("c", 999), ("d", 0), ("e", -3)] {
        amounts.pipe(s(k), a).expect("pipe");
    }
    let read = |topic: &str| -> Vec<(String, i64)> {
        driver
            .output_topic_with::<String, i64>(topic, Utf8, Json)
            .read_key_values()
            .expect("read")
    };
    assert_eq!(read("large"), [(s("a"), 5_000), (s("b"), 1_000)]);
    assert_eq!(read("small"), [(s("c"), 999)], "1 000 went to the first branch only");
    assert_eq!(read("other"), [(s("d"), 0), (s("e"), -3)]);

    let more = driver.input_topic::<String, i64>("more-amounts").expect("input");
    more.pipe(s("x"), -1).expect("pipe");
    more.pipe(s("y"), 1).expect("pipe");
    assert_eq!(read("positive"), [(s("y"), 1)]);
    let described = driver_description();
    assert!(described.contains("KSTREAM-BRANCH-"), "{described}");
}

fn driver_description() -> String {
    let builder = StreamsBuilder::new();
    let b = builder
        .stream::<String, i64>("in")
        .split()
        .branch(|_, _| true)
        .no_default_branch();
    b[0].to("out");
    builder.build().expect("topology").describe().to_owned()
}

#[test]
fn repartition_with_a_partition_count_reshuffles_by_the_new_key() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("page-views")
        // Key: user → page.
        .map(|_user, page| (page, 1_u64))
        .repartition(Repartitioned::named("by-page").with_partitions(4))
        .group_by_key()
        .count(Materialized::named("page-counts"))
        .to_stream()
        .to_with("page-counts-out", Utf8, Json);
    let driver = driver(builder.build().expect("topology"), 2);
    assert!(
        driver.topics().contains(&(s("ops-by-page-repartition"), 4)),
        "{:?}",
        driver.topics()
    );
    // Sub-topology 0 on the input's 2 partitions, sub-topology 1 on the repartition topic's 4.
    let tasks: Vec<String> = driver.active_tasks().iter().map(ToString::to_string).collect();
    assert_eq!(tasks, ["0_0", "0_1", "1_0", "1_1", "1_2", "1_3"]);

    let views = driver.input_topic::<String, String>("page-views").expect("input");
    let pages = ["/home", "/cart", "/home", "/docs", "/home", "/cart"];
    for (i, page) in pages.iter().enumerate() {
        views.pipe(format!("user-{i}"), s(page)).expect("pipe");
    }
    let counts: BTreeMap<String, u64> = driver
        .output_topic_with::<String, u64>("page-counts-out", Utf8, Json)
        .read_key_values_to_map()
        .expect("read")
        .into_iter()
        .collect();
    assert_eq!(
        counts,
        BTreeMap::from([(s("/cart"), 2), (s("/docs"), 1), (s("/home"), 3)])
    );
    // Each page is counted in exactly one of the four partitions.
    let stores = driver.key_value_store::<String, u64>("page-counts").expect("stores");
    let holders: Vec<i32> = stores
        .iter()
        .filter(|(_, store)| store.get(&s("/home")).expect("get").is_some())
        .map(|(p, _)| *p)
        .collect();
    assert_eq!(holders.len(), 1);
}

#[test]
fn a_bad_repartition_is_rejected() {
    let builder = StreamsBuilder::new();
    let stream = builder.stream::<String, String>("in");
    stream.repartition(Repartitioned::named("x").with_partitions(0)).to("a");
    stream.repartition("x").to("b");
    let err = builder.build().err().expect("rejected").to_string();
    assert!(err.contains("the partition count must be at least 1"), "{err}");
    assert!(err.contains("`x` is declared twice"), "{err}");
}

#[test]
fn to_table_keeps_the_latest_value_per_key() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("status-updates")
        .to_table(Materialized::named("latest-status"))
        .to_stream()
        .to_with("status-changes", Utf8, Utf8);
    let driver = driver(builder.build().expect("topology"), 2);
    let updates = driver.input_topic::<String, String>("status-updates").expect("input");
    for (k, v) in [("a", "online"), ("b", "away"), ("a", "offline")] {
        updates.pipe(s(k), s(v)).expect("pipe");
    }
    let stores = driver
        .key_value_store::<String, String>("latest-status")
        .expect("stores");
    let mut all: Vec<(String, String)> = stores.iter().flat_map(|(_, st)| st.all().expect("all")).collect();
    all.sort();
    assert_eq!(all, [(s("a"), s("offline")), (s("b"), s("away"))]);
    let changes = driver
        .output_topic_with::<String, String>("status-changes", Utf8, Utf8)
        .read_key_values()
        .expect("read");
    assert_eq!(changes.len(), 3);
    assert!(driver.topics().contains(&(s("ops-latest-status-changelog"), 2)));
}

/// A table made of a UTF-8-keyed topic's stream keeps that topic's partitioning, so a re-keyed
/// stream joined with it is repartitioned with the same key encoding and finds every key.
#[test]
fn a_re_keyed_stream_finds_every_key_of_a_to_table_table() {
    use kafka_streams::topology::Consumed;
    let builder = StreamsBuilder::new();
    let names = builder
        .stream_with::<String, String>("names", Consumed::new(Utf8, Utf8))
        .to_table(Materialized::named("names"));
    builder
        .stream_with::<String, String>("visits", Consumed::new(Utf8, Utf8))
        .map(|_, user| (user.clone(), user))
        .join(&names, |_, _, name: &String| name.clone())
        .to_with("greeted", Utf8, Utf8);
    let driver = driver(builder.build().expect("topology"), 3);
    let names = driver
        .input_topic_with::<String, String>("names", Utf8, Utf8)
        .expect("input");
    let visits = driver
        .input_topic_with::<String, String>("visits", Utf8, Utf8)
        .expect("input");
    let users: Vec<String> = (0..12).map(|i| format!("user-{i}")).collect();
    for user in &users {
        names.pipe(user.clone(), format!("Name {user}")).expect("pipe");
    }
    for (i, user) in users.iter().enumerate() {
        visits.pipe(format!("visit-{i}"), user.clone()).expect("pipe");
    }
    let greeted = driver
        .output_topic_with::<String, String>("greeted", Utf8, Utf8)
        .read_key_values()
        .expect("read");
    assert_eq!(greeted.len(), users.len(), "every visit found its user: {greeted:?}");
}
