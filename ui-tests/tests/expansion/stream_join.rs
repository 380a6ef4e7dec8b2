//! `#[join(stream = .., within = "..")]`: a windowed stream-stream join declared with the macros,
//! on the broker-free test driver — an outer join of impressions and clicks by ad id.

use kafka_streams::codec::Utf8;
use kafka_streams::config::StreamsConfig;
use kafka_streams::testing::TestDriver;

#[kafka_streams::topology(application_id = "ad-attribution")]
pub mod attribution {
    #[source(topic = "impressions", key_format = "utf8", value_format = "utf8")]
    pub type Impressions = (String, String);

    #[source(topic = "clicks", key_format = "utf8", value_format = "utf8")]
    pub type Clicks = (String, String);

    /// Impressions and clicks of an ad at most 10 s apart; lone ones once their window closed.
    #[join(stream = Clicks, within = "10s")]
    pub fn attribute(#[from(Impressions)] impression: Option<&String>, click: Option<&String>) -> String {
        format!(
            "{}→{}",
            impression.map_or("-", String::as_str),
            click.map_or("-", String::as_str)
        )
    }

    #[sink(topic = "attributed", from = attribute)]
    pub fn publish(text: String) -> String {
        text
    }
}

#[test]
fn an_outer_stream_join_declared_with_the_macros() -> kafka_streams::Result<()> {
    let config = StreamsConfig::builder(attribution::APPLICATION_ID).build()?;
    let driver = TestDriver::new(attribution::topology()?, config)?;
    let impressions = driver.input_topic_with::<String, String>(attribution::topics::IMPRESSIONS, Utf8, Utf8)?;
    let clicks = driver.input_topic_with::<String, String>(attribution::topics::CLICKS, Utf8, Utf8)?;
    impressions.pipe_at("ad-1".into(), "imp-1".into(), 1_000)?;
    clicks.pipe_at("ad-1".into(), "click-1".into(), 4_000)?;
    impressions.pipe_at("ad-2".into(), "imp-2".into(), 5_000)?;
    clicks.pipe_at("ad-3".into(), "click-3".into(), 30_000)?;
    driver.commit()?;
    let out = driver.output_topic_with::<String, String>(attribution::topics::ATTRIBUTED, Utf8, Utf8);
    assert_eq!(
        out.read_key_values()?,
        [
            ("ad-1".to_owned(), "imp-1→click-1".to_owned()),
            ("ad-2".to_owned(), "imp-2→-".to_owned())
        ]
    );
    assert!(
        attribution::describe().contains("attribute-this-join"),
        "{}",
        attribution::describe()
    );
    Ok(())
}
