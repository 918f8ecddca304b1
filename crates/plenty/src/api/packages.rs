//! Shipping packages of an order (tracking numbers back to TikTok): `GET /rest/orders/{orderId}/shipping/packages`.

use serde::{Deserialize, Serialize};
use tts_core::Result;

use super::positive;
use crate::client::{Client, Request};
use crate::model::id;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ShippingPackage {
    #[serde(deserialize_with = "id::de")]
    pub id: i64,
    #[serde(deserialize_with = "id::de")]
    pub order_id: i64,
    #[serde(deserialize_with = "id::de_opt")]
    pub package_id: Option<i64>,
    /// Grams.
    pub weight: Option<i64>,
    /// The tracking number.
    pub package_number: Option<String>,
    pub return_package_number: Option<String>,
    pub package_type: Option<i64>,
    pub is_closed: Option<bool>,
}

impl Client {
    pub async fn shipping_packages(&self, order_id: i64) -> Result<Vec<ShippingPackage>> {
        let request = Request::new("GET /rest/orders/{orderId}/shipping/packages")
            .param("orderId", positive("orderId", order_id)?);
        self.call(&request).await
    }

    /// The package (tracking) numbers of an order, empty ones left out.
    pub async fn package_numbers(&self, order_id: i64) -> Result<Vec<String>> {
        Ok(self
            .shipping_packages(order_id)
            .await?
            .into_iter()
            .filter_map(|p| p.package_number.filter(|n| !n.trim().is_empty()))
            .collect())
    }
}
