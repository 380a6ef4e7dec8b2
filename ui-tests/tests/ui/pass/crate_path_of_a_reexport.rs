//! `#[topology(crate = "..")]`: an application that reaches the runtime through another crate's
//! re-export (here a module standing in for it) names that path, and the generated items work.

mod platform {
    pub use kafka_streams as streams;
}

#[kafka_streams::topology(application_id = "app", crate = "crate::platform::streams")]
mod app {
    #[source(topic = "in")]
    pub type Input = (String, String);

    #[windowed(tumbling = "5m")]
    #[state_store(name = "counts")]
    pub fn count(#[from(Input)] _key: &String, _value: &String, count: &mut u64) {
        *count += 1;
    }

    #[sink(topic = "out", from = count)]
    pub fn publish(key: crate::platform::streams::Windowed<String>, count: u64) -> (String, u64) {
        (key.to_string(), count)
    }
}

fn main() {
    let _: crate::platform::streams::app::App = app::app();
    assert!(app::describe().contains("counts"));
}
