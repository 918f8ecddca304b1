//! Returns: `POST /rest/orders/{orderId}/returns` creates a child order of type 3 (status 9 by default).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tts_core::{Error, Result};

use super::orders::Order;
use super::positive;
use crate::client::{Client, Request};
use crate::model::{decimal_number, id};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReturnCreate {
    pub quantities: Vec<ReturnQuantity>,
    #[serde(with = "decimal_number::option", skip_serializing_if = "Option::is_none")]
    pub status_id: Option<Decimal>,
    #[serde(deserialize_with = "id::de_opt", skip_serializing_if = "Option::is_none")]
    pub warehouse_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_package_number: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReturnQuantity {
    #[serde(deserialize_with = "id::de")]
    pub order_item_id: i64,
    #[serde(with = "decimal_number")]
    pub quantity: Decimal,
}

impl Client {
    /// Creates the return order (not retried on 5xx: it could create two).
    pub async fn create_return(&self, order_id: i64, ret: &ReturnCreate) -> Result<Order> {
        if ret.quantities.is_empty() {
            return Err(Error::invalid_argument(
                "quantities",
                "at least one order item is required",
            ));
        }
        if let Some(i) = ret.quantities.iter().position(|q| q.quantity <= Decimal::ZERO) {
            return Err(Error::invalid_argument(
                format!("quantities[{i}].quantity"),
                "must be positive",
            ));
        }
        let request = Request::new("POST /rest/orders/{orderId}/returns")
            .param("orderId", positive("orderId", order_id)?)
            .json(ret)?;
        self.call(&request).await
    }
}
