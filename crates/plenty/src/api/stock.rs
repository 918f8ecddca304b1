//! Stock reads: `GET /rest/stockmanagement/stock` (all warehouses) and
//! `GET /rest/stockmanagement/warehouses/{warehouseId}/stock`, with `updatedAtFrom`/`updatedAtTo`.

use futures_util::Stream;
use tts_core::Result;

use super::{per_page, positive};
use crate::client::{Client, Request};
use crate::model::VariationStock;

#[derive(Clone, Debug, Default)]
pub struct StockQuery {
    pub variation_id: Option<i64>,
    /// W3C date-time.
    pub updated_at_from: Option<String>,
    pub updated_at_to: Option<String>,
    /// Default 50, at most 250 here.
    pub items_per_page: Option<u32>,
}

impl StockQuery {
    fn request(&self, route: &'static str) -> Result<(Request, u32)> {
        let per = per_page("itemsPerPage", self.items_per_page.unwrap_or(50), 250)?;
        let request = Request::new(route)
            .query_opt("variationId", self.variation_id)
            .query_opt("updatedAtFrom", self.updated_at_from.as_deref())
            .query_opt("updatedAtTo", self.updated_at_to.as_deref());
        Ok((request, per))
    }
}

impl Client {
    /// Stock of one variation per warehouse (`GET /rest/items/{id}/variations/{variationId}/stock`).
    pub async fn variation_stock(&self, item_id: i64, variation_id: i64) -> Result<Vec<VariationStock>> {
        let request = Request::new("GET /rest/items/{id}/variations/{variationId}/stock")
            .param("id", positive("itemId", item_id)?)
            .param("variationId", positive("variationId", variation_id)?);
        self.call(&request).await
    }

    /// Stock rows (one per variation and warehouse).
    pub fn stock(
        &self,
        query: &StockQuery,
    ) -> Result<impl Stream<Item = Result<VariationStock>> + Send + 'static> {
        let (request, per) = query.request("GET /rest/stockmanagement/stock")?;
        Ok(self.paginate(request, per))
    }

    /// Stock rows of one warehouse.
    pub fn warehouse_stock(
        &self,
        warehouse_id: i64,
        query: &StockQuery,
    ) -> Result<impl Stream<Item = Result<VariationStock>> + Send + 'static> {
        let (request, per) = query.request("GET /rest/stockmanagement/warehouses/{warehouseId}/stock")?;
        let request = request.param("warehouseId", positive("warehouseId", warehouse_id)?);
        Ok(self.paginate(request, per))
    }
}
