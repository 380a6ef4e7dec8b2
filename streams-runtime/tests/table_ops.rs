//! `KTable::filter` / `filter_not` / `map_values` on the broker-free test driver, with Kafka
//! Streams' table semantics as the oracle: a row that stops passing the filter is deleted from
//! the result (a tombstone downstream), a row deleted upstream is deleted from every derived
//! table, and a derived table can be joined like any other.

use kafka_streams::codec::{Json, Utf8};
use kafka_streams::config::StreamsConfig;
use kafka_streams::state::QueryableStores;
use kafka_streams::testing::{TestDriver, TestRecord};
use kafka_streams::topology::{Consumed, Materialized, StreamsBuilder};

/// item → units in stock; `in-stock` keeps the items with units, `sold-out` the others,
/// `stock-labels` a label per item; orders are joined with `in-stock` (inner join: an order for
/// an item that is not in stock finds nothing).
fn driver() -> TestDriver {
    let builder = StreamsBuilder::new();
    let stock = builder.table_with("stock", Consumed::new(Utf8, Json), Materialized::named("stock"));
    let in_stock = stock.filter(|_, units: &i64| *units > 0, Materialized::named("in-stock"));
    in_stock.to_stream().to_with("in-stock-changes", Utf8, Json);
    // A value mapping on a table's stream keeps the key, so deletes pass through it.
    stock
        .to_stream()
        .map_values(|units: i64| units * 10)
        .to_with("stock-x10", Utf8, Json);
    // `merge` keeps the key too: deletes pass through it. A stream `filter` or `map` has no
    // value to give its function: deletes stop there.
    stock
        .to_stream()
        .merge(&builder.stream_with("restocks", Consumed::new(Utf8, Json)))
        .to_with("stock-and-restocks", Utf8, Json);
    stock
        .to_stream()
        .filter(|_, units: &i64| *units >= 0)
        .map(|item: String, units: i64| (item, units + 1))
        .to_with("stock-plus-one", Utf8, Json);
    stock.filter_not(|_, units: &i64| *units > 0, Materialized::named("sold-out"));
    stock.map_values(
        |item: &String, units: i64| format!("{item}: {units}"),
        Materialized::named("stock-labels"),
    );
    builder
        .stream_with::<String, i64>("orders", Consumed::new(Utf8, Json))
        .join(&in_stock, |_, qty, units| format!("{qty} of {units}"))
        .to_with("accepted-orders", Utf8, Utf8);
    let config = StreamsConfig::builder("stock-app").build().expect("config");
    TestDriver::builder(builder.build().expect("topology"), config)
        .partitions(2)
        .build()
        .expect("driver")
}

fn rows<V: kafka_streams::topology::StoreData>(driver: &TestDriver, store: &str) -> Vec<(String, V)> {
    driver.key_value_entries(store).expect("store").into_iter().collect()
}

/// Every record written to `topic`: key and value, `None` for a tombstone.
fn changes(driver: &TestDriver, topic: &str) -> Vec<(String, Option<i64>)> {
    driver
        .output_topic_with::<String, i64>(topic, Utf8, Json)
        .read_records()
        .expect("read")
        .into_iter()
        .map(|r| (r.key, r.value))
        .collect()
}

#[test]
fn a_filtered_table_deletes_rows_that_stop_matching() {
    let driver = driver();
    let stock = driver
        .input_topic_with::<String, i64>("stock", Utf8, Json)
        .expect("input");
    let mut t = 1_000;
    let mut pipe = |item: &str, units: Option<i64>| {
        t += 1;
        let record = match units {
            Some(units) => TestRecord::new(item.to_owned(), units),
            None => TestRecord::tombstone(item.to_owned()),
        };
        stock.pipe_record(record.at(t)).expect("pipe");
    };
    pipe("apple", Some(3));
    pipe("pear", Some(0));
    assert_eq!(rows::<i64>(&driver, "in-stock"), [("apple".to_owned(), 3)]);
    assert_eq!(rows::<i64>(&driver, "sold-out"), [("pear".to_owned(), 0)]);
    pipe("apple", Some(0)); // stops matching: deleted from in-stock
    pipe("pear", Some(2));
    assert_eq!(rows::<i64>(&driver, "in-stock"), [("pear".to_owned(), 2)]);
    assert_eq!(rows::<i64>(&driver, "sold-out"), [("apple".to_owned(), 0)]);
    assert_eq!(
        rows::<String>(&driver, "stock-labels"),
        [
            ("apple".to_owned(), "apple: 0".to_owned()),
            ("pear".to_owned(), "pear: 2".to_owned())
        ]
    );
    pipe("pear", None); // deleted upstream: deleted everywhere
    pipe("apple", None); // already absent from in-stock: nothing to announce there
    assert!(rows::<i64>(&driver, "in-stock").is_empty());
    assert!(rows::<i64>(&driver, "sold-out").is_empty());
    assert!(rows::<String>(&driver, "stock-labels").is_empty());

    assert_eq!(
        changes(&driver, "in-stock-changes"),
        [
            ("apple".to_owned(), Some(3)),
            ("apple".to_owned(), None),
            ("pear".to_owned(), Some(2)),
            ("pear".to_owned(), None),
        ]
    );
    assert_eq!(
        changes(&driver, "stock-x10"),
        [
            ("apple".to_owned(), Some(30)),
            ("pear".to_owned(), Some(0)),
            ("apple".to_owned(), Some(0)),
            ("pear".to_owned(), Some(20)),
            ("pear".to_owned(), None),
            ("apple".to_owned(), None),
        ]
    );
    assert_eq!(
        changes(&driver, "stock-and-restocks"),
        [
            ("apple".to_owned(), Some(3)),
            ("pear".to_owned(), Some(0)),
            ("apple".to_owned(), Some(0)),
            ("pear".to_owned(), Some(2)),
            ("pear".to_owned(), None),
            ("apple".to_owned(), None),
        ]
    );
    assert_eq!(
        changes(&driver, "stock-plus-one"),
        [
            ("apple".to_owned(), Some(4)),
            ("pear".to_owned(), Some(1)),
            ("apple".to_owned(), Some(1)),
            ("pear".to_owned(), Some(3)),
        ]
    );
    let topics = driver.topics();
    assert!(
        topics.contains(&("stock-app-in-stock-changelog".to_owned(), 2)),
        "{topics:?}"
    );
}

#[test]
fn a_stream_joins_the_filtered_table() {
    let driver = driver();
    let stock = driver
        .input_topic_with::<String, i64>("stock", Utf8, Json)
        .expect("input");
    let orders = driver
        .input_topic_with::<String, i64>("orders", Utf8, Json)
        .expect("input");
    stock
        .pipe_record(TestRecord::new("apple".to_owned(), 3).at(1_000))
        .expect("pipe");
    stock
        .pipe_record(TestRecord::new("pear".to_owned(), 0).at(1_000))
        .expect("pipe");
    orders
        .pipe_record(TestRecord::new("apple".to_owned(), 2).at(1_001))
        .expect("pipe");
    orders
        .pipe_record(TestRecord::new("pear".to_owned(), 1).at(1_002))
        .expect("pipe");
    stock
        .pipe_record(TestRecord::new("apple".to_owned(), 0).at(1_003))
        .expect("pipe");
    orders
        .pipe_record(TestRecord::new("apple".to_owned(), 5).at(1_004))
        .expect("pipe");
    let accepted = driver
        .output_topic_with::<String, String>("accepted-orders", Utf8, Utf8)
        .read_key_values()
        .expect("read");
    assert_eq!(accepted, [("apple".to_owned(), "2 of 3".to_owned())]);
}
