use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Click {
    pub user_id: String,
    pub timestamp: i64,
}

#[kafka_streams::topology(application_id = "app")]
mod app {
    use super::Click;

    pub fn helper(click: &Click) -> bool {
        click.timestamp > 0
    }
}

fn main() {}
