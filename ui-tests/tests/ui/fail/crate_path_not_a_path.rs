#[kafka_streams::topology(application_id = "app", crate = "kafka streams")]
mod app {
    #[source(topic = "in")]
    pub type Input = (String, String);

    #[sink(topic = "out", from = Input)]
    pub fn publish(value: String) -> String {
        value
    }
}

fn main() {}
