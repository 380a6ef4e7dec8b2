//! `#[table(.., global)]` and `#[join(global = .., key = ..)]`: a stream-global table join
//! declared with the macros, on the broker-free test driver — orders enriched with product names
//! looked up by a key computed from each order.

use kafka_streams::codec::{Json, Utf8};
use kafka_streams::config::StreamsConfig;
use kafka_streams::testing::TestDriver;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Order {
    pub product: String,
    pub qty: u32,
}

#[kafka_streams::topology(application_id = "shop")]
pub mod shop {
    use super::Order;

    #[source(topic = "orders", key_format = "utf8")]
    pub type Orders = (String, Order);

    /// Every product on every instance (no co-partitioning with orders needed).
    #[table(
        topic = "products",
        store = "products",
        global,
        key_format = "utf8",
        value_format = "utf8"
    )]
    pub type Products = (String, String);

    pub fn product_of(_order_id: &String, order: &Order) -> String {
        order.product.clone()
    }

    #[join(global = Products, key = product_of)]
    pub fn name_order(#[from(Orders)] order: &Order, product: Option<&String>) -> String {
        format!("{}x{}", order.qty, product.map_or("?", String::as_str))
    }

    #[sink(topic = "named-orders", from = name_order)]
    pub fn publish(text: String) -> String {
        text
    }
}

#[test]
fn a_global_table_join_declared_with_the_macros() -> kafka_streams::Result<()> {
    let config = StreamsConfig::builder(shop::APPLICATION_ID).build()?;
    let driver = TestDriver::builder(shop::topology()?, config)
        .partitions(3)
        .topic_partitions(shop::topics::PRODUCTS, 1)
        .build()?;
    let products = driver.input_topic_with::<String, String>(shop::topics::PRODUCTS, Utf8, Utf8)?;
    let orders = driver.input_topic_with::<String, Order>(shop::topics::ORDERS, Utf8, Json)?;
    products.pipe("p1".into(), "lamp".into())?;
    orders.pipe(
        "o1".into(),
        Order {
            product: "p1".into(),
            qty: 2,
        },
    )?;
    orders.pipe(
        "o2".into(),
        Order {
            product: "p7".into(),
            qty: 1,
        },
    )?;
    let mut named = driver
        .output_topic_with::<String, String>(shop::topics::NAMED_ORDERS, Utf8, Utf8)
        .read_key_values()?;
    named.sort();
    assert_eq!(
        named,
        [
            ("o1".to_owned(), "2xlamp".to_owned()),
            ("o2".to_owned(), "1x?".to_owned())
        ]
    );
    assert_eq!(
        shop::stores::Products::get(&driver, &"p1".to_owned())?,
        Some("lamp".to_owned())
    );
    Ok(())
}
