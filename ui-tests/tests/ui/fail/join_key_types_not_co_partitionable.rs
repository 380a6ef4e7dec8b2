use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Click {
    pub user_id: String,
    pub timestamp: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct User {
    pub name: String,
}

#[kafka_streams::topology(application_id = "app")]
mod app {
    use super::{Click, User};

    /// Users keyed by a numeric id ...
    #[table(topic = "users", store = "users")]
    pub type Users = (u64, User);

    /// ... but clicks keyed by a String user id.
    #[source(topic = "clicks")]
    pub type Clicks = (String, Click);

    #[join(table = Users)]
    pub fn enrich(#[from(Clicks)] click: &Click, user: &User) -> String {
        format!("{} {}", user.name, click.timestamp)
    }
}

fn main() {}
