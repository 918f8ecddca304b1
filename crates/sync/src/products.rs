//! Product export: PlentyONE items become TikTok products (one item = one product, one variation =
//! one SKU), created once and edited when their content changes; TikTok's audit result lands on the
//! product mappings through webhooks 5 and 37.
//!
//! How a pass works ([`ProductExporter::export`]):
//! - the **backlog** first: items whose mappings are `pending` (waiting for the daily listing quota)
//!   or `error` (rejected by the pre-flight validation, e.g. no stock yet) are tried again, at most
//!   [`ExportSettings::backlog_per_pass`] of them, each pass continuing where the last one stopped;
//!   items that need a create while today's quota is used up cost no call at all;
//! - then the **window**: PlentyONE variations changed since the cursor (`relatedUpdatedBetween`, so
//!   price, stock and text changes count; first run: the whole catalogue) are streamed page by page;
//!   each new item id met is exported once per pass with all its variations (one read per item — the
//!   change stream does not guarantee an item's variations arrive together). Nothing but the set of
//!   item ids done in the pass is kept in memory;
//! - per item, under a lease per (shop, item): the item's variations are mapped and validated
//!   ([`tts_mapping::product::map_and_validate`], with the category's attributes from TikTok) with
//!   stand-in image uris naming the PlentyONE images; any blocking problem puts every mapping of the
//!   item in `error` with the problems as text, and nothing is sent (not even an image). The content
//!   fingerprint is taken from that body, so it does not change when an image is uploaded again
//!   (TikTok gives every upload a new uri); the create's idempotency key names the PlentyONE
//!   images by itself ([`tts_mapping::product::idempotency_key`]). Images are then
//!   downloaded from PlentyONE and uploaded to TikTok (cached per image URL and use case for the
//!   pass). An item without a TikTok product is **created**; its mappings are `pending` while the
//!   create is in flight, and the next attempt after an interrupted one searches TikTok by seller
//!   SKU and adopts what it finds. An item with a product is **partially edited** with the
//!   top-level properties whose fingerprint changed (full edit when none is known or the last edit
//!   was refused); unchanged content costs no TikTok call. Stock and prices are left to
//!   [`crate::stock`]. Content TikTok refused (create, edit or image) is not sent again until it
//!   changes; an answer that could not be read is not a refusal (the item stays pending);
//! - the daily listing quota (new shops: 100 creates a day) is counted in the store (a cursor per
//!   shop, reserved before each create, so a crash over-counts rather than under-counts). When it is
//!   used up, the items that need a create are left `pending` with the reason and no TikTok call is
//!   made for them until the next day; the report says `quota_reached`.
//!
//! - audit results: [`ProductEvents`] (webhooks 5 and 37) stores the product's status, and the audit
//!   reasons when it FAILED, on every mapping of the product: from a webhook 37 that carries its
//!   `audit_failed_reasons` and is newer than the state held (the cursor
//!   `product.audit:<product id>` keeps TikTok's time of that state), else read with `products.get`.
//!
//! The store has no field for "content last sent" on product mappings, so the per-property
//! fingerprints are kept as a sync cursor per item (`product.content:<item id>`, ~250 bytes; prefixed
//! `refused;` when TikTok refused that content), and today's create count as the cursor
//! [`CREATES_CURSOR`]. The quota count is exact with one exporter per shop at a time (the
//! scheduler's lock); concurrent exporters of one shop could lose an increment.

// `tts_core::Error` is large by design (code, message, status, hints); boxing it is the core's call.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures_util::TryStreamExt;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tts_core::{Error, ErrorCode, Result, progress};
use tts_mapping::problem::Problem;
use tts_mapping::product::{
    ProductContext, ProductMappingConfig, SellerSkuSource, map_and_validate, map_product,
};
use tts_mapping::validate::WriteMode;
use tts_plenty::api::TimeWindow;
use tts_plenty::api::variations::ItemVariationQuery;
use tts_plenty::client::Client as PlentyClient;
use tts_plenty::model::Variation;
use tts_store::{ProductMapping, ProductMappingQuery, Store, SyncStatus, now_seconds};
use tts_tiktok::client::retry::is_transient;
use tts_tiktok::client::{CallInput, Client as TikTokClient, Shop};
use tts_tiktok::model::product::{
    CategoryAttributes, ProductPartialEdit, ProductRequest, ProductWriteResponse,
};
use tts_tiktok::request::RequestBody;

use crate::stock::{PushedValues, Reservations, reserved_per_warehouse};

/// The cursor kind of the product export (Unix seconds: the end of the last clean window).
pub const PRODUCTS_CURSOR: &str = "products.related_updated_at";
/// The cursor kind of the backlog's position (`<status>:<variation id>`, or `start`).
pub const BACKLOG_CURSOR: &str = "products.backlog";
/// The cursor kind counting today's creates (`<day number>:<count>`).
pub const CREATES_CURSOR: &str = "products.creates_per_day";
/// Prefix of the error of a mapping whose variation is no longer sent.
const NOT_EXPORTED: &str = "variation not exported";
/// Prefix of a content cursor whose create TikTok refused.
const REFUSED: &str = "refused;";
/// Images remembered per pass at most (uploads are per item; this only bounds memory).
const MAX_CACHED_IMAGES: usize = 10_000;
/// Relations the mapper needs.
pub const VARIATION_WITH: &[&str] = &[
    "variationSalesPrices",
    "variationBarcodes",
    "images",
    "itemImages",
    "variationAttributeValues",
    "variationCategories",
    "stock",
    "item",
];
/// How many rejection reasons a report keeps (the mappings keep all of them).
const MAX_REPORTED_REJECTIONS: usize = 100;

/// Settings of a shop's export.
#[derive(Clone, Debug)]
pub struct ShopExport {
    pub mapping: ProductMappingConfig,
    /// Products created per day at most (TikTok's listing quota; new shops get 100).
    pub max_creates_per_day: u32,
}

impl ShopExport {
    pub fn new(mapping: ProductMappingConfig) -> Self {
        ShopExport {
            mapping,
            max_creates_per_day: 100,
        }
    }
}

/// Settings of the exporter.
#[derive(Clone, Debug)]
pub struct ExportSettings {
    /// Seconds each window starts before the cursor (PlentyONE's clock and indexing lag).
    pub overlap_secs: i64,
    /// Backlog items (pending or in error) tried again per pass.
    pub backlog_per_pass: usize,
    pub lease: Duration,
    /// Variations per PlentyONE page (≤ 250).
    pub page_size: u32,
}

impl Default for ExportSettings {
    fn default() -> Self {
        ExportSettings {
            overlap_secs: 60,
            backlog_per_pass: 500,
            lease: Duration::from_secs(300),
            page_size: 250,
        }
    }
}

/// What happened to one item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemOutcome {
    Created {
        product_id: String,
        adopted: bool,
    },
    Updated {
        product_id: String,
        partial: bool,
    },
    Unchanged,
    /// Pre-flight validation or TikTok refused it; the reasons are on its mappings.
    Rejected {
        reason: String,
    },
    /// Needs a create, but today's quota is used up; its mappings are `pending`.
    QuotaReached,
    /// Another worker holds the item's lease.
    Busy,
}

/// What an export pass did (the run summary).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportReport {
    /// PlentyONE variations read (change stream and item reads).
    pub read: usize,
    pub items: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub rejected: usize,
    /// (item id, reason) of the first rejections.
    pub rejections: Vec<(i64, String)>,
    pub quota_reached: bool,
    /// Items left pending because of the quota.
    pub waiting_for_quota: usize,
    pub busy: usize,
    pub errors: usize,
    pub images_uploaded: usize,
    /// True when the cursor moved to the end of this pass's window.
    pub cursor_advanced: bool,
}

impl ExportReport {
    /// The report as the JSON summary of a sync run.
    pub fn summary(&self) -> Value {
        json!({
            "read": self.read, "items": self.items, "created": self.created, "updated": self.updated,
            "unchanged": self.unchanged, "rejected": self.rejected,
            "rejections": self.rejections.iter().map(|(item, reason)| json!({"item_id": item, "reason": reason})).collect::<Vec<_>>(),
            "quota_reached": self.quota_reached, "waiting_for_quota": self.waiting_for_quota,
            "busy": self.busy, "errors": self.errors, "images_uploaded": self.images_uploaded,
            "cursor_advanced": self.cursor_advanced,
        })
    }

    fn count(&mut self, item_id: i64, outcome: &Result<ItemOutcome>) {
        self.items += 1;
        match outcome {
            Ok(ItemOutcome::Created { .. }) => self.created += 1,
            Ok(ItemOutcome::Updated { .. }) => self.updated += 1,
            Ok(ItemOutcome::Unchanged) => self.unchanged += 1,
            Ok(ItemOutcome::Rejected { reason }) => {
                self.rejected += 1;
                if self.rejections.len() < MAX_REPORTED_REJECTIONS {
                    self.rejections.push((item_id, reason.clone()));
                }
            }
            Ok(ItemOutcome::QuotaReached) => {
                self.quota_reached = true;
                self.waiting_for_quota += 1;
            }
            Ok(ItemOutcome::Busy) => self.busy += 1,
            Err(_) => self.errors += 1,
        }
    }
}

/// Per-pass state: images uploaded (URL + use case → TikTok uri), category attributes, items done.
#[derive(Default)]
struct Pass {
    images: HashMap<(String, &'static str), String>,
    attributes: HashMap<String, Option<CategoryAttributes>>,
    done: HashSet<i64>,
    quota_exhausted: bool,
    report: ExportReport,
}

/// Problems as one line of text for a mapping (`path CODE: message; ...`). Pure.
pub fn problems_text(problems: &[Problem]) -> String {
    problems
        .iter()
        .filter(|p| p.is_error())
        .map(|p| format!("{} {}: {}", p.path, p.code, p.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Per top-level property, a short hash of what an edit would send — stock, prices and SKU ids left
/// out (those are not content: [`crate::stock`] pushes them, TikTok assigns the ids). Pure.
pub fn fingerprint(request: &ProductRequest) -> Vec<(&'static str, String)> {
    fn h(v: impl serde::Serialize) -> String {
        let bytes = serde_json::to_vec(&v).unwrap_or_default();
        let digest = Sha256::digest(&bytes);
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }
    let skus: Vec<_> = request
        .skus
        .iter()
        .map(|s| tts_tiktok::model::product::Sku {
            id: None,
            price: None,
            list_price: None,
            inventory: Vec::new(),
            ..s.clone()
        })
        .collect();
    vec![
        ("title", h(&request.title)),
        ("description", h(&request.description)),
        ("category_id", h(&request.category_id)),
        ("brand_id", h(&request.brand_id)),
        ("main_images", h(&request.main_images)),
        ("skus", h(&skus)),
        ("package_weight", h(&request.package_weight)),
        ("package_dimensions", h(&request.package_dimensions)),
        ("product_attributes", h(&request.product_attributes)),
    ]
}

/// `name=hash;...` as stored. Pure.
pub fn encode_fingerprint(fp: &[(&'static str, String)]) -> String {
    fp.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(";")
}

/// The properties whose fingerprint differs from `stored` (a property missing there counts as
/// changed). Pure.
pub fn changed_properties(stored: &str, current: &[(&'static str, String)]) -> HashSet<&'static str> {
    let old: HashMap<&str, &str> = stored.split(';').filter_map(|kv| kv.split_once('=')).collect();
    current
        .iter()
        .filter(|(k, v)| old.get(k) != Some(&v.as_str()))
        .map(|(k, _)| *k)
        .collect()
}

/// A partial edit carrying the `changed` properties of `current`. Pure.
pub fn partial_edit_of(changed: &HashSet<&'static str>, current: &ProductRequest) -> ProductPartialEdit {
    let pick = |k: &str| changed.contains(k);
    ProductPartialEdit {
        title: pick("title").then(|| current.title.clone()),
        description: pick("description").then(|| current.description.clone()),
        brand_id: pick("brand_id").then(|| current.brand_id.clone()).flatten(),
        main_images: pick("main_images").then(|| current.main_images.clone()),
        skus: pick("skus").then(|| current.skus.clone()),
        package_weight: pick("package_weight")
            .then(|| current.package_weight.clone())
            .flatten(),
        package_dimensions: pick("package_dimensions")
            .then(|| current.package_dimensions.clone())
            .flatten(),
        product_attributes: pick("product_attributes").then(|| current.product_attributes.clone()),
        external_product_id: None,
    }
}

/// The partial edit with the properties whose fingerprint differs from `stored` (`None`: nothing
/// changed). Pure.
pub fn partial_edit_since(stored: &str, current: &ProductRequest) -> Option<ProductPartialEdit> {
    let changed = changed_properties(stored, &fingerprint(current));
    (!changed.is_empty()).then(|| partial_edit_of(&changed, current))
}

/// The day number (UTC) of a Unix time and the creates counted for it in a `<day>:<count>` cursor.
/// Pure.
pub fn creates_today(cursor: Option<&str>, now: i64) -> (i64, u32) {
    let today = now.div_euclid(86_400);
    let count = cursor
        .and_then(|c| c.split_once(':'))
        .filter(|(day, _)| day.parse::<i64>().ok() == Some(today))
        .and_then(|(_, n)| n.parse::<u32>().ok())
        .unwrap_or(0);
    (today, count)
}

/// A multipart/form-data body for `images.upload` (`data` = the file, `use_case`). Pure.
pub fn image_upload_body(bytes: &[u8], use_case: &str, boundary: &str) -> (String, Vec<u8>) {
    let mut body = Vec::with_capacity(bytes.len() + 400);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"data\"; filename=\"image\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(
        format!(
            "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"use_case\"\r\n\r\n{use_case}\r\n--{boundary}--\r\n"
        )
        .as_bytes(),
    );
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Exports PlentyONE items to TikTok products.
pub struct ProductExporter {
    store: Arc<dyn Store>,
    tiktok: TikTokClient,
    plenty: PlentyClient,
    configs: crate::settings::ShopSettings<ShopExport>,
    reservations: Arc<dyn Reservations>,
    pushed: Arc<PushedValues>,
    http: reqwest::Client,
    owner: String,
    settings: ExportSettings,
}

impl ProductExporter {
    /// `reservations`: units per variation in orders imported but not yet booked in PlentyONE (the
    /// oversell guard, see [`crate::stock`]); `pushed`: shared with the [`crate::stock::StockPusher`]
    /// so the stock and prices sent with a create are not sent again.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Arc<dyn Store>,
        tiktok: TikTokClient,
        plenty: PlentyClient,
        shops: Vec<ShopExport>,
        reservations: Arc<dyn Reservations>,
        pushed: Arc<PushedValues>,
        owner: impl Into<String>,
        settings: ExportSettings,
    ) -> Result<Self> {
        if settings.page_size == 0 || settings.page_size > 250 {
            return Err(Error::invalid_argument("pageSize", "must be within 1..=250"));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| Error::new(ErrorCode::Internal, format!("HTTP client: {e}")))?;
        Ok(ProductExporter {
            store,
            tiktok,
            plenty,
            configs: crate::settings::ShopSettings::new(
                "product export",
                shops.into_iter().map(|s| (s.mapping.shop_id.clone(), s)),
            ),
            reservations,
            pushed,
            http,
            owner: owner.into(),
            settings,
        })
    }

    /// Adds or replaces a shop's settings.
    pub fn set_shop(&self, shop: ShopExport) {
        self.configs.set(shop.mapping.shop_id.clone(), shop);
    }

    fn config(&self, shop_id: &str) -> Result<Arc<ShopExport>> {
        self.configs.get(shop_id)
    }

    /// One export pass up to the second `now`: the backlog, then every item changed since the cursor.
    /// The cursor advances to `now` only when no item failed (failed items are tried again by the next
    /// pass; pending and rejected ones are in the backlog).
    pub async fn export(&self, shop_id: &str, now: i64) -> Result<ExportReport> {
        let config = self.config(shop_id)?;
        let mut pass = Pass::default();

        let backlog = self.collect_backlog(shop_id).await?;
        progress::set_phase("backlog");
        progress::add_total(backlog.len() as u64);
        for (item_id, has_product) in backlog {
            progress::advance(1);
            if pass.done.contains(&item_id) {
                continue;
            }
            if !has_product && self.quota_left(shop_id, &config, now).await? == 0 {
                // No reads and no TikTok calls for items that cannot be created today.
                pass.done.insert(item_id);
                pass.report.quota_reached = true;
                pass.report.waiting_for_quota += 1;
                continue;
            }
            let outcome = self.export_item_in(&config, item_id, now, &mut pass).await;
            self.log_outcome(shop_id, item_id, &outcome);
            pass.report.count(item_id, &outcome);
        }

        // The window.
        let from = match self.store.get_cursor(shop_id, PRODUCTS_CURSOR).await? {
            Some(c) => Some(c.position.parse::<i64>().map_err(|_| {
                Error::new(
                    ErrorCode::Store,
                    format!("cursor {PRODUCTS_CURSOR} of shop {shop_id} is not a timestamp"),
                )
            })?),
            None => None,
        };
        let query = ItemVariationQuery {
            related_updated_between: from
                .map(|f| TimeWindow::new((f - self.settings.overlap_secs).to_string(), now.to_string())),
            items_per_page: Some(self.settings.page_size),
            ..Default::default()
        };
        progress::set_phase("changed variations");
        let mut changed = progress::counted(Box::pin(self.plenty.item_variations(&query)?));
        let mut failed = 0;
        while let Some(v) = changed.try_next().await? {
            pass.report.read += 1;
            progress::advance(1);
            if !pass.done.insert(v.item_id) {
                continue;
            }
            let outcome = self.export_item_in(&config, v.item_id, now, &mut pass).await;
            self.log_outcome(shop_id, v.item_id, &outcome);
            if matches!(outcome, Err(_) | Ok(ItemOutcome::Busy)) {
                progress::error();
                failed += 1;
            }
            pass.report.count(v.item_id, &outcome);
        }
        if failed == 0 {
            self.store
                .set_cursor(shop_id, PRODUCTS_CURSOR, &now.to_string())
                .await?;
            pass.report.cursor_advanced = true;
        }
        Ok(pass.report)
    }

    /// Items to try again: pending (quota, interrupted creates) and error (rejected) mappings, at
    /// most [`ExportSettings::backlog_per_pass`] items, continuing where the previous pass stopped
    /// (cursor [`BACKLOG_CURSOR`]: `<status>:<last variation id>`) so a long backlog is worked
    /// through in turn, then from the start again.
    async fn collect_backlog(&self, shop_id: &str) -> Result<Vec<(i64, bool)>> {
        const STATUSES: [SyncStatus; 2] = [SyncStatus::Pending, SyncStatus::Error];
        let saved = self.store.get_cursor(shop_id, BACKLOG_CURSOR).await?;
        let (first, mut after) = saved
            .as_ref()
            .and_then(|c| c.position.split_once(':'))
            .and_then(|(s, id)| {
                Some((
                    STATUSES.iter().position(|x| x.as_str() == s)?,
                    id.parse::<i64>().ok()?,
                ))
            })
            .map_or((0, None), |(i, id)| (i, Some(id)));
        let budget = self.settings.backlog_per_pass;
        let mut backlog: Vec<(i64, bool)> = Vec::new();
        let mut seen: HashSet<i64> = HashSet::new();
        let mut stopped_at: Option<(SyncStatus, i64)> = None;
        'statuses: for status in STATUSES.iter().skip(first) {
            loop {
                let page = self
                    .store
                    .list_product_mappings(&ProductMappingQuery {
                        shop_id: shop_id.to_string(),
                        status: Some(*status),
                        after_variation_id: after,
                        limit: 500,
                    })
                    .await?;
                let Some(last) = page.last().map(|m| m.plenty_variation_id) else {
                    break;
                };
                for m in &page {
                    // Errors a new export cannot fix are left alone: a variation no longer sent,
                    // a stock push TikTok refused (see `crate::stock`).
                    let unfixable = m.sync_error.as_deref().is_some_and(|e| {
                        e.starts_with(NOT_EXPORTED) || e.starts_with(crate::stock::STOCK_REFUSED)
                    });
                    if !unfixable && seen.insert(m.plenty_item_id) {
                        backlog.push((m.plenty_item_id, m.tiktok_product_id.is_some()));
                        if backlog.len() >= budget {
                            stopped_at = Some((*status, m.plenty_variation_id));
                            break 'statuses;
                        }
                    }
                }
                after = Some(last);
            }
            after = None;
        }
        let position = match stopped_at {
            Some((status, id)) => format!("{}:{id}", status.as_str()),
            None => "start".to_string(),
        };
        if saved.as_ref().map(|c| c.position.as_str()) != Some(position.as_str()) {
            self.store.set_cursor(shop_id, BACKLOG_CURSOR, &position).await?;
        }
        Ok(backlog)
    }

    fn log_outcome(&self, shop_id: &str, item_id: i64, outcome: &Result<ItemOutcome>) {
        match outcome {
            Ok(o) => tracing::debug!(shop = %shop_id, item = item_id, outcome = ?o, "item exported"),
            Err(e) => {
                tracing::warn!(shop = %shop_id, item = item_id, code = %e.code(), error = %e, "item export failed")
            }
        }
    }

    /// Exports one item now (e.g. a manual trigger), outside a pass.
    pub async fn export_item(&self, shop_id: &str, item_id: i64, now: i64) -> Result<ItemOutcome> {
        let config = self.config(shop_id)?;
        let mut pass = Pass::default();
        self.export_item_in(&config, item_id, now, &mut pass).await
    }

    async fn export_item_in(
        &self,
        config: &ShopExport,
        item_id: i64,
        now: i64,
        pass: &mut Pass,
    ) -> Result<ItemOutcome> {
        pass.done.insert(item_id);
        let shop_id = config.mapping.shop_id.as_str();
        let lease = format!("product:{shop_id}:{item_id}");
        let holder = format!("{}:{:016x}", self.owner, rand::random::<u64>());
        if !self
            .store
            .acquire_lease(&lease, &holder, self.settings.lease)
            .await?
        {
            return Ok(ItemOutcome::Busy);
        }
        let result = self.export_item_locked(config, item_id, now, pass).await;
        let _ = self.store.release_lease(&lease, &holder).await;
        result
    }

    async fn export_item_locked(
        &self,
        config: &ShopExport,
        item_id: i64,
        now: i64,
        pass: &mut Pass,
    ) -> Result<ItemOutcome> {
        let shop_id = config.mapping.shop_id.as_str();
        let query = ItemVariationQuery {
            item_id: Some(item_id),
            with: VARIATION_WITH.iter().map(|s| s.to_string()).collect(),
            items_per_page: Some(250),
            ..Default::default()
        };
        let variations: Vec<Variation> = self.plenty.item_variations(&query)?.try_collect().await?;
        pass.report.read += variations.len();
        // PlentyONE's itemId filter is trusted, but a stray row must never join another product.
        let mut variations: Vec<Variation> =
            variations.into_iter().filter(|v| v.item_id == item_id).collect();
        // Texts come with `item` on some systems only: else read the main variation's texts.
        let has_texts =
            |v: &Variation| !v.texts.is_empty() || v.item.as_ref().is_some_and(|i| !i.texts.is_empty());
        if !variations.is_empty() && !variations.iter().any(has_texts) {
            let main = variations.iter().position(|v| v.is_main).unwrap_or(0);
            let main_id = variations[main].id;
            variations[main].texts = self.plenty.item_texts(item_id, main_id).await?;
        }

        let mut mappings: HashMap<i64, ProductMapping> = HashMap::new();
        for v in &variations {
            if let Some(m) = self.store.get_product_mapping(shop_id, v.id).await? {
                mappings.insert(v.id, m);
            }
        }
        let product_id = mappings.values().find_map(|m| m.tiktok_product_id.clone());
        let mode = match product_id {
            Some(_) => WriteMode::Edit,
            None => WriteMode::Create,
        };
        if variations.is_empty() {
            return Ok(ItemOutcome::Unchanged);
        }
        if mode == WriteMode::Create && self.quota_left(shop_id, config, now).await? == 0 {
            pass.quota_exhausted = true;
            let reason = format!(
                "waiting for TikTok's daily listing quota ({} new products a day)",
                config.max_creates_per_day
            );
            self.write_status(
                shop_id,
                &variations,
                &mappings,
                SyncStatus::Pending,
                Some(reason),
                config.mapping.seller_sku_source,
            )
            .await?;
            return Ok(ItemOutcome::QuotaReached);
        }

        let ids: Vec<i64> = variations.iter().map(|v| v.id).collect();
        let reserved = self.reservations.reserved(shop_id, &ids).await?;
        let warehouses: Vec<String> = config
            .mapping
            .inventory
            .warehouses
            .tiktok_warehouses()
            .into_iter()
            .map(str::to_string)
            .collect();
        let mut ctx = ProductContext {
            reserved: reserved
                .iter()
                .map(|(v, units)| (*v, reserved_per_warehouse(*units, &warehouses)))
                .collect::<HashMap<i64, HashMap<String, Decimal>>>(),
            existing_sku_ids: mappings
                .iter()
                .filter_map(|(v, m)| m.tiktok_sku_id.clone().map(|s| (*v, s)))
                .collect(),
            ..Default::default()
        };

        // Map and validate with stand-in image uris (`plenty:<url>`) first: an item that cannot go
        // uploads nothing, and the content fingerprint names the PlentyONE images, not TikTok's uris
        // (a new upload of the same image gets a new uri).
        let shop = self.tiktok.shop(shop_id)?;
        let draft = map_product(&variations, &config.mapping, &ctx);
        let attributes = match &draft.category {
            Some(c) => {
                self.category_attributes(&shop, c.tiktok_category_id(), pass)
                    .await?
            }
            None => None,
        };
        let mut source_ctx = ctx.clone();
        for upload in &draft.images_to_upload {
            let stand_in = format!("plenty:{}:{}", upload.image_id, upload.url);
            match upload.use_case {
                "ATTRIBUTE_IMAGE" => source_ctx.attribute_image_uris.insert(upload.image_id, stand_in),
                _ => source_ctx.image_uris.insert(upload.image_id, stand_in),
            };
        }
        let source = map_and_validate(
            &variations,
            &config.mapping,
            &source_ctx,
            attributes.as_ref(),
            mode,
        );
        if tts_mapping::problem::has_errors(&source.problems) {
            let reason = problems_text(&source.problems);
            return self.reject(config, &variations, &mappings, reason).await;
        }
        let content_key = format!("product.content:{item_id}");
        let fingerprints = fingerprint(&source.request);
        let fp = encode_fingerprint(&fingerprints);
        let stored = self.store.get_cursor(shop_id, &content_key).await?;
        if stored.as_ref().map(|c| c.position.as_str()) == Some(format!("{REFUSED}{fp}").as_str()) {
            // TikTok refused exactly this content before: no upload, no create, until it changes.
            let reason = mappings
                .values()
                .find_map(|m| m.sync_error.clone())
                .unwrap_or_else(|| "TikTok refused this content".into());
            return Ok(ItemOutcome::Rejected { reason });
        }
        let edit_plan = match &product_id {
            None => None,
            Some(_) => match stored {
                // After a refused edit TikTok's content is unknown: send everything.
                Some(stored) if stored.position.starts_with(REFUSED) => Some(HashSet::new()),
                Some(stored) => match changed_properties(&stored.position, &fingerprints) {
                    changed if changed.is_empty() => return Ok(ItemOutcome::Unchanged),
                    changed => Some(changed),
                },
                None => Some(HashSet::new()), // nothing known: full edit
            },
        };
        let needs_images = match &edit_plan {
            Some(changed) if !changed.is_empty() => {
                changed.contains("main_images") || changed.contains("skus")
            }
            _ => true,
        };
        if needs_images {
            for upload in &draft.images_to_upload {
                let uri = match self.upload_image(&shop, &upload.url, upload.use_case, pass).await {
                    Ok(uri) => uri,
                    // An image PlentyONE does not serve or TikTok does not take: the item waits for
                    // a change of its content (no new attempt for the same content).
                    Err(e) if is_refusal(&e) => {
                        self.store
                            .set_cursor(shop_id, &content_key, &format!("{REFUSED}{fp}"))
                            .await?;
                        let reason = format!("image {} ({}): {e}", upload.image_id, upload.use_case);
                        return self.reject(config, &variations, &mappings, reason).await;
                    }
                    Err(e) => return Err(e),
                };
                match upload.use_case {
                    "ATTRIBUTE_IMAGE" => ctx.attribute_image_uris.insert(upload.image_id, uri),
                    _ => ctx.image_uris.insert(upload.image_id, uri),
                };
            }
        } else {
            ctx = source_ctx;
        }
        let mapped = map_and_validate(&variations, &config.mapping, &ctx, attributes.as_ref(), mode);
        if tts_mapping::problem::has_errors(&mapped.problems) {
            let reason = problems_text(&mapped.problems);
            return self.reject(config, &variations, &mappings, reason).await;
        }
        // The mapper's key names the PlentyONE images, not TikTok's uris (new on every upload): a
        // create retried in a later pass, after new uploads, sends the same key.
        debug_assert_eq!(mapped.request.idempotency_key, source.request.idempotency_key);
        let mut sent_skus = true;
        // TikTok's audit state of a product adopted from an interrupted create: its audit may be
        // over already, and its webhooks found no mapping to update then.
        let mut adopted_audit: Option<(String, Vec<String>)> = None;
        let (response, outcome) = match product_id {
            None => {
                // A pending mapping without product id: an earlier attempt may have created it.
                let interrupted = mappings
                    .values()
                    .any(|m| m.tiktok_product_id.is_none() && m.sync_status == SyncStatus::Pending);
                let found = match interrupted {
                    true => self.find_by_seller_skus(&shop, &mapped.request).await?,
                    false => None,
                };
                match found {
                    Some(response) => {
                        let id = response.product_id.clone();
                        let detail: Value = shop
                            .call_id(
                                "products.get",
                                CallInput::default().path("product_id", id.clone()),
                            )
                            .await?
                            .value()?;
                        let status = detail["status"].as_str().unwrap_or("PENDING").to_string();
                        let reasons = match status.as_str() {
                            "FAILED" => audit_reasons(&detail["audit_failed_reasons"]),
                            _ => Vec::new(),
                        };
                        adopted_audit = Some((status, reasons));
                        (
                            response,
                            ItemOutcome::Created {
                                product_id: id,
                                adopted: true,
                            },
                        )
                    }
                    None => {
                        // Mapping before create: every mapping of the item `pending` (an interrupted
                        // create is adopted by the next attempt, see above).
                        for link in &mapped.skus {
                            let mut m = mappings.get(&link.variation_id).cloned().unwrap_or_else(|| {
                                ProductMapping::pending(shop_id, item_id, link.variation_id)
                            });
                            m.sync_status = SyncStatus::Pending;
                            m.sync_error = Some("being created on TikTok".into());
                            m.seller_sku = Some(link.seller_sku.clone());
                            self.store.upsert_product_mapping(&m).await?;
                        }
                        self.reserve_create(shop_id, config, now).await?;
                        let body = serde_json::to_value(&mapped.request).expect("plain struct serializes");
                        let mut input = CallInput::json(&body);
                        input.idempotency_key = mapped.request.idempotency_key.clone();
                        let response = match shop.call_id("products.create", input).await {
                            Ok(envelope) => envelope.decode::<ProductWriteResponse>("create product")?,
                            Err(e) if is_refusal(&e) => {
                                self.store
                                    .set_cursor(shop_id, &content_key, &format!("{REFUSED}{fp}"))
                                    .await?;
                                return self
                                    .reject(config, &variations, &mappings, format!("TikTok: {e}"))
                                    .await;
                            }
                            Err(e) => return Err(e),
                        };
                        let id = response.product_id.clone();
                        (
                            response,
                            ItemOutcome::Created {
                                product_id: id,
                                adopted: false,
                            },
                        )
                    }
                }
            }
            Some(product_id) => {
                let mut request = mapped.request.clone();
                request.idempotency_key = None;
                let changed = edit_plan.unwrap_or_default();
                // Partial Edit cannot change the category (SDK: no `category_id` in its body).
                let (op, body, partial) = if changed.is_empty() || changed.contains("category_id") {
                    ("products.edit", serde_json::to_value(&request), false)
                } else {
                    sent_skus = changed.contains("skus");
                    let edit = partial_edit_of(&changed, &request);
                    ("products.partial_edit", serde_json::to_value(&edit), true)
                };
                let body = body.expect("plain struct serializes");
                let input = CallInput::json(&body).path("product_id", product_id.clone());
                let response = match shop.call_id(op, input).await {
                    Ok(envelope) => envelope.decode::<ProductWriteResponse>("edit product")?,
                    Err(e) if is_refusal(&e) => {
                        self.store
                            .set_cursor(shop_id, &content_key, &format!("{REFUSED}{fp}"))
                            .await?;
                        return self
                            .reject(config, &variations, &mappings, format!("TikTok: {e}"))
                            .await;
                    }
                    Err(e) => return Err(e),
                };
                let response = ProductWriteResponse {
                    product_id: if response.product_id.is_empty() {
                        product_id.clone()
                    } else {
                        response.product_id
                    },
                    ..response
                };
                (response, ItemOutcome::Updated { product_id, partial })
            }
        };

        // Mappings: one per variation sent, SKU ids matched by seller SKU.
        let mut sent_values = Vec::with_capacity(mapped.skus.len());
        let sku_ids: HashMap<&str, &str> = response
            .skus
            .iter()
            .map(|s| (s.seller_sku.as_str(), s.id.as_str()))
            .collect();
        for link in &mapped.skus {
            let mut m = mappings
                .get(&link.variation_id)
                .cloned()
                .unwrap_or_else(|| ProductMapping::pending(shop_id, item_id, link.variation_id));
            m.tiktok_product_id = Some(response.product_id.clone());
            if let Some(id) = sku_ids.get(link.seller_sku.as_str()) {
                m.tiktok_sku_id = Some(id.to_string());
            }
            m.seller_sku = Some(link.seller_sku.clone());
            m.sync_status = SyncStatus::Synced;
            m.sync_error = None;
            m.last_synced_at = Some(now_seconds());
            (m.audit_status, m.audit_reasons) = match &adopted_audit {
                Some((status, reasons)) => (Some(status.clone()), reasons.clone()),
                None => (Some("PENDING".into()), Vec::new()),
            };
            self.store.upsert_product_mapping(&m).await?;
            // What the create/edit set on TikTok: the stock pass need not send it again.
            if let (Some(sku_id), Some(sku)) = (
                m.tiktok_sku_id.as_deref(),
                mapped
                    .request
                    .skus
                    .iter()
                    .find(|s| s.seller_sku == link.seller_sku),
            ) {
                let sent = sent_skus && !matches!(outcome, ItemOutcome::Created { adopted: true, .. });
                if sent {
                    sent_values.push((
                        sku_id.to_string(),
                        Some(sku.inventory.clone()),
                        sku.price.as_ref().map(|p| p.amount.clone()),
                    ));
                }
            }
        }
        // Kept in the store, so no stock pass (of this worker or a restarted one) sends them again.
        self.pushed
            .save(self.store.as_ref(), shop_id, sent_values)
            .await?;
        // Variations no longer sent (inactive, or left out as attribute-less parent).
        for (variation_id, m) in &mappings {
            if !mapped.skus.iter().any(|l| l.variation_id == *variation_id)
                && m.sync_status != SyncStatus::Error
            {
                let mut m = m.clone();
                m.sync_status = SyncStatus::Error;
                m.sync_error = Some(format!(
                    "{NOT_EXPORTED} (inactive or a parent without attributes)"
                ));
                self.store.upsert_product_mapping(&m).await?;
            }
        }
        self.store.set_cursor(shop_id, &content_key, &fp).await?;
        Ok(outcome)
    }

    /// Every mapping of the item in `error` with `reason`; nothing is sent.
    async fn reject(
        &self,
        config: &ShopExport,
        variations: &[Variation],
        mappings: &HashMap<i64, ProductMapping>,
        reason: String,
    ) -> Result<ItemOutcome> {
        self.write_status(
            &config.mapping.shop_id,
            variations,
            mappings,
            SyncStatus::Error,
            Some(reason.clone()),
            config.mapping.seller_sku_source,
        )
        .await?;
        Ok(ItemOutcome::Rejected { reason })
    }

    async fn write_status(
        &self,
        shop_id: &str,
        variations: &[Variation],
        mappings: &HashMap<i64, ProductMapping>,
        status: SyncStatus,
        error: Option<String>,
        source: SellerSkuSource,
    ) -> Result<()> {
        for v in variations {
            let mut m = mappings
                .get(&v.id)
                .cloned()
                .unwrap_or_else(|| ProductMapping::pending(shop_id, v.item_id, v.id));
            m.sync_status = status;
            m.sync_error = error.clone();
            if m.seller_sku.is_none() {
                m.seller_sku = Some(seller_sku(v, source)).filter(|s| !s.is_empty());
            }
            self.store.upsert_product_mapping(&m).await?;
        }
        Ok(())
    }

    async fn category_attributes(
        &self,
        shop: &Shop,
        category_id: &str,
        pass: &mut Pass,
    ) -> Result<Option<CategoryAttributes>> {
        if let Some(cached) = pass.attributes.get(category_id) {
            return Ok(cached.clone());
        }
        let input = CallInput::default().path("category_id", category_id);
        let attributes = match shop.call_id("categories.attributes", input).await {
            Ok(envelope) => Some(envelope.decode::<CategoryAttributes>("category attributes")?),
            // Unknown or non-leaf category: the create answers with the reason; validate without.
            Err(e) if is_refusal(&e) => None,
            Err(e) => return Err(e),
        };
        pass.attributes
            .insert(category_id.to_string(), attributes.clone());
        Ok(attributes)
    }

    async fn upload_image(
        &self,
        shop: &Shop,
        url: &str,
        use_case: &'static str,
        pass: &mut Pass,
    ) -> Result<String> {
        if let Some(uri) = pass.images.get(&(url.to_string(), use_case)) {
            return Ok(uri.clone());
        }
        if url.is_empty() {
            return Err(Error::invalid_argument(
                "images.url",
                "a PlentyONE image has no URL",
            ));
        }
        let answer = self.http.get(url).send().await.map_err(|e| {
            Error::new(
                ErrorCode::Network,
                format!("downloading a PlentyONE image failed: {e}"),
            )
            .with_field("url")
        })?;
        if !answer.status().is_success() {
            let code = match answer.status().as_u16() {
                404 => ErrorCode::NotFound,
                s if s >= 500 => ErrorCode::ServiceUnavailable,
                _ => ErrorCode::InvalidResponse,
            };
            return Err(Error::new(
                code,
                format!("PlentyONE image download answered {}", answer.status()),
            )
            .with_field("url"));
        }
        let bytes = answer.bytes().await.map_err(|e| {
            Error::new(
                ErrorCode::Network,
                format!("reading a PlentyONE image failed: {e}"),
            )
            .with_field("url")
        })?;
        let boundary = format!("tts{:016x}", rand::random::<u64>());
        let (content_type, body) = image_upload_body(&bytes, use_case, &boundary);
        let input = CallInput {
            body: Some(RequestBody::Multipart {
                content_type,
                bytes: body,
            }),
            ..Default::default()
        };
        let envelope = shop.call_id("images.upload", input).await?;
        let uploaded: Value = envelope.value()?;
        let uri = uploaded["uri"]
            .as_str()
            .filter(|u| !u.is_empty())
            .ok_or_else(|| {
                Error::new(ErrorCode::InvalidResponse, "image upload answered without a uri")
                    .with_field("data.uri")
            })?
            .to_string();
        if pass.images.len() >= MAX_CACHED_IMAGES {
            pass.images.clear();
        }
        pass.images.insert((url.to_string(), use_case), uri.clone());
        pass.report.images_uploaded += 1;
        Ok(uri)
    }

    /// A product on TikTok holding one of the request's seller SKUs (an earlier create whose answer
    /// was lost), as a write response.
    async fn find_by_seller_skus(
        &self,
        shop: &Shop,
        request: &ProductRequest,
    ) -> Result<Option<ProductWriteResponse>> {
        let skus: Vec<&str> = request.skus.iter().map(|s| s.seller_sku.as_str()).collect();
        let body = json!({ "status": "ALL", "seller_skus": skus });
        let page = shop
            .fetch_page(
                tts_tiktok::operations::Operation::find("products.search").expect("in the table"),
                CallInput::json(&body),
                20,
                None,
            )
            .await?;
        let products: Vec<Value> = page.decode_items("products")?;
        let Some(p) = products.into_iter().next() else {
            return Ok(None);
        };
        let skus = p["skus"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| tts_tiktok::model::product::CreatedSku {
                id: json_id(&s["id"]),
                seller_sku: s["seller_sku"].as_str().unwrap_or_default().to_string(),
                ..Default::default()
            })
            .collect();
        Ok(Some(ProductWriteResponse {
            product_id: json_id(&p["id"]),
            skus,
            warnings: Vec::new(),
        }))
    }

    async fn quota_left(&self, shop_id: &str, config: &ShopExport, now: i64) -> Result<u32> {
        let cursor = self.store.get_cursor(shop_id, CREATES_CURSOR).await?;
        let (_, used) = creates_today(cursor.as_ref().map(|c| c.position.as_str()), now);
        Ok(config.max_creates_per_day.saturating_sub(used))
    }

    /// Counts a create before it is sent (over-counts on a crash, never under-counts).
    async fn reserve_create(&self, shop_id: &str, config: &ShopExport, now: i64) -> Result<()> {
        let cursor = self.store.get_cursor(shop_id, CREATES_CURSOR).await?;
        let (today, used) = creates_today(cursor.as_ref().map(|c| c.position.as_str()), now);
        if used >= config.max_creates_per_day {
            return Err(Error::new(
                ErrorCode::RateLimited,
                format!(
                    "daily listing quota of shop {shop_id} used up ({} a day)",
                    config.max_creates_per_day
                ),
            )
            .with_field("maxCreatesPerDay"));
        }
        self.store
            .set_cursor(shop_id, CREATES_CURSOR, &format!("{today}:{}", used + 1))
            .await
    }

    /// Brings the audit status of a product's mappings up to TikTok's current state (`products.get`:
    /// status and, when FAILED, the audit reasons). Returns the status applied, `None` when no mapping
    /// has this product.
    pub async fn apply_product_status(&self, shop_id: &str, product_id: &str) -> Result<Option<String>> {
        self.apply_status(shop_id, product_id, None).await
    }

    /// Applies a PRODUCT_AUDIT_STATUS_CHANGE (webhook 37): its status and `audit_failed_reasons`
    /// go on the product's mappings as they are, without reading the product, when the event
    /// carries both and is newer than what the mappings hold ([`audit_event_is_current`]); else
    /// like [`apply_product_status`](Self::apply_product_status) (`products.get`).
    pub async fn apply_audit_event(
        &self,
        shop_id: &str,
        event: &tts_tiktok::webhook::ProductAuditStatusChange,
    ) -> Result<Option<String>> {
        self.apply_status(shop_id, &event.product_id, Some(event)).await
    }

    async fn apply_status(
        &self,
        shop_id: &str,
        product_id: &str,
        event: Option<&tts_tiktok::webhook::ProductAuditStatusChange>,
    ) -> Result<Option<String>> {
        let mappings = self
            .store
            .find_product_mappings_by_tiktok_product(shop_id, product_id)
            .await?;
        let Some(item_id) = mappings.first().map(|m| m.plenty_item_id) else {
            return Ok(None);
        };
        // The item's lease: an export writing the same mappings must not be overwritten (or
        // overwrite this) with a stale copy. Busy is transient: the inbox retries the event.
        let lease = format!("product:{shop_id}:{item_id}");
        let holder = format!("{}:{:016x}", self.owner, rand::random::<u64>());
        if !self
            .store
            .acquire_lease(&lease, &holder, self.settings.lease)
            .await?
        {
            return Err(Error::new(
                ErrorCode::RateLimited,
                format!("item {item_id} is being exported by another worker"),
            )
            .with_retry_after(Duration::from_secs(1)));
        }
        let result = self.apply_status_locked(shop_id, product_id, event).await;
        let _ = self.store.release_lease(&lease, &holder).await;
        result
    }

    async fn apply_status_locked(
        &self,
        shop_id: &str,
        product_id: &str,
        event: Option<&tts_tiktok::webhook::ProductAuditStatusChange>,
    ) -> Result<Option<String>> {
        let mappings = self
            .store
            .find_product_mappings_by_tiktok_product(shop_id, product_id)
            .await?;
        let audit_key = format!("{AUDIT_CURSOR_PREFIX}{product_id}");
        let applied = self
            .store
            .get_cursor(shop_id, &audit_key)
            .await?
            .and_then(|c| c.position.parse::<i64>().ok());
        if let Some(e) = event {
            let written = mappings.iter().filter_map(|m| m.last_synced_at).max();
            if audit_event_is_current(e, written, applied)
                && let (Some(status), Some(reasons), Some(update_time)) =
                    (e.status.clone(), e.audit_failed_reasons.as_ref(), e.update_time)
            {
                let reasons = audit_reasons(&serde_json::to_value(reasons).unwrap_or_default());
                for mut m in mappings {
                    m.audit_status = Some(status.clone());
                    m.audit_reasons = reasons.clone();
                    self.store.upsert_product_mapping(&m).await?;
                }
                self.store
                    .set_cursor(shop_id, &audit_key, &update_time.to_string())
                    .await?;
                return Ok(Some(status));
            }
        }
        let shop = self.tiktok.shop(shop_id)?;
        let detail: Value = shop
            .call_id(
                "products.get",
                CallInput::default().path("product_id", product_id),
            )
            .await?
            .value()?;
        let status = detail["status"].as_str().unwrap_or_default().to_string();
        let reasons = audit_reasons(&detail["audit_failed_reasons"]);
        for mut m in mappings {
            m.audit_status = Some(status.clone());
            m.audit_reasons = if status == "FAILED" {
                reasons.clone()
            } else {
                Vec::new()
            };
            self.store.upsert_product_mapping(&m).await?;
        }
        // TikTok's time of the state just applied: an older audit event cannot overwrite it.
        if let Some(t) = detail["update_time"].as_i64().filter(|t| Some(*t) > applied) {
            self.store.set_cursor(shop_id, &audit_key, &t.to_string()).await?;
        }
        Ok(Some(status))
    }
}

/// Prefix of the cursor kind holding, per TikTok product, the `update_time` of the audit state last
/// applied to its mappings (`product.audit:<product id>`).
pub const AUDIT_CURSOR_PREFIX: &str = "product.audit:";

/// True when a PRODUCT_AUDIT_STATUS_CHANGE can be applied as it is, without reading the product:
/// it carries a status, `audit_failed_reasons` (an empty list counts: an approval) and an
/// `update_time` later than both the last write of the product's mappings (`written`, our clock:
/// an export sends a new version, whose audit comes later) and the audit state last applied
/// (`applied`, TikTok's clock). Anything else (a duplicate, an event of the same second, one
/// delivered late) is answered by `products.get`, which is always current. Pure.
pub fn audit_event_is_current(
    event: &tts_tiktok::webhook::ProductAuditStatusChange,
    written: Option<i64>,
    applied: Option<i64>,
) -> bool {
    let Some(t) = event.update_time.filter(|t| *t > 0) else {
        return false;
    };
    event.status.as_deref().is_some_and(|s| !s.is_empty())
        && event.audit_failed_reasons.is_some()
        && written.is_none_or(|w| t > w)
        && applied.is_none_or(|a| t > a)
}

/// The seller SKU of a variation as the mapper builds it (its own function is private). Pure.
pub fn seller_sku(v: &Variation, source: SellerSkuSource) -> String {
    match source {
        SellerSkuSource::Number => v.number.clone().unwrap_or_default().trim().to_string(),
        SellerSkuSource::VariationId => v.id.to_string(),
        SellerSkuSource::ExternalId => v.external_id.clone().unwrap_or_default().trim().to_string(),
    }
}

/// True when TikTok answered a write with a refusal (the write did not happen). A transient error
/// or an answer that could not be read (`TTS_INVALID_RESPONSE`: it may have happened) is not one:
/// the item stays pending, and the next attempt adopts what TikTok may have created. Pure.
pub fn is_refusal(e: &Error) -> bool {
    !is_transient(e.code()) && e.code() != ErrorCode::InvalidResponse
}

fn json_id(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// TikTok's `audit_failed_reasons` (`[{position, reasons[], suggestions[]}]`) as lines
/// `position: reason (suggestion)`. Pure.
pub fn audit_reasons(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for entry in v.as_array().into_iter().flatten() {
        let position = entry["position"].as_str().unwrap_or("");
        let suggestions: Vec<&str> = entry["suggestions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        for reason in entry["reasons"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let mut line = match position {
                "" => reason.to_string(),
                p => format!("{p}: {reason}"),
            };
            if !suggestions.is_empty() {
                line.push_str(&format!(" ({})", suggestions.join(" ")));
            }
            out.push(line);
        }
        if let Some(text) = entry.as_str() {
            out.push(text.to_string());
        }
    }
    out
}

/// Handles product webhooks (5 PRODUCT_STATUS_CHANGE, 37 PRODUCT_AUDIT_STATUS_CHANGE): the audit
/// status on the product's mappings follows TikTok. A webhook 37 that carries its
/// `audit_failed_reasons` is applied as it is when it is newer than what the mappings hold
/// ([`audit_event_is_current`]); otherwise (webhook 5, a 37 without reasons, or one that may be
/// stale) TikTok's current state is read with `products.get`, so duplicated or out-of-order
/// webhooks cannot move the status backwards, and the audit reasons are stored with a FAILED status.
pub struct ProductEvents(pub Arc<ProductExporter>);

#[async_trait::async_trait]
impl crate::inbox::EventHandler for ProductEvents {
    async fn handle(&self, notification: &tts_tiktok::webhook::Notification) -> Result<()> {
        use tts_tiktok::webhook::Event;
        let (product_id, audit) = match &notification.event {
            Event::ProductStatusChange(e) => (&e.product_id, None),
            Event::ProductAuditStatusChange(e) => (&e.product_id, Some(e)),
            _ => return Ok(()),
        };
        if product_id.is_empty() {
            return Ok(());
        }
        let applied = match audit {
            Some(e) => self.0.apply_audit_event(&notification.shop_id, e).await?,
            None => {
                self.0
                    .apply_product_status(&notification.shop_id, product_id)
                    .await?
            }
        };
        tracing::debug!(shop = %notification.shop_id, product = %product_id, status = ?applied, "product status applied");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tts_tiktok::model::product::{Inventory, Price, Sku};

    fn request() -> ProductRequest {
        ProductRequest {
            title: "Becher".into(),
            category_id: "600031".into(),
            skus: vec![Sku {
                seller_sku: "B-1".into(),
                price: Some(Price {
                    amount: "9.90".into(),
                    currency: "EUR".into(),
                    sale_price: None,
                }),
                inventory: vec![Inventory {
                    warehouse_id: "W".into(),
                    quantity: 3,
                }],
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn fingerprints_ignore_stock_prices_and_sku_ids() {
        let old = request();
        let stored = encode_fingerprint(&fingerprint(&old));
        let mut new = old.clone();
        new.skus[0].inventory[0].quantity = 0;
        new.skus[0].price.as_mut().unwrap().amount = "8.90".into();
        new.skus[0].id = Some("1729".into());
        assert_eq!(partial_edit_since(&stored, &new), None);
        new.title = "Kaffeebecher".into();
        let edit = partial_edit_since(&stored, &new).unwrap();
        assert_eq!(edit.title.as_deref(), Some("Kaffeebecher"));
        assert!(edit.skus.is_none() && edit.description.is_none() && edit.main_images.is_none());
        new.skus[0].seller_sku = "B-2".into();
        let edit = partial_edit_since(&stored, &new).unwrap();
        assert_eq!(edit.skus.unwrap()[0].seller_sku, "B-2");
        assert!(
            partial_edit_since("", &old).is_some(),
            "nothing known: everything changed"
        );
    }

    #[test]
    fn creates_are_counted_per_utc_day() {
        let now = 20_000 * 86_400 + 5;
        assert_eq!(creates_today(None, now), (20_000, 0));
        assert_eq!(creates_today(Some("20000:7"), now), (20_000, 7));
        assert_eq!(
            creates_today(Some("19999:100"), now),
            (20_000, 0),
            "yesterday's count"
        );
        assert_eq!(creates_today(Some("garbage"), now), (20_000, 0));
    }

    #[test]
    fn only_a_readable_refusal_counts_as_refused() {
        assert!(is_refusal(&Error::new(
            ErrorCode::ApiError,
            "title must not contain HTML"
        )));
        assert!(!is_refusal(&Error::new(
            ErrorCode::InvalidResponse,
            "cut-off JSON"
        )));
        assert!(!is_refusal(&Error::new(ErrorCode::ServiceUnavailable, "503")));
        assert!(!is_refusal(&Error::new(ErrorCode::Timeout, "slow")));
    }

    #[test]
    fn an_audit_event_with_reasons_is_applied_only_when_newer_than_the_state_held() {
        let event: tts_tiktok::webhook::ProductAuditStatusChange = serde_json::from_value(json!({
            "product_id": "1", "status": "FAILED", "update_time": 100,
            "audit_failed_reasons": [{"position": "title", "reasons": ["prohibited word"]}],
        }))
        .unwrap();
        assert!(audit_event_is_current(&event, None, None));
        assert!(audit_event_is_current(&event, Some(99), Some(99)));
        assert!(
            !audit_event_is_current(&event, Some(100), None),
            "same second as our write"
        );
        assert!(
            !audit_event_is_current(&event, Some(120), None),
            "before our last write"
        );
        assert!(
            !audit_event_is_current(&event, None, Some(100)),
            "already applied"
        );
        assert!(
            !audit_event_is_current(&event, None, Some(130)),
            "a newer state is held"
        );
        let approval = tts_tiktok::webhook::ProductAuditStatusChange {
            status: Some("ACTIVATE".into()),
            audit_failed_reasons: Some(Vec::new()),
            ..event.clone()
        };
        assert!(
            audit_event_is_current(&approval, Some(99), None),
            "an empty list is an answer"
        );
        let without = |f: fn(&mut tts_tiktok::webhook::ProductAuditStatusChange)| {
            let mut e = event.clone();
            f(&mut e);
            audit_event_is_current(&e, None, None)
        };
        assert!(
            !without(|e| e.audit_failed_reasons = None),
            "no reasons: read the product"
        );
        assert!(!without(|e| e.status = None));
        assert!(!without(|e| e.update_time = None));
        let reasons = serde_json::to_value(event.audit_failed_reasons.unwrap()).unwrap();
        assert_eq!(audit_reasons(&reasons), vec!["title: prohibited word"]);
    }

    #[test]
    fn audit_reasons_become_lines() {
        let v = json!([{"position": "title", "reasons": ["prohibited word"], "suggestions": ["Remove it."]}]);
        assert_eq!(audit_reasons(&v), vec!["title: prohibited word (Remove it.)"]);
        assert!(audit_reasons(&Value::Null).is_empty());
    }

    #[test]
    fn multipart_has_the_file_and_the_use_case() {
        let (ct, body) = image_upload_body(b"\x89PNG", "MAIN_IMAGE", "XyZ");
        assert_eq!(ct, "multipart/form-data; boundary=XyZ");
        let text = String::from_utf8_lossy(&body);
        assert!(text.starts_with("--XyZ\r\nContent-Disposition: form-data; name=\"data\""));
        assert!(text.contains("name=\"use_case\"\r\n\r\nMAIN_IMAGE\r\n--XyZ--\r\n"));
    }
}
