//! Price update body (`POST /product/202309/products/{product_id}/prices/update`, spec §4).

use serde::{Deserialize, Serialize};

use super::lenient;
use super::product::{ListPrice, Price};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PriceUpdateRequest {
    pub skus: Vec<SkuPrice>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SkuPrice {
    /// TikTok's SKU id.
    #[serde(deserialize_with = "lenient::string")]
    pub id: String,
    pub price: Price,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_price: Option<ListPrice>,
}
