#[kafka_streams::topology(application_id = "app")]
mod app {
    #[table(topic = "users", store = "users")]
    pub type Users = (String, String);

    #[source(topic = "clicks")]
    pub type Clicks = (String, String);

    /// A stream-table join is inner or left: the stream drives it.
    #[join(table = Users)]
    pub fn enrich(#[from(Clicks)] click: Option<&String>, user: Option<&String>) -> String {
        format!("{click:?} {user:?}")
    }
}

fn main() {}
