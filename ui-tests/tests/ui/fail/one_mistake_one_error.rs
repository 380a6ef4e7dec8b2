//! A mistake inside the module is reported once: the module's generated items (`app()`,
//! `topics::*`, `stores::*`, `Client`) are still there as stubs, so the code that uses them
//! outside the module adds no error of its own.
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Click {
    pub user_id: String,
    pub timestamp: i64,
}

#[kafka_streams::topology(application_id = "click-aggregator")]
pub mod clicks {
    use super::*;

    #[source(topic = "user-clicks", timestamp = |c: &Click| c.timestamp)]
    pub fn user_clicks(click: Click) -> (String, Click) {
        (click.user_id.clone(), click)
    }

    #[windowed(tumbling = "5m")]
    #[state_store(name = "click-counts")]
    pub fn count_clicks(#[from(user_clicks)] _user: &String, _click: &Click, count: &mut u64) {
        *count += 1;
    }

    #[sink(topic = "aggregated-clicks", from = count_clickz)]
    pub fn publish(key: kafka_streams::Windowed<String>, count: u64) -> (String, u64) {
        (key.to_string(), count)
    }
}

fn main() {
    let _app: kafka_streams::app::App = clicks::app();
    let _topic: &str = clicks::topics::USER_CLICKS;
    let _changelog: &str = clicks::stores::ClickCounts::CHANGELOG_TOPIC;
    let _queries = clicks::Client::new("http://127.0.0.1:8080").click_counts();
    println!("{}", clicks::describe());
}
