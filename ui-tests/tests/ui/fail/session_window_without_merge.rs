//! A session window without `merge`: two sessions a record bridges could not be combined.
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Click {
    pub user_id: String,
}

#[kafka_streams::topology(application_id = "app")]
mod app {
    use super::Click;

    #[source(topic = "clicks")]
    pub type Clicks = (String, Click);

    #[windowed(session(inactivity_gap = "30m"))]
    #[state_store(name = "sessions")]
    pub fn count(#[from(Clicks)] _user: &String, _click: &Click, n: &mut u64) {
        *n += 1;
    }
}

fn main() {}
