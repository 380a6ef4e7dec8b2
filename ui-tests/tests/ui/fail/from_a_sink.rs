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

    #[sink(topic = "out", from = Clicks)]
    pub fn publish(click: Click) -> Click {
        click
    }

    pub fn after(#[from(publish)] click: Click) -> Click {
        click
    }
}

fn main() {}
