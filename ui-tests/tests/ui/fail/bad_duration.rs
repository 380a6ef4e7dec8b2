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

    #[windowed(tumbling = "5 minutes")]
    #[state_store(name = "counts")]
    pub fn count(#[from(Clicks)] _user: &String, _click: &Click, n: &mut u64) {
        *n += 1;
    }
}

fn main() {}
