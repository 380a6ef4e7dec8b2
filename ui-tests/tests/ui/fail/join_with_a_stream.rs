use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Click {
    pub user_id: String,
    pub timestamp: i64,
}

#[kafka_streams::topology(application_id = "app")]
mod app {
    use super::Click;

    #[source(topic = "clicks")]
    pub type Clicks = (String, Click);

    #[source(topic = "more-clicks")]
    pub type MoreClicks = (String, Click);

    #[join(table = MoreClicks)]
    pub fn both(#[from(Clicks)] a: &Click, b: &Click) -> i64 {
        a.timestamp - b.timestamp
    }
}

fn main() {}
