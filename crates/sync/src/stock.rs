//! Stock and prices: PlentyONE net stock and the configured sales price of every mapped variation go
//! to its TikTok SKU.
//!
//! - **What is read**: PlentyONE variations with `stock` (every warehouse) and
//!   `variationSalesPrices`, page by page: in [`StockMode::Changed`] those whose stock, prices or
//!   data changed since the cursor (`relatedUpdatedBetween`, windows overlapping by
//!   [`StockSettings::overlap_secs`]), plus the variations whose stock rows changed in the window
//!   (stock routes' `updatedAtFrom/To`) that the variation stream did not bring, read one by one;
//!   in [`StockMode::Full`] the whole catalogue (reconciliation). [`StockPusher::push_variations`]
//!   pushes given variations at once (a trigger from a PlentyONE change).
//! - **Quantities**: [`tts_mapping::inventory::variation_inventory`] (warehouse mapping, safety
//!   buffer, never negative, ≤ 99,999) after the **oversell guard**: units of TikTok orders that
//!   are not in PlentyONE yet (its net stock cannot show them) come from a [`Reservations`] source,
//!   in production [`StoreReservations`] (see there why orders already in PlentyONE are not
//!   counted). It answers a number of units per variation; since an order's TikTok
//!   warehouse is not known here, those units are subtracted from **every** TikTok warehouse of the
//!   SKU — conservative: with several TikTok warehouses it can under-offer, never oversell.
//! - **Calls**: one `inventory.update` per TikTok product and page listing every TikTok warehouse
//!   of each SKU sent, and one `prices.update` per product and page.
//! - **Skipping**: a SKU whose quantities (or price) equal the ones last pushed is not sent. The last
//!   pushed values are kept in the store ([`Store::save_pushed_values`], one batch per page), so a
//!   restarted worker, or another one on the same store, does not send unchanged values again; the
//!   product export records what a create or edit set there too. [`PushedValues`] keeps a copy in
//!   memory, used only for SKUs the store has no record of. [`StockMode::Full`] ignores them and
//!   sends everything (it exists to repair drift). The mapping's `last_synced_at` is set on every
//!   push.

// `tts_core::Error` is large by design (code, message, status, hints); boxing it is the core's call.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use futures_util::TryStreamExt;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tts_core::{Error, ErrorCode, Result, progress};
use tts_mapping::inventory::variation_inventory;
use tts_mapping::product::{ProductMappingConfig, format_money};
use tts_plenty::api::TimeWindow;
use tts_plenty::api::stock::StockQuery;
use tts_plenty::api::variations::ItemVariationQuery;
use tts_plenty::client::Client as PlentyClient;
use tts_plenty::model::Variation;
use tts_store::{PushedQuantity, PushedSku, Store, SyncStatus, now_seconds};
use tts_tiktok::client::Client as TikTokClient;
use tts_tiktok::client::retry::is_transient;
use tts_tiktok::model::inventory::{InventoryUpdateRequest, SkuInventory};
use tts_tiktok::model::price::{PriceUpdateRequest, SkuPrice};
use tts_tiktok::model::product::{Inventory, Price};

/// Prefix of a mapping's `sync_error` when TikTok refused its stock or price.
pub const STOCK_REFUSED: &str = "TikTok refused the ";
/// Calls per endpoint waiting for their answers at once. The client still paces them at TikTok's
/// rate (50/s per endpoint); this only keeps that pace over a real network: one call at a time with
/// 100 ms round trips made 10 calls/s (the full_sync bench measured 5.4× the rate-limit floor).
const CALLS_IN_FLIGHT: usize = 16;
/// The cursor kind of the stock and price push (Unix seconds).
pub const STOCK_CURSOR: &str = "stock.related_updated_at";

/// Units per variation sold on TikTok that PlentyONE's net stock does not account for yet.
#[async_trait::async_trait]
pub trait Reservations: Send + Sync {
    async fn reserved(&self, shop_id: &str, variation_ids: &[i64]) -> Result<HashMap<i64, Decimal>>;
}

/// No reservations (no orders are imported, or tests).
pub struct NoReservations;

#[async_trait::async_trait]
impl Reservations for NoReservations {
    async fn reserved(&self, _shop_id: &str, _variation_ids: &[i64]) -> Result<HashMap<i64, Decimal>> {
        Ok(HashMap::new())
    }
}

/// A closure `(shop id, variation id) → units` as a [`Reservations`] source (tests, custom sources).
pub struct FnReservations<F>(pub F);

#[async_trait::async_trait]
impl<F> Reservations for FnReservations<F>
where
    F: Fn(&str, i64) -> Decimal + Send + Sync,
{
    async fn reserved(&self, shop_id: &str, variation_ids: &[i64]) -> Result<HashMap<i64, Decimal>> {
        Ok(variation_ids
            .iter()
            .map(|v| (*v, (self.0)(shop_id, *v)))
            .filter(|(_, units)| *units > Decimal::ZERO)
            .collect())
    }
}

/// The oversell guard's source in production: the units the order import records per variation for
/// the shop's TikTok orders that are **not in PlentyONE yet** ([`Store::reserved_units`], written
/// by [`crate::orders::OrderImporter`]; see [`crate::orders::reserved_lines`]).
///
/// Why not "orders imported but not yet booked out" (PlentyONE status below 7): PlentyONE reserves
/// the stock of an order itself as soon as the order exists — *reserved stock* is what open orders
/// hold until their outgoing items are booked (status 7) or they are cancelled, and the net stock
/// this push sends is physical minus reserved (plentymarkets manual, "Warenbestände verwalten";
/// spec C.4 `VariationStock`: `physicalStock`, `reservedStock`, `netStock`). Counting those orders
/// again would hold their units back twice. What net stock cannot show is a TikTok sale PlentyONE
/// does not know yet, and an absolute inventory update would hand those units back to TikTok:
/// - orders waiting to be imported: UNPAID (not imported by default; TikTok holds their units
///   until paid or cancelled), ON_HOLD (buyer may still cancel), younger than the minimum age;
/// - orders the import rejected (e.g. an unmapped SKU) or whose create is in flight or failed;
/// - orders not seen at all yet (webhook not processed, reconciliation not run): nothing here can
///   count those; the window is the inbox and reconciliation latency.
///
/// An order's units are released when PlentyONE has it (created, or adopted after a crash) or it
/// is cancelled. Assumed, not verified against a live system: that PlentyONE's reservation is in
/// the net stock as soon as the order is created (a delayed stock recalculation would leave a short
/// window), and that the shop uses order reservations at all (stock dependency without
/// reservation shares net stock across markets). An order never seen again keeps its units held
/// (under-offer, never oversell) until an event or a reconciliation brings it back.
pub struct StoreReservations(pub Arc<dyn Store>);

impl StoreReservations {
    pub fn new(store: Arc<dyn Store>) -> Arc<Self> {
        Arc::new(StoreReservations(store))
    }
}

#[async_trait::async_trait]
impl Reservations for StoreReservations {
    async fn reserved(&self, shop_id: &str, variation_ids: &[i64]) -> Result<HashMap<i64, Decimal>> {
        let mut out = HashMap::new();
        for chunk in variation_ids.chunks(1000) {
            for r in self.0.reserved_units(shop_id, chunk).await? {
                out.insert(r.plenty_variation_id, Decimal::from(r.quantity));
            }
        }
        Ok(out)
    }
}

/// A Unix time as W3C date-time in UTC (`2026-11-25T18:40:00+00:00`). Pure.
pub fn w3c(unix: i64) -> String {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+00:00",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Units reserved for a variation, held back in every TikTok warehouse (see the module docs). Pure.
pub fn reserved_per_warehouse(units: Decimal, tiktok_warehouses: &[String]) -> HashMap<String, Decimal> {
    tiktok_warehouses
        .iter()
        .map(|w| (w.clone(), units.max(Decimal::ZERO)))
        .collect()
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Pushed {
    inventory: Option<Vec<Inventory>>,
    price: Option<String>,
}

impl Pushed {
    fn inventory_changed(this: Option<&Pushed>, inventory: &[Inventory]) -> bool {
        this.and_then(|p| p.inventory.as_ref())
            .is_none_or(|last| *last != normalized(inventory.to_vec()))
    }

    fn price_changed(this: Option<&Pushed>, amount: &str) -> bool {
        this.and_then(|p| p.price.as_deref())
            .is_none_or(|last| last != amount)
    }
}

/// The quantities and price last sent per (shop, TikTok SKU id): in memory, and in the store with
/// [`load`](Self::load) / [`save`](Self::save).
#[derive(Default)]
pub struct PushedValues(Mutex<HashMap<(String, String), Pushed>>);

impl PushedValues {
    pub fn new() -> Arc<Self> {
        Arc::new(PushedValues::default())
    }

    /// Records what TikTok now holds; `None` leaves that part as it was.
    pub fn record(
        &self,
        shop_id: &str,
        sku_id: &str,
        inventory: Option<Vec<Inventory>>,
        price: Option<String>,
    ) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map.entry((shop_id.to_string(), sku_id.to_string())).or_default();
        if let Some(inventory) = inventory {
            entry.inventory = Some(normalized(inventory));
        }
        if let Some(price) = price {
            entry.price = Some(price);
        }
    }

    #[cfg(test)]
    fn inventory_changed(&self, shop_id: &str, sku_id: &str, inventory: &[Inventory]) -> bool {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        Pushed::inventory_changed(map.get(&(shop_id.to_string(), sku_id.to_string())), inventory)
    }

    #[cfg(test)]
    fn price_changed(&self, shop_id: &str, sku_id: &str, amount: &str) -> bool {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        Pushed::price_changed(map.get(&(shop_id.to_string(), sku_id.to_string())), amount)
    }

    /// What TikTok holds for these SKUs of the shop: the store's record (it may have been written
    /// by another worker or before a restart), else what this process recorded. The memory copy is
    /// brought up to the store's.
    async fn load(
        &self,
        store: &dyn Store,
        shop_id: &str,
        sku_ids: &[String],
    ) -> Result<HashMap<String, Pushed>> {
        let mut held = HashMap::with_capacity(sku_ids.len());
        for chunk in sku_ids.chunks(1000) {
            for v in store.get_pushed_values(shop_id, chunk).await? {
                let pushed = Pushed {
                    inventory: v.inventory.map(|list| {
                        normalized(
                            list.into_iter()
                                .map(|q| Inventory {
                                    warehouse_id: q.warehouse_id,
                                    quantity: u32::try_from(q.quantity).unwrap_or(0),
                                })
                                .collect(),
                        )
                    }),
                    price: v.price,
                };
                held.insert(v.tiktok_sku_id, pushed);
            }
        }
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        for sku in sku_ids {
            let key = (shop_id.to_string(), sku.clone());
            match held.get(sku) {
                Some(p) => {
                    map.insert(key, p.clone());
                }
                None => {
                    if let Some(p) = map.get(&key) {
                        held.insert(sku.clone(), p.clone());
                    }
                }
            }
        }
        Ok(held)
    }

    /// Records what TikTok now holds, in memory and in the store (one batch); `None` parts are left
    /// as they were.
    pub async fn save(
        &self,
        store: &dyn Store,
        shop_id: &str,
        values: Vec<(String, Option<Vec<Inventory>>, Option<String>)>,
    ) -> Result<()> {
        let mut batch = Vec::with_capacity(values.len());
        for (sku_id, inventory, price) in values {
            let inventory = inventory.map(normalized);
            batch.push(PushedSku::new(
                sku_id.clone(),
                inventory.as_ref().map(|list| {
                    list.iter()
                        .map(|i| PushedQuantity {
                            warehouse_id: i.warehouse_id.clone(),
                            quantity: i64::from(i.quantity),
                        })
                        .collect()
                }),
                price.clone(),
            ));
            self.record(shop_id, &sku_id, inventory, price);
        }
        for chunk in batch.chunks(1000) {
            store.save_pushed_values(shop_id, chunk).await?;
        }
        Ok(())
    }
}

fn normalized(mut inventory: Vec<Inventory>) -> Vec<Inventory> {
    inventory.sort_by(|a, b| a.warehouse_id.cmp(&b.warehouse_id));
    inventory
}

/// Which variations a pass looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StockMode {
    /// Changed since the cursor (all on the first run); unchanged values are not sent again.
    Changed,
    /// Every variation; every mapped SKU is sent (repairs drift on TikTok).
    Full,
}

#[derive(Clone, Debug)]
pub struct StockSettings {
    pub overlap_secs: i64,
    /// Variations per PlentyONE page (≤ 250); also the batch of one push round.
    pub page_size: u32,
    /// Push prices too (the configured sales price).
    pub prices: bool,
}

impl Default for StockSettings {
    fn default() -> Self {
        StockSettings {
            overlap_secs: 60,
            page_size: 250,
            prices: true,
        }
    }
}

/// What a stock pass did (the run summary).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StockReport {
    /// PlentyONE variations read.
    pub read: usize,
    /// Of those, variations with a TikTok SKU.
    pub mapped: usize,
    /// SKUs whose quantities were sent.
    pub stock_updates: usize,
    /// SKUs whose price was sent.
    pub price_updates: usize,
    /// `inventory.update` and `prices.update` calls made.
    pub calls: usize,
    /// SKUs with nothing new to send.
    pub unchanged: usize,
    /// Failed calls, transient (their SKUs are sent again by the next pass; the cursor stays).
    pub errors: usize,
    /// Calls TikTok refused (e.g. a product deleted there): the reason is on the mappings.
    pub refused: usize,
    pub cursor_advanced: bool,
}

impl StockReport {
    pub fn summary(&self) -> Value {
        json!({
            "read": self.read, "mapped": self.mapped, "stock_updates": self.stock_updates,
            "price_updates": self.price_updates, "calls": self.calls, "unchanged": self.unchanged,
            "errors": self.errors, "refused": self.refused, "cursor_advanced": self.cursor_advanced,
        })
    }
}

/// One mapped SKU's values to send.
#[derive(Clone, Debug, PartialEq)]
pub struct SkuState {
    pub variation_id: i64,
    pub product_id: String,
    pub sku_id: String,
    pub inventory: Vec<Inventory>,
    pub price: Option<Price>,
}

/// The quantities and price TikTok should show for a variation. Pure.
pub fn sku_state(
    variation: &Variation,
    config: &ProductMappingConfig,
    reserved_units: Decimal,
    product_id: &str,
    sku_id: &str,
) -> SkuState {
    let warehouses: Vec<String> = config
        .inventory
        .warehouses
        .tiktok_warehouses()
        .into_iter()
        .map(str::to_string)
        .collect();
    let reserved = reserved_per_warehouse(reserved_units, &warehouses);
    let price = variation
        .variation_sales_prices
        .iter()
        .find(|p| p.sales_price_id == config.sales_price_id)
        .filter(|p| p.price > Decimal::ZERO)
        .map(|p| Price {
            amount: format_money(p.price, &config.currency),
            currency: config.currency.clone(),
            sale_price: None,
        });
    SkuState {
        variation_id: variation.id,
        product_id: product_id.to_string(),
        sku_id: sku_id.to_string(),
        inventory: variation_inventory(variation, &config.inventory, &reserved),
        price,
    }
}

/// Pushes stock and prices of mapped variations to TikTok.
pub struct StockPusher {
    store: Arc<dyn Store>,
    tiktok: TikTokClient,
    plenty: PlentyClient,
    configs: crate::settings::ShopSettings<ProductMappingConfig>,
    reservations: Arc<dyn Reservations>,
    pushed: Arc<PushedValues>,
    settings: StockSettings,
}

impl StockPusher {
    pub fn new(
        store: Arc<dyn Store>,
        tiktok: TikTokClient,
        plenty: PlentyClient,
        configs: Vec<ProductMappingConfig>,
        reservations: Arc<dyn Reservations>,
        pushed: Arc<PushedValues>,
        settings: StockSettings,
    ) -> Result<Self> {
        if settings.page_size == 0 || settings.page_size > 250 {
            return Err(Error::invalid_argument("pageSize", "must be within 1..=250"));
        }
        Ok(StockPusher {
            store,
            tiktok,
            plenty,
            configs: crate::settings::ShopSettings::new(
                "stock",
                configs.into_iter().map(|c| (c.shop_id.clone(), c)),
            ),
            reservations,
            pushed,
            settings,
        })
    }

    pub fn set_shop(&self, config: ProductMappingConfig) {
        self.configs.set(config.shop_id.clone(), config);
    }

    fn config(&self, shop_id: &str) -> Result<Arc<ProductMappingConfig>> {
        self.configs.get(shop_id)
    }

    /// One pass up to the second `now`. The cursor advances (in [`StockMode::Changed`]) only when
    /// every call succeeded; a full pass sets it too, since it covered everything.
    pub async fn push(&self, shop_id: &str, mode: StockMode, now: i64) -> Result<StockReport> {
        let config = self.config(shop_id)?;
        let from = match (mode, self.store.get_cursor(shop_id, STOCK_CURSOR).await?) {
            (StockMode::Changed, Some(c)) => Some(c.position.parse::<i64>().map_err(|_| {
                Error::new(
                    ErrorCode::Store,
                    format!("cursor {STOCK_CURSOR} of shop {shop_id} is not a timestamp"),
                )
            })?),
            _ => None,
        };
        // Stock rows changed in the window, from the stock routes' own `updatedAt`: whatever the
        // variation stream below does not bring (PlentyONE may not count a booking as a "related"
        // update) is read per variation afterwards.
        let mut stock_changed: HashSet<i64> = HashSet::new();
        if let Some(f) = from {
            let rows = StockQuery {
                updated_at_from: Some(w3c(f - self.settings.overlap_secs)),
                updated_at_to: Some(w3c(now)),
                items_per_page: Some(250),
                ..Default::default()
            };
            let mut rows = Box::pin(self.plenty.stock(&rows)?);
            while let Some(row) = rows.try_next().await? {
                if let Some(v) = row.variation_id {
                    stock_changed.insert(v);
                }
            }
        }
        let query = ItemVariationQuery {
            with: vec!["stock".into(), "variationSalesPrices".into()],
            related_updated_between: from
                .map(|f| TimeWindow::new((f - self.settings.overlap_secs).to_string(), now.to_string())),
            items_per_page: Some(self.settings.page_size),
            ..Default::default()
        };
        progress::set_phase(match mode {
            StockMode::Changed => "changed variations",
            StockMode::Full => "all variations",
        });
        let mut pages = Box::pin(
            progress::counted(Box::pin(self.plenty.item_variations(&query)?))
                .try_chunks(self.settings.page_size as usize),
        );
        let mut report = StockReport::default();
        while let Some(page) = pages.try_next().await.map_err(|e| e.1)? {
            report.read += page.len();
            progress::advance(page.len() as u64);
            for v in &page {
                stock_changed.remove(&v.id);
            }
            self.push_page(shop_id, &config, mode, &page, &mut report).await?;
        }
        if !stock_changed.is_empty() {
            let mut ids: Vec<i64> = stock_changed.into_iter().collect();
            ids.sort_unstable();
            progress::set_phase("stock changed without a variation update");
            progress::add_total(ids.len() as u64);
            for chunk in ids.chunks(self.settings.page_size as usize) {
                progress::advance(chunk.len() as u64);
                self.push_stock_of(shop_id, &config, chunk, &mut report).await?;
            }
        }
        if report.errors == 0 {
            self.store
                .set_cursor(shop_id, STOCK_CURSOR, &now.to_string())
                .await?;
            report.cursor_advanced = true;
        }
        Ok(report)
    }

    /// Pushes the current stock of some variations now (e.g. when PlentyONE reports a stock change),
    /// reading each one's stock (one PlentyONE read per mapped variation). Prices are left to the
    /// passes. Unchanged quantities are not sent.
    pub async fn push_variations(&self, shop_id: &str, variation_ids: &[i64]) -> Result<StockReport> {
        let config = self.config(shop_id)?;
        let mut report = StockReport::default();
        for chunk in variation_ids.chunks(self.settings.page_size as usize) {
            self.push_stock_of(shop_id, &config, chunk, &mut report).await?;
        }
        Ok(report)
    }

    async fn push_stock_of(
        &self,
        shop_id: &str,
        config: &ProductMappingConfig,
        variation_ids: &[i64],
        report: &mut StockReport,
    ) -> Result<()> {
        let mut page = Vec::with_capacity(variation_ids.len());
        for id in variation_ids {
            let Some(m) = self.store.get_product_mapping(shop_id, *id).await? else {
                continue;
            };
            if m.tiktok_sku_id.is_none() {
                continue;
            }
            let stock = self.plenty.variation_stock(m.plenty_item_id, *id).await?;
            report.read += 1;
            page.push(Variation {
                id: *id,
                item_id: m.plenty_item_id,
                stock,
                ..Default::default()
            });
        }
        self.push_page(shop_id, config, StockMode::Changed, &page, report)
            .await
    }

    async fn push_page(
        &self,
        shop_id: &str,
        config: &ProductMappingConfig,
        mode: StockMode,
        page: &[Variation],
        report: &mut StockReport,
    ) -> Result<()> {
        let mut mapped = Vec::new();
        for v in page {
            if let Some(m) = self.store.get_product_mapping(shop_id, v.id).await?
                && let (Some(product), Some(sku)) = (m.tiktok_product_id.clone(), m.tiktok_sku_id.clone())
            {
                mapped.push((v, m, product, sku));
            }
        }
        if mapped.is_empty() {
            return Ok(());
        }
        report.mapped += mapped.len();
        let ids: Vec<i64> = mapped.iter().map(|(v, ..)| v.id).collect();
        let reserved = self.reservations.reserved(shop_id, &ids).await?;
        let held = match mode {
            StockMode::Full => HashMap::new(),
            StockMode::Changed => {
                let skus: Vec<String> = mapped.iter().map(|(.., sku)| sku.clone()).collect();
                self.pushed.load(self.store.as_ref(), shop_id, &skus).await?
            }
        };

        // Per product: SKUs to send.
        let mut stock: HashMap<String, Vec<SkuInventory>> = HashMap::new();
        let mut prices: HashMap<String, Vec<SkuPrice>> = HashMap::new();
        let mut mappings: HashMap<String, Vec<tts_store::ProductMapping>> = HashMap::new();
        for (v, m, product, sku) in mapped {
            let state = sku_state(
                v,
                config,
                reserved.get(&v.id).copied().unwrap_or_default(),
                &product,
                &sku,
            );
            let mut sent = false;
            if mode == StockMode::Full || Pushed::inventory_changed(held.get(&sku), &state.inventory) {
                stock.entry(product.clone()).or_default().push(SkuInventory {
                    id: sku.clone(),
                    inventory: state.inventory.clone(),
                });
                sent = true;
            }
            if self.settings.prices
                && let Some(price) = &state.price
                && (mode == StockMode::Full || Pushed::price_changed(held.get(&sku), &price.amount))
            {
                prices.entry(product.clone()).or_default().push(SkuPrice {
                    id: sku.clone(),
                    price: price.clone(),
                    list_price: None,
                });
                sent = true;
            }
            if sent {
                mappings.entry(product).or_default().push(m);
            } else {
                report.unchanged += 1;
            }
        }

        let shop = self.tiktok.shop(shop_id)?;
        let now = now_seconds();
        // Per product: a refusal (kept on its mappings, the cursor moves on) or a transient failure
        // (the cursor stays, the next pass sends it again).
        let mut refused: HashMap<String, String> = HashMap::new();
        let mut failed: HashSet<String> = HashSet::new();
        let mut failure = |product: &str, e: &Error, what: &str, report: &mut StockReport| {
            tracing::warn!(shop = %shop_id, product = %product, code = %e.code(), error = %e, "{what} failed");
            progress::error();
            if is_transient(e.code()) {
                report.errors += 1;
                failed.insert(product.to_string());
            } else {
                report.refused += 1;
                refused.insert(product.to_string(), format!("{STOCK_REFUSED}{what}: {e}"));
            }
        };
        // Inventory and prices are separate endpoints with separate limits on TikTok: both lists go
        // side by side, each at its own endpoint's pace (one after the other took twice as long),
        // with up to CALLS_IN_FLIGHT calls per endpoint waiting for their answers.
        use futures_util::StreamExt as _;
        let shop = &shop;
        let inventory_calls = futures_util::stream::iter(stock)
            .map(|(product, skus)| async move {
                let body = InventoryUpdateRequest { skus };
                let result = shop.update_inventory(&product, &body).await;
                (product, body, result)
            })
            .buffer_unordered(CALLS_IN_FLIGHT)
            .collect::<Vec<_>>();
        let price_calls = futures_util::stream::iter(prices)
            .map(|(product, skus)| async move {
                let body = PriceUpdateRequest { skus };
                let result = shop.update_prices(&product, &body).await;
                (product, body, result)
            })
            .buffer_unordered(CALLS_IN_FLIGHT)
            .collect::<Vec<_>>();
        let (inventory_done, prices_done) = futures_util::future::join(inventory_calls, price_calls).await;
        let mut accepted: HashMap<String, (Option<Vec<Inventory>>, Option<String>)> = HashMap::new();
        for (product, body, result) in inventory_done {
            report.calls += 1;
            match result {
                Ok(_) => {
                    report.stock_updates += body.skus.len();
                    for s in body.skus {
                        accepted.entry(s.id).or_default().0 = Some(s.inventory);
                    }
                }
                Err(e) => failure(&product, &e, "inventory update", report),
            }
        }
        for (product, body, result) in prices_done {
            report.calls += 1;
            match result {
                Ok(_) => {
                    report.price_updates += body.skus.len();
                    for s in body.skus {
                        accepted.entry(s.id).or_default().1 = Some(s.price.amount);
                    }
                }
                Err(e) => failure(&product, &e, "price update", report),
            }
        }
        // What TikTok accepted, saved in one batch (a pass that fails here sends it again: harmless).
        let accepted: Vec<_> = accepted
            .into_iter()
            .map(|(sku, (inventory, price))| (sku, inventory, price))
            .collect();
        self.pushed.save(self.store.as_ref(), shop_id, accepted).await?;
        for (product, list) in mappings {
            if failed.contains(&product) {
                continue;
            }
            for mut m in list {
                match refused.get(&product) {
                    Some(reason) => {
                        m.sync_status = SyncStatus::Error;
                        m.sync_error = Some(reason.clone());
                    }
                    None => {
                        m.last_synced_at = Some(now);
                        // A refusal of an earlier pass is over.
                        if m.sync_error
                            .as_deref()
                            .is_some_and(|e| e.starts_with(STOCK_REFUSED))
                        {
                            m.sync_status = SyncStatus::Synced;
                            m.sync_error = None;
                        }
                    }
                }
                self.store.upsert_product_mapping(&m).await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tts_mapping::inventory::{InventoryConfig, StockBuffer, WarehouseMapping};
    use tts_plenty::model::{VariationSalesPrice, VariationStock};

    fn variation(net: &[(i64, i64)]) -> Variation {
        Variation {
            id: 7,
            item_id: 1,
            stock: net
                .iter()
                .map(|(w, n)| VariationStock {
                    warehouse_id: *w,
                    net_stock: Decimal::from(*n),
                    ..Default::default()
                })
                .collect(),
            variation_sales_prices: vec![VariationSalesPrice {
                variation_id: 7,
                sales_price_id: 1,
                price: Decimal::new(1990, 2),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn config() -> ProductMappingConfig {
        ProductMappingConfig {
            inventory: InventoryConfig {
                warehouses: WarehouseMapping::new([(1, "A"), (2, "A"), (3, "B")]),
                buffer: StockBuffer {
                    absolute: Decimal::from(2),
                    percent: Decimal::ZERO,
                },
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn reserved_units_are_held_back_everywhere_and_nothing_goes_negative() {
        let s = sku_state(
            &variation(&[(1, 10), (2, 5), (3, 4)]),
            &config(),
            Decimal::from(3),
            "P",
            "S",
        );
        // A: 15 - 3 reserved - 2 buffer = 10; B: 4 - 3 - 2 < 0 → 0.
        assert_eq!(
            s.inventory,
            vec![
                Inventory {
                    warehouse_id: "A".into(),
                    quantity: 10
                },
                Inventory {
                    warehouse_id: "B".into(),
                    quantity: 0
                }
            ]
        );
        assert_eq!(s.price.unwrap().amount, "19.90");
    }

    #[test]
    fn w3c_dates_are_utc() {
        assert_eq!(w3c(0), "1970-01-01T00:00:00+00:00");
        assert_eq!(w3c(951_782_400), "2000-02-29T00:00:00+00:00");
        assert_eq!(w3c(1_795_711_500), "2026-11-26T16:45:00+00:00");
    }

    #[test]
    fn pushed_values_tell_what_changed() {
        let p = PushedValues::default();
        let inv = |q| {
            vec![Inventory {
                warehouse_id: "A".into(),
                quantity: q,
            }]
        };
        assert!(p.inventory_changed("s", "k", &inv(1)));
        p.record("s", "k", Some(inv(1)), Some("9.90".into()));
        assert!(!p.inventory_changed("s", "k", &inv(1)));
        assert!(p.inventory_changed("s", "k", &inv(2)));
        assert!(!p.price_changed("s", "k", "9.90"));
        assert!(p.price_changed("s", "k", "9.91"));
        assert!(p.inventory_changed("other", "k", &inv(1)));
    }
}
