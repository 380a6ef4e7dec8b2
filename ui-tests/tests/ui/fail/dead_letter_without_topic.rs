#[kafka_streams::topology(application_id = "app", on_error = "dead_letter")]
mod app {
    #[source(topic = "in")]
    pub type Input = (String, String);
}

fn main() {}
