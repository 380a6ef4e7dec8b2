#[kafka_streams::topology(application_id = "app")]
mod app {
    #[table(topic = "stock", store = "stock")]
    pub type Stock = (String, String);

    /// A plain transform reads streams; reading a table needs `#[table(store = ..)]`, which
    /// derives a table (rows that stop matching are deleted from it).
    pub fn in_stock(#[from(Stock)] units: &String) -> bool {
        units != "0"
    }
}

fn main() {}
