//! A windowed count served by no HTTP server: it builds, describes itself, exposes its store
//! accessors and runs from the environment (`STREAMS_BOOTSTRAP_SERVERS`).

#[kafka_streams::topology(application_id = "minimal")]
mod counts {
    use kafka_streams::Windowed;

    #[source(topic = "events")]
    pub(crate) type Events = (String, String);

    #[windowed(tumbling = "1m")]
    #[state_store(name = "counts")]
    pub(crate) fn count(#[from(Events)] _key: &String, _event: &String, count: &mut u64) {
        *count += 1;
    }

    #[sink(topic = "counts", from = count)]
    pub(crate) fn publish(key: Windowed<String>, count: u64) -> (String, u64) {
        (key.to_string(), count)
    }
}

fn main() -> kafka_streams::Result<()> {
    if std::env::args().any(|a| a == "--describe") {
        print!("{}", counts::describe());
        return Ok(());
    }
    let _: Option<counts::Events> = None;
    let _ = counts::stores::Counts::CHANGELOG_TOPIC;
    counts::app().run()
}
