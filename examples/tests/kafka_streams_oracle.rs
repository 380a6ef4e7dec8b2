//! Kafka Streams as the oracle of our semantics: each topology here, declared with the macros,
//! runs on our `TestDriver` over hundreds of seeded random inputs (out-of-order and late records,
//! tombstones, duplicate keys, bursts on one side), and the same topology written in Java
//! (`benches/kafka-streams-java/.../OracleTopologies.java`) runs in Kafka Streams'
//! `TopologyTestDriver` over the same inputs; every output record and the final store contents
//! must be equal. Broker-free on purpose: these are the topologies' semantics, which a broker
//! does not change. Differences that are deliberate are in the README's "Semantics" section.

// Node functions take their stream's exact types (`&String`).
#![allow(clippy::ptr_arg)]

mod oracle;

use std::collections::BTreeSet;

use kafka_streams::testing::TestDriver;
use oracle::cases::{Rng, letter};
use oracle::{Input, Spec, entry, window};

type Stores = kafka_streams::Result<Vec<String>>;

fn amount(rng: &mut Rng) -> String {
    (rng.below(3_000) as i64 - 500).to_string()
}

fn product_order(rng: &mut Rng) -> String {
    format!("k{}:{}", rng.below(3), 1 + rng.below(9))
}

fn region(rng: &mut Rng) -> String {
    format!("r{}", rng.below(3))
}

/// Stream-stream joins: out of order by at most the grace period (2 s). Later records meet
/// differences the README's "Semantics" section explains: a record whose window closed is
/// dropped here, while Kafka Streams still joins it with what the other side's buffer retains;
/// Kafka Streams emits a left/outer record without partner at once when its window ended
/// before stream time (a partner may still come within grace, and then joins too), while we
/// wait for the grace period; and a record that arrives after its partner's window closed
/// joins it although that partner went out alone already — here always, in Kafka Streams only
/// when its throttled emission of lone records did not delay it.
const JOIN_DISORDER_MS: i64 = 2_000;

/// Sliding windows: event time starts past the time difference. Kafka Streams puts records
/// earlier than the time difference in one clamped window `[0, d]`; here every record gets its
/// own `[t - d, t]`, negative start included (README, "Semantics").
const SLIDING_ORIGIN_MS: i64 = 100_000;

const STREAM: &[Input] = &[Input {
    topic: "in",
    keys: 3,
    value: letter,
    tombstones: 0.0,
}];

#[kafka_streams::topology(application_id = "oracle-tumbling")]
pub mod tumbling {
    #[source(topic = "in", key_format = "utf8", value_format = "utf8")]
    pub type In = (String, String);

    #[windowed(tumbling = "10s", grace = "5s", retention = "1h")]
    #[state_store(name = "counts")]
    pub fn count(#[from(In)] _key: &String, _value: &String, n: &mut u64) {
        *n += 1;
    }

    /// Value only, so a window's deletes reach the topic as tombstones (keys as JSON).
    #[sink(topic = "out", from = count, value_format = "utf8")]
    pub fn publish(n: u64) -> String {
        n.to_string()
    }
}

fn window_counts(driver: &TestDriver, all: Vec<(kafka_streams::Windowed<String>, u64)>) -> Stores {
    let _ = driver;
    Ok(all
        .into_iter()
        .map(|(k, n)| entry("counts", &window(&k.key, &k.window), n))
        .collect())
}

#[test]
fn tumbling_count_with_grace() {
    oracle::check(&Spec {
        windowed: true,
        ..Spec::new(
            "tumbling",
            tumbling::APPLICATION_ID,
            tumbling::topology,
            STREAM,
            &["out"],
            |d, _| window_counts(d, tumbling::stores::Counts::all(d)?),
        )
    });
}

#[kafka_streams::topology(application_id = "oracle-hopping")]
pub mod hopping {
    #[source(topic = "in", key_format = "utf8", value_format = "utf8")]
    pub type In = (String, String);

    #[windowed(hopping(size = "10s", advance = "4s"), grace = "2s", retention = "1h")]
    #[state_store(name = "counts")]
    pub fn count(#[from(In)] _key: &String, _value: &String, n: &mut u64) {
        *n += 1;
    }

    /// Value only, so a window's deletes reach the topic as tombstones (keys as JSON).
    #[sink(topic = "out", from = count, value_format = "utf8")]
    pub fn publish(n: u64) -> String {
        n.to_string()
    }
}

#[test]
fn hopping_count_with_grace() {
    oracle::check(&Spec {
        windowed: true,
        ..Spec::new(
            "hopping",
            hopping::APPLICATION_ID,
            hopping::topology,
            STREAM,
            &["out"],
            |d, _| window_counts(d, hopping::stores::Counts::all(d)?),
        )
    });
}

#[kafka_streams::topology(application_id = "oracle-tumbling-final")]
pub mod tumbling_final {
    #[source(topic = "in", key_format = "utf8", value_format = "utf8")]
    pub type In = (String, String);

    #[windowed(tumbling = "10s", grace = "3s", retention = "1h", emit = "final")]
    #[state_store(name = "counts")]
    pub fn count(#[from(In)] _key: &String, _value: &String, n: &mut u64) {
        *n += 1;
    }

    /// Value only, so a window's deletes reach the topic as tombstones (keys as JSON).
    #[sink(topic = "out", from = count, value_format = "utf8")]
    pub fn publish(n: u64) -> String {
        n.to_string()
    }
}

#[test]
fn tumbling_count_emitted_when_windows_close() {
    oracle::check(&Spec {
        windowed: true,
        ..Spec::new(
            "tumbling_final",
            tumbling_final::APPLICATION_ID,
            tumbling_final::topology,
            STREAM,
            &["out"],
            |d, _| window_counts(d, tumbling_final::stores::Counts::all(d)?),
        )
    });
}

#[kafka_streams::topology(application_id = "oracle-session")]
pub mod session {
    #[source(topic = "in", key_format = "utf8", value_format = "utf8")]
    pub type In = (String, String);

    #[windowed(session(inactivity_gap = "5s"), grace = "2s", retention = "1h", merge = concat)]
    #[state_store(name = "sessions")]
    pub fn letters(#[from(In)] _key: &String, value: &String, all: &mut String) {
        all.push_str(value);
    }

    pub fn concat(a: String, b: String) -> String {
        a + &b
    }

    /// Value only, so sessions merged away reach the topic as tombstones (keys as JSON).
    #[sink(topic = "out", from = letters, value_format = "utf8")]
    pub fn publish(all: String) -> String {
        all
    }
}

#[test]
fn session_windows_that_merge() {
    oracle::check(&Spec {
        windowed: true,
        normalize: oracle::without_replaced_tombstones,
        ..Spec::new(
            "session",
            session::APPLICATION_ID,
            session::topology,
            STREAM,
            &["out"],
            |d, keys: &BTreeSet<String>| {
                let mut lines = Vec::new();
                for key in keys {
                    for (w, all) in session::stores::Sessions::fetch(d, key)? {
                        lines.push(entry("sessions", &window(key, &w), all));
                    }
                }
                Ok(lines)
            },
        )
    });
}

#[kafka_streams::topology(application_id = "oracle-sliding")]
pub mod sliding {
    #[source(topic = "in", key_format = "utf8", value_format = "utf8")]
    pub type In = (String, String);

    #[windowed(sliding(time_difference = "10s"), grace = "2s", retention = "1h")]
    #[state_store(name = "counts")]
    pub fn count(#[from(In)] _key: &String, _value: &String, n: &mut u64) {
        *n += 1;
    }

    /// Value only, so a window's deletes reach the topic as tombstones (keys as JSON).
    #[sink(topic = "out", from = count, value_format = "utf8")]
    pub fn publish(n: u64) -> String {
        n.to_string()
    }
}

#[test]
fn sliding_count_with_grace() {
    oracle::check(&Spec {
        windowed: true,
        origin_ms: SLIDING_ORIGIN_MS,
        ..Spec::new(
            "sliding",
            sliding::APPLICATION_ID,
            sliding::topology,
            STREAM,
            &["out"],
            |d, _| window_counts(d, sliding::stores::Counts::all(d)?),
        )
    });
}

const TWO_STREAMS: &[Input] = &[
    Input {
        topic: "left",
        keys: 3,
        value: letter,
        tombstones: 0.0,
    },
    Input {
        topic: "right",
        keys: 3,
        value: letter,
        tombstones: 0.0,
    },
];

fn pair(left: Option<&String>, right: Option<&String>) -> String {
    format!(
        "{}+{}",
        left.map_or("-", String::as_str),
        right.map_or("-", String::as_str)
    )
}

#[kafka_streams::topology(application_id = "oracle-inner-join")]
pub mod inner_join {
    #[source(topic = "left", key_format = "utf8", value_format = "utf8")]
    pub type Left = (String, String);

    #[source(topic = "right", key_format = "utf8", value_format = "utf8")]
    pub type Right = (String, String);

    #[join(stream = Right, within = "5s", grace = "2s")]
    pub fn joined(#[from(Left)] left: &String, right: &String) -> String {
        super::pair(Some(left), Some(right))
    }

    #[sink(topic = "out", from = joined, key_format = "utf8", value_format = "utf8")]
    pub fn publish(value: String) -> String {
        value
    }
}

#[kafka_streams::topology(application_id = "oracle-left-join")]
pub mod left_join {
    #[source(topic = "left", key_format = "utf8", value_format = "utf8")]
    pub type Left = (String, String);

    #[source(topic = "right", key_format = "utf8", value_format = "utf8")]
    pub type Right = (String, String);

    #[join(stream = Right, within = "5s", grace = "2s")]
    pub fn joined(#[from(Left)] left: &String, right: Option<&String>) -> String {
        super::pair(Some(left), right)
    }

    #[sink(topic = "out", from = joined, key_format = "utf8", value_format = "utf8")]
    pub fn publish(value: String) -> String {
        value
    }
}

#[kafka_streams::topology(application_id = "oracle-outer-join")]
pub mod outer_join {
    #[source(topic = "left", key_format = "utf8", value_format = "utf8")]
    pub type Left = (String, String);

    #[source(topic = "right", key_format = "utf8", value_format = "utf8")]
    pub type Right = (String, String);

    #[join(stream = Right, within = "5s", grace = "2s")]
    pub fn joined(#[from(Left)] left: Option<&String>, right: Option<&String>) -> String {
        super::pair(left, right)
    }

    #[sink(topic = "out", from = joined, key_format = "utf8", value_format = "utf8")]
    pub fn publish(value: String) -> String {
        value
    }
}

fn no_stores(_: &TestDriver, _: &BTreeSet<String>) -> Stores {
    Ok(Vec::new())
}

#[test]
fn stream_stream_inner_join() {
    oracle::check(&Spec {
        disorder_ms: JOIN_DISORDER_MS,
        flush: Some("left"),
        ..Spec::new(
            "inner_join",
            inner_join::APPLICATION_ID,
            inner_join::topology,
            TWO_STREAMS,
            &["out"],
            no_stores,
        )
    });
}

#[test]
fn stream_stream_left_join() {
    oracle::check(&Spec {
        disorder_ms: JOIN_DISORDER_MS,
        normalize: oracle::lone_results_apart,
        flush: Some("left"),
        ..Spec::new(
            "left_join",
            left_join::APPLICATION_ID,
            left_join::topology,
            TWO_STREAMS,
            &["out"],
            no_stores,
        )
    });
}

#[test]
fn stream_stream_outer_join() {
    oracle::check(&Spec {
        disorder_ms: JOIN_DISORDER_MS,
        normalize: oracle::lone_results_apart,
        flush: Some("left"),
        ..Spec::new(
            "outer_join",
            outer_join::APPLICATION_ID,
            outer_join::topology,
            TWO_STREAMS,
            &["out"],
            no_stores,
        )
    });
}

const ORDERS_AND_USERS: &[Input] = &[
    Input {
        topic: "orders",
        keys: 3,
        value: letter,
        tombstones: 0.0,
    },
    Input {
        topic: "users",
        keys: 3,
        value: letter,
        tombstones: 0.2,
    },
];

#[kafka_streams::topology(application_id = "oracle-stream-table-inner")]
pub mod stream_table_inner {
    #[source(topic = "orders", key_format = "utf8", value_format = "utf8")]
    pub type Orders = (String, String);

    #[table(topic = "users", store = "users", key_format = "utf8", value_format = "utf8")]
    pub type Users = (String, String);

    #[join(table = Users)]
    pub fn enriched(#[from(Orders)] order: &String, user: &String) -> String {
        super::pair(Some(order), Some(user))
    }

    #[sink(topic = "out", from = enriched, key_format = "utf8", value_format = "utf8")]
    pub fn publish(value: String) -> String {
        value
    }
}

#[kafka_streams::topology(application_id = "oracle-stream-table-left")]
pub mod stream_table_left {
    #[source(topic = "orders", key_format = "utf8", value_format = "utf8")]
    pub type Orders = (String, String);

    #[table(topic = "users", store = "users", key_format = "utf8", value_format = "utf8")]
    pub type Users = (String, String);

    #[join(table = Users)]
    pub fn enriched(#[from(Orders)] order: &String, user: Option<&String>) -> String {
        super::pair(Some(order), user)
    }

    #[sink(topic = "out", from = enriched, key_format = "utf8", value_format = "utf8")]
    pub fn publish(value: String) -> String {
        value
    }
}

fn key_value_entries(store: &str, all: Vec<(String, impl std::fmt::Display)>) -> Stores {
    Ok(all.into_iter().map(|(k, v)| entry(store, &k, v)).collect())
}

#[test]
fn stream_table_inner_join() {
    oracle::check(&Spec::new(
        "stream_table_inner",
        stream_table_inner::APPLICATION_ID,
        stream_table_inner::topology,
        ORDERS_AND_USERS,
        &["out"],
        |d, _| key_value_entries("users", stream_table_inner::stores::Users::all(d)?),
    ));
}

#[test]
fn stream_table_left_join() {
    oracle::check(&Spec::new(
        "stream_table_left",
        stream_table_left::APPLICATION_ID,
        stream_table_left::topology,
        ORDERS_AND_USERS,
        &["out"],
        |d, _| key_value_entries("users", stream_table_left::stores::Users::all(d)?),
    ));
}

const TWO_TABLES: &[Input] = &[
    Input {
        topic: "left",
        keys: 3,
        value: letter,
        tombstones: 0.2,
    },
    Input {
        topic: "right",
        keys: 3,
        value: letter,
        tombstones: 0.2,
    },
];

#[kafka_streams::topology(application_id = "oracle-table-inner")]
pub mod table_inner {
    #[table(topic = "left", store = "left", key_format = "utf8", value_format = "utf8")]
    pub type Left = (String, String);

    #[table(topic = "right", store = "right", key_format = "utf8", value_format = "utf8")]
    pub type Right = (String, String);

    #[join(table = Right, store = "joined")]
    pub fn joined(#[from(Left)] left: &String, right: &String) -> String {
        super::pair(Some(left), Some(right))
    }

    #[sink(topic = "out", from = joined, key_format = "utf8", value_format = "utf8")]
    pub fn publish(value: String) -> String {
        value
    }
}

#[kafka_streams::topology(application_id = "oracle-table-left")]
pub mod table_left {
    #[table(topic = "left", store = "left", key_format = "utf8", value_format = "utf8")]
    pub type Left = (String, String);

    #[table(topic = "right", store = "right", key_format = "utf8", value_format = "utf8")]
    pub type Right = (String, String);

    #[join(table = Right, store = "joined")]
    pub fn joined(#[from(Left)] left: &String, right: Option<&String>) -> String {
        super::pair(Some(left), right)
    }

    #[sink(topic = "out", from = joined, key_format = "utf8", value_format = "utf8")]
    pub fn publish(value: String) -> String {
        value
    }
}

#[kafka_streams::topology(application_id = "oracle-table-outer")]
pub mod table_outer {
    #[table(topic = "left", store = "left", key_format = "utf8", value_format = "utf8")]
    pub type Left = (String, String);

    #[table(topic = "right", store = "right", key_format = "utf8", value_format = "utf8")]
    pub type Right = (String, String);

    #[join(table = Right, store = "joined")]
    pub fn joined(#[from(Left)] left: Option<&String>, right: Option<&String>) -> String {
        super::pair(left, right)
    }

    #[sink(topic = "out", from = joined, key_format = "utf8", value_format = "utf8")]
    pub fn publish(value: String) -> String {
        value
    }
}

#[test]
fn table_table_inner_join() {
    oracle::check(&Spec::new(
        "table_inner",
        table_inner::APPLICATION_ID,
        table_inner::topology,
        TWO_TABLES,
        &["out"],
        |d, _| key_value_entries("joined", table_inner::stores::Joined::all(d)?),
    ));
}

#[test]
fn table_table_left_join() {
    oracle::check(&Spec::new(
        "table_left",
        table_left::APPLICATION_ID,
        table_left::topology,
        TWO_TABLES,
        &["out"],
        |d, _| key_value_entries("joined", table_left::stores::Joined::all(d)?),
    ));
}

#[test]
fn table_table_outer_join() {
    oracle::check(&Spec::new(
        "table_outer",
        table_outer::APPLICATION_ID,
        table_outer::topology,
        TWO_TABLES,
        &["out"],
        |d, _| key_value_entries("joined", table_outer::stores::Joined::all(d)?),
    ));
}

const ORDERS_AND_PRODUCTS: &[Input] = &[
    Input {
        topic: "orders",
        keys: 4,
        value: product_order,
        tombstones: 0.15,
    },
    Input {
        topic: "products",
        keys: 3,
        value: letter,
        tombstones: 0.15,
    },
];

/// An order `k1:3` is 3 of product `k1`.
fn product_of(order: &str) -> String {
    order.split(':').next().unwrap_or_default().to_owned()
}

#[kafka_streams::topology(application_id = "oracle-fk-inner")]
pub mod fk_inner {
    #[table(topic = "orders", store = "orders", key_format = "utf8", value_format = "utf8")]
    pub type Orders = (String, String);

    #[table(topic = "products", store = "products", key_format = "utf8", value_format = "utf8")]
    pub type Products = (String, String);

    #[join(table = Products, foreign_key = product_of, store = "lines")]
    pub fn lines(#[from(Orders)] order: &String, product: &String) -> String {
        super::pair(Some(order), Some(product))
    }

    pub fn product_of(order: &String) -> String {
        super::product_of(order)
    }

    #[sink(topic = "out", from = lines, key_format = "utf8", value_format = "utf8")]
    pub fn publish(value: String) -> String {
        value
    }
}

#[kafka_streams::topology(application_id = "oracle-fk-left")]
pub mod fk_left {
    #[table(topic = "orders", store = "orders", key_format = "utf8", value_format = "utf8")]
    pub type Orders = (String, String);

    #[table(topic = "products", store = "products", key_format = "utf8", value_format = "utf8")]
    pub type Products = (String, String);

    #[join(table = Products, foreign_key = product_of, store = "lines")]
    pub fn lines(#[from(Orders)] order: &String, product: Option<&String>) -> String {
        super::pair(Some(order), product)
    }

    pub fn product_of(order: &String) -> String {
        super::product_of(order)
    }

    #[sink(topic = "out", from = lines, key_format = "utf8", value_format = "utf8")]
    pub fn publish(value: String) -> String {
        value
    }
}

#[test]
fn foreign_key_inner_join() {
    oracle::check(&Spec {
        normalize: oracle::without_redundant_tombstones,
        ..Spec::new(
            "fk_inner",
            fk_inner::APPLICATION_ID,
            fk_inner::topology,
            ORDERS_AND_PRODUCTS,
            &["out"],
            |d, _| key_value_entries("lines", fk_inner::stores::Lines::all(d)?),
        )
    });
}

#[test]
fn foreign_key_left_join() {
    oracle::check(&Spec {
        normalize: oracle::without_redundant_tombstones,
        ..Spec::new(
            "fk_left",
            fk_left::APPLICATION_ID,
            fk_left::topology,
            ORDERS_AND_PRODUCTS,
            &["out"],
            |d, _| key_value_entries("lines", fk_left::stores::Lines::all(d)?),
        )
    });
}

#[kafka_streams::topology(application_id = "oracle-table-aggregate")]
pub mod table_aggregate {
    #[table(topic = "regions", store = "regions", key_format = "utf8", value_format = "utf8")]
    pub type Regions = (String, String);

    /// Users per region; a user moving region leaves the old one.
    #[state_store(name = "per-region", group_by = by_region, subtract = uncount)]
    pub fn count(#[from(Regions)] _region: &String, _user: &String, users: &mut i64) {
        *users += 1;
    }

    pub fn by_region(user: &String, region: &String) -> (String, String) {
        (region.clone(), user.clone())
    }

    pub fn uncount(_region: &String, _user: &String, users: &mut i64) {
        *users -= 1;
    }

    #[sink(topic = "out", from = count, key_format = "utf8", value_format = "utf8")]
    pub fn publish(region: String, users: i64) -> (String, String) {
        (region, users.to_string())
    }
}

#[test]
fn table_aggregation_with_a_subtractor() {
    oracle::check(&Spec::new(
        "table_aggregate",
        table_aggregate::APPLICATION_ID,
        table_aggregate::topology,
        &[Input {
            topic: "regions",
            keys: 5,
            value: region,
            tombstones: 0.2,
        }],
        &["out"],
        |d, _| key_value_entries("per-region", table_aggregate::stores::PerRegion::all(d)?),
    ));
}

#[kafka_streams::topology(application_id = "oracle-split")]
pub mod split {
    #[source(topic = "payments", key_format = "utf8", value_format = "utf8")]
    pub type Payments = (String, String);

    #[branch(split = "by_size")]
    pub fn large(#[from(Payments)] amount: &String) -> bool {
        amount.parse::<i64>().is_ok_and(|a| a >= 1_000)
    }

    #[branch(split = "by_size")]
    pub fn small(#[from(Payments)] amount: &String) -> bool {
        amount.parse::<i64>().is_ok_and(|a| a > 0)
    }

    #[sink(topic = "large", from = large, key_format = "utf8", value_format = "utf8")]
    pub fn publish_large(amount: String) -> String {
        amount
    }

    #[sink(topic = "small", from = small, key_format = "utf8", value_format = "utf8")]
    pub fn publish_small(amount: String) -> String {
        amount
    }
}

#[test]
fn split_by_first_matching_branch() {
    oracle::check(&Spec::new(
        "split",
        split::APPLICATION_ID,
        split::topology,
        &[Input {
            topic: "payments",
            keys: 4,
            value: amount,
            tombstones: 0.0,
        }],
        &["large", "small"],
        no_stores,
    ));
}
