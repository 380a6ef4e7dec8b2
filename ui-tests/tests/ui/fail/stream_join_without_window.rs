#[kafka_streams::topology(application_id = "app")]
mod app {
    #[source(topic = "impressions")]
    pub type Impressions = (String, String);

    #[source(topic = "clicks")]
    pub type Clicks = (String, String);

    #[join(stream = Clicks)]
    pub fn attribute(#[from(Impressions)] impression: &String, click: &String) -> String {
        format!("{impression} {click}")
    }
}

fn main() {}
