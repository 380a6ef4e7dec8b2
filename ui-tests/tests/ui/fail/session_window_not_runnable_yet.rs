use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Click {
    pub user_id: String,
    pub timestamp: i64,
}

/// Session windows parse and validate, but the runtime cannot run them yet: a clear error
/// rather than a silently different window.
#[streams_runtime::topology(application_id = "app")]
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
