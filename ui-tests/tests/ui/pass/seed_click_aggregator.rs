//! The seed's click aggregation, as DESIGN.md §1 sketches it.
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Click {
    pub user_id: String,
    pub url: String,
    pub timestamp: i64,
}

#[kafka_streams::topology(application_id = "click-aggregator")]
pub mod clicks {
    use super::*;
    use kafka_streams::Windowed;

    /// Clicks keyed by user id; event time comes from the payload.
    #[source(topic = "user-clicks", timestamp = |c: &Click| c.timestamp * 1000)]
    pub fn user_clicks(click: Click) -> (String, Click) {
        (click.user_id.clone(), click)
    }

    /// Per-user count in 5-minute tumbling windows, kept in the window store `click-counts`.
    #[windowed(tumbling = "5m", grace = "30s")]
    #[state_store(name = "click-counts")]
    pub fn count_clicks(#[from(user_clicks)] _user: &String, _click: &Click, count: &mut u64) {
        *count += 1;
    }

    #[sink(topic = "aggregated-clicks", from = count_clicks)]
    pub fn publish(key: Windowed<String>, count: u64) -> (String, u64) {
        (key.to_string(), count)
    }
}

fn main() {
    let topology = clicks::topology().expect("valid");
    assert!(topology.describe().contains("click-counts-repartition"));
    assert_eq!(clicks::stores::ClickCounts::CHANGELOG_TOPIC, "click-aggregator-click-counts-changelog");
    assert_eq!(clicks::stores::ClickCounts::REPARTITION_TOPIC, "click-aggregator-click-counts-repartition");
    assert_eq!(clicks::topics::USER_CLICKS, "user-clicks");
    let _app: kafka_streams::app::App = clicks::app();
}
