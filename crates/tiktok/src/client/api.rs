//! Typed helpers over [`Shop::call`] for the calls the sync engines make most. Every other operation
//! of the table is reachable through [`Shop::call`] / [`Shop::call_id`] with a JSON body.

use futures_util::Stream;
use futures_util::future::try_join_all;
use serde::Serialize;
use serde_json::Value;
use tts_core::{Error, Result};

use super::{CallInput, Shop};
use crate::model::order::{Order, OrderDetailResponse};
use crate::operations::Operation;
use crate::sign::QueryValue;

/// Get Order Detail takes at most this many ids per call.
pub const ORDER_IDS_PER_CALL: usize = 50;

fn op(id: &str) -> &'static Operation {
    Operation::find(id).expect("helpers only name operations of the table")
}

/// Filters of Search Orders (body of `POST /order/202309/orders/search`). Upper bounds are exclusive.
#[derive(Clone, Debug, Default, Serialize)]
pub struct OrderSearch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_time_ge: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_time_lt: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_time_ge: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_time_lt: Option<i64>,
}

impl Shop {
    /// Every order matching `filter`, oldest update first, fetched lazily page by page.
    pub fn search_orders(
        &self,
        filter: &OrderSearch,
        page_size: u32,
    ) -> impl Stream<Item = Result<Order>> + Send + 'static {
        let body = serde_json::to_value(filter).expect("plain struct serializes");
        let input = CallInput::json(&body)
            .query("sort_field", "update_time")
            .query("sort_order", "ASC");
        self.paginate(op("orders.search"), input, page_size)
    }

    /// Order details for any number of ids, in batches of 50 sent concurrently (each waits for its
    /// rate-limit slot). Orders come back in TikTok's order per batch.
    pub async fn get_orders(&self, ids: &[String]) -> Result<Vec<Order>> {
        if ids.iter().any(String::is_empty) {
            return Err(Error::invalid_argument("ids", "an order id is empty"));
        }
        let batches = ids.chunks(ORDER_IDS_PER_CALL).map(|chunk| async move {
            let input = CallInput::default().query("ids", QueryValue::Many(chunk.to_vec()));
            let envelope = self.call(op("orders.get"), input).await?;
            envelope
                .decode::<OrderDetailResponse>("order detail")
                .map(|d| d.orders)
        });
        Ok(try_join_all(batches).await?.into_iter().flatten().collect())
    }

    /// Sets a SKU's quantity per warehouse (`POST /product/202309/products/{id}/inventory/update`).
    /// TikTok wants every warehouse of the SKU listed.
    pub async fn update_inventory(
        &self,
        product_id: &str,
        body: &crate::model::inventory::InventoryUpdateRequest,
    ) -> Result<Value> {
        let body = serde_json::to_value(body).expect("plain struct serializes");
        let envelope = self
            .call(
                op("inventory.update"),
                CallInput::json(&body).path("product_id", product_id),
            )
            .await?;
        envelope.value()
    }

    /// Updates SKU prices (`POST /product/202309/products/{id}/prices/update`).
    pub async fn update_prices(
        &self,
        product_id: &str,
        body: &crate::model::price::PriceUpdateRequest,
    ) -> Result<Value> {
        let body = serde_json::to_value(body).expect("plain struct serializes");
        let envelope = self
            .call(
                op("prices.update"),
                CallInput::json(&body).path("product_id", product_id),
            )
            .await?;
        envelope.value()
    }
}
