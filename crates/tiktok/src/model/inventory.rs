//! Inventory update body (`POST /product/202309/products/{product_id}/inventory/update`, spec §4): must
//! list **all** warehouses of each SKU sent.

use serde::{Deserialize, Serialize};

use super::lenient;
use super::product::Inventory;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InventoryUpdateRequest {
    pub skus: Vec<SkuInventory>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SkuInventory {
    /// TikTok's SKU id.
    #[serde(deserialize_with = "lenient::string")]
    pub id: String,
    pub inventory: Vec<Inventory>,
}
