#[kafka_streams::topology(application_id = "app", on_error = "retry")]
mod app {
    #[source(topic = "in")]
    pub type Input = (String, String);
}

fn main() {}
