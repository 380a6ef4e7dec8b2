//! Order enrichment: a stream-table join. Orders (keyed by order id) are re-keyed by customer,
//! joined with the `customers` table and written out keyed by order id again — declared with
//! the `#[topology]` macros.

use serde::{Deserialize, Serialize};

/// An order on `orders`, keyed by order id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// The order's id (also its key on `orders`).
    pub order_id: String,
    /// Who ordered.
    pub customer_id: String,
    /// Total in cents.
    pub amount_cents: u64,
}

/// A customer on `customers` (a compacted topic keyed by customer id; a tombstone deletes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// Display name.
    pub name: String,
    /// Loyalty tier, e.g. `gold`.
    pub tier: String,
}

/// An order with what is known about its customer, on `enriched-orders`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrichedOrder {
    /// The order's id (also the output key).
    pub order_id: String,
    /// Who ordered.
    pub customer_id: String,
    /// Total in cents.
    pub amount_cents: u64,
    /// The customer's name, if the customer is known when the order is processed.
    pub customer_name: Option<String>,
    /// The customer's tier, if known.
    pub tier: Option<String>,
}

/// The pipeline.
#[kafka_streams::topology(application_id = "order-enrichment")]
pub mod pipeline {
    use super::{Customer, EnrichedOrder, Order};

    /// Customers by id, kept in the store `customers`.
    #[table(topic = "customers", store = "customers")]
    pub type Customers = (String, Customer);

    /// Orders, re-keyed by customer id for the join (through a repartition topic).
    #[source(topic = "orders")]
    pub fn orders(_order_id: String, order: Order) -> (String, Order) {
        (order.customer_id.clone(), order)
    }

    /// A left join: orders of customers not (yet) in the table still go through.
    #[join(table = Customers)]
    pub fn enrich(#[from(orders)] order: &Order, customer: Option<&Customer>) -> EnrichedOrder {
        EnrichedOrder {
            order_id: order.order_id.clone(),
            customer_id: order.customer_id.clone(),
            amount_cents: order.amount_cents,
            customer_name: customer.map(|c| c.name.clone()),
            tier: customer.map(|c| c.tier.clone()),
        }
    }

    /// Enriched orders, keyed by order id again.
    #[sink(topic = "enriched-orders", from = enrich)]
    pub fn publish(order: EnrichedOrder) -> (String, EnrichedOrder) {
        (order.order_id.clone(), order)
    }
}
