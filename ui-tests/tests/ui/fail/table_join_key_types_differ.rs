#[kafka_streams::topology(application_id = "app")]
mod app {
    #[table(topic = "users", store = "users")]
    pub type Users = (String, String);

    /// Keyed by a numeric id: not joinable by key with `Users`.
    #[table(topic = "scores", store = "scores")]
    pub type Scores = (u64, i64);

    #[join(table = Scores)]
    pub fn profile(#[from(Users)] name: &String, score: &i64) -> String {
        format!("{name}:{score}")
    }
}

fn main() {}
