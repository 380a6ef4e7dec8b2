use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Click {
    pub user_id: String,
    pub timestamp: i64,
}

#[streams_runtime::topology(application_id = "app")]
fn app() {}

fn main() {}
