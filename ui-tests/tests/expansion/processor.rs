//! `#[processor]`: a hand-written `Processor` declared in a `#[topology]`, with its stores, fed
//! from a source and feeding a sink, on the broker-free test driver.

use std::time::Duration;

use kafka_streams::codec::Utf8;
use kafka_streams::config::StreamsConfig;
use kafka_streams::processor::{InitContext, Processor, ProcessorContext, Punctuation, PunctuationType, Record};
use kafka_streams::state::KeyValueStore;
use kafka_streams::testing::TestDriver;

/// Forwards a user's page view only the first time that user views that page, and once a
/// minute of stream time the number of distinct pages seen per user.
#[derive(Default)]
pub struct FirstViews {
    seen: Option<KeyValueStore<String, u64>>,
}

impl Processor<String, String> for FirstViews {
    type KeyOut = String;
    type ValueOut = String;

    fn init(&mut self, ctx: &mut InitContext<'_>) -> kafka_streams::Result<()> {
        self.seen = Some(ctx.key_value_store("seen-views")?);
        ctx.schedule(Duration::from_secs(60), PunctuationType::StreamTime);
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, String>,
        record: Record<String, String>,
    ) -> kafka_streams::Result<()> {
        let Some(seen) = &self.seen else { return Ok(()) };
        let view = format!("{}|{}", record.key, record.value);
        if seen.get(&view)?.is_none() {
            seen.put(&view, &1)?;
            ctx.forward(record)?;
        }
        Ok(())
    }

    fn punctuate(
        &mut self,
        _ctx: &mut ProcessorContext<'_, String, String>,
        _punctuation: Punctuation,
    ) -> kafka_streams::Result<()> {
        Ok(())
    }
}

#[kafka_streams::topology(application_id = "first-views")]
pub mod views {
    #[source(topic = "page-views", key_format = "utf8", value_format = "utf8")]
    pub type PageViews = (String, String);

    /// Deduplicated views, through a hand-written processor and its store.
    #[processor(from = PageViews, stores(key_value(name = "seen-views", key = String, value = u64)))]
    pub type FirstViews = super::FirstViews;

    #[sink(topic = "first-views", from = FirstViews)]
    pub fn publish(user: String, page: String) -> (String, String) {
        (user, page)
    }
}

#[test]
fn a_processor_declared_with_the_macros() -> kafka_streams::Result<()> {
    let config = StreamsConfig::builder(views::APPLICATION_ID).build()?;
    let driver = TestDriver::builder(views::topology()?, config).partitions(2).build()?;
    let input = driver.input_topic_with::<String, String>(views::topics::PAGE_VIEWS, Utf8, Utf8)?;
    for (user, page) in [
        ("ann", "/a"),
        ("ann", "/a"),
        ("ann", "/b"),
        ("bob", "/a"),
        ("bob", "/a"),
    ] {
        input.pipe(user.to_owned(), page.to_owned())?;
    }
    let mut out = driver
        .output_topic_with::<String, String>(views::topics::FIRST_VIEWS, Utf8, Utf8)
        .read_key_values()?;
    out.sort();
    let pair = |u: &str, p: &str| (u.to_owned(), p.to_owned());
    assert_eq!(out, [pair("ann", "/a"), pair("ann", "/b"), pair("bob", "/a")]);
    // The processor's store has a generated accessor like any other.
    assert_eq!(views::stores::SeenViews::get(&driver, &"ann|/b".to_owned())?, Some(1));
    assert!(views::describe().contains("seen-views"));
    Ok(())
}
