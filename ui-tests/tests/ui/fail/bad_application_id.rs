use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Click {
    pub user_id: String,
    pub timestamp: i64,
}

#[kafka_streams::topology(application_id = "click aggregator")]
mod app {
    use super::Click;

    #[source(topic = "clicks")]
    pub type Clicks = (String, Click);
}

fn main() {}
