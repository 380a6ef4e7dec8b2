#[kafka_streams::topology(application_id = "app")]
mod app {
    #[source(topic = "payments")]
    pub type Payments = (String, i64);

    /// A branch decides whether a record belongs to it: it returns `bool`.
    #[branch(split = "by_size")]
    pub fn large(#[from(Payments)] amount: &i64) -> i64 {
        *amount
    }
}

fn main() {}
