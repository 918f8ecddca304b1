//! Tracking (PlentyONE → TikTok): orders booked out in PlentyONE (status 7.x) get their package
//! number and carrier sent to TikTok — "mark package as shipped" where TikTok offers it (US, UK, ES,
//! IE, IT, DE, FR, JP: seller's own carrier), otherwise "ship package" with `self_shipment` — exactly
//! once per TikTok package.
//!
//! Which orders: a pass lists the PlentyONE orders of the TikTok referrer in status 7.x updated
//! since the pass cursor (`GET /rest/orders?referrerId&statusFrom=7&statusTo=7.9999&updatedAtFrom`,
//! up to 250 orders per read), instead of walking the shop's order mappings and reading each
//! PlentyONE order: PlentyONE reads are the scarce budget (80 per window on the basic plan), TikTok
//! reads are not. Orders whose tracking failed keep the error on their order mapping (`sync_error`
//! starting with [`TRACKING_ERROR_PREFIX`]) and are looked at again by every pass until it succeeds,
//! whatever the cursor says.
//!
//! Exactly once, although ship and mark-shipped are unsafe writes (a timeout may or may not have
//! shipped):
//! - everything done for one order runs under the order's lease (`order:<shop>:<order>`, the same one
//!   the order import takes), so two workers or passes never ship the same order at once;
//! - the TikTok order is read right before sending: packages that already have a tracking number or
//!   left `PROCESSING`, and orders already past `AWAITING_SHIPMENT`, are recorded and skipped;
//! - a send is attempted once — the client never retries these operations — and a failure, including
//!   an unknown outcome, is recorded on the order mapping; the next pass reads TikTok again before
//!   anything is sent, so a send that did go through is found shipped and not repeated.
//!
//! `ON_HOLD` orders (TikTok 21011044) wait: counted, not an error.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::TryStreamExt;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tts_core::{Error, ErrorCode, Result, progress};
use tts_plenty::api::orders::{Order as PlentyOrder, OrderQuery};
use tts_plenty::client::Client as PlentyClient;
use tts_plenty::model::order_property_type;
use tts_store::{OrderMapping, OrderMappingQuery, Store, SyncStatus, now_seconds};
use tts_tiktok::client::Client as TikTokClient;
use tts_tiktok::model::order::{Order, OrderStatus};
use tts_tiktok::operations::Operation;

/// How tracking reaches TikTok.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShipMethod {
    /// `POST /fulfillment/202309/orders/{order_id}/packages` with the line item ids.
    MarkShipped,
    /// `POST /fulfillment/202309/packages/{package_id}/ship` with `self_shipment`.
    ShipPackage,
}

/// Regions where TikTok offers "mark package as shipped" for the seller's own carrier (spec §4).
pub const MARK_SHIPPED_REGIONS: [&str; 9] = ["US", "GB", "UK", "ES", "IE", "IT", "DE", "FR", "JP"];

/// The method for a shop region (ISO alpha-2; `UK` accepted). Pure.
pub fn ship_method_for_region(region: &str) -> ShipMethod {
    let region = region.trim().to_ascii_uppercase();
    if MARK_SHIPPED_REGIONS.contains(&region.as_str()) {
        ShipMethod::MarkShipped
    } else {
        ShipMethod::ShipPackage
    }
}

/// Per-shop tracking settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrackingConfig {
    pub shop_id: String,
    /// The shop's region (decides the method unless `method` is set).
    pub region: String,
    /// Forces a method (e.g. a region TikTok opened for "mark as shipped" later).
    pub method: Option<ShipMethod>,
    /// The PlentyONE referrer of this shop's orders (the order import's `referrer_id`).
    pub referrer_id: Decimal,
    /// PlentyONE shipping profile id (order property 2) → TikTok `shipping_provider_id`
    /// (`GET /logistics/202309/delivery_options/{id}/shipping_providers`).
    pub carriers: HashMap<i64, String>,
    /// Provider for orders without a shipping profile or with one not in `carriers`; `None` makes
    /// those orders fail visibly instead.
    pub default_provider_id: Option<String>,
}

impl Default for TrackingConfig {
    fn default() -> Self {
        TrackingConfig {
            shop_id: String::new(),
            region: String::new(),
            method: None,
            referrer_id: Decimal::ZERO,
            carriers: HashMap::new(),
            default_provider_id: None,
        }
    }
}

impl TrackingConfig {
    pub fn method(&self) -> ShipMethod {
        self.method
            .unwrap_or_else(|| ship_method_for_region(&self.region))
    }

    /// The TikTok provider for a PlentyONE order. The error names the setting to fix. Pure.
    pub fn provider_for(&self, order: &PlentyOrder) -> Result<String> {
        let raw = order.property(order_property_type::SHIPPING_PROFILE);
        let profile = raw.and_then(|p| p.trim().parse::<i64>().ok());
        if let Some(provider) = profile.and_then(|p| self.carriers.get(&p)) {
            return Ok(provider.clone());
        }
        if let Some(provider) = &self.default_provider_id {
            return Ok(provider.clone());
        }
        Err(match profile {
            Some(p) => Error::config(
                format!("carriers.{p}"),
                format!(
                    "PlentyONE shipping profile {p} of order {} has no TikTok shipping provider; map it (or set default_provider_id)",
                    order.id
                ),
            ),
            None => Error::config(
                "default_provider_id",
                format!(
                    "PlentyONE order {} has no shipping profile (property 2) and no default TikTok shipping provider is set",
                    order.id
                ),
            ),
        })
    }
}

/// Where a TikTok order stands for shipping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShipState {
    /// Lines are waiting to be shipped.
    Open,
    /// Nothing left to ship (status past AWAITING_SHIPMENT, or every package has tracking).
    AlreadyShipped,
    /// ON_HOLD: TikTok refuses fulfilment (21011044) until the hold ends.
    OnHold,
    /// Cannot be shipped (UNPAID, CANCELLED, unknown).
    NotShippable(String),
}

fn line_is_open(line: &tts_tiktok::model::order::LineItem) -> bool {
    let cancelled = line.display_status.eq_ignore_ascii_case("CANCELLED")
        || line.cancel_reason.as_deref().is_some_and(|r| !r.is_empty());
    let shipped = line
        .tracking_number
        .as_deref()
        .is_some_and(|t| !t.trim().is_empty())
        || line
            .package_status
            .as_deref()
            .is_some_and(|s| !s.is_empty() && !s.eq_ignore_ascii_case("PROCESSING"));
    !cancelled && !shipped
}

/// The shipping state of a TikTok order. Pure.
pub fn ship_state(order: &Order) -> ShipState {
    match &order.status {
        OrderStatus::OnHold => ShipState::OnHold,
        OrderStatus::AwaitingShipment | OrderStatus::PartiallyShipping => {
            if order.line_items.iter().any(line_is_open) {
                ShipState::Open
            } else {
                ShipState::AlreadyShipped
            }
        }
        OrderStatus::AwaitingCollection
        | OrderStatus::InTransit
        | OrderStatus::Delivered
        | OrderStatus::Completed => ShipState::AlreadyShipped,
        other => ShipState::NotShippable(format!(
            "TikTok order {} is {} and cannot be shipped",
            order.id,
            match other.as_str() {
                "" => "without status",
                s => s,
            }
        )),
    }
}

/// One unsafe write to TikTok.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "call", rename_all = "snake_case")]
pub enum ShipCall {
    MarkShipped {
        tracking_number: String,
        shipping_provider_id: String,
        order_line_item_ids: Vec<String>,
    },
    ShipPackage {
        package_id: String,
        tracking_number: String,
        shipping_provider_id: String,
    },
}

/// The calls that ship the open lines of `order`: one per TikTok package (open lines without a
/// package form one group). Package `i` gets PlentyONE package number `i` when PlentyONE has as
/// many, else the first number (PlentyONE packages do not say which items they hold). Pure.
pub fn plan_shipment(
    order: &Order,
    method: ShipMethod,
    package_numbers: &[String],
    provider_id: &str,
) -> Result<Vec<ShipCall>> {
    let numbers: Vec<&str> = package_numbers
        .iter()
        .map(|n| n.trim())
        .filter(|n| !n.is_empty())
        .collect();
    if numbers.is_empty() {
        return Err(Error::new(
            ErrorCode::NotFound,
            "the PlentyONE order has no package number to send as tracking number",
        )
        .with_field("packageNumber"));
    }
    // Open lines grouped by package, in order of first appearance.
    let mut groups: Vec<(Option<String>, Vec<String>)> = Vec::new();
    for line in order.line_items.iter().filter(|l| line_is_open(l)) {
        let package = line.package_id.clone().filter(|p| !p.is_empty());
        match groups.iter_mut().find(|(p, _)| *p == package) {
            Some((_, lines)) => lines.push(line.id.clone()),
            None => groups.push((package, vec![line.id.clone()])),
        }
    }
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let number_for = |i: usize| -> String {
        if numbers.len() >= groups.len() {
            numbers[i].to_string()
        } else {
            numbers[0].to_string()
        }
    };
    let mut calls = Vec::with_capacity(groups.len());
    for (i, (package, lines)) in groups.iter().enumerate() {
        let tracking_number = number_for(i);
        calls.push(match method {
            ShipMethod::MarkShipped => ShipCall::MarkShipped {
                tracking_number,
                shipping_provider_id: provider_id.to_string(),
                order_line_item_ids: lines.clone(),
            },
            ShipMethod::ShipPackage => {
                let package_id = package
                    .clone()
                    .or_else(|| (order.packages.len() == 1).then(|| order.packages[0].id.clone()))
                    .ok_or_else(|| {
                        Error::new(
                            ErrorCode::NotFound,
                            format!(
                                "TikTok order {} has lines without a package; ship package needs one",
                                order.id
                            ),
                        )
                        .with_field("line_items.package_id")
                    })?;
                ShipCall::ShipPackage {
                    package_id,
                    tracking_number,
                    shipping_provider_id: provider_id.to_string(),
                }
            }
        });
    }
    Ok(calls)
}

/// What happened to one order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ShipOutcome {
    /// Tracking sent: one call per package.
    Shipped { calls: usize, status: String },
    /// TikTok already had it shipped; recorded, nothing sent.
    AlreadyShipped { status: String },
    /// ON_HOLD: looked at again by the next pass.
    WaitingOnHold,
    /// No TikTok provider for the order's shipping profile; nothing sent, error on the mapping.
    UnmappedCarrier { reason: String },
    /// No package number in PlentyONE; nothing sent, error on the mapping.
    NoPackageNumber,
    /// Not an order this shop imported (no mapping or another PlentyONE order).
    NotImported,
    /// The PlentyONE order is not (or no longer) in 7.x.
    NotBookedOut,
    /// Another worker (the import, another pass) holds the order's lease; the pass cursor stays, so
    /// the next pass looks again.
    Busy,
    /// Failed; the reason is on the order mapping and the next pass checks TikTok again.
    Failed {
        #[serde(serialize_with = "crate::fulfillment::code_str")]
        code: ErrorCode,
        reason: String,
    },
}

/// What a tracking pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TrackingReport {
    /// PlentyONE orders in 7.x looked at (window and earlier failures).
    pub seen: usize,
    pub shipped: usize,
    /// Calls sent (packages).
    pub calls: usize,
    pub skipped_already_shipped: usize,
    pub waiting_on_hold: usize,
    pub unmapped_carrier: usize,
    pub no_package_number: usize,
    pub not_imported: usize,
    /// Orders another worker held; the cursor stays so the next pass sees them again.
    pub busy: usize,
    pub errors: usize,
}

/// Prefix of tracking errors on order mappings (`sync_error`).
pub const TRACKING_ERROR_PREFIX: &str = "tracking ";
/// Cursor kind of the tracking pass (PlentyONE `updatedAt`, Unix seconds of our clock).
pub const TRACKING_CURSOR: &str = "tracking.plenty_updated_at";

/// The TikTok order id of a PlentyONE order of `shop_id` (external order id `<shop>_<order>`).
pub fn tiktok_order_id<'a>(shop_id: &str, order: &'a PlentyOrder) -> Option<&'a str> {
    order
        .external_order_id()?
        .strip_prefix(shop_id)?
        .strip_prefix('_')
        .filter(|id| !id.is_empty())
}

/// Unix seconds → W3C date-time in UTC (`2026-11-25T18:00:00Z`), as PlentyONE filters take it.
pub fn w3c(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // civil_from_days (H. Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// Whether a PlentyONE status is in `[from, from + 1)` (e.g. 7.x).
pub fn in_status_family(status: Decimal, family: i64) -> bool {
    let from = Decimal::from(family);
    status >= from && status < from + Decimal::ONE
}

/// PlentyONE orders of a referrer in one status family (7.x, 8.x) updated since `from` (Unix s).
pub(crate) async fn plenty_orders_in_family(
    plenty: &PlentyClient,
    referrer_id: Decimal,
    family: i64,
    from: i64,
) -> Result<Vec<PlentyOrder>> {
    let query = OrderQuery {
        referrer_id: Some(referrer_id),
        updated_at_from: Some(w3c(from)),
        status_from: Some(Decimal::from(family)),
        status_to: Some(Decimal::from(family) + Decimal::new(9999, 4)),
        items_per_page: Some(250),
        ..Default::default()
    };
    let orders: Vec<PlentyOrder> = plenty.orders(&query)?.try_collect().await?;
    // Sales orders only (returns copy the parent's properties), and the status family checked here
    // too in case a filter was ignored.
    Ok(orders
        .into_iter()
        .filter(|o| o.type_id == 1 && in_status_family(o.status_id, family))
        .collect())
}

pub(crate) fn code_str<S: serde::Serializer>(code: &ErrorCode, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(code.as_str())
}

pub(crate) fn op(id: &str) -> &'static Operation {
    Operation::find(id).expect("the engines only name operations of the table")
}

/// Holds the order's lease (shared with the order import) for the duration of `f`.
pub(crate) struct OrderLease<'a> {
    store: &'a dyn Store,
    name: String,
    holder: String,
    ttl: Duration,
}

impl<'a> OrderLease<'a> {
    pub(crate) async fn acquire(
        store: &'a dyn Store,
        owner: &str,
        shop_id: &str,
        order_id: &str,
        ttl: Duration,
    ) -> Result<OrderLease<'a>> {
        let name = format!("order:{shop_id}:{order_id}");
        let holder = format!("{owner}:{:016x}", rand::random::<u64>());
        if !store.acquire_lease(&name, &holder, ttl).await? {
            return Err(Error::new(
                ErrorCode::RateLimited,
                format!("order {order_id} is being worked on by another worker"),
            )
            .with_retry_after(Duration::from_secs(2)));
        }
        Ok(OrderLease {
            store,
            name,
            holder,
            ttl,
        })
    }

    /// Extends the lease before an unsafe write; fails if it was lost (another worker may act now).
    pub(crate) async fn renew(&self) -> Result<()> {
        if self.store.renew_lease(&self.name, &self.holder, self.ttl).await? {
            Ok(())
        } else {
            Err(Error::new(
                ErrorCode::RateLimited,
                format!("lost the lease {} before writing; nothing sent", self.name),
            )
            .with_retry_after(Duration::from_secs(2)))
        }
    }

    pub(crate) async fn release(self) {
        // A release that fails only means the lease runs out by itself.
        let _ = self.store.release_lease(&self.name, &self.holder).await;
    }
}

/// Records a failure of one engine on the order mapping (visible in the errors view).
pub(crate) async fn record_error(
    store: &dyn Store,
    mut m: OrderMapping,
    prefix: &str,
    e: &Error,
) -> Result<()> {
    m.sync_status = SyncStatus::Error;
    m.sync_error = Some(format!("{prefix}{}: {}", e.code(), e));
    store.update_order_mapping(&m).await
}

/// Clears an engine's error on the mapping (other engines' errors are left alone).
pub(crate) fn clear_error(m: &mut OrderMapping, prefix: &str) {
    if m.sync_error.as_deref().is_some_and(|e| e.starts_with(prefix)) {
        m.sync_error = None;
        if m.plenty_order_id.is_some() {
            m.sync_status = SyncStatus::Synced;
        }
    }
}

/// Sends tracking to TikTok.
pub struct TrackingEngine {
    store: Arc<dyn Store>,
    tiktok: TikTokClient,
    plenty: PlentyClient,
    configs: crate::settings::ShopSettings<TrackingConfig>,
    owner: String,
    lease: Duration,
}

impl TrackingEngine {
    pub fn new(
        store: Arc<dyn Store>,
        tiktok: TikTokClient,
        plenty: PlentyClient,
        configs: HashMap<String, TrackingConfig>,
        owner: impl Into<String>,
    ) -> Self {
        TrackingEngine {
            store,
            tiktok,
            plenty,
            configs: crate::settings::ShopSettings::new("tracking", configs),
            owner: owner.into(),
            // Longer than the clients' timeouts plus pacing waits: a send never outlives the lease.
            lease: Duration::from_secs(300),
        }
    }

    /// Adds or replaces a shop's settings.
    pub fn set_shop(&self, config: TrackingConfig) {
        self.configs.set(config.shop_id.clone(), config);
    }

    fn config(&self, shop_id: &str) -> Result<Arc<TrackingConfig>> {
        self.configs.get(shop_id)
    }

    /// One pass: PlentyONE orders of the shop's referrer in 7.x updated since the cursor (minus
    /// `overlap` seconds; `first_run_lookback` seconds before `now` when there is no cursor), then
    /// every order whose tracking failed before. `now` is taken before the pass starts. The cursor
    /// moves to `now` unless an order was busy (held by another worker), waits for its ON_HOLD to end,
    /// or failed without its failure being recorded; recorded failures stay on their mappings and are retried by every pass.
    pub async fn run_pass(
        &self,
        shop_id: &str,
        now: i64,
        first_run_lookback: i64,
        overlap: i64,
    ) -> Result<TrackingReport> {
        let config = self.config(shop_id)?;
        let from = match self.store.get_cursor(shop_id, TRACKING_CURSOR).await? {
            Some(c) => c.position.parse::<i64>().map_err(|_| {
                Error::new(
                    ErrorCode::Store,
                    format!("cursor {TRACKING_CURSOR} of shop {shop_id} is not a timestamp"),
                )
            })?,
            None => now - first_run_lookback,
        };
        let mut report = TrackingReport::default();
        let orders =
            plenty_orders_in_family(&self.plenty, config.referrer_id, 7, from - overlap.max(0)).await?;
        let mut done = std::collections::HashSet::new();
        // Busy orders and failures that could not be recorded keep the cursor where it is.
        let mut clean = true;
        progress::set_phase("shipped orders");
        progress::add_total(orders.len() as u64);
        for order in &orders {
            progress::advance(1);
            let Some(tiktok_id) = tiktok_order_id(shop_id, order) else {
                continue;
            };
            done.insert(tiktok_id.to_string());
            let outcome = self.ship_locked(&config, tiktok_id, Some(order)).await;
            // ON_HOLD lasts about an hour: the window is looked at again until it ends.
            clean &=
                matches!(outcome, Ok(ref o) if !matches!(o, ShipOutcome::Busy | ShipOutcome::WaitingOnHold));
            count(&mut report, shop_id, tiktok_id, outcome);
        }
        // Earlier failures, whatever the cursor says.
        let failed = self.failed_mappings(shop_id).await?;
        progress::set_phase("earlier failures");
        progress::add_total(failed.len() as u64);
        for m in failed {
            progress::advance(1);
            if done.contains(&m.tiktok_order_id) {
                continue;
            }
            let outcome = self.ship_locked(&config, &m.tiktok_order_id, None).await;
            count(&mut report, shop_id, &m.tiktok_order_id, outcome);
        }
        if clean {
            self.store
                .set_cursor(shop_id, TRACKING_CURSOR, &now.to_string())
                .await?;
        }
        Ok(report)
    }

    async fn failed_mappings(&self, shop_id: &str) -> Result<Vec<OrderMapping>> {
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let page = self
                .store
                .list_order_mappings(&OrderMappingQuery {
                    shop_id: shop_id.to_string(),
                    status: Some(SyncStatus::Error),
                    after_tiktok_order_id: after.clone(),
                    limit: 500,
                })
                .await?;
            let last = page.last().map(|m| m.tiktok_order_id.clone());
            let full = page.len() == 500;
            out.extend(page.into_iter().filter(|m| {
                m.plenty_order_id.is_some()
                    && m.sync_error
                        .as_deref()
                        .is_some_and(|e| e.starts_with(TRACKING_ERROR_PREFIX))
            }));
            if !full {
                return Ok(out);
            }
            after = last;
        }
    }

    /// Sends the tracking of one imported order now (e.g. from a PlentyONE event), if its PlentyONE
    /// order is in 7.x.
    pub async fn ship_order(&self, shop_id: &str, tiktok_order_id: &str) -> Result<ShipOutcome> {
        let config = self.config(shop_id)?;
        self.ship_locked(&config, tiktok_order_id, None).await
    }

    async fn ship_locked(
        &self,
        config: &TrackingConfig,
        tiktok_order_id: &str,
        listed: Option<&PlentyOrder>,
    ) -> Result<ShipOutcome> {
        let lease = match OrderLease::acquire(
            &*self.store,
            &self.owner,
            &config.shop_id,
            tiktok_order_id,
            self.lease,
        )
        .await
        {
            Ok(lease) => lease,
            Err(e) if e.code() == ErrorCode::RateLimited => return Ok(ShipOutcome::Busy),
            Err(e) => return Err(e),
        };
        let result = match self.ship(config, tiktok_order_id, listed, &lease).await {
            // Any failure (a read that failed, a store hiccup) is kept on the mapping, so the
            // failure sweep of the next passes retries it whatever the cursor says.
            Err(e) => match self
                .store
                .get_order_mapping(&config.shop_id, tiktok_order_id)
                .await
            {
                Ok(Some(m)) if m.plenty_order_id.is_some() => {
                    match record_error(&*self.store, m, TRACKING_ERROR_PREFIX, &e).await {
                        Ok(()) => Ok(ShipOutcome::Failed {
                            code: e.code(),
                            reason: e.to_string(),
                        }),
                        Err(_) => Err(e),
                    }
                }
                _ => Err(e),
            },
            ok => ok,
        };
        lease.release().await;
        result
    }

    async fn ship(
        &self,
        config: &TrackingConfig,
        tiktok_order_id: &str,
        listed: Option<&PlentyOrder>,
        lease: &OrderLease<'_>,
    ) -> Result<ShipOutcome> {
        let shop_id = config.shop_id.as_str();
        let Some(mut m) = self.store.get_order_mapping(shop_id, tiktok_order_id).await? else {
            return Ok(ShipOutcome::NotImported);
        };
        let Some(plenty_id) = m.plenty_order_id else {
            return Ok(ShipOutcome::NotImported);
        };
        if listed.is_some_and(|o| o.id != plenty_id) {
            return Ok(ShipOutcome::NotImported);
        }
        let had_error = m
            .sync_error
            .as_deref()
            .is_some_and(|e| e.starts_with(TRACKING_ERROR_PREFIX));
        // What the import last applied says shipped, and no failure of ours is pending: nothing to ask.
        let applied = m.tiktok_status.as_deref().map(OrderStatus::parse);
        if !had_error
            && matches!(
                applied,
                Some(
                    OrderStatus::AwaitingCollection
                        | OrderStatus::InTransit
                        | OrderStatus::Delivered
                        | OrderStatus::Completed
                )
            )
        {
            return Ok(ShipOutcome::AlreadyShipped {
                status: applied.map(|s| s.to_string()).unwrap_or_default(),
            });
        }
        let plenty_order = match listed {
            Some(o) => o.clone(),
            None => self.plenty.order(plenty_id).await?,
        };
        if !in_status_family(plenty_order.status_id, 7) {
            // Only failures are looked at without a listing: the order left 7.x, so the error is moot.
            if had_error {
                clear_error(&mut m, TRACKING_ERROR_PREFIX);
                self.store.update_order_mapping(&m).await?;
            }
            return Ok(ShipOutcome::NotBookedOut);
        }

        let shop = self.tiktok.shop(shop_id)?;
        let order = fetch_order(&shop, tiktok_order_id).await?;
        match ship_state(&order) {
            ShipState::AlreadyShipped => {
                self.record_shipped(m, &order).await?;
                return Ok(ShipOutcome::AlreadyShipped {
                    status: order.status.to_string(),
                });
            }
            ShipState::OnHold => return Ok(ShipOutcome::WaitingOnHold),
            ShipState::NotShippable(reason) => {
                let e = Error::new(ErrorCode::ApiError, reason.clone()).with_field("status");
                record_error(&*self.store, m, TRACKING_ERROR_PREFIX, &e).await?;
                return Ok(ShipOutcome::Failed {
                    code: e.code(),
                    reason,
                });
            }
            ShipState::Open => {}
        }
        let provider = match config.provider_for(&plenty_order) {
            Ok(p) => p,
            Err(e) => {
                let reason = e.to_string();
                record_error(&*self.store, m, TRACKING_ERROR_PREFIX, &e).await?;
                return Ok(ShipOutcome::UnmappedCarrier { reason });
            }
        };
        let numbers = self.plenty.package_numbers(plenty_id).await?;
        let calls = match plan_shipment(&order, config.method(), &numbers, &provider) {
            Ok(calls) => calls,
            Err(e) => {
                let outcome = if e.field.as_deref() == Some("packageNumber") {
                    ShipOutcome::NoPackageNumber
                } else {
                    ShipOutcome::Failed {
                        code: e.code(),
                        reason: e.to_string(),
                    }
                };
                record_error(&*self.store, m, TRACKING_ERROR_PREFIX, &e).await?;
                return Ok(outcome);
            }
        };
        let mut sent = 0;
        for call in &calls {
            lease.renew().await?;
            let result = match call {
                ShipCall::MarkShipped {
                    tracking_number,
                    shipping_provider_id,
                    order_line_item_ids,
                } => {
                    let body = json!({
                        "tracking_number": tracking_number,
                        "shipping_provider_id": shipping_provider_id,
                        "order_line_item_ids": order_line_item_ids,
                    });
                    shop.call(
                        op("orders.mark_shipped"),
                        tts_tiktok::client::CallInput::json(&body).path("order_id", tiktok_order_id),
                    )
                    .await
                }
                ShipCall::ShipPackage {
                    package_id,
                    tracking_number,
                    shipping_provider_id,
                } => {
                    let body = json!({
                        "self_shipment": {
                            "tracking_number": tracking_number,
                            "shipping_provider_id": shipping_provider_id,
                        }
                    });
                    shop.call(
                        op("packages.ship"),
                        tts_tiktok::client::CallInput::json(&body).path("package_id", package_id.as_str()),
                    )
                    .await
                }
            };
            match result {
                Ok(_) => sent += 1,
                Err(e) if e.code() == ErrorCode::OrderOnHold || e.tiktok_code == Some(21011044) => {
                    return Ok(ShipOutcome::WaitingOnHold);
                }
                Err(e) => {
                    // Never sent again blindly: the next pass reads TikTok first.
                    // No answer, or one that could not be read: TikTok may have shipped.
                    let unknown = tts_tiktok::client::retry::is_transient(e.code())
                        || e.code() == ErrorCode::InvalidResponse;
                    let e = if unknown {
                        Error::new(
                            e.code(),
                            format!(
                                "outcome unknown ({e}); TikTok is checked again before anything is resent"
                            ),
                        )
                    } else {
                        e
                    };
                    tracing::warn!(shop = %shop_id, order = %tiktok_order_id, code = %e.code(), sent, "tracking not sent");
                    let reason = e.to_string();
                    record_error(&*self.store, m, TRACKING_ERROR_PREFIX, &e).await?;
                    return Ok(ShipOutcome::Failed {
                        code: e.code(),
                        reason,
                    });
                }
            }
        }
        // Read back what TikTok made of it (also what the import would apply next).
        let status = match fetch_order(&shop, tiktok_order_id).await {
            Ok(after) => {
                let status = after.status.to_string();
                self.record_shipped(m, &after).await?;
                status
            }
            Err(_) => {
                clear_error(&mut m, TRACKING_ERROR_PREFIX);
                m.last_synced_at = Some(now_seconds());
                self.store.update_order_mapping(&m).await?;
                String::new()
            }
        };
        Ok(ShipOutcome::Shipped { calls: sent, status })
    }

    /// Notes TikTok's shipped state on the mapping. PlentyONE is in 7.x already, which is what the
    /// import would apply for these statuses, so the import need not touch it again.
    async fn record_shipped(&self, mut m: OrderMapping, order: &Order) -> Result<()> {
        clear_error(&mut m, TRACKING_ERROR_PREFIX);
        if order.update_time >= m.tiktok_update_time.unwrap_or(0) {
            m.tiktok_status = Some(order.status.as_str().to_string());
            m.tiktok_update_time = Some(order.update_time);
        }
        m.last_synced_at = Some(now_seconds());
        self.store.update_order_mapping(&m).await
    }
}

pub(crate) async fn fetch_order(shop: &tts_tiktok::client::Shop, order_id: &str) -> Result<Order> {
    shop.get_orders(&[order_id.to_string()])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| Error::new(ErrorCode::NotFound, format!("TikTok has no order {order_id}")))
}

fn count(report: &mut TrackingReport, shop_id: &str, order_id: &str, outcome: Result<ShipOutcome>) {
    report.seen += 1;
    match outcome {
        Ok(ShipOutcome::Shipped { calls, .. }) => {
            report.shipped += 1;
            report.calls += calls;
        }
        Ok(ShipOutcome::AlreadyShipped { .. }) => report.skipped_already_shipped += 1,
        Ok(ShipOutcome::WaitingOnHold) => report.waiting_on_hold += 1,
        Ok(ShipOutcome::UnmappedCarrier { .. }) => report.unmapped_carrier += 1,
        Ok(ShipOutcome::NoPackageNumber) => report.no_package_number += 1,
        Ok(ShipOutcome::NotImported) | Ok(ShipOutcome::NotBookedOut) => report.not_imported += 1,
        Ok(ShipOutcome::Busy) => report.busy += 1,
        Ok(ShipOutcome::Failed { .. }) => {
            progress::error();
            report.errors += 1;
        }
        Err(e) => {
            tracing::warn!(shop = %shop_id, order = %order_id, code = %e.code(), error = %e, "tracking failed for one order");
            progress::error();
            report.errors += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tts_tiktok::model::order::{LineItem, PackageRef};

    fn line(id: &str, package: &str, status: &str, tracking: &str) -> LineItem {
        LineItem {
            id: id.into(),
            package_id: Some(package.into()),
            package_status: Some(status.into()),
            tracking_number: Some(tracking.into()),
            display_status: "AWAITING_SHIPMENT".into(),
            ..Default::default()
        }
    }

    fn order(status: OrderStatus, lines: Vec<LineItem>) -> Order {
        let mut packages: Vec<PackageRef> = Vec::new();
        for l in &lines {
            match l.package_id.clone().filter(|p| !p.is_empty()) {
                Some(p) if !packages.iter().any(|x| x.id == p) => packages.push(PackageRef { id: p }),
                _ => {}
            }
        }
        Order {
            id: "o1".into(),
            status,
            line_items: lines,
            packages,
            ..Default::default()
        }
    }

    #[test]
    fn regions_choose_the_method() {
        for r in ["US", "gb", "UK", "DE", "FR", "JP", "ES", "IE", "IT"] {
            assert_eq!(ship_method_for_region(r), ShipMethod::MarkShipped, "{r}");
        }
        for r in ["MY", "TH", "VN", "SG", "PH", "ID", "MX", "BR", ""] {
            assert_eq!(ship_method_for_region(r), ShipMethod::ShipPackage, "{r}");
        }
        let forced = TrackingConfig {
            region: "US".into(),
            method: Some(ShipMethod::ShipPackage),
            ..Default::default()
        };
        assert_eq!(forced.method(), ShipMethod::ShipPackage);
    }

    #[test]
    fn state_says_what_is_left_to_ship() {
        let open = order(
            OrderStatus::AwaitingShipment,
            vec![line("l1", "p1", "PROCESSING", "")],
        );
        assert_eq!(ship_state(&open), ShipState::Open);
        assert_eq!(ship_state(&order(OrderStatus::OnHold, vec![])), ShipState::OnHold);
        assert_eq!(
            ship_state(&order(OrderStatus::InTransit, vec![])),
            ShipState::AlreadyShipped
        );
        let tracked = order(
            OrderStatus::AwaitingShipment,
            vec![line("l1", "p1", "PROCESSING", "TRK1")],
        );
        assert_eq!(
            ship_state(&tracked),
            ShipState::AlreadyShipped,
            "a tracking number counts as shipped"
        );
        assert!(matches!(
            ship_state(&order(OrderStatus::Cancelled, vec![])),
            ShipState::NotShippable(_)
        ));
    }

    #[test]
    fn plan_ships_each_open_package_once() {
        let o = order(
            OrderStatus::PartiallyShipping,
            vec![
                line("l1", "p1", "FULFILLING", "T0"),
                line("l2", "p2", "PROCESSING", ""),
                line("l3", "p2", "PROCESSING", ""),
                line("l4", "p3", "PROCESSING", ""),
            ],
        );
        let calls = plan_shipment(&o, ShipMethod::ShipPackage, &["A".into(), "B".into()], "prov").unwrap();
        assert_eq!(
            calls,
            vec![
                ShipCall::ShipPackage {
                    package_id: "p2".into(),
                    tracking_number: "A".into(),
                    shipping_provider_id: "prov".into()
                },
                ShipCall::ShipPackage {
                    package_id: "p3".into(),
                    tracking_number: "B".into(),
                    shipping_provider_id: "prov".into()
                },
            ]
        );
        let calls = plan_shipment(&o, ShipMethod::MarkShipped, &["A".into()], "prov").unwrap();
        assert_eq!(calls.len(), 2);
        assert_eq!(
            calls[0],
            ShipCall::MarkShipped {
                tracking_number: "A".into(),
                shipping_provider_id: "prov".into(),
                order_line_item_ids: vec!["l2".into(), "l3".into()]
            }
        );
        let err = plan_shipment(&o, ShipMethod::MarkShipped, &[" ".into()], "prov").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("packageNumber"));
    }

    #[test]
    fn carrier_comes_from_the_shipping_profile_or_the_default() {
        let mut order = PlentyOrder {
            id: 12,
            ..Default::default()
        };
        order.properties.push(tts_plenty::model::Property::new(2, "6"));
        let mut config = TrackingConfig {
            carriers: HashMap::from([(6, "UPS".to_string())]),
            ..Default::default()
        };
        assert_eq!(config.provider_for(&order).unwrap(), "UPS");
        config.carriers.clear();
        let e = config.provider_for(&order).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ConfigInvalid);
        assert_eq!(e.field.as_deref(), Some("carriers.6"));
        config.default_provider_id = Some("DHL".into());
        assert_eq!(config.provider_for(&order).unwrap(), "DHL");
    }

    #[test]
    fn external_ids_and_dates() {
        let mut o = PlentyOrder::default();
        o.properties
            .push(tts_plenty::model::Property::new(7, "shop1_5770001"));
        assert_eq!(tiktok_order_id("shop1", &o), Some("5770001"));
        assert_eq!(tiktok_order_id("shop", &o), None);
        assert_eq!(w3c(0), "1970-01-01T00:00:00Z");
        assert_eq!(w3c(1_764_095_400), "2025-11-25T18:30:00Z");
        assert_eq!(w3c(951_782_400), "2000-02-29T00:00:00Z");
        assert!(in_status_family(Decimal::new(71, 1), 7));
        assert!(!in_status_family(Decimal::from(8), 7));
    }
}
