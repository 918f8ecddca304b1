//! Payments: the connector's own payment method (`GET`/`POST /rest/payments/methods`), `POST /rest/payments`
//! and linking to an order (`POST /rest/payment/{paymentId}/order/{orderId}`).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tts_core::{Error, Result};

use super::positive;
use crate::client::{Client, Request};
use crate::model::{Property, decimal_number, id};

/// Payment status ids (`status`).
pub mod payment_status {
    pub const AWAITING_APPROVAL: i64 = 1;
    pub const APPROVED: i64 = 2;
    pub const CAPTURED: i64 = 3;
}

/// Body of `POST /rest/payments` (all required by the API except `properties`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PaymentCreate {
    #[serde(with = "decimal_number")]
    pub amount: Decimal,
    pub currency: String,
    #[serde(with = "decimal_number")]
    pub exchange_ratio: Decimal,
    /// The payment method id (the connector's own method).
    #[serde(deserialize_with = "id::de")]
    pub mop_id: i64,
    pub status: i64,
    /// 1 = booked.
    pub transaction_type: i64,
    /// `credit` (money received) or `debit`.
    #[serde(rename = "type")]
    pub kind: String,
    pub properties: Vec<Property>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Payment {
    #[serde(deserialize_with = "id::de")]
    pub id: i64,
    #[serde(with = "decimal_number")]
    pub amount: Decimal,
    pub currency: String,
    #[serde(deserialize_with = "id::de")]
    pub mop_id: i64,
    pub status: i64,
    pub properties: Vec<Property>,
}

/// A payment method (`mopId` of payments and order property 3). Marketplace plugins register their own.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PaymentMethod {
    #[serde(deserialize_with = "id::de")]
    pub id: i64,
    pub plugin_key: String,
    pub payment_key: String,
    pub name: String,
}

impl Client {
    pub async fn payment_methods(&self) -> Result<Vec<PaymentMethod>> {
        self.call(&Request::new("GET /rest/payments/methods")).await
    }

    /// The id of the payment method (`plugin_key`, `payment_key`), creating it when absent. Serialised
    /// per client like [`Client::ensure_referrer`].
    pub async fn ensure_payment_method(
        &self,
        plugin_key: &str,
        payment_key: &str,
        name: &str,
    ) -> Result<i64> {
        for (field, value) in [
            ("pluginKey", plugin_key),
            ("paymentKey", payment_key),
            ("name", name),
        ] {
            if value.trim().is_empty() {
                return Err(Error::invalid_argument(field, "must not be empty"));
            }
        }
        let _one_at_a_time = self.referrer_lock().lock().await;
        let methods = self.payment_methods().await?;
        if let Some(m) = methods
            .iter()
            .find(|m| m.plugin_key == plugin_key && m.payment_key == payment_key)
        {
            return Ok(m.id);
        }
        let body = serde_json::json!({ "pluginKey": plugin_key, "paymentKey": payment_key, "name": name });
        let created: PaymentMethod = self
            .call(&Request::new("POST /rest/payments/methods").json(&body)?)
            .await?;
        Ok(created.id)
    }

    pub async fn create_payment(&self, payment: &PaymentCreate) -> Result<Payment> {
        if payment.currency.len() != 3 {
            return Err(Error::invalid_argument(
                "currency",
                "must be an ISO 4217 code like EUR",
            ));
        }
        if payment.mop_id <= 0 {
            return Err(Error::invalid_argument("mopId", "must be the payment method id"));
        }
        self.call(&Request::new("POST /rest/payments").json(payment)?)
            .await
    }

    /// Links a payment to an order. Linking twice links once: retried.
    pub async fn link_payment_to_order(&self, payment_id: i64, order_id: i64) -> Result<Value> {
        let request = Request::new("POST /rest/payment/{paymentId}/order/{orderId}")
            .param("paymentId", positive("paymentId", payment_id)?)
            .param("orderId", positive("orderId", order_id)?)
            .repeat(crate::client::Repeat::Safe);
        self.call(&request).await
    }
}
