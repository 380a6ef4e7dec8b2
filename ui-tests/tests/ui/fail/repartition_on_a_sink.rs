#[kafka_streams::topology(application_id = "app")]
mod app {
    #[source(topic = "in")]
    pub type In = (String, String);

    /// A sink writes to its topic; repartitioning goes on a transform before it.
    #[repartition(partitions = 3)]
    #[sink(topic = "out", from = In)]
    pub fn publish(key: String, value: String) -> (String, String) {
        (value, key)
    }
}

fn main() {}
