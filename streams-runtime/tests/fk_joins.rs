//! Foreign-key table-table joins on the broker-free test driver, with Kafka Streams' documented
//! semantics (KIP-213) as the oracle: orders refer to products by id; the tables are not
//! co-partitioned (2 and 3 partitions). Every change on either side re-joins the rows it
//! concerns; a changed foreign key moves the row to the new product; deletes on either side
//! delete (inner) or update (left) the joined row.

use std::collections::BTreeMap;

use kafka_streams::codec::{Json, Utf8};
use kafka_streams::config::StreamsConfig;
use kafka_streams::testing::{TestDriver, TestRecord};
use kafka_streams::topology::{Consumed, Materialized, StreamsBuilder, Topology};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Order {
    product: String,
    quantity: u32,
}

fn topology(left: bool) -> Topology {
    let builder = StreamsBuilder::new();
    let orders = builder.table_with("orders", Consumed::new(Utf8, Json), Materialized::named("orders"));
    let products = builder.table_with("products", Consumed::new(Utf8, Utf8), Materialized::named("products"));
    let lines = if left {
        orders.left_join_foreign_key(
            &products,
            |order: &Order| order.product.clone(),
            |order: &Order, name: Option<&String>| format!("{} x {}", order.quantity, name.map_or("?", String::as_str)),
            "order-lines",
        )
    } else {
        orders.join_foreign_key(
            &products,
            |order: &Order| order.product.clone(),
            |order: &Order, name: &String| format!("{} x {name}", order.quantity),
            "order-lines",
        )
    };
    lines.to_stream().to_with("order-lines", Utf8, Utf8);
    builder.build().expect("topology")
}

struct Run {
    driver: TestDriver,
}

impl Run {
    fn new(left: bool) -> Self {
        let config = StreamsConfig::builder("shop").build().expect("config");
        let driver = TestDriver::builder(topology(left), config)
            .topic_partitions("orders", 2)
            .topic_partitions("products", 3)
            .build()
            .expect("driver");
        Self { driver }
    }

    fn order(&self, id: &str, product: &str, quantity: u32) {
        let order = Order {
            product: product.to_owned(),
            quantity,
        };
        let orders = self
            .driver
            .input_topic_with::<String, Order>("orders", Utf8, Json)
            .expect("input");
        orders.pipe(id.to_owned(), order).expect("pipe");
    }

    fn product(&self, id: &str, name: Option<&str>) {
        let products = self
            .driver
            .input_topic_with::<String, String>("products", Utf8, Utf8)
            .expect("input");
        let record = match name {
            Some(name) => TestRecord::new(id.to_owned(), name.to_owned()),
            None => TestRecord::tombstone(id.to_owned()),
        };
        products.pipe_record(record).expect("pipe");
    }

    fn delete_order(&self, id: &str) {
        let orders = self
            .driver
            .input_topic_with::<String, Order>("orders", Utf8, Json)
            .expect("input");
        orders.pipe_record(TestRecord::tombstone(id.to_owned())).expect("pipe");
    }

    /// The joined table's rows.
    fn rows(&self) -> BTreeMap<String, String> {
        self.driver
            .key_value_store::<String, String>("order-lines")
            .expect("store")
            .iter()
            .flat_map(|(_, s)| s.all().expect("all"))
            .collect()
    }

    /// What the joined table emitted per key since the last call (`None`: a tombstone).
    fn emitted(&self) -> BTreeMap<String, Vec<Option<String>>> {
        let mut out: BTreeMap<String, Vec<Option<String>>> = BTreeMap::new();
        for r in self
            .driver
            .output_topic_with::<String, String>("order-lines", Utf8, Utf8)
            .read_records()
            .expect("read")
        {
            out.entry(r.key).or_default().push(r.value);
        }
        out
    }
}

fn rows(items: &[(&str, &str)]) -> BTreeMap<String, String> {
    items.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[test]
fn inner_foreign_key_join_follows_both_tables() {
    let run = Run::new(false);
    run.product("p1", Some("apple"));
    run.product("p2", Some("pear"));
    run.order("o1", "p1", 2);
    run.order("o2", "p3", 1);
    assert_eq!(run.rows(), rows(&[("o1", "2 x apple")]), "p3 does not exist yet");
    run.product("p3", Some("plum"));
    run.product("p1", Some("green apple"));
    assert_eq!(run.rows(), rows(&[("o1", "2 x green apple"), ("o2", "1 x plum")]));

    // o1 moves to p2: later changes of p1 no longer concern it.
    run.order("o1", "p2", 5);
    run.order("o3", "p1", 1);
    run.product("p1", Some("red apple"));
    assert_eq!(
        run.rows(),
        rows(&[("o1", "5 x pear"), ("o2", "1 x plum"), ("o3", "1 x red apple")])
    );

    // Deleting the product deletes the joined rows referring to it; deleting an order its row.
    run.product("p2", None);
    run.delete_order("o2");
    assert_eq!(run.rows(), rows(&[("o3", "1 x red apple")]));

    let emitted = run.emitted();
    let s = |v: &str| Some(v.to_owned());
    assert_eq!(
        emitted["o1"],
        [s("2 x apple"), s("2 x green apple"), s("5 x pear"), None],
        "one update per change, a tombstone at the end"
    );
    assert_eq!(emitted["o2"], [s("1 x plum"), None]);
    assert_eq!(emitted["o3"], [s("1 x green apple"), s("1 x red apple")]);
}

#[test]
fn left_foreign_key_join_keeps_rows_without_a_match() {
    let run = Run::new(true);
    run.order("o1", "p1", 2);
    assert_eq!(run.rows(), rows(&[("o1", "2 x ?")]));
    run.product("p1", Some("apple"));
    assert_eq!(run.rows(), rows(&[("o1", "2 x apple")]));
    run.product("p1", None);
    assert_eq!(
        run.rows(),
        rows(&[("o1", "2 x ?")]),
        "the product went, the order stays"
    );
    run.delete_order("o1");
    assert_eq!(run.rows(), rows(&[]));
    let emitted = run.emitted();
    let s = |v: &str| Some(v.to_owned());
    assert_eq!(emitted["o1"], [s("2 x ?"), s("2 x apple"), s("2 x ?"), None]);
}

#[test]
fn the_internal_topics_and_stores_are_named_after_the_join() {
    let run = Run::new(false);
    let topics: Vec<(String, i32)> = run.driver.topics();
    for (topic, partitions) in [
        ("shop-order-lines-fk-subscription-repartition", 3),
        ("shop-order-lines-fk-response-repartition", 2),
        ("shop-order-lines-fk-subscriptions-changelog", 3),
        ("shop-order-lines-fk-prior-changelog", 2),
        ("shop-order-lines-changelog", 2),
    ] {
        assert!(
            topics.contains(&(topic.to_owned(), partitions)),
            "{topic} with {partitions} partitions in {topics:?}"
        );
    }
}

/// The right table is an aggregation of a JSON-keyed stream (never repartitioned): subscriptions
/// must be partitioned like that stream, or they reach tasks that do not hold the product.
#[test]
fn a_foreign_key_join_with_an_aggregated_table_finds_every_row() {
    let builder = StreamsBuilder::new();
    let orders = builder.table_with("orders", Consumed::new(Utf8, Json), Materialized::named("orders"));
    let names = builder
        .stream_with::<String, String>("product-names", Consumed::new(Json, Json))
        .group_by_key()
        .reduce(|_, latest| latest, Materialized::named("latest-names"));
    orders
        .join_foreign_key(
            &names,
            |order: &Order| order.product.clone(),
            |order: &Order, name: &String| format!("{} x {name}", order.quantity),
            "order-lines",
        )
        .to_stream()
        .to_with("order-lines", Utf8, Utf8);
    let config = StreamsConfig::builder("shop").build().expect("config");
    let driver = TestDriver::builder(builder.build().expect("topology"), config)
        .partitions(3)
        .build()
        .expect("driver");
    let products = driver
        .input_topic_with::<String, String>("product-names", Json, Json)
        .expect("input");
    let orders = driver
        .input_topic_with::<String, Order>("orders", Utf8, Json)
        .expect("input");
    for i in 0..9 {
        products.pipe(format!("p{i}"), format!("name-{i}")).expect("pipe");
    }
    for i in 0..9 {
        let order = Order {
            product: format!("p{i}"),
            quantity: i,
        };
        orders.pipe(format!("o{i}"), order).expect("pipe");
    }
    let rows: usize = driver
        .key_value_store::<String, String>("order-lines")
        .expect("store")
        .iter()
        .map(|(_, s)| s.all().expect("all").len())
        .sum();
    assert_eq!(rows, 9, "every order found its product");
}

/// KIP-213's stale-answer rule: an order updated (or deleted and re-created) while the answers
/// to its earlier values are still in flight joins only its current value. Here the three order
/// records are processed before any subscription reaches the products' task (piped together, at
/// one event time, so the driver reads `orders` before the internal topics), so the answers to
/// the first value and to the deletion arrive after the row already holds the second value.
#[test]
fn answers_to_an_orders_earlier_values_are_dropped() {
    for left in [false, true] {
        let run = Run::new(left);
        run.product("p1", Some("apple"));
        let orders = run
            .driver
            .input_topic_with::<String, Order>("orders", Utf8, Json)
            .expect("input");
        let order = |quantity| Order {
            product: "p1".to_owned(),
            quantity,
        };
        orders
            .pipe_records([
                TestRecord::new("o1".to_owned(), order(1)).at(5_000),
                TestRecord::tombstone("o1".to_owned()).at(5_000),
                TestRecord::new("o1".to_owned(), order(2)).at(5_000),
            ])
            .expect("pipe");
        let lines: Vec<(String, Option<String>)> = run
            .driver
            .output_topic_with::<String, String>("order-lines", Utf8, Utf8)
            .read_records()
            .expect("read")
            .into_iter()
            .map(|r| (r.key, r.value))
            .collect();
        assert_eq!(
            lines,
            [("o1".to_owned(), Some("2 x apple".to_owned()))],
            "left = {left}: only the current value joins"
        );
    }
}

/// A windowed table has a row per key and window, which a join cannot look up by key: refused
/// when the topology is built, instead of a join that silently finds nothing.
#[test]
fn a_windowed_table_cannot_be_joined_by_key() {
    let builder = StreamsBuilder::new();
    let counts = builder
        .stream::<String, String>("clicks")
        .group_by_key()
        .windowed_by(kafka_streams::window::TimeWindows::of(std::time::Duration::from_secs(
            60,
        )))
        .count(Materialized::named("click-counts"));
    let products = builder.table_with("products", Consumed::new(Utf8, Utf8), Materialized::named("products"));
    counts.join_foreign_key(
        &products,
        |n: &u64| n.to_string(),
        |n, p: &String| format!("{n}{p}"),
        "joined",
    );
    let error = builder.build().err().expect("refused").to_string();
    assert!(
        error.contains("a foreign-key join looks rows up by key in `click-counts`") && error.contains("window store"),
        "{error}"
    );
}
