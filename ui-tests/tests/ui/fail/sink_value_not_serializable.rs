use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Click {
    pub user_id: String,
    pub timestamp: i64,
}

/// No serde derives.
#[derive(Clone, Debug)]
pub struct Summary {
    pub clicks: u64,
}

#[kafka_streams::topology(application_id = "app")]
mod app {
    use super::{Click, Summary};

    #[source(topic = "clicks")]
    pub type Clicks = (String, Click);

    #[sink(topic = "summaries", from = Clicks)]
    pub fn publish(_click: Click) -> Summary {
        Summary { clicks: 1 }
    }
}

fn main() {}
