//! Orders: create (`POST /rest/orders`), find by external order id (`GET /rest/orders?externalOrderId=`,
//! order property 7), list, update status (`PUT /rest/orders/{orderId}`) and cancel
//! (`PUT /rest/orders/{orderId}/cancel`).
//!
//! Creating is deliberately not retried after a 5xx or timeout (the order may exist): callers import an
//! order as "find by external id, create only when absent", which also covers a retry of a whole sync.

use futures_util::{Stream, StreamExt};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tts_core::{Error, Result};

use super::{per_page, positive};
use crate::client::{Client, Request};
use crate::model::{
    AddressRelation, OrderCreate, OrderRelation, Property, decimal_number, id, order_property_type,
};

/// An order as plentymarkets answers it (the fields the sync reads; the rest is ignored).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Order {
    #[serde(deserialize_with = "id::de")]
    pub id: i64,
    pub type_id: i64,
    #[serde(deserialize_with = "id::de")]
    pub plenty_id: i64,
    #[serde(with = "decimal_number")]
    pub status_id: Decimal,
    #[serde(with = "decimal_number::option")]
    pub referrer_id: Option<Decimal>,
    /// The order this one derives from (returns: the sales order).
    #[serde(deserialize_with = "id::de_opt")]
    pub parent_order_id: Option<i64>,
    pub status_name: Option<String>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub order_items: Vec<OrderItemRecord>,
    pub properties: Vec<Property>,
    pub address_relations: Vec<AddressRelation>,
    pub relations: Vec<OrderRelation>,
}

impl Order {
    /// Value of the first order property of `type_id`.
    pub fn property(&self, type_id: i64) -> Option<&str> {
        self.properties
            .iter()
            .find(|p| p.type_id == type_id)
            .map(|p| p.value.as_str())
    }

    /// The marketplace order id (property 7).
    pub fn external_order_id(&self) -> Option<&str> {
        self.property(order_property_type::EXTERNAL_ORDER_ID)
    }
}

/// An order item as answered (with its id, needed for returns).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OrderItemRecord {
    #[serde(deserialize_with = "id::de")]
    pub id: i64,
    pub type_id: i64,
    #[serde(deserialize_with = "id::de")]
    pub item_variation_id: i64,
    #[serde(with = "decimal_number")]
    pub quantity: Decimal,
    pub order_item_name: String,
}

/// Filters of `GET /rest/orders`.
#[derive(Clone, Debug, Default)]
pub struct OrderQuery {
    pub external_order_id: Option<String>,
    pub referrer_id: Option<Decimal>,
    /// W3C date-time.
    pub updated_at_from: Option<String>,
    pub updated_at_to: Option<String>,
    pub status_from: Option<Decimal>,
    pub status_to: Option<Decimal>,
    pub plenty_id: Option<i64>,
    /// Default 50, at most 250 here.
    pub items_per_page: Option<u32>,
}

impl Client {
    /// Creates an order (one attempt on 5xx/timeouts: see the module note).
    pub async fn create_order(&self, order: &OrderCreate) -> Result<Order> {
        if order.type_id <= 0 {
            return Err(Error::invalid_argument("typeId", "is required (1 = sales order)"));
        }
        if order.plenty_id <= 0 {
            return Err(Error::invalid_argument(
                "plentyId",
                "is required (the client/store id)",
            ));
        }
        self.call(&Request::new("POST /rest/orders").json(order)?).await
    }

    /// The sales order carrying `external_order_id` in property 7, if any (the first when several match).
    pub async fn find_order_by_external_id(&self, external_order_id: &str) -> Result<Option<Order>> {
        if external_order_id.trim().is_empty() {
            return Err(Error::invalid_argument("externalOrderId", "must not be empty"));
        }
        let query = OrderQuery {
            external_order_id: Some(external_order_id.to_string()),
            items_per_page: Some(50),
            ..Default::default()
        };
        let mut orders = Box::pin(self.orders(&query)?);
        while let Some(order) = orders.next().await {
            let order = order?;
            // Return orders (type 3) and other children carry their parent's properties, property 7
            // included: only the sales order itself (type 1; 0 = not listed) is the match.
            if order.type_id != 1 && order.type_id != 0 {
                continue;
            }
            // A different property 7 means the filter was ignored: never link the wrong order. An order
            // listed without its properties is the server's own match.
            match order.external_order_id() {
                Some(id) if id != external_order_id => continue,
                _ => return Ok(Some(order)),
            }
        }
        Ok(None)
    }

    /// Orders matching `query`, page by page.
    pub fn orders(&self, query: &OrderQuery) -> Result<impl Stream<Item = Result<Order>> + Send + 'static> {
        let per = per_page("itemsPerPage", query.items_per_page.unwrap_or(50), 250)?;
        let request = Request::new("GET /rest/orders")
            .query_opt("externalOrderId", query.external_order_id.as_deref())
            .query_opt("referrerId", query.referrer_id)
            .query_opt("updatedAtFrom", query.updated_at_from.as_deref())
            .query_opt("updatedAtTo", query.updated_at_to.as_deref())
            .query_opt("statusFrom", query.status_from)
            .query_opt("statusTo", query.status_to)
            .query_opt("plentyId", query.plenty_id);
        Ok(self.paginate(request, per))
    }

    pub async fn order(&self, order_id: i64) -> Result<Order> {
        let request =
            Request::new("GET /rest/orders/{orderId}").param("orderId", positive("orderId", order_id)?);
        self.call(&request).await
    }

    /// Sets the status (e.g. 5 cleared for shipping). Repeating sets the same value: retried.
    pub async fn update_order_status(&self, order_id: i64, status_id: Decimal) -> Result<Order> {
        if status_id <= Decimal::ZERO {
            return Err(Error::invalid_argument(
                "statusId",
                "must be a positive status id, e.g. 5 or 5.1",
            ));
        }
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Body {
            #[serde(with = "decimal_number")]
            status_id: Decimal,
        }
        let request = Request::new("PUT /rest/orders/{orderId}")
            .param("orderId", positive("orderId", order_id)?)
            .json(&Body { status_id })?;
        self.call(&request).await
    }

    /// Cancels the order (status 8 by default). Cancelling a cancelled order changes nothing: retried.
    pub async fn cancel_order(&self, order_id: i64) -> Result<Order> {
        let request = Request::new("PUT /rest/orders/{orderId}/cancel")
            .param("orderId", positive("orderId", order_id)?);
        self.call(&request).await
    }
}
