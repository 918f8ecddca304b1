//! Catalogue reads: `GET /rest/pim/variations` (PIM search, `with=` relations, `updatedAt` and
//! `stockUpdatedAt` windows), `GET /rest/items/variations` (classic, typed as [`Variation`]), item texts
//! and images.

use futures_util::Stream;
use serde_json::Value;
use tts_core::Result;

use super::{TimeWindow, per_page, positive};
use crate::client::{Client, Request};
use crate::model::{ItemImage, ItemText, Variation};

/// Filters of `GET /rest/pim/variations`.
#[derive(Clone, Debug, Default)]
pub struct PimVariationQuery {
    /// Relations to include, e.g. `base`, `attributeValues`, `barcodes`, `salesPrices`, `images`,
    /// `skus`, `timestamps`.
    pub with: Vec<String>,
    /// At most 500.
    pub ids: Vec<i64>,
    pub item_id: Option<i64>,
    pub is_active: Option<bool>,
    pub updated_at: Option<TimeWindow>,
    pub stock_updated_at: Option<TimeWindow>,
    pub lang: Option<String>,
    /// Default 50, at most 250.
    pub items_per_page: Option<u32>,
}

/// Filters of `GET /rest/items/variations`.
#[derive(Clone, Debug, Default)]
pub struct ItemVariationQuery {
    /// e.g. `variationSalesPrices`, `variationBarcodes`, `images`, `variationAttributeValues`,
    /// `variationSkus`, `stock`, `item`.
    pub with: Vec<String>,
    pub item_id: Option<i64>,
    pub is_active: Option<bool>,
    /// `SKU` or `SKU:referrerId`.
    pub sku: Option<String>,
    pub updated_between: Option<TimeWindow>,
    pub related_updated_between: Option<TimeWindow>,
    pub lang: Option<String>,
    /// Default 50, at most 250.
    pub items_per_page: Option<u32>,
}

impl Client {
    /// Variations from the PIM search, as raw JSON entries (the PIM shape nests `base`, `timestamps`…).
    pub fn pim_variations(
        &self,
        query: &PimVariationQuery,
    ) -> Result<impl Stream<Item = Result<Value>> + Send + 'static> {
        if query.ids.len() > 500 {
            return Err(tts_core::Error::invalid_argument(
                "ids",
                "at most 500 ids per search",
            ));
        }
        let per = per_page("itemsPerPage", query.items_per_page.unwrap_or(50), 250)?;
        let ids = (!query.ids.is_empty()).then(|| join(&query.ids));
        let request = Request::new("GET /rest/pim/variations")
            .query_opt("with", (!query.with.is_empty()).then(|| query.with.join(",")))
            .query_opt("ids", ids)
            .query_opt("itemId", query.item_id)
            .query_opt("isActive", query.is_active)
            .query_opt("updatedAt", query.updated_at.as_ref().map(TimeWindow::joined))
            .query_opt(
                "stockUpdatedAt",
                query.stock_updated_at.as_ref().map(TimeWindow::joined),
            )
            .query_opt("lang", query.lang.as_deref());
        Ok(self.paginate(request, per))
    }

    /// Variations from the classic route, typed.
    pub fn item_variations(
        &self,
        query: &ItemVariationQuery,
    ) -> Result<impl Stream<Item = Result<Variation>> + Send + 'static> {
        let per = per_page("itemsPerPage", query.items_per_page.unwrap_or(50), 250)?;
        let request = Request::new("GET /rest/items/variations")
            .query_opt("with", (!query.with.is_empty()).then(|| query.with.join(",")))
            .query_opt("itemId", query.item_id)
            .query_opt("isActive", query.is_active)
            .query_opt("sku", query.sku.as_deref())
            .query_opt(
                "updatedBetween",
                query.updated_between.as_ref().map(TimeWindow::joined),
            )
            .query_opt(
                "relatedUpdatedBetween",
                query.related_updated_between.as_ref().map(TimeWindow::joined),
            )
            .query_opt("lang", query.lang.as_deref());
        Ok(self.paginate(request, per))
    }

    /// Texts of a variation in every language.
    pub async fn item_texts(&self, item_id: i64, variation_id: i64) -> Result<Vec<ItemText>> {
        let request = Request::new("GET /rest/items/{id}/variations/{variationId}/descriptions")
            .param("id", positive("itemId", item_id)?)
            .param("variationId", positive("variationId", variation_id)?);
        self.call(&request).await
    }

    /// Images of an item.
    pub async fn item_images(&self, item_id: i64) -> Result<Vec<ItemImage>> {
        let request = Request::new("GET /rest/items/{id}/images").param("id", positive("itemId", item_id)?);
        self.call(&request).await
    }
}

fn join(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}
