//! Table aggregations with a subtractor on the broker-free test driver: when a row changes
//! group, its old value leaves the old group and its new value joins the new one.

use kafka_streams::codec::{Json, Utf8};
use kafka_streams::config::StreamsConfig;
use kafka_streams::testing::TestDriver;
use kafka_streams::topology::{Consumed, Materialized, StreamsBuilder};

#[test]
fn rows_moving_between_groups_are_subtracted_and_added() {
    let builder = StreamsBuilder::new();
    // user → region; count users per region, and sum their ids' lengths to exercise aggregate.
    let users = builder.table_with(
        "user-regions",
        Consumed::new(Utf8, Utf8),
        Materialized::named("user-regions"),
    );
    users
        .group_by(|user: &String, region: &String| (region.clone(), user.clone()))
        .count(Materialized::named("users-per-region"))
        .to_stream()
        .to_with("region-counts", Utf8, Json);
    users
        .group_by(|user: &String, region: &String| (region.clone(), user.clone()))
        .aggregate(
            Vec::<String>::new,
            |_, user, mut users| {
                users.push(user);
                users.sort();
                users
            },
            |_, user, mut users| {
                users.retain(|u| *u != user);
                users
            },
            Materialized::named("region-members"),
        );
    let config = StreamsConfig::builder("regions").build().expect("config");
    let driver = TestDriver::builder(builder.build().expect("topology"), config)
        .partitions(2)
        .build()
        .expect("driver");
    let input = driver
        .input_topic_with::<String, String>("user-regions", Utf8, Utf8)
        .expect("input");
    for (user, region) in [("ann", "eu"), ("bob", "eu"), ("cy", "us"), ("ann", "us")] {
        input.pipe(user.to_owned(), region.to_owned()).expect("pipe");
    }
    let counts = driver
        .output_topic_with::<String, i64>("region-counts", Utf8, Json)
        .read_key_values_to_map()
        .expect("read");
    assert_eq!(counts.get("eu"), Some(&1), "ann left eu");
    assert_eq!(counts.get("us"), Some(&2));
    let members = driver
        .key_value_store::<String, Vec<String>>("region-members")
        .expect("store");
    let mut all: Vec<(String, Vec<String>)> = members.iter().flat_map(|(_, s)| s.all().expect("all")).collect();
    all.sort();
    assert_eq!(
        all,
        [
            ("eu".to_owned(), vec!["bob".to_owned()]),
            ("us".to_owned(), vec!["ann".to_owned(), "cy".to_owned()])
        ]
    );
    // A row deleted from the table leaves its group.
    input
        .pipe_record(kafka_streams::testing::TestRecord::tombstone("bob".to_owned()))
        .expect("pipe");
    let counts = driver
        .output_topic_with::<String, i64>("region-counts", Utf8, Json)
        .read_key_values_to_map()
        .expect("read");
    assert_eq!(counts.get("eu"), Some(&0), "bob was deleted");
    let members = driver
        .key_value_store::<String, Vec<String>>("region-members")
        .expect("store");
    let eu: Vec<Vec<String>> = members
        .iter()
        .filter_map(|(_, s)| s.get(&"eu".to_owned()).expect("get"))
        .collect();
    assert_eq!(eu, [Vec::<String>::new()]);
    let described = driver_topics(&driver);
    assert!(
        described.contains(&("regions-users-per-region-repartition".to_owned(), 2)),
        "{described:?}"
    );
    assert!(
        described.contains(&("regions-users-per-region-prior-changelog".to_owned(), 2)),
        "{described:?}"
    );
}

fn driver_topics(driver: &TestDriver) -> Vec<(String, i32)> {
    driver.topics()
}

/// `reduce` has no initial value: a group's first row is its aggregate; a row changing group
/// is subtracted from the old one (which keeps the subtracted value, as in Kafka Streams) and
/// added to the new one. Every change is emitted, in order.
#[test]
fn reduce_sums_each_group_and_takes_out_rows_that_leave() {
    let builder = StreamsBuilder::new();
    // account → "region:balance"; total balance per region.
    builder
        .table_with("balances", Consumed::new(Utf8, Utf8), Materialized::named("balances"))
        .group_by(|_account: &String, row: &String| {
            let (region, balance) = row.split_once(':').unwrap_or((row, "0"));
            (region.to_owned(), balance.parse::<i64>().unwrap_or(0))
        })
        .reduce(
            |sum, b| sum + b,
            |sum, b| sum - b,
            Materialized::named("balance-per-region"),
        )
        .to_stream()
        .to_with("region-balances", Utf8, Json);
    let config = StreamsConfig::builder("balances").build().expect("config");
    let driver = TestDriver::new(builder.build().expect("topology"), config).expect("driver");
    let input = driver
        .input_topic_with::<String, String>("balances", Utf8, Utf8)
        .expect("input");
    for (account, row) in [("ann", "eu:10"), ("bob", "eu:5"), ("cy", "us:7"), ("ann", "us:3")] {
        input.pipe(account.to_owned(), row.to_owned()).expect("pipe");
    }
    input
        .pipe_record(kafka_streams::testing::TestRecord::tombstone("bob".to_owned()))
        .expect("pipe");
    let output = driver
        .output_topic_with::<String, i64>("region-balances", Utf8, Json)
        .read_key_values()
        .expect("read");
    let expected: Vec<(String, i64)> = [("eu", 10), ("eu", 15), ("us", 7), ("eu", 5), ("us", 10), ("eu", 0)]
        .into_iter()
        .map(|(region, sum)| (region.to_owned(), sum))
        .collect();
    assert_eq!(output, expected);
    let store = driver
        .key_value_store::<String, i64>("balance-per-region")
        .expect("store");
    let mut all: Vec<(String, i64)> = store.iter().flat_map(|(_, s)| s.all().expect("all")).collect();
    all.sort();
    assert_eq!(all, [("eu".to_owned(), 0), ("us".to_owned(), 10)]);
}
