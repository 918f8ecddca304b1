//! Marketplace SKUs of a variation: `GET`/`POST /rest/items/{id}/variations/{variationId}/variation_skus`.

use tts_core::{Error, Result};

use super::positive;
use crate::client::{Client, Request};
use crate::model::VariationSku;

impl Client {
    pub async fn variation_skus(&self, item_id: i64, variation_id: i64) -> Result<Vec<VariationSku>> {
        let request = Request::new("GET /rest/items/{id}/variations/{variationId}/variation_skus")
            .param("id", positive("itemId", item_id)?)
            .param("variationId", positive("variationId", variation_id)?);
        self.call(&request).await
    }

    /// Creates a SKU (`sku` is unique per market and account: a duplicate is rejected by the server).
    pub async fn create_variation_sku(&self, item_id: i64, sku: &VariationSku) -> Result<VariationSku> {
        if sku.sku.trim().is_empty() {
            return Err(Error::invalid_argument("sku", "must not be empty"));
        }
        let request = Request::new("POST /rest/items/{id}/variations/{variationId}/variation_skus")
            .param("id", positive("itemId", item_id)?)
            .param("variationId", positive("variationId", sku.variation_id)?)
            .json(sku)?;
        self.call(&request).await
    }
}
