//! `#[branch(split = "..")]`: a first-match split declared with the macros — each record goes to
//! the first branch (in declaration order) whose predicate accepts it — on the test driver.

use kafka_streams::codec::{Json, Utf8};
use kafka_streams::config::StreamsConfig;
use kafka_streams::testing::TestDriver;

#[kafka_streams::topology(application_id = "payments-by-size")]
pub mod payments {
    #[source(topic = "payments", key_format = "utf8", value_format = "json")]
    pub type Payments = (String, i64);

    /// 1 000 or more.
    #[branch(split = "by_size")]
    pub fn large(#[from(Payments)] amount: &i64) -> bool {
        *amount >= 1_000
    }

    /// Positive and not large (a large payment is taken by `large` first).
    #[branch(split = "by_size")]
    pub fn small(#[from(Payments)] amount: &i64) -> bool {
        *amount > 0
    }

    #[sink(topic = "large-payments", from = large)]
    pub fn publish_large(id: String, amount: i64) -> (String, i64) {
        (id, amount)
    }

    #[sink(topic = "small-payments", from = small)]
    pub fn publish_small(id: String, amount: i64) -> (String, i64) {
        (id, amount)
    }
}

#[test]
fn each_record_goes_to_the_first_branch_that_accepts_it() -> kafka_streams::Result<()> {
    let config = StreamsConfig::builder(payments::APPLICATION_ID).build()?;
    let driver = TestDriver::new(payments::topology()?, config)?;
    let input = driver.input_topic_with::<String, i64>(payments::topics::PAYMENTS, Utf8, Json)?;
    for (id, amount) in [("a", 5_000), ("b", 20), ("c", -3), ("d", 1_000)] {
        input.pipe(id.to_owned(), amount)?;
    }
    let read = |topic: &str| {
        driver
            .output_topic_with::<String, i64>(topic, Utf8, Json)
            .read_key_values()
    };
    let pair = |id: &str, amount: i64| (id.to_owned(), amount);
    assert_eq!(
        read(payments::topics::LARGE_PAYMENTS)?,
        [pair("a", 5_000), pair("d", 1_000)]
    );
    assert_eq!(
        read(payments::topics::SMALL_PAYMENTS)?,
        [pair("b", 20)],
        "large ones are not small too"
    );
    Ok(())
}
