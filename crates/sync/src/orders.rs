//! Order import: a TikTok order becomes exactly one PlentyONE order, and later TikTok status changes
//! move the PlentyONE status along (cancellation cancels it).
//!
//! Exactly once, across workers and crashes:
//! - a lease per (shop, order) in the store serializes everything done for one order, whichever
//!   worker and whichever event (webhook or reconciliation) triggered it; a busy lease is a transient
//!   error, so the inbox retries the event a little later;
//! - the order mapping is inserted (pending) before anything is created in PlentyONE, and an order is
//!   always looked up by its external order id (`<shop>_<order>`, property 7) before it is created, so a
//!   crash between "created in PlentyONE" and "mapping updated" adopts the existing order next time;
//! - status updates compare TikTok's `update_time` with the one last applied: older events are stale
//!   and ignored; the order detail fetched from TikTok is the current state anyway.
//!
//! The oversell guard's data ([`crate::stock::StoreReservations`]): every order seen that is not in
//! PlentyONE yet (waiting, skipped as UNPAID, rejected, or about to be created) has its units per
//! variation recorded in the store ([`reserved_lines`]); they are released once PlentyONE has the
//! order (created or adopted: PlentyONE reserves the stock itself from then on) or when it is
//! cancelled.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rust_decimal::Decimal;
use tts_core::{Error, ErrorCode, Result, progress};
use tts_mapping::order::{OrderMappingConfig, map_order};
use tts_mapping::problem::has_errors;
use tts_mapping::status::{ImportDecision, plenty_status, should_import};
use tts_plenty::api::payments::{PaymentCreate, payment_status};
use tts_plenty::client::Client as PlentyClient;
use tts_store::{OrderMapping, Store, SyncStatus, now_seconds};
use tts_tiktok::client::Client as TikTokClient;
use tts_tiktok::model::order::{Order, OrderStatus};

/// What happened to one order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportOutcome {
    /// A PlentyONE order was created (or an existing one with the same external id adopted).
    Created { plenty_order_id: i64, adopted: bool },
    /// The PlentyONE status was moved to follow TikTok.
    StatusUpdated { plenty_order_id: i64, status: String },
    /// Nothing to do (already up to date, or an older event).
    Unchanged,
    /// Not imported (yet): the import rules say so.
    NotImported { reason: String },
    /// The order cannot be imported as it is; the reason is on the order mapping.
    Rejected { reason: String },
}

/// What following a TikTok status means for the PlentyONE order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlentyStep {
    Keep,
    SetStatus(Decimal),
    Cancel,
}

/// The PlentyONE change for TikTok `status` when the PlentyONE order is at `current`. Forward only:
/// a target at or below the current status (same main status, or the merchant is further along) is
/// kept; a cancelled or returned order (8 and up) is never moved by TikTok's later statuses; a TikTok
/// cancellation cancels whatever is below 8. Pure.
pub fn plenty_step(
    status: &OrderStatus,
    current: Decimal,
    config: &tts_mapping::status::StatusConfig,
) -> PlentyStep {
    let eight = Decimal::from(8);
    if current >= eight {
        return PlentyStep::Keep;
    }
    if *status == OrderStatus::Cancelled {
        return PlentyStep::Cancel;
    }
    match plenty_status(status, config) {
        Some(target) if target.floor() > current.floor() => PlentyStep::SetStatus(target),
        _ => PlentyStep::Keep,
    }
}

/// What the triggering event said about the order.
#[derive(Clone, Copy, Debug, Default)]
pub struct Seen<'a> {
    /// TikTok's `update_time` (Unix seconds; 0 when unknown).
    pub update_time: i64,
    /// The status, when the event carries it.
    pub status: Option<&'a str>,
}

/// True when an event cannot tell anything new: older than the state last applied, or as old with
/// the same status (a duplicate delivery). `update_time` has whole-second resolution, so an event of
/// the same second with another status is not stale: the order is fetched and compared. Pure.
pub fn is_stale(event: &Seen<'_>, applied_time: Option<i64>, applied_status: Option<&str>) -> bool {
    let Some(applied) = applied_time else { return false };
    if event.update_time <= 0 {
        return false;
    }
    let same_status = match (event.status, applied_status) {
        (Some(seen), Some(applied)) => OrderStatus::parse(seen) == OrderStatus::parse(applied),
        _ => false,
    };
    event.update_time < applied || (event.update_time == applied && same_status)
}

/// Imports TikTok orders into PlentyONE.
pub struct OrderImporter {
    store: Arc<dyn Store>,
    tiktok: TikTokClient,
    plenty: PlentyClient,
    /// Per shop: how its orders map (shop id, plenty id, referrer, statuses, payment method...).
    configs: crate::settings::ShopSettings<OrderMappingConfig>,
    /// Names this worker's leases.
    owner: String,
    lease: Duration,
}

impl OrderImporter {
    pub fn new(
        store: Arc<dyn Store>,
        tiktok: TikTokClient,
        plenty: PlentyClient,
        configs: HashMap<String, OrderMappingConfig>,
        owner: impl Into<String>,
    ) -> Self {
        OrderImporter {
            store,
            tiktok,
            plenty,
            configs: crate::settings::ShopSettings::new("order import", configs),
            owner: owner.into(),
            lease: Duration::from_secs(120),
        }
    }

    /// How long one worker may hold an order before another may take it over (default 2 min; a
    /// worker that dies holding it delays that order by at most this long).
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    fn config(&self, shop_id: &str) -> Result<Arc<OrderMappingConfig>> {
        self.configs.get(shop_id)
    }

    /// Adds or replaces a shop's settings (e.g. when a shop is connected while running).
    pub fn set_shop(&self, config: OrderMappingConfig) {
        self.configs.set(config.shop_id.clone(), config);
    }

    /// The shops with settings.
    pub fn shops(&self) -> Vec<String> {
        self.configs.shops()
    }

    /// Brings one order up to date. `event` is what the triggering event said: its `update_time`
    /// and, when it carries one, the order status (a webhook of type 1 does).
    pub async fn sync_order(&self, shop_id: &str, order_id: &str, event: Seen<'_>) -> Result<ImportOutcome> {
        self.sync(shop_id, order_id, event, None).await
    }

    /// Like [`sync_order`](Self::sync_order) for an order already fetched (by a search), saving the
    /// detail call.
    pub async fn sync_fetched_order(&self, shop_id: &str, order: Order) -> Result<ImportOutcome> {
        let id = order.id.clone();
        let seen = Seen {
            update_time: order.update_time,
            status: None,
        };
        self.sync(shop_id, &id, seen, Some(order)).await
    }

    async fn sync(
        &self,
        shop_id: &str,
        order_id: &str,
        event: Seen<'_>,
        fetched: Option<Order>,
    ) -> Result<ImportOutcome> {
        let lease = format!("order:{shop_id}:{order_id}");
        // Unique per call: concurrent workers of one process must exclude each other too.
        let holder = format!("{}:{:016x}", self.owner, rand::random::<u64>());
        if !self.store.acquire_lease(&lease, &holder, self.lease).await? {
            return Err(Error::new(
                ErrorCode::RateLimited,
                format!("order {order_id} is being synced by another worker"),
            )
            .with_retry_after(Duration::from_secs(2)));
        }
        let result = self.sync_order_locked(shop_id, order_id, event, fetched).await;
        // A release that fails only means the lease runs out by itself.
        let _ = self.store.release_lease(&lease, &holder).await;
        result
    }

    async fn sync_order_locked(
        &self,
        shop_id: &str,
        order_id: &str,
        event: Seen<'_>,
        fetched: Option<Order>,
    ) -> Result<ImportOutcome> {
        let config = self.config(shop_id)?;
        let mapping = self.store.get_order_mapping(shop_id, order_id).await?;
        // In PlentyONE, which reserves its stock: nothing held here (heals a crash between the
        // create and its release).
        if mapping.as_ref().is_some_and(|m| m.plenty_order_id.is_some()) {
            self.store.set_order_reservations(shop_id, order_id, &[]).await?;
        }
        if let Some(m) = mapping.as_ref().filter(|m| m.plenty_order_id.is_some())
            && is_stale(&event, m.tiktok_update_time, m.tiktok_status.as_deref())
        {
            return Ok(ImportOutcome::Unchanged);
        }
        let order = match fetched {
            Some(order) => order,
            None => self.fetch_order(shop_id, order_id).await?,
        };
        match mapping {
            Some(m) if m.plenty_order_id.is_some() => self.follow_status(&config, m, &order).await,
            _ => self.import(&config, shop_id, &order).await,
        }
    }

    async fn fetch_order(&self, shop_id: &str, order_id: &str) -> Result<Order> {
        let shop = self.tiktok.shop(shop_id)?;
        shop.get_orders(&[order_id.to_string()])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::NotFound,
                    format!("TikTok has no order {order_id} in shop {shop_id}"),
                )
            })
    }

    async fn follow_status(
        &self,
        config: &OrderMappingConfig,
        mut m: OrderMapping,
        order: &Order,
    ) -> Result<ImportOutcome> {
        let plenty_order_id = m.plenty_order_id.expect("checked by the caller");
        let status = order.status.as_str().to_string();
        if m.tiktok_status.as_deref() == Some(status.as_str()) {
            m.tiktok_update_time = Some(order.update_time.max(m.tiktok_update_time.unwrap_or(0)));
            self.store.update_order_mapping(&m).await?;
            return Ok(ImportOutcome::Unchanged);
        }
        // PlentyONE's status is the merchant's workflow: it only ever moves forward from here, and a
        // sub-status the merchant set (7.1) is kept when TikTok reaches its main status (7).
        let current = self.plenty.order(plenty_order_id).await?.status_id;
        match plenty_step(&order.status, current, &config.status) {
            PlentyStep::Cancel => {
                self.plenty.cancel_order(plenty_order_id).await?;
            }
            PlentyStep::SetStatus(target) => {
                self.plenty.update_order_status(plenty_order_id, target).await?;
            }
            PlentyStep::Keep => {}
        }
        m.tiktok_status = Some(status.clone());
        m.tiktok_update_time = Some(order.update_time);
        // Other engines keep their errors on the mapping (tracking, returns): not ours to clear.
        if m.sync_error.is_none() {
            m.sync_status = SyncStatus::Synced;
        }
        m.last_synced_at = Some(now_seconds());
        self.store.update_order_mapping(&m).await?;
        Ok(ImportOutcome::StatusUpdated {
            plenty_order_id,
            status,
        })
    }

    async fn import(
        &self,
        config: &OrderMappingConfig,
        shop_id: &str,
        order: &Order,
    ) -> Result<ImportOutcome> {
        // Not in PlentyONE yet: its units are held (released below once PlentyONE has it).
        let skus = self.sku_lookup(shop_id, order).await?;
        self.store
            .set_order_reservations(shop_id, &order.id, &reserved_lines(order, &skus))
            .await?;
        let not_imported =
            match should_import(&order.status, order.create_time, now_seconds(), &config.status) {
                ImportDecision::Import => None,
                ImportDecision::Wait { reason, .. } | ImportDecision::Skip { reason } => Some(reason),
            };
        // A later status change (webhook or reconciliation) brings the order back; unless an earlier
        // attempt began its import (the mapping is there): it may have created the order before its
        // answer was lost, and that order follows TikTok (is cancelled, say).
        if let Some(reason) = &not_imported
            && self.store.get_order_mapping(shop_id, &order.id).await?.is_none()
        {
            return Ok(ImportOutcome::NotImported {
                reason: reason.clone(),
            });
        }
        let mut mapping = OrderMapping::pending(shop_id, order.id.clone());
        mapping.tiktok_status = Some(order.status.as_str().to_string());
        mapping.tiktok_update_time = Some(order.update_time);
        self.store.insert_order_mapping_if_absent(&mapping).await?;

        let mapped = map_order(order, config, &|seller_sku: &str, sku_id: &str| {
            skus.get(sku_id).or_else(|| skus.get(seller_sku)).copied()
        });

        // Crash recovery: the order may exist from an attempt that died before recording it.
        let (plenty_order_id, adopted) = match self
            .plenty
            .find_order_by_external_id(&mapped.external_order_id)
            .await?
        {
            Some(existing) => {
                // TikTok may have moved on since that attempt: the status follows, as for any change.
                match plenty_step(&order.status, existing.status_id, &config.status) {
                    PlentyStep::Cancel => {
                        self.plenty.cancel_order(existing.id).await?;
                    }
                    PlentyStep::SetStatus(target) => {
                        self.plenty.update_order_status(existing.id, target).await?;
                    }
                    PlentyStep::Keep => {}
                }
                (existing.id, true)
            }
            None => {
                if let Some(reason) = not_imported {
                    return Ok(ImportOutcome::NotImported { reason });
                }
                if has_errors(&mapped.problems) {
                    let reason = mapped
                        .problems
                        .iter()
                        .filter(|p| p.is_error())
                        .map(|p| format!("{}: {}", p.path, p.message))
                        .collect::<Vec<_>>()
                        .join("; ");
                    mapping.sync_status = SyncStatus::Error;
                    mapping.sync_error = Some(reason.clone());
                    self.store.update_order_mapping(&mapping).await?;
                    return Ok(ImportOutcome::Rejected { reason });
                }
                (self.create_in_plenty(&mapped).await?, false)
            }
        };
        mapping.plenty_order_id = Some(plenty_order_id);
        mapping.sync_status = SyncStatus::Synced;
        mapping.sync_error = None;
        mapping.last_synced_at = Some(now_seconds());
        self.store.update_order_mapping(&mapping).await?;
        self.store.set_order_reservations(shop_id, &order.id, &[]).await?;
        Ok(ImportOutcome::Created {
            plenty_order_id,
            adopted,
        })
    }

    /// TikTok SKU id and seller SKU → PlentyONE variation id, from the product mappings of the
    /// products in the order.
    async fn sku_lookup(&self, shop_id: &str, order: &Order) -> Result<HashMap<String, i64>> {
        let mut skus = HashMap::new();
        let mut products: Vec<&str> = order.line_items.iter().map(|l| l.product_id.as_str()).collect();
        products.sort_unstable();
        products.dedup();
        for product_id in products.into_iter().filter(|p| !p.is_empty()) {
            for m in self
                .store
                .find_product_mappings_by_tiktok_product(shop_id, product_id)
                .await?
            {
                if let Some(sku) = m.tiktok_sku_id {
                    skus.insert(sku, m.plenty_variation_id);
                }
                if let Some(sku) = m.seller_sku {
                    skus.insert(sku, m.plenty_variation_id);
                }
            }
        }
        Ok(skus)
    }

    async fn create_in_plenty(&self, mapped: &tts_mapping::order::MappedOrder) -> Result<i64> {
        let contact = self.plenty.create_contact(&mapped.contact).await?;
        let contact_id = contact.id.ok_or_else(|| missing_id("contact"))?;
        let address = self
            .plenty
            .create_contact_address(contact_id, &mapped.address)
            .await?;
        let address_id = address.id.ok_or_else(|| missing_id("address"))?;
        let order = self
            .plenty
            .create_order(&mapped.linked_order(contact_id, address_id, address_id))
            .await?;
        if let Some(payment) = &mapped.payment
            && let Some(mop_id) = payment.mop_id
        {
            let created = self
                .plenty
                .create_payment(&PaymentCreate {
                    amount: payment.amount,
                    currency: payment.currency.clone(),
                    exchange_ratio: Decimal::ONE,
                    mop_id,
                    status: payment_status::APPROVED,
                    transaction_type: 1,
                    kind: "credit".into(),
                    properties: Vec::new(),
                })
                .await?;
            self.plenty.link_payment_to_order(created.id, order.id).await?;
        }
        Ok(order.id)
    }
}

/// The units per PlentyONE variation an order not (yet) in PlentyONE holds on TikTok, for the
/// oversell guard: every line (a unit in 202309; `quantity` if sent) whose SKU is mapped (`skus`:
/// TikTok SKU id or seller SKU → variation id), except cancelled lines; nothing for a cancelled
/// order. Any other status holds its units, an unknown one included (never oversell). Pure.
pub fn reserved_lines(order: &Order, skus: &HashMap<String, i64>) -> Vec<tts_store::OrderReservation> {
    let mut lines: Vec<tts_store::OrderReservation> = Vec::new();
    if order.status == OrderStatus::Cancelled {
        return lines;
    }
    for line in &order.line_items {
        if line.display_status.eq_ignore_ascii_case("CANCELLED")
            || line.display_status.eq_ignore_ascii_case("CANCEL")
        {
            continue;
        }
        let Some(variation) = skus
            .get(&line.sku_id)
            .or_else(|| skus.get(&line.seller_sku))
            .copied()
        else {
            continue;
        };
        let units = line.quantity.unwrap_or(1).clamp(1, 99_999);
        match lines.iter_mut().find(|l| l.plenty_variation_id == variation) {
            Some(l) => l.quantity += units,
            None => lines.push(tts_store::OrderReservation {
                plenty_variation_id: variation,
                quantity: units,
            }),
        }
    }
    lines
}

fn missing_id(what: &str) -> Error {
    Error::new(
        ErrorCode::InvalidResponse,
        format!("PlentyONE created the {what} but answered without its id"),
    )
}

/// What a reconciliation pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReconcileReport {
    pub windows: usize,
    pub seen: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub not_imported: usize,
    pub rejected: usize,
    /// Orders that failed (they are retried by the next pass; the cursor only moves past a window
    /// once all its orders are done).
    pub failed: usize,
    /// The first few failures, `order <id>: <error>`, for the run summary.
    pub errors: Vec<String>,
}

/// The cursor kind of the order reconciliation.
pub const ORDERS_CURSOR: &str = "orders.update_time";

impl OrderImporter {
    /// Catches up with TikTok: every order updated since the cursor (or `first_run_lookback` when
    /// there is none) up to and including the second `now`, in windows of `window` seconds that overlap by `overlap` seconds, goes through
    /// [`sync_fetched_order`](Self::sync_fetched_order). Webhooks can be lost or late; this is what
    /// makes the import complete anyway. The cursor advances window by window, only past windows
    /// whose orders all succeeded, so a crash or a failure repeats at most one window.
    pub async fn reconcile(
        &self,
        shop_id: &str,
        now: i64,
        first_run_lookback: i64,
        window: i64,
        overlap: i64,
    ) -> Result<ReconcileReport> {
        use futures_util::TryStreamExt;
        use tts_tiktok::client::api::OrderSearch;

        let shop = self.tiktok.shop(shop_id)?;
        let from = match self.store.get_cursor(shop_id, ORDERS_CURSOR).await? {
            Some(cursor) => cursor.position.parse::<i64>().map_err(|_| {
                Error::new(
                    ErrorCode::Store,
                    format!("cursor {ORDERS_CURSOR} of shop {shop_id} is not a timestamp"),
                )
            })?,
            None => now - first_run_lookback,
        };
        let mut report = ReconcileReport::default();
        let windows =
            tts_tiktok::client::paginate::reconciliation_windows(from - overlap, now + 1, window, overlap)?;
        let count = windows.len();
        for (ge, lt) in windows {
            report.windows += 1;
            progress::set_phase(&format!("window {}/{count}", report.windows));
            let filter = OrderSearch {
                update_time_ge: Some(ge),
                update_time_lt: Some(lt),
                ..Default::default()
            };
            let mut orders = progress::counted(Box::pin(shop.search_orders(&filter, 100)));
            let mut failed_in_window = 0;
            while let Some(order) = orders.try_next().await? {
                report.seen += 1;
                progress::advance(1);
                let order_id = order.id.clone();
                match self.sync_fetched_order(shop_id, order).await {
                    Ok(ImportOutcome::Created { .. }) => report.created += 1,
                    Ok(ImportOutcome::StatusUpdated { .. }) => report.updated += 1,
                    Ok(ImportOutcome::Unchanged) => report.unchanged += 1,
                    Ok(ImportOutcome::NotImported { .. }) => report.not_imported += 1,
                    Ok(ImportOutcome::Rejected { .. }) => report.rejected += 1,
                    Err(e) => {
                        tracing::warn!(shop = %shop_id, code = %e.code(), error = %e, "order reconciliation failed for one order");
                        progress::error();
                        if report.errors.len() < 10 {
                            report.errors.push(format!("order {order_id}: {e}"));
                        }
                        failed_in_window += 1;
                    }
                }
            }
            report.failed += failed_in_window;
            if failed_in_window > 0 {
                break; // the next pass starts again at this window
            }
            self.store
                .set_cursor(shop_id, ORDERS_CURSOR, &lt.to_string())
                .await?;
        }
        Ok(report)
    }
}

/// Handles order webhooks from the inbox: status changes, address updates and cancellation requests
/// all bring the order up to date.
pub struct OrderEvents(pub Arc<OrderImporter>);

#[async_trait::async_trait]
impl crate::inbox::EventHandler for OrderEvents {
    async fn handle(&self, notification: &tts_tiktok::webhook::Notification) -> Result<()> {
        use tts_tiktok::webhook::Event;
        let (order_id, status) = match &notification.event {
            Event::OrderStatusChange(e) => (&e.order_id, Some(e.order_status.as_str())),
            Event::RecipientAddressUpdate(e) => (&e.order_id, None),
            Event::CancellationStatusChange(e) => (&e.order_id, None),
            _ => return Ok(()),
        };
        let seen = Seen {
            update_time: crate::inbox::event_time(notification),
            status,
        };
        let outcome = self.0.sync_order(&notification.shop_id, order_id, seen).await?;
        tracing::debug!(shop = %notification.shop_id, order = %order_id, ?outcome, "order synced");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_holds_its_mapped_uncancelled_units_until_it_is_cancelled() {
        let line = |sku_id: &str, seller_sku: &str, status: &str, quantity: Option<i64>| {
            tts_tiktok::model::order::LineItem {
                sku_id: sku_id.into(),
                seller_sku: seller_sku.into(),
                display_status: status.into(),
                quantity,
                ..Default::default()
            }
        };
        let mut order = Order {
            id: "576".into(),
            status: OrderStatus::Unpaid,
            line_items: vec![
                line("17", "A-1", "UNPAID", None),
                line("17", "A-1", "UNPAID", None),
                line("", "B-1", "UNPAID", Some(3)),
                line("17", "A-1", "CANCELLED", None),
                line("99", "UNKNOWN", "UNPAID", None),
            ],
            ..Default::default()
        };
        let skus = HashMap::from([("17".to_string(), 1001), ("B-1".to_string(), 1002)]);
        let units = |o: &Order| {
            let mut v: Vec<(i64, i64)> = reserved_lines(o, &skus)
                .into_iter()
                .map(|r| (r.plenty_variation_id, r.quantity))
                .collect();
            v.sort_unstable();
            v
        };
        assert_eq!(
            units(&order),
            [(1001, 2), (1002, 3)],
            "by SKU id, else seller SKU; cancelled lines and unmapped SKUs left out"
        );
        order.status = OrderStatus::Unknown("NEW_STATUS".into());
        assert_eq!(units(&order).len(), 2, "an unknown status holds (never oversell)");
        order.status = OrderStatus::Cancelled;
        assert!(units(&order).is_empty());
    }

    #[test]
    fn plenty_status_only_moves_forward() {
        let c = tts_mapping::status::StatusConfig::default();
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(
            plenty_step(&OrderStatus::InTransit, d("5"), &c),
            PlentyStep::SetStatus(d("7"))
        );
        assert_eq!(
            plenty_step(&OrderStatus::InTransit, d("7.1"), &c),
            PlentyStep::Keep,
            "the merchant's sub-status stays"
        );
        assert_eq!(
            plenty_step(&OrderStatus::Delivered, d("8"), &c),
            PlentyStep::Keep,
            "a cancelled order stays cancelled"
        );
        assert_eq!(
            plenty_step(&OrderStatus::AwaitingShipment, d("6"), &c),
            PlentyStep::Keep,
            "never backwards"
        );
        assert_eq!(
            plenty_step(&OrderStatus::Cancelled, d("5"), &c),
            PlentyStep::Cancel
        );
        assert_eq!(
            plenty_step(&OrderStatus::Cancelled, d("9"), &c),
            PlentyStep::Keep,
            "a return stays a return"
        );
    }

    #[test]
    fn staleness_is_decided_by_time_then_status() {
        let seen = |t, s| Seen {
            update_time: t,
            status: s,
        };
        assert!(
            is_stale(
                &seen(99, Some("IN_TRANSIT")),
                Some(100),
                Some("AWAITING_SHIPMENT")
            ),
            "older"
        );
        assert!(
            is_stale(
                &seen(100, Some("AWAITING_SHIPMENT")),
                Some(100),
                Some("AWAITING_SHIPMENT")
            ),
            "duplicate"
        );
        assert!(
            is_stale(&seen(100, Some("CANCEL")), Some(100), Some("CANCELLED")),
            "old spelling of the same status"
        );
        assert!(
            !is_stale(
                &seen(100, Some("IN_TRANSIT")),
                Some(100),
                Some("AWAITING_SHIPMENT")
            ),
            "same second, new status"
        );
        assert!(
            !is_stale(&seen(100, None), Some(100), Some("AWAITING_SHIPMENT")),
            "no status: look"
        );
        assert!(
            !is_stale(
                &seen(101, Some("AWAITING_SHIPMENT")),
                Some(100),
                Some("AWAITING_SHIPMENT")
            ),
            "newer"
        );
        assert!(!is_stale(&seen(0, None), Some(100), None), "unknown time: look");
        assert!(!is_stale(&seen(50, None), None, None), "nothing applied yet");
    }
}
