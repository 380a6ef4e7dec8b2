use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Click {
    pub user_id: String,
}

#[kafka_streams::topology(application_id = "app")]
mod app {
    use super::Click;

    #[source(topic = "clicks", topic = "klicks")]
    pub type Clicks = (String, Click);

    #[sink(topic = "out", from = Clicks)]
    pub fn publish(click: Click) -> Click {
        click
    }
}

fn main() {}
