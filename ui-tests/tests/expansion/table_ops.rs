//! Tables derived from tables with the macros: `#[table(store = ..)]` on a filter or a value
//! mapping that reads a table is `KTable::filter` / `KTable::map_values` — a row that stops
//! passing the filter leaves the derived table, a row deleted upstream leaves every derived
//! table, and a sink reading a table writes its deletes as tombstones — on the broker-free test
//! driver, read through the generated store accessors.

use kafka_streams::codec::{Json, Utf8};
use kafka_streams::config::StreamsConfig;
use kafka_streams::testing::{TestDriver, TestRecord};

#[kafka_streams::topology(application_id = "stock-tables")]
pub mod stock {
    /// Units in stock per item.
    #[table(topic = "stock", store = "stock")]
    pub type Stock = (String, i64);

    /// The items that can be sold now.
    #[table(store = "in-stock")]
    pub fn in_stock(#[from(Stock)] units: &i64) -> bool {
        *units > 0
    }

    /// A label per item in stock (derived from the derived table).
    #[table(store = "shelf-labels")]
    pub fn label(#[from(in_stock)] item: &String, units: &i64) -> String {
        format!("{item} ({units} left)")
    }

    /// Every change of the label table; a label deleted from it is a tombstone on the topic.
    #[sink(topic = "labels", from = label)]
    pub fn publish(label: String) -> String {
        label
    }
}

fn s(v: &str) -> String {
    v.to_owned()
}

#[test]
fn derived_tables_follow_their_source_rows() -> kafka_streams::Result<()> {
    let config = StreamsConfig::builder(stock::APPLICATION_ID).build()?;
    let driver = TestDriver::builder(stock::topology()?, config).partitions(2).build()?;
    let input = driver.input_topic_with::<String, i64>(stock::topics::STOCK, Utf8, Json)?;
    input.pipe(s("apple"), 3)?;
    input.pipe(s("pear"), 0)?;
    assert_eq!(stock::stores::InStock::get(&driver, &s("apple"))?, Some(3));
    assert_eq!(stock::stores::InStock::get(&driver, &s("pear"))?, None, "filtered out");
    assert_eq!(
        stock::stores::ShelfLabels::get(&driver, &s("apple"))?,
        Some(s("apple (3 left)"))
    );

    input.pipe(s("apple"), 0)?; // sold out: leaves both derived tables
    input.pipe(s("pear"), 4)?;
    assert_eq!(stock::stores::InStock::get(&driver, &s("apple"))?, None);
    assert_eq!(stock::stores::ShelfLabels::get(&driver, &s("apple"))?, None);
    assert_eq!(
        stock::stores::ShelfLabels::get(&driver, &s("pear"))?,
        Some(s("pear (4 left)"))
    );

    input.pipe_record(TestRecord::tombstone(s("pear")))?; // deleted upstream
    assert_eq!(stock::stores::InStock::get(&driver, &s("pear"))?, None);
    assert_eq!(stock::stores::ShelfLabels::get(&driver, &s("pear"))?, None);

    let labels: Vec<(String, Option<String>)> = driver
        .output_topic_with::<String, String>(stock::topics::LABELS, Utf8, Utf8)
        .read_records()?
        .into_iter()
        .map(|r| (r.key, r.value))
        .collect();
    assert_eq!(
        labels,
        [
            (s("apple"), Some(s("apple (3 left)"))),
            (s("apple"), None),
            (s("pear"), Some(s("pear (4 left)"))),
            (s("pear"), None),
        ]
    );
    Ok(())
}
