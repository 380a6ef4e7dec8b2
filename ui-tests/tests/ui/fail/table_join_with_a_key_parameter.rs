#[kafka_streams::topology(application_id = "app")]
mod app {
    #[table(topic = "users", store = "users")]
    pub type Users = (String, String);

    #[table(topic = "scores", store = "scores")]
    pub type Scores = (String, i64);

    /// Joining two tables passes the two values only.
    #[join(table = Scores)]
    pub fn profile(#[from(Users)] user: &String, name: &String, score: &i64) -> String {
        format!("{user} {name}:{score}")
    }
}

fn main() {}
