#[kafka_streams::topology(application_id = "app")]
mod app {
    #[source(topic = "payments")]
    pub type Payments = (String, i64);

    #[source(topic = "refunds")]
    pub type Refunds = (String, i64);

    #[branch(split = "by_size")]
    pub fn large(#[from(Payments)] amount: &i64) -> bool {
        *amount >= 1_000
    }

    /// Splits one stream: this branch reads another.
    #[branch(split = "by_size")]
    pub fn small(#[from(Refunds)] amount: &i64) -> bool {
        *amount > 0
    }
}

fn main() {}
