//! `#[topology(dead_letter_topic = "..")]` and fallible node functions (`-> Result<T, E>`) on
//! the broker-free test driver: bad records go to the dead-letter topic with what failed, the
//! good ones go on.

use kafka_streams::codec::{Bytes, Json, Utf8};
use kafka_streams::config::StreamsConfig;
use kafka_streams::testing::{TestDriver, TestRecord};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Payment {
    pub id: u32,
    pub cents: i64,
}

#[kafka_streams::topology(application_id = "payments", dead_letter_topic = "payments-rejected")]
pub mod payments {
    use super::Payment;

    #[source(topic = "payments", key_format = "utf8")]
    pub type Payments = (String, Payment);

    /// A refund must go through another flow: refuse negative amounts.
    pub fn validate(#[from(Payments)] p: Payment) -> Result<Payment, String> {
        if p.cents < 0 {
            Err(format!("payment {} is negative", p.id))
        } else {
            Ok(p)
        }
    }

    #[sink(topic = "payments-valid", from = validate, key_format = "utf8")]
    pub fn valid(account: String, p: Payment) -> (String, i64) {
        (account, p.cents)
    }
}

#[test]
fn undecodable_and_failing_records_go_to_the_dead_letter_topic() -> kafka_streams::Result<()> {
    assert_eq!(payments::topics::DEAD_LETTER, "payments-rejected");
    let config = StreamsConfig::builder(payments::APPLICATION_ID).build()?;
    let driver = TestDriver::builder(payments::topology()?, config)
        .partitions(2)
        .build()?;
    let raw = driver.input_topic_with::<String, Vec<u8>>(payments::topics::PAYMENTS, Utf8, Bytes)?;
    let json = |id: u32, cents: i64| serde_json::to_vec(&Payment { id, cents }).expect("json");
    raw.pipe_record(TestRecord::new("acct-1".to_owned(), json(1, 500)))?;
    raw.pipe_record(TestRecord::new("acct-2".to_owned(), b"\x00garbage".to_vec()))?;
    raw.pipe_record(TestRecord::new("acct-3".to_owned(), json(3, -20)))?;
    raw.pipe_record(TestRecord::new("acct-1".to_owned(), json(4, 70)))?;

    let valid = driver.output_topic_with::<String, i64>("payments-valid", Utf8, Json);
    let mut got = valid.read_key_values()?;
    got.sort();
    assert_eq!(got, [("acct-1".to_owned(), 70), ("acct-1".to_owned(), 500)]);

    let rejected = driver.output_topic_with::<String, Vec<u8>>(payments::topics::DEAD_LETTER, Utf8, Bytes);
    let mut rejected: Vec<(String, String)> = rejected
        .read_records()?
        .into_iter()
        .map(|r| {
            let kind = r
                .headers
                .iter()
                .find(|(n, _)| n == "__streams.errors.exception")
                .map(|(_, v)| String::from_utf8_lossy(v.as_deref().unwrap_or_default()).into_owned())
                .unwrap_or_default();
            (r.key, kind)
        })
        .collect();
    rejected.sort();
    assert_eq!(
        rejected,
        [
            ("acct-2".to_owned(), "Codec".to_owned()),
            ("acct-3".to_owned(), "Processing".to_owned())
        ]
    );
    assert_eq!(driver.metrics().records_dead_lettered, 2);
    Ok(())
}
