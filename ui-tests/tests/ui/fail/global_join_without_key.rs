#[kafka_streams::topology(application_id = "app")]
mod app {
    #[source(topic = "orders")]
    pub type Orders = (String, String);

    #[table(topic = "products", store = "products", global)]
    pub type Products = (String, String);

    #[join(global = Products)]
    pub fn name(#[from(Orders)] order: &String, product: &String) -> String {
        format!("{order} {product}")
    }
}

fn main() {}
