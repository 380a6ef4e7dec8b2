//! Order enrichment (a stream-table join) on the broker-free test driver: known and unknown
//! customers, table updates and deletes, re-keying through the join's repartition topic.

use kafka_streams::codec::{Json, Utf8};
use kafka_streams::config::StreamsConfig;
use kafka_streams::testing::{TestDriver, TestRecord};
use kafka_streams_examples::order_enrichment::{Customer, EnrichedOrder, Order, pipeline};

fn order(id: &str, customer: &str, amount_cents: u64) -> Order {
    Order {
        order_id: id.to_owned(),
        customer_id: customer.to_owned(),
        amount_cents,
    }
}

#[test]
fn orders_are_joined_with_the_current_customer() -> kafka_streams::Result<()> {
    let config = StreamsConfig::builder(pipeline::APPLICATION_ID).build()?;
    let driver = TestDriver::builder(pipeline::topology()?, config)
        .partitions(2)
        .build()?;
    let customers = driver.input_topic_with::<String, Customer>(pipeline::topics::CUSTOMERS, Utf8, Json)?;
    let orders = driver.input_topic_with::<String, Order>(pipeline::topics::ORDERS, Utf8, Json)?;
    let enriched = driver.output_topic_with::<String, EnrichedOrder>(pipeline::topics::ENRICHED_ORDERS, Utf8, Json);

    let ann = Customer {
        name: "Ann".into(),
        tier: "gold".into(),
    };
    customers.pipe_at("c1".into(), ann.clone(), 1_000)?;
    orders.pipe_at("o1".into(), order("o1", "c1", 1_250), 2_000)?;
    // Not (yet) a customer: a left join still emits the order.
    orders.pipe_at("o2".into(), order("o2", "c2", 300), 3_000)?;
    customers.pipe_at(
        "c1".into(),
        Customer {
            tier: "platinum".into(),
            ..ann
        },
        4_000,
    )?;
    orders.pipe_at("o3".into(), order("o3", "c1", 99), 5_000)?;
    // A tombstone removes the customer from the table.
    customers.pipe_record(TestRecord::tombstone("c1".to_owned()).at(6_000))?;
    orders.pipe_at("o4".into(), order("o4", "c1", 1), 7_000)?;

    let out = enriched.read_key_values()?;
    let summary: Vec<(String, Option<String>, Option<String>)> = out
        .iter()
        .map(|(key, e)| (key.clone(), e.customer_name.clone(), e.tier.clone()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("o1".to_owned(), Some("Ann".to_owned()), Some("gold".to_owned())),
            ("o2".to_owned(), None, None),
            ("o3".to_owned(), Some("Ann".to_owned()), Some("platinum".to_owned())),
            ("o4".to_owned(), None, None),
        ]
    );
    assert_eq!(out[0].1.amount_cents, 1_250);
    assert_eq!(pipeline::stores::Customers::get(&driver, &"c1".to_owned())?, None);
    let topics = driver.topics();
    assert!(
        topics.contains(&("order-enrichment-customers-join-repartition".to_owned(), 2)),
        "{topics:?}"
    );
    assert!(
        topics.contains(&(pipeline::topics::CUSTOMERS_CHANGELOG.to_owned(), 2)),
        "{topics:?}"
    );
    Ok(())
}

#[test]
fn the_join_repartition_topic_follows_the_table_partitions() -> kafka_streams::Result<()> {
    // Orders on 4 partitions, customers on 2: the re-keyed orders are repartitioned into 2, so
    // every order meets its customer in the same task.
    let config = StreamsConfig::builder(pipeline::APPLICATION_ID).build()?;
    let driver = TestDriver::builder(pipeline::topology()?, config)
        .topic_partitions(pipeline::topics::ORDERS, 4)
        .topic_partitions(pipeline::topics::CUSTOMERS, 2)
        .build()?;
    assert!(
        driver
            .topics()
            .contains(&("order-enrichment-customers-join-repartition".to_owned(), 2))
    );
    let customers = driver.input_topic_with::<String, Customer>(pipeline::topics::CUSTOMERS, Utf8, Json)?;
    let orders = driver.input_topic_with::<String, Order>(pipeline::topics::ORDERS, Utf8, Json)?;
    for c in 0..10 {
        customers.pipe_at(
            format!("c{c}"),
            Customer {
                name: format!("n{c}"),
                tier: "t".into(),
            },
            1,
        )?;
    }
    for o in 0..40 {
        orders.pipe_at(format!("o{o}"), order(&format!("o{o}"), &format!("c{}", o % 10), 1), 2)?;
    }
    let out = driver
        .output_topic_with::<String, EnrichedOrder>(pipeline::topics::ENRICHED_ORDERS, Utf8, Json)
        .read_values()?;
    assert_eq!(out.len(), 40);
    assert!(
        out.iter()
            .all(|e| e.customer_name.as_deref() == Some(&format!("n{}", &e.customer_id[1..])[..]))
    );
    Ok(())
}
