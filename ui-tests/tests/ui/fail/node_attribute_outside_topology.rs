use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Click {
    pub user_id: String,
    pub timestamp: i64,
}

#[kafka_streams::windowed(tumbling = "5m")]
pub fn count(_user: &String, _click: &Click, n: &mut u64) {
    *n += 1;
}

fn main() {}
