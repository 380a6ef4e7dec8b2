//! Tables read by nodes, declared with the macros: table-table joins (by key: left and outer;
//! by foreign key) and a table aggregation with a subtractor, on the broker-free test driver,
//! read back through the generated store accessors.

use kafka_streams::codec::{Json, Utf8};
use kafka_streams::config::StreamsConfig;
use kafka_streams::testing::{TestDriver, TestRecord};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub product: String,
    pub quantity: u32,
}

#[kafka_streams::topology(application_id = "shop-tables")]
pub mod shop {
    use super::Order;

    #[table(topic = "users", store = "users")]
    pub type Users = (String, String);

    #[table(topic = "scores", store = "scores")]
    pub type Scores = (String, i64);

    #[table(topic = "orders", store = "orders")]
    pub type Orders = (String, Order);

    #[table(topic = "products", store = "products")]
    pub type Products = (String, String);

    #[table(topic = "user-regions", store = "user-regions")]
    pub type Regions = (String, String);

    /// Every user with their score, if any (a left join of two tables by key).
    #[join(table = Scores)]
    pub fn profile(#[from(Users)] name: &String, score: Option<&i64>) -> String {
        format!("{name}:{}", score.map_or("-".to_owned(), i64::to_string))
    }

    /// Every key of either table (an outer join), in store `names-and-scores`.
    #[join(table = Scores, store = "names-and-scores")]
    pub fn either(#[from(Users)] name: Option<&String>, score: Option<&i64>) -> String {
        format!(
            "{}:{}",
            name.map_or("-", String::as_str),
            score.map_or("-".to_owned(), i64::to_string)
        )
    }

    /// Orders with their product's name (a foreign-key join).
    #[join(table = Products, foreign_key = product_of)]
    pub fn order_line(#[from(Orders)] order: &Order, product: &String) -> String {
        format!("{} x {product}", order.quantity)
    }

    pub fn product_of(order: &Order) -> String {
        order.product.clone()
    }

    /// Users per region; a user moving region leaves the old one.
    #[state_store(name = "users-per-region", group_by = by_region, subtract = uncount)]
    pub fn count(#[from(Regions)] _region: &String, _user: &String, users: &mut i64) {
        *users += 1;
    }

    #[allow(clippy::ptr_arg)] // the table's exact key and value types
    pub fn by_region(user: &String, region: &String) -> (String, String) {
        (region.clone(), user.clone())
    }

    #[allow(clippy::ptr_arg)]
    pub fn uncount(_region: &String, _user: &String, users: &mut i64) {
        *users -= 1;
    }

    #[source(topic = "score-events", key_format = "utf8", value_format = "json")]
    pub type ScoreEvents = (String, i64);

    /// The latest score event per user: a stream made a table.
    #[table(store = "latest-scores")]
    pub fn latest_score(#[from(ScoreEvents)] score: &i64) -> i64 {
        *score
    }

    /// Users with their latest score event (a table-table join with that table).
    #[join(table = latest_score, store = "latest-profiles")]
    pub fn latest_profile(#[from(Users)] name: &String, score: &i64) -> String {
        format!("{name}@{score}")
    }

    #[sink(topic = "profiles", from = profile)]
    pub fn publish(user: String, profile: String) -> (String, String) {
        (user, profile)
    }
}

fn s(v: &str) -> String {
    v.to_owned()
}

#[test]
fn tables_joined_and_aggregated_with_the_macros() -> kafka_streams::Result<()> {
    let config = StreamsConfig::builder(shop::APPLICATION_ID).build()?;
    let driver = TestDriver::builder(shop::topology()?, config)
        .topic_partitions(shop::topics::PRODUCTS, 3)
        .partitions(2)
        .build()?;
    let users = driver.input_topic_with::<String, String>(shop::topics::USERS, Utf8, Utf8)?;
    let scores = driver.input_topic_with::<String, i64>(shop::topics::SCORES, Utf8, Json)?;
    users.pipe(s("u1"), s("ann"))?;
    scores.pipe(s("u1"), 10)?;
    scores.pipe(s("u2"), 20)?;
    assert_eq!(shop::stores::Profile::get(&driver, &s("u1"))?, Some(s("ann:10")));
    assert_eq!(
        shop::stores::Profile::get(&driver, &s("u2"))?,
        None,
        "left join: rows of users only"
    );
    assert_eq!(shop::stores::NamesAndScores::get(&driver, &s("u2"))?, Some(s("-:20")));
    scores.pipe_record(TestRecord::tombstone(s("u1")))?;
    assert_eq!(shop::stores::Profile::get(&driver, &s("u1"))?, Some(s("ann:-")));
    let profiles = driver
        .output_topic_with::<String, String>(shop::topics::PROFILES, Utf8, Utf8)
        .read_values()?;
    assert_eq!(profiles, [s("ann:-"), s("ann:10"), s("ann:-")]);

    let events = driver.input_topic_with::<String, i64>(shop::topics::SCORE_EVENTS, Utf8, Json)?;
    events.pipe(s("u1"), 5)?;
    events.pipe(s("u1"), 7)?;
    assert_eq!(shop::stores::LatestScores::get(&driver, &s("u1"))?, Some(7));
    assert_eq!(shop::stores::LatestProfiles::get(&driver, &s("u1"))?, Some(s("ann@7")));

    let orders = driver.input_topic_with::<String, Order>(shop::topics::ORDERS, Utf8, Json)?;
    let products = driver.input_topic_with::<String, String>(shop::topics::PRODUCTS, Utf8, Utf8)?;
    products.pipe(s("p1"), s("apple"))?;
    orders.pipe(
        s("o1"),
        Order {
            product: s("p1"),
            quantity: 3,
        },
    )?;
    assert_eq!(shop::stores::OrderLine::get(&driver, &s("o1"))?, Some(s("3 x apple")));
    products.pipe(s("p1"), s("green apple"))?;
    assert_eq!(
        shop::stores::OrderLine::get(&driver, &s("o1"))?,
        Some(s("3 x green apple"))
    );

    let regions = driver.input_topic_with::<String, String>(shop::topics::USER_REGIONS, Utf8, Utf8)?;
    for (user, region) in [("ann", "eu"), ("bob", "eu"), ("ann", "us")] {
        regions.pipe(s(user), s(region))?;
    }
    assert_eq!(shop::stores::UsersPerRegion::get(&driver, &s("eu"))?, Some(1));
    assert_eq!(shop::stores::UsersPerRegion::get(&driver, &s("us"))?, Some(1));
    Ok(())
}
