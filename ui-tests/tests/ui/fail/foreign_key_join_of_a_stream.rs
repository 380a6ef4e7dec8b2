#[kafka_streams::topology(application_id = "app")]
mod app {
    #[table(topic = "products", store = "products")]
    pub type Products = (String, String);

    #[source(topic = "orders")]
    pub type Orders = (String, String);

    /// `foreign_key` joins two tables; a stream re-keys instead.
    #[join(table = Products, foreign_key = product_of)]
    pub fn line(#[from(Orders)] order: &String, product: &String) -> String {
        format!("{order} {product}")
    }

    pub fn product_of(order: &String) -> String {
        order.clone()
    }
}

fn main() {}
