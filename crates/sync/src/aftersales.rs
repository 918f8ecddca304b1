//! Cancellations and returns (after-sales), both directions.
//!
//! TikTok → PlentyONE: webhooks 11 (CANCELLATION_STATUS_CHANGE) and 12 (RETURN_STATUS_CHANGE) through
//! [`AftersalesEvents`], and [`AftersalesEngine::run_pass`] on a schedule (searches, since webhooks get
//! lost). The webhook only says *that* something changed: the engine always reads the cancellation or
//! return from TikTok again under the order's lease, so duplicated and reordered webhooks decide
//! nothing twice.
//! - a buyer's pending cancellation is decided by [`decide_cancellation`] (default: approve while the
//!   PlentyONE order is not shipped, status < 7; reject once it is) and sent with the deterministic
//!   idempotency key `cancel-<cancel_id>-approve|reject`; an approved (completed) cancellation of the
//!   whole order cancels the PlentyONE order;
//! - a return gets one PlentyONE return order (type 3) — see "exactly once" below — and a decision from
//!   [`decide_return`] (auto-approve refunds below an amount, or follow the return order's PlentyONE
//!   status set by the merchant), sent with the key `return-<return_id>-<decision>`.
//!
//! PlentyONE → TikTok: a PlentyONE order of the shop cancelled (8.x) while TikTok still has it open is
//! cancelled on TikTok (`cancellations.create`, which takes no idempotency key: it is sent at most once
//! per pass, and every pass reads the TikTok order first), or, when the buyer has already asked to
//! cancel, that request is approved instead.
//!
//! **Return orders exactly once.** `create_return` is not idempotent and a return order carries no
//! field of ours to find it by, so a ledger per TikTok order is kept in the store (cursor kind
//! `returns:<order_id>`, JSON `{return_id: {plenty_return_order_id, creating_since, decisions}}`),
//! written only under the order's lease:
//! 1. before creating, the ledger records `creating_since`;
//! 2. after creating, it records the return order id;
//! 3. an entry still "creating" (a crash, or a create whose answer was lost) is resolved by listing the
//!    PlentyONE orders of the referrer updated since then: a return order (type 3) of the parent that no
//!    other ledger entry claims is adopted; if there is none, the create did not happen and is done
//!    again; if there are several, the entry fails visibly (someone else created returns meanwhile).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures_util::TryStreamExt;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tts_core::{Error, ErrorCode, Result, progress};
use tts_plenty::api::orders::{Order as PlentyOrder, OrderQuery};
use tts_plenty::api::returns::{ReturnCreate, ReturnQuantity};
use tts_plenty::client::{Client as PlentyClient, Request as PlentyRequest};
use tts_plenty::model::order_property_type;
use tts_store::{OrderMapping, OrderMappingQuery, Store, SyncStatus, now_seconds};
use tts_tiktok::client::{CallInput, Client as TikTokClient, Shop};
use tts_tiktok::model::order::OrderStatus;
use tts_tiktok::webhook::{Event, Notification};

use crate::fulfillment::{
    OrderLease, clear_error, fetch_order, in_status_family, op, plenty_orders_in_family, record_error,
    tiktok_order_id, w3c,
};
use crate::inbox::EventHandler;

// ---- TikTok records -------------------------------------------------------------------------------

fn text(v: &Value, keys: &[&str]) -> String {
    keys.iter()
        .find_map(|k| match &v[*k] {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .unwrap_or_default()
}

fn int(v: &Value, key: &str) -> i64 {
    match &v[key] {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(s) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

/// A cancellation as Search Cancellations answers it (the fields the engine reads).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Cancellation {
    pub id: String,
    pub order_id: String,
    /// CANCELLATION_REQUEST_PENDING / _SUCCESS / _CANCEL / _COMPLETE.
    pub status: String,
    /// CANCEL (seller) / BUYER_CANCEL.
    pub cancel_type: String,
    pub role: String,
    pub update_time: i64,
}

impl Cancellation {
    pub fn from_json(v: &Value) -> Option<Cancellation> {
        let c = Cancellation {
            id: text(v, &["cancel_id", "id"]),
            order_id: text(v, &["order_id"]),
            status: text(v, &["cancel_status", "status"]),
            cancel_type: text(v, &["cancel_type"]),
            role: text(v, &["role", "cancellations_role"]),
            update_time: int(v, "update_time"),
        };
        (!c.id.is_empty() && !c.order_id.is_empty()).then_some(c)
    }
}

/// A return as Search Returns answers it (the fields the engine reads).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ReturnRequest {
    pub id: String,
    pub order_id: String,
    /// REFUND, RETURN_AND_REFUND, REPLACEMENT.
    pub return_type: String,
    pub status: String,
    /// TikTok order line item ids being returned (one unit each).
    pub line_item_ids: Vec<String>,
    pub refund_total: Option<Decimal>,
    pub currency: String,
    pub update_time: i64,
}

impl ReturnRequest {
    pub fn from_json(v: &Value) -> Option<ReturnRequest> {
        let line_item_ids = v["return_line_items"]
            .as_array()
            .map(|lines| {
                lines
                    .iter()
                    .map(|l| text(l, &["order_line_item_id"]))
                    .filter(|id| !id.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let refund = &v["refund_amount"];
        let r = ReturnRequest {
            id: text(v, &["return_id", "id"]),
            order_id: text(v, &["order_id"]),
            return_type: text(v, &["return_type"]),
            status: text(v, &["return_status", "status"]),
            line_item_ids,
            refund_total: text(refund, &["refund_total"]).parse().ok(),
            currency: text(refund, &["currency"]),
            update_time: int(v, "update_time"),
        };
        (!r.id.is_empty() && !r.order_id.is_empty()).then_some(r)
    }
}

pub mod cancel_status {
    pub const PENDING: &str = "CANCELLATION_REQUEST_PENDING";
    pub const SUCCESS: &str = "CANCELLATION_REQUEST_SUCCESS";
    pub const COMPLETE: &str = "CANCELLATION_REQUEST_COMPLETE";
    pub const CANCEL: &str = "CANCELLATION_REQUEST_CANCEL";
}

pub mod return_status {
    pub const PENDING: &str = "RETURN_OR_REFUND_REQUEST_PENDING";
    pub const BUYER_SHIPPED_ITEM: &str = "BUYER_SHIPPED_ITEM";
    pub const REJECT: &str = "REFUND_OR_RETURN_REQUEST_REJECT";
    pub const REJECT_RECEIVE_PACKAGE: &str = "REJECT_RECEIVE_PACKAGE";
    pub const CANCEL: &str = "RETURN_OR_REFUND_REQUEST_CANCEL";
}

// ---- rules ----------------------------------------------------------------------------------------

/// How buyer cancellation requests are decided.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CancellationRules {
    /// Approve while the PlentyONE order is below `shipped_from_status` (or not imported). Default true.
    pub auto_approve_unshipped: bool,
    /// Reject once the PlentyONE order reached `shipped_from_status`. Default true; false leaves
    /// such requests to the merchant in Seller Center.
    pub reject_shipped: bool,
    /// Default 7 (outgoing items booked).
    pub shipped_from_status: Decimal,
    /// `reject_reason` sent with a rejection (a key of `GET /return_refund/202309/reject_reasons`).
    pub reject_reason: String,
    pub reject_comment: String,
}

impl Default for CancellationRules {
    fn default() -> Self {
        CancellationRules {
            auto_approve_unshipped: true,
            reject_shipped: true,
            shipped_from_status: Decimal::from(7),
            reject_reason: "seller_reject_apply_product_has_been_packed".into(),
            reject_comment: "The order has already been shipped.".into(),
        }
    }
}

/// How returns are handled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReturnRules {
    /// Create the PlentyONE return order (type 3) for these return types. Default all three.
    pub return_order_types: Vec<String>,
    /// Status of new return orders (PlentyONE default 9 when `None`).
    pub return_status_id: Option<Decimal>,
    pub warehouse_id: Option<i64>,
    /// Approve requests whose refund is below this amount (in the order currency) at once.
    pub auto_approve_below: Option<Decimal>,
    /// Approve the request when the merchant sets the return order to this PlentyONE status.
    pub approve_at_status: Option<Decimal>,
    /// Approve the received package (buyer shipped it back) when the return order has this status,
    /// e.g. 9.1 "items checked". Separate from `approve_at_status`, so approving the request never
    /// approves a package nobody has looked at.
    pub approve_received_at_status: Option<Decimal>,
    /// Reject the current stage when the return order has this status.
    pub reject_at_status: Option<Decimal>,
    pub reject_reason: String,
    pub reject_comment: String,
}

impl Default for ReturnRules {
    fn default() -> Self {
        ReturnRules {
            return_order_types: vec!["REFUND".into(), "RETURN_AND_REFUND".into(), "REPLACEMENT".into()],
            return_status_id: None,
            warehouse_id: None,
            auto_approve_below: None,
            approve_at_status: None,
            approve_received_at_status: None,
            reject_at_status: None,
            reject_reason: "seller_reject_return_reason_other".into(),
            reject_comment: "Rejected after checking the return.".into(),
        }
    }
}

/// Per-shop after-sales settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AftersalesConfig {
    pub shop_id: String,
    /// The PlentyONE referrer of this shop's orders (the order import's `referrer_id`).
    pub referrer_id: Decimal,
    pub cancellations: CancellationRules,
    pub returns: ReturnRules,
    /// Cancel on TikTok when the PlentyONE order is cancelled (8.x). Default true.
    pub seller_cancel: bool,
    /// `cancel_reason` of a seller cancellation (UNVERIFIED key; configurable).
    pub seller_cancel_reason: String,
}

impl Default for AftersalesConfig {
    fn default() -> Self {
        AftersalesConfig {
            shop_id: String::new(),
            referrer_id: Decimal::ZERO,
            cancellations: CancellationRules::default(),
            returns: ReturnRules::default(),
            seller_cancel: true,
            seller_cancel_reason: "seller_cancel_reason_out_of_stock".into(),
        }
    }
}

impl AftersalesConfig {
    pub fn new(shop_id: impl Into<String>, referrer_id: Decimal) -> Self {
        AftersalesConfig {
            shop_id: shop_id.into(),
            referrer_id,
            ..Default::default()
        }
    }
}

/// What to do with a pending buyer cancellation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CancelDecision {
    Approve,
    Reject,
    /// Left to the merchant (Seller Center).
    Leave {
        reason: String,
    },
}

/// Decides a pending buyer cancellation from the PlentyONE status (`None`: not imported) and whether
/// TikTok shows the order (partly) shipped already. Pure.
pub fn decide_cancellation(
    rules: &CancellationRules,
    plenty_status: Option<Decimal>,
    tiktok_shipped: bool,
) -> CancelDecision {
    let shipped = tiktok_shipped
        || match plenty_status {
            None => false,
            // Already cancelled in PlentyONE: nothing will ship.
            Some(s) if in_status_family(s, 8) => false,
            Some(s) => s >= rules.shipped_from_status,
        };
    match (shipped, rules.auto_approve_unshipped, rules.reject_shipped) {
        (false, true, _) => CancelDecision::Approve,
        (true, _, true) => CancelDecision::Reject,
        (false, false, _) => CancelDecision::Leave {
            reason: "auto_approve_unshipped is off".into(),
        },
        (true, _, false) => CancelDecision::Leave {
            reason: "shipped in PlentyONE and reject_shipped is off".into(),
        },
    }
}

/// What to do with a return now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReturnDecision {
    /// Send this approve decision (APPROVE_REFUND, APPROVE_RETURN, ...).
    Approve(&'static str),
    /// Send this reject decision (REJECT_REFUND, ...).
    Reject(&'static str),
    /// A decision is due but the rules do not make it (yet).
    Wait(String),
    /// No decision is due in this status.
    Nothing,
}

/// Decides the current stage of a return from the rules and the return order's PlentyONE status
/// (`None` while there is none). Statuses are compared for equality. Pure.
pub fn decide_return(
    rules: &ReturnRules,
    ret: &ReturnRequest,
    return_order_status: Option<Decimal>,
) -> ReturnDecision {
    let (approve, reject) = match (ret.status.as_str(), ret.return_type.as_str()) {
        (return_status::PENDING, "REFUND") => ("APPROVE_REFUND", "REJECT_REFUND"),
        (return_status::PENDING, "REPLACEMENT") => ("APPROVE_REPLACEMENT", "REJECT_REPLACEMENT"),
        (return_status::PENDING, _) => ("APPROVE_RETURN", "REJECT_RETURN"),
        (return_status::BUYER_SHIPPED_ITEM, _) => ("APPROVE_RECEIVED_PACKAGE", "REJECT_RECEIVED_PACKAGE"),
        _ => return ReturnDecision::Nothing,
    };
    if return_order_status.is_some() && return_order_status == rules.reject_at_status {
        return ReturnDecision::Reject(reject);
    }
    let below_limit = match (rules.auto_approve_below, ret.refund_total) {
        (Some(limit), Some(total)) => total < limit,
        _ => false,
    };
    if ret.status == return_status::PENDING && below_limit {
        return ReturnDecision::Approve(approve);
    }
    let approve_at = match ret.status.as_str() {
        return_status::PENDING => rules.approve_at_status,
        _ => rules.approve_received_at_status,
    };
    if return_order_status.is_some() && return_order_status == approve_at {
        return ReturnDecision::Approve(approve);
    }
    ReturnDecision::Wait(match approve_at {
        Some(s) => format!("{approve} waits for the return order to reach PlentyONE status {s}"),
        None => format!("{approve} is left to the merchant (no rule decides it)"),
    })
}

// ---- outcomes and reports -------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CancellationOutcome {
    Approved {
        plenty_cancelled: bool,
    },
    Rejected,
    LeftForReview {
        reason: String,
    },
    /// A completed cancellation cancelled the PlentyONE order.
    PlentyCancelled,
    /// Seller cancellation created on TikTok (or a pending buyer request approved for it).
    SellerCancelled,
    Unchanged,
    Failed {
        #[serde(serialize_with = "crate::fulfillment::code_str")]
        code: ErrorCode,
        reason: String,
    },
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReturnOutcome {
    pub plenty_return_order_id: Option<i64>,
    /// Created by this call (or adopted after an unknown outcome: `adopted`).
    pub created: bool,
    pub adopted: bool,
    /// The decision sent to TikTok by this call.
    pub decision: Option<String>,
    pub waiting: Option<String>,
}

/// What an after-sales pass (or event) did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AftersalesReport {
    pub cancellations_seen: usize,
    pub cancellations_approved: usize,
    pub cancellations_rejected: usize,
    pub cancellations_left_for_review: usize,
    pub plenty_orders_cancelled: usize,
    pub seller_cancellations: usize,
    pub returns_seen: usize,
    pub returns_created: usize,
    pub returns_approved: usize,
    pub returns_rejected: usize,
    pub returns_waiting: usize,
    /// Returns of orders that were never imported (nothing to create them from).
    pub not_imported: usize,
    pub errors: usize,
}

impl AftersalesReport {
    fn cancellation(&mut self, outcome: &Result<CancellationOutcome>) {
        self.cancellations_seen += 1;
        match outcome {
            Ok(CancellationOutcome::Approved { plenty_cancelled }) => {
                self.cancellations_approved += 1;
                self.plenty_orders_cancelled += usize::from(*plenty_cancelled);
            }
            Ok(CancellationOutcome::Rejected) => self.cancellations_rejected += 1,
            Ok(CancellationOutcome::LeftForReview { .. }) => self.cancellations_left_for_review += 1,
            Ok(CancellationOutcome::PlentyCancelled) => self.plenty_orders_cancelled += 1,
            Ok(CancellationOutcome::SellerCancelled) => self.seller_cancellations += 1,
            Ok(CancellationOutcome::Unchanged) => {}
            Ok(CancellationOutcome::Failed { .. }) | Err(_) => self.errors += 1,
        }
    }

    fn ret(&mut self, outcome: &Result<ReturnOutcome>) {
        self.returns_seen += 1;
        match outcome {
            Ok(o) => {
                self.returns_created += usize::from(o.created);
                match o.decision.as_deref() {
                    Some(d) if d.starts_with("APPROVE") => self.returns_approved += 1,
                    Some(_) => self.returns_rejected += 1,
                    None => {}
                }
                self.returns_waiting += usize::from(o.waiting.is_some());
            }
            Err(_) => self.errors += 1,
        }
    }
}

/// Prefixes of after-sales errors on order mappings (`sync_error`).
pub const CANCELLATION_ERROR_PREFIX: &str = "cancellation ";
pub const RETURN_ERROR_PREFIX: &str = "return ";
pub const SELLER_CANCEL_ERROR_PREFIX: &str = "seller cancel ";
/// Cursor kind of the after-sales pass.
pub const AFTERSALES_CURSOR: &str = "aftersales.update_time";

/// The idempotency key of a decision: the same decision on the same record always has the same key.
pub fn idempotency_key(kind: &str, id: &str, decision: &str) -> String {
    format!("{kind}-{id}-{}", decision.to_ascii_lowercase())
}

// ---- the return ledger ----------------------------------------------------------------------------

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
struct LedgerEntry {
    plenty_return_order_id: Option<i64>,
    creating_since: Option<i64>,
    decisions: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
struct Ledger {
    returns: BTreeMap<String, LedgerEntry>,
}

fn ledger_kind(order_id: &str) -> String {
    format!("returns:{order_id}")
}

// ---- the engine -----------------------------------------------------------------------------------

/// Cancellations and returns for the configured shops.
pub struct AftersalesEngine {
    store: Arc<dyn Store>,
    tiktok: TikTokClient,
    plenty: PlentyClient,
    configs: crate::settings::ShopSettings<AftersalesConfig>,
    owner: String,
    lease: Duration,
}

impl AftersalesEngine {
    pub fn new(
        store: Arc<dyn Store>,
        tiktok: TikTokClient,
        plenty: PlentyClient,
        configs: HashMap<String, AftersalesConfig>,
        owner: impl Into<String>,
    ) -> Self {
        AftersalesEngine {
            store,
            tiktok,
            plenty,
            configs: crate::settings::ShopSettings::new("after-sales", configs),
            owner: owner.into(),
            lease: Duration::from_secs(300),
        }
    }

    pub fn set_shop(&self, config: AftersalesConfig) {
        self.configs.set(config.shop_id.clone(), config);
    }

    fn config(&self, shop_id: &str) -> Result<Arc<AftersalesConfig>> {
        self.configs.get(shop_id)
    }

    async fn lease(&self, shop_id: &str, order_id: &str) -> Result<OrderLease<'_>> {
        OrderLease::acquire(&*self.store, &self.owner, shop_id, order_id, self.lease).await
    }

    async fn search_cancellations(&self, shop: &Shop, filter: Value) -> Result<Vec<Cancellation>> {
        let input = CallInput::json(&filter);
        let items: Vec<Value> = shop
            .paginate(op("cancellations.search"), input, 50)
            .try_collect()
            .await?;
        Ok(items.iter().filter_map(Cancellation::from_json).collect())
    }

    async fn search_returns(&self, shop: &Shop, filter: Value) -> Result<Vec<ReturnRequest>> {
        let input = CallInput::json(&filter);
        let items: Vec<Value> = shop
            .paginate(op("returns.search"), input, 50)
            .try_collect()
            .await?;
        Ok(items.iter().filter_map(ReturnRequest::from_json).collect())
    }

    // ---- cancellations ----------------------------------------------------------------------------

    /// Brings the cancellations of one order up to date (`cancel_id` narrows it to one).
    pub async fn sync_cancellation(
        &self,
        shop_id: &str,
        order_id: &str,
        cancel_id: Option<&str>,
    ) -> Result<Vec<CancellationOutcome>> {
        let config = self.config(shop_id)?;
        let shop = self.tiktok.shop(shop_id)?;
        let filter = match cancel_id.filter(|id| !id.is_empty()) {
            Some(id) => json!({ "cancel_ids": [id] }),
            None => json!({ "order_ids": [order_id] }),
        };
        let lease = self.lease(shop_id, order_id).await?;
        // Read under the lease: what another worker decided meanwhile is seen, never decided again.
        let result = async {
            let cancellations = self.search_cancellations(&shop, filter).await?;
            let mut outcomes = Vec::new();
            for c in cancellations.iter().filter(|c| c.order_id == order_id) {
                outcomes.push(self.cancellation_locked(&config, &shop, c, &lease).await?);
            }
            Ok(outcomes)
        }
        .await;
        lease.release().await;
        result
    }

    async fn cancellation_locked(
        &self,
        config: &AftersalesConfig,
        shop: &Shop,
        c: &Cancellation,
        lease: &OrderLease<'_>,
    ) -> Result<CancellationOutcome> {
        let mapping = self.store.get_order_mapping(&config.shop_id, &c.order_id).await?;
        let plenty_id = mapping.as_ref().and_then(|m| m.plenty_order_id);
        let result = self.cancellation_inner(config, shop, c, plenty_id, lease).await;
        // Errors go on imported orders only (a pending import keeps its own state and reason).
        if let Some(mut m) = mapping.filter(|m| m.plenty_order_id.is_some()) {
            match &result {
                Err(e) => record_error(&*self.store, m, CANCELLATION_ERROR_PREFIX, e).await?,
                Ok(_)
                    if m.sync_error
                        .as_deref()
                        .is_some_and(|e| e.starts_with(CANCELLATION_ERROR_PREFIX)) =>
                {
                    clear_error(&mut m, CANCELLATION_ERROR_PREFIX);
                    self.store.update_order_mapping(&m).await?;
                }
                Ok(_) => {}
            }
        }
        result
    }

    async fn cancellation_inner(
        &self,
        config: &AftersalesConfig,
        shop: &Shop,
        c: &Cancellation,
        plenty_id: Option<i64>,
        lease: &OrderLease<'_>,
    ) -> Result<CancellationOutcome> {
        match c.status.as_str() {
            cancel_status::PENDING => {
                let plenty_status = match plenty_id {
                    Some(id) => Some(self.plenty.order(id).await?.status_id),
                    None => None,
                };
                // Shipping arranged on TikTok (platform pickup) counts as shipped too.
                let tiktok_shipped = matches!(
                    fetch_order(shop, &c.order_id).await?.status,
                    OrderStatus::PartiallyShipping
                        | OrderStatus::AwaitingCollection
                        | OrderStatus::InTransit
                        | OrderStatus::Delivered
                        | OrderStatus::Completed
                );
                match decide_cancellation(&config.cancellations, plenty_status, tiktok_shipped) {
                    CancelDecision::Approve => {
                        lease.renew().await?;
                        self.approve_cancellation(shop, &c.id).await?;
                        let plenty_cancelled = match (plenty_id, plenty_status) {
                            (Some(id), Some(s)) if !in_status_family(s, 8) => {
                                self.plenty.cancel_order(id).await?;
                                true
                            }
                            _ => false,
                        };
                        Ok(CancellationOutcome::Approved { plenty_cancelled })
                    }
                    CancelDecision::Reject => {
                        lease.renew().await?;
                        let rules = &config.cancellations;
                        let mut input = CallInput::json(&json!({
                            "reject_reason": rules.reject_reason,
                            "comment": rules.reject_comment,
                        }))
                        .path("cancel_id", c.id.as_str());
                        input.idempotency_key = Some(idempotency_key("cancel", &c.id, "reject"));
                        shop.call(op("cancellations.reject"), input).await?;
                        Ok(CancellationOutcome::Rejected)
                    }
                    CancelDecision::Leave { reason } => Ok(CancellationOutcome::LeftForReview { reason }),
                }
            }
            cancel_status::COMPLETE | cancel_status::SUCCESS => {
                let Some(id) = plenty_id else {
                    return Ok(CancellationOutcome::Unchanged);
                };
                // Line-level cancellations leave the order open: only a cancelled order cancels it.
                let order = fetch_order(shop, &c.order_id).await?;
                if order.status != OrderStatus::Cancelled {
                    return Ok(CancellationOutcome::Unchanged);
                }
                if in_status_family(self.plenty.order(id).await?.status_id, 8) {
                    return Ok(CancellationOutcome::Unchanged);
                }
                self.plenty.cancel_order(id).await?;
                Ok(CancellationOutcome::PlentyCancelled)
            }
            _ => Ok(CancellationOutcome::Unchanged),
        }
    }

    async fn approve_cancellation(&self, shop: &Shop, cancel_id: &str) -> Result<()> {
        // No body: the SDK sends none (contract: `cancellations.approve` body null).
        let mut input = CallInput::default().path("cancel_id", cancel_id);
        input.idempotency_key = Some(idempotency_key("cancel", cancel_id, "approve"));
        shop.call(op("cancellations.approve"), input).await?;
        Ok(())
    }

    /// A PlentyONE order cancelled (8.x) while TikTok still has it open: cancel it on TikTok.
    async fn seller_cancel(
        &self,
        config: &AftersalesConfig,
        tiktok_order_id: &str,
        plenty: Option<&PlentyOrder>,
    ) -> Result<CancellationOutcome> {
        let lease = self.lease(&config.shop_id, tiktok_order_id).await?;
        let result = self
            .seller_cancel_locked(config, tiktok_order_id, plenty, &lease)
            .await;
        lease.release().await;
        result
    }

    async fn seller_cancel_locked(
        &self,
        config: &AftersalesConfig,
        tiktok_order_id: &str,
        listed: Option<&PlentyOrder>,
        lease: &OrderLease<'_>,
    ) -> Result<CancellationOutcome> {
        let Some(mut m) = self
            .store
            .get_order_mapping(&config.shop_id, tiktok_order_id)
            .await?
        else {
            return Ok(CancellationOutcome::Unchanged);
        };
        let Some(plenty_id) = m.plenty_order_id else {
            return Ok(CancellationOutcome::Unchanged);
        };
        if listed.is_some_and(|o| o.id != plenty_id) {
            return Ok(CancellationOutcome::Unchanged);
        }
        let had_error = m
            .sync_error
            .as_deref()
            .is_some_and(|e| e.starts_with(SELLER_CANCEL_ERROR_PREFIX));
        if !had_error && m.tiktok_status.as_deref().map(OrderStatus::parse) == Some(OrderStatus::Cancelled) {
            return Ok(CancellationOutcome::Unchanged);
        }
        let status = match listed {
            Some(o) => o.status_id,
            None => self.plenty.order(plenty_id).await?.status_id,
        };
        if !in_status_family(status, 8) {
            if had_error {
                clear_error(&mut m, SELLER_CANCEL_ERROR_PREFIX);
                self.store.update_order_mapping(&m).await?;
            }
            return Ok(CancellationOutcome::Unchanged);
        }
        let shop = self.tiktok.shop(&config.shop_id)?;
        let result = async {
            let order = fetch_order(&shop, tiktok_order_id).await?;
            match order.status {
                OrderStatus::Cancelled => Ok(CancellationOutcome::Unchanged),
                OrderStatus::Unpaid | OrderStatus::OnHold | OrderStatus::AwaitingShipment => {
                    let pending = self
                        .search_cancellations(
                            &shop,
                            json!({ "order_ids": [tiktok_order_id], "cancel_status": [cancel_status::PENDING] }),
                        )
                        .await?;
                    lease.renew().await?;
                    match pending.first() {
                        // The buyer asked already: approving is the cancellation.
                        Some(c) => self.approve_cancellation(&shop, &c.id).await?,
                        None => {
                            // No idempotency key (the SDK takes none): never sent blindly twice; a
                            // lost answer is settled by the next pass, which reads the order first.
                            let input = CallInput::json(&json!({
                                "order_id": tiktok_order_id,
                                "cancel_reason": config.seller_cancel_reason,
                            }));
                            shop.call(op("cancellations.create"), input).await?;
                        }
                    }
                    Ok(CancellationOutcome::SellerCancelled)
                }
                other => Err(Error::new(
                    ErrorCode::ApiError,
                    format!(
                        "the PlentyONE order {plenty_id} is cancelled but TikTok order {tiktok_order_id} is {other}; a seller cancellation is no longer possible (refund it through a return in Seller Center)"
                    ),
                )
                .with_field("status")),
            }
        }
        .await;
        match &result {
            Err(e) => {
                record_error(&*self.store, m, SELLER_CANCEL_ERROR_PREFIX, e).await?;
            }
            Ok(_) if had_error => {
                clear_error(&mut m, SELLER_CANCEL_ERROR_PREFIX);
                self.store.update_order_mapping(&m).await?;
            }
            Ok(_) => {}
        }
        result
    }

    // ---- returns ----------------------------------------------------------------------------------

    /// Brings the returns of one order up to date (`return_id` narrows it to one).
    pub async fn sync_return(
        &self,
        shop_id: &str,
        order_id: &str,
        return_id: Option<&str>,
    ) -> Result<Vec<ReturnOutcome>> {
        let config = self.config(shop_id)?;
        let shop = self.tiktok.shop(shop_id)?;
        let filter = match return_id.filter(|id| !id.is_empty()) {
            Some(id) => json!({ "return_ids": [id] }),
            None => json!({ "order_ids": [order_id] }),
        };
        let lease = self.lease(shop_id, order_id).await?;
        let result = async {
            let returns = self.search_returns(&shop, filter).await?;
            let mut outcomes = Vec::new();
            for r in returns.iter().filter(|r| r.order_id == order_id) {
                outcomes.push(self.return_locked(&config, &shop, r, &lease).await?);
            }
            Ok(outcomes)
        }
        .await;
        lease.release().await;
        result
    }

    async fn return_locked(
        &self,
        config: &AftersalesConfig,
        shop: &Shop,
        r: &ReturnRequest,
        lease: &OrderLease<'_>,
    ) -> Result<ReturnOutcome> {
        let Some(mut m) = self.store.get_order_mapping(&config.shop_id, &r.order_id).await? else {
            return Err(Error::new(
                ErrorCode::NotFound,
                format!(
                    "return {} is for order {} which is not imported (yet)",
                    r.id, r.order_id
                ),
            )
            .with_field("order_id"));
        };
        let Some(parent_id) = m.plenty_order_id else {
            return Err(Error::new(
                ErrorCode::NotFound,
                format!(
                    "return {} is for order {} which is not imported (yet)",
                    r.id, r.order_id
                ),
            )
            .with_field("order_id"));
        };
        let result = self.return_inner(config, shop, r, parent_id, lease).await;
        match &result {
            Err(e) => record_error(&*self.store, m, RETURN_ERROR_PREFIX, e).await?,
            Ok(_)
                if m.sync_error
                    .as_deref()
                    .is_some_and(|e| e.starts_with(RETURN_ERROR_PREFIX)) =>
            {
                clear_error(&mut m, RETURN_ERROR_PREFIX);
                self.store.update_order_mapping(&m).await?;
            }
            Ok(_) => {}
        }
        result
    }

    async fn load_ledger(&self, shop_id: &str, order_id: &str) -> Result<Ledger> {
        match self.store.get_cursor(shop_id, &ledger_kind(order_id)).await? {
            None => Ok(Ledger::default()),
            Some(c) => serde_json::from_str(&c.position).map_err(|e| {
                Error::new(
                    ErrorCode::Store,
                    format!("return ledger of order {order_id} is malformed: {e}"),
                )
            }),
        }
    }

    async fn save_ledger(&self, shop_id: &str, order_id: &str, ledger: &Ledger) -> Result<()> {
        let text = serde_json::to_string(ledger).map_err(|e| Error::internal(e.to_string()))?;
        self.store
            .set_cursor(shop_id, &ledger_kind(order_id), &text)
            .await
    }

    async fn return_inner(
        &self,
        config: &AftersalesConfig,
        shop: &Shop,
        r: &ReturnRequest,
        parent_id: i64,
        lease: &OrderLease<'_>,
    ) -> Result<ReturnOutcome> {
        let shop_id = config.shop_id.as_str();
        let rules = &config.returns;
        let mut ledger = self.load_ledger(shop_id, &r.order_id).await?;
        let mut outcome = ReturnOutcome::default();
        let closed = matches!(
            r.status.as_str(),
            return_status::REJECT | return_status::REJECT_RECEIVE_PACKAGE | return_status::CANCEL
        );
        let wanted = rules.return_order_types.iter().any(|t| t == &r.return_type);
        let entry = ledger.returns.get(&r.id).cloned().unwrap_or_default();
        let mut return_order_id = entry.plenty_return_order_id;
        if return_order_id.is_none() && wanted && (!closed || entry.creating_since.is_some()) {
            let (id, created, adopted) = self
                .ensure_return_order(config, shop, r, parent_id, &mut ledger, lease)
                .await?;
            return_order_id = Some(id);
            outcome.created = created;
            outcome.adopted = adopted;
        }
        outcome.plenty_return_order_id = return_order_id;

        let return_status = match return_order_id {
            Some(id)
                if rules.approve_at_status.is_some()
                    || rules.approve_received_at_status.is_some()
                    || rules.reject_at_status.is_some() =>
            {
                Some(self.plenty.order(id).await?.status_id)
            }
            _ => None,
        };
        match decide_return(rules, r, return_status) {
            ReturnDecision::Approve(decision) | ReturnDecision::Reject(decision) => {
                let approve = decision.starts_with("APPROVE");
                let body = if approve {
                    json!({ "decision": decision })
                } else {
                    json!({
                        "decision": decision,
                        "reject_reason": rules.reject_reason,
                        "comment": rules.reject_comment,
                    })
                };
                let mut input = CallInput::json(&body).path("return_id", r.id.as_str());
                input.idempotency_key = Some(idempotency_key("return", &r.id, decision));
                lease.renew().await?;
                let operation = if approve {
                    "returns.approve"
                } else {
                    "returns.reject"
                };
                shop.call(op(operation), input).await?;
                let entry = ledger.returns.entry(r.id.clone()).or_default();
                entry.decisions.push(decision.to_string());
                self.save_ledger(shop_id, &r.order_id, &ledger).await?;
                outcome.decision = Some(decision.to_string());
            }
            ReturnDecision::Wait(reason) => outcome.waiting = Some(reason),
            ReturnDecision::Nothing => {}
        }
        Ok(outcome)
    }

    /// The PlentyONE return order of a TikTok return: (id, created now, adopted after an unknown
    /// outcome). See the module note.
    async fn ensure_return_order(
        &self,
        config: &AftersalesConfig,
        shop: &Shop,
        r: &ReturnRequest,
        parent_id: i64,
        ledger: &mut Ledger,
        lease: &OrderLease<'_>,
    ) -> Result<(i64, bool, bool)> {
        let shop_id = config.shop_id.as_str();
        let parent = self.raw_order(parent_id).await?;
        if let Some(since) = ledger.returns.get(&r.id).and_then(|e| e.creating_since) {
            let claimed: HashSet<i64> = ledger
                .returns
                .values()
                .filter_map(|e| e.plenty_return_order_id)
                .collect();
            let referrer = parent
                .get("referrerId")
                .filter(|v| v.is_number())
                .and_then(|v| v.to_string().parse::<Decimal>().ok())
                .map(|d| d.normalize())
                .unwrap_or(config.referrer_id);
            let query = OrderQuery {
                referrer_id: Some(referrer),
                updated_at_from: Some(w3c(since - 60)),
                items_per_page: Some(250),
                ..Default::default()
            };
            let candidates: Vec<PlentyOrder> = self.plenty.orders(&query)?.try_collect().await?;
            let unclaimed: Vec<i64> = candidates
                .iter()
                .filter(|o| {
                    o.type_id == 3 && o.parent_order_id == Some(parent_id) && !claimed.contains(&o.id)
                })
                .map(|o| o.id)
                .collect();
            match unclaimed.as_slice() {
                [one] => {
                    let entry = ledger.returns.entry(r.id.clone()).or_default();
                    entry.plenty_return_order_id = Some(*one);
                    entry.creating_since = None;
                    self.save_ledger(shop_id, &r.order_id, ledger).await?;
                    return Ok((*one, false, true));
                }
                [] => {} // the earlier create did not happen
                many => {
                    return Err(Error::new(
                        ErrorCode::Store,
                        format!(
                            "return {}: creating its PlentyONE return order had an unknown outcome and order {parent_id} now has several unclaimed return orders ({many:?}); check them and link one by hand",
                            r.id
                        ),
                    ));
                }
            }
        }
        let quantities = self.return_quantities(shop, r, &parent).await?;
        // Write-ahead: from here on, a lost answer is resolved by looking, never by creating blindly.
        ledger.returns.entry(r.id.clone()).or_default().creating_since = Some(now_seconds());
        self.save_ledger(shop_id, &r.order_id, ledger).await?;
        lease.renew().await?;
        let created = self
            .plenty
            .create_return(
                parent_id,
                &ReturnCreate {
                    quantities,
                    status_id: config.returns.return_status_id,
                    warehouse_id: config.returns.warehouse_id,
                    return_package_number: None,
                },
            )
            .await?;
        let entry = ledger.returns.entry(r.id.clone()).or_default();
        entry.plenty_return_order_id = Some(created.id);
        entry.creating_since = None;
        self.save_ledger(shop_id, &r.order_id, ledger).await?;
        Ok((created.id, true, false))
    }

    /// The order as PlentyONE answers it, with item properties (the typed client model drops them).
    async fn raw_order(&self, order_id: i64) -> Result<Value> {
        self.plenty
            .call::<Value>(&PlentyRequest::new("GET /rest/orders/{orderId}").param("orderId", order_id))
            .await
    }

    /// Returned TikTok lines → PlentyONE order items (property 16 lists each item's TikTok line ids;
    /// property 17 its SKU id as a fallback), one unit per line.
    async fn return_quantities(
        &self,
        shop: &Shop,
        r: &ReturnRequest,
        parent: &Value,
    ) -> Result<Vec<ReturnQuantity>> {
        struct Item {
            id: i64,
            quantity: i64,
            lines: Vec<String>,
            sku: Option<String>,
        }
        let items: Vec<Item> = parent["orderItems"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| {
                        let props = i["properties"].as_array().cloned().unwrap_or_default();
                        let prop = |t: i64| {
                            props
                                .iter()
                                .find(|p| p["typeId"].as_i64() == Some(t))
                                .and_then(|p| p["value"].as_str().map(str::to_string))
                        };
                        Some(Item {
                            id: i["id"].as_i64()?,
                            quantity: i["quantity"].as_f64().map(|q| q.round() as i64).unwrap_or(0),
                            lines: prop(order_property_type::EXTERNAL_TOKEN_ID)
                                .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
                                .unwrap_or_default(),
                            sku: prop(order_property_type::EXTERNAL_ITEM_ID),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut counts: BTreeMap<i64, i64> = BTreeMap::new();
        if r.line_item_ids.is_empty() {
            // No lines named: the whole order's goods.
            for item in items.iter().filter(|i| !i.lines.is_empty()) {
                counts.insert(item.id, item.quantity);
            }
        } else {
            let mut unmatched = Vec::new();
            for line in &r.line_item_ids {
                match items.iter().find(|i| i.lines.iter().any(|l| l == line)) {
                    Some(item) => *counts.entry(item.id).or_default() += 1,
                    None => unmatched.push(line.clone()),
                }
            }
            if !unmatched.is_empty() {
                let order = fetch_order(shop, &r.order_id).await?;
                for line in &unmatched {
                    let sku = order
                        .line_items
                        .iter()
                        .find(|l| &l.id == line)
                        .map(|l| l.sku_id.clone());
                    match items.iter().find(|i| sku.is_some() && i.sku == sku) {
                        Some(item) => *counts.entry(item.id).or_default() += 1,
                        None => {
                            return Err(Error::new(
                                ErrorCode::NotFound,
                                format!(
                                    "return {}: TikTok line {line} matches no item of the PlentyONE order",
                                    r.id
                                ),
                            )
                            .with_field("return_line_items.order_line_item_id"));
                        }
                    }
                }
            }
        }
        let quantities: Vec<ReturnQuantity> = counts
            .into_iter()
            .filter_map(|(id, n)| {
                let max = items.iter().find(|i| i.id == id).map(|i| i.quantity).unwrap_or(n);
                let n = n.min(max.max(1));
                (n > 0).then(|| ReturnQuantity {
                    order_item_id: id,
                    quantity: Decimal::from(n),
                })
            })
            .collect();
        if quantities.is_empty() {
            return Err(Error::new(
                ErrorCode::NotFound,
                format!("return {}: no PlentyONE order item to return", r.id),
            )
            .with_field("quantities"));
        }
        Ok(quantities)
    }

    // ---- reconciliation ---------------------------------------------------------------------------

    /// One pass for a shop: cancellations and returns updated since the cursor (minus `overlap`;
    /// `first_run_lookback` before `now` without a cursor) plus every one still pending a decision,
    /// and PlentyONE orders cancelled (8.x) since then plus earlier seller-cancel failures. `now`
    /// is taken before the pass starts. The cursor moves to `now` only after a pass without failures
    /// (failures are counted and kept on the order mappings); pending records are searched every pass.
    pub async fn run_pass(
        &self,
        shop_id: &str,
        now: i64,
        first_run_lookback: i64,
        overlap: i64,
    ) -> Result<AftersalesReport> {
        let config = self.config(shop_id)?;
        let shop = self.tiktok.shop(shop_id)?;
        let from = match self.store.get_cursor(shop_id, AFTERSALES_CURSOR).await? {
            Some(c) => c.position.parse::<i64>().map_err(|_| {
                Error::new(
                    ErrorCode::Store,
                    format!("cursor {AFTERSALES_CURSOR} of shop {shop_id} is not a timestamp"),
                )
            })?,
            None => now - first_run_lookback,
        } - overlap.max(0);
        let mut report = AftersalesReport::default();
        // Orders whose failure may not be on their mapping (then the cursor stays).
        let mut failed: Vec<String> = Vec::new();

        let mut cancellations = self
            .search_cancellations(&shop, json!({ "update_time_ge": from }))
            .await?;
        cancellations.extend(
            self.search_cancellations(&shop, json!({ "cancel_status": [cancel_status::PENDING] }))
                .await?,
        );
        let mut seen = HashSet::new();
        cancellations.retain(|c| seen.insert(c.id.clone()));
        let mut targets: Vec<(String, Option<String>)> = cancellations
            .iter()
            .map(|c| (c.order_id.clone(), Some(c.id.clone())))
            .collect();
        // Earlier failures (kept on the mappings), whatever the cursor says.
        for m in self
            .mappings_with_error(shop_id, CANCELLATION_ERROR_PREFIX)
            .await?
        {
            if !targets.iter().any(|(o, _)| *o == m.tiktok_order_id) {
                targets.push((m.tiktok_order_id, None));
            }
        }
        progress::set_phase("cancellations");
        progress::add_total(targets.len() as u64);
        for (order_id, cancel_id) in &targets {
            progress::advance(1);
            // Each is read again under its order's lease (the search result may be stale by now).
            match self
                .sync_cancellation(shop_id, order_id, cancel_id.as_deref())
                .await
            {
                Ok(outcomes) => {
                    for o in outcomes {
                        report.cancellation(&Ok(o));
                    }
                }
                Err(e) => {
                    let outcome: Result<CancellationOutcome> = Err(e);
                    log_failure(shop_id, order_id, &outcome);
                    report.cancellation(&outcome);
                    failed.push(order_id.clone());
                }
            }
        }

        let mut returns = self
            .search_returns(&shop, json!({ "update_time_ge": from }))
            .await?;
        returns.extend(
            self.search_returns(
                &shop,
                json!({ "return_status": [return_status::PENDING, return_status::BUYER_SHIPPED_ITEM] }),
            )
            .await?,
        );
        let mut seen = HashSet::new();
        returns.retain(|r| seen.insert(r.id.clone()));
        let mut targets: Vec<(String, Option<String>)> = returns
            .iter()
            .map(|r| (r.order_id.clone(), Some(r.id.clone())))
            .collect();
        for m in self.mappings_with_error(shop_id, RETURN_ERROR_PREFIX).await? {
            if !targets.iter().any(|(o, _)| *o == m.tiktok_order_id) {
                targets.push((m.tiktok_order_id, None));
            }
        }
        progress::set_phase("returns");
        progress::add_total(targets.len() as u64);
        for (order_id, return_id) in &targets {
            progress::advance(1);
            match self.sync_return(shop_id, order_id, return_id.as_deref()).await {
                Ok(outcomes) => {
                    for o in outcomes {
                        report.ret(&Ok(o));
                    }
                }
                // A return of an order that was never imported: nothing to do here (a webhook
                // retries until the import catches up; the pass does not wait for it).
                Err(e) if is_not_imported(&e) => {
                    report.returns_seen += 1;
                    report.not_imported += 1;
                }
                Err(e) => {
                    let outcome: Result<ReturnOutcome> = Err(e);
                    log_failure(shop_id, order_id, &outcome);
                    report.ret(&outcome);
                    failed.push(order_id.clone());
                }
            }
        }

        if config.seller_cancel {
            let cancelled = plenty_orders_in_family(&self.plenty, config.referrer_id, 8, from).await?;
            let mut done = HashSet::new();
            progress::set_phase("seller cancellations");
            progress::add_total(cancelled.len() as u64);
            for order in &cancelled {
                progress::advance(1);
                let Some(id) = tiktok_order_id(shop_id, order) else {
                    continue;
                };
                done.insert(id.to_string());
                let outcome = self.seller_cancel(&config, id, Some(order)).await;
                log_failure(shop_id, id, &outcome);
                if outcome.is_err() {
                    failed.push(id.to_string());
                }
                count_seller_cancel(&mut report, &outcome);
            }
            for m in self
                .mappings_with_error(shop_id, SELLER_CANCEL_ERROR_PREFIX)
                .await?
            {
                if done.contains(&m.tiktok_order_id) {
                    continue;
                }
                let outcome = self.seller_cancel(&config, &m.tiktok_order_id, None).await;
                log_failure(shop_id, &m.tiktok_order_id, &outcome);
                count_seller_cancel(&mut report, &outcome);
            }
        }
        // Failures kept on their mappings are swept by every pass; any other keeps the cursor, so the
        // window is searched again.
        let mut clean = true;
        for order_id in &failed {
            let recorded = self
                .store
                .get_order_mapping(shop_id, order_id)
                .await?
                .and_then(|m| m.sync_error)
                .is_some_and(|e| {
                    [
                        CANCELLATION_ERROR_PREFIX,
                        RETURN_ERROR_PREFIX,
                        SELLER_CANCEL_ERROR_PREFIX,
                    ]
                    .iter()
                    .any(|p| e.starts_with(p))
                });
            clean &= recorded;
        }
        if clean {
            self.store
                .set_cursor(shop_id, AFTERSALES_CURSOR, &now.to_string())
                .await?;
        }
        Ok(report)
    }

    /// Cancels one imported order on TikTok if its PlentyONE order is cancelled (8.x), e.g. from a
    /// PlentyONE event.
    pub async fn seller_cancel_order(
        &self,
        shop_id: &str,
        tiktok_order_id: &str,
    ) -> Result<CancellationOutcome> {
        let config = self.config(shop_id)?;
        self.seller_cancel(&config, tiktok_order_id, None).await
    }

    async fn mappings_with_error(&self, shop_id: &str, prefix: &str) -> Result<Vec<OrderMapping>> {
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
            out.extend(
                page.into_iter()
                    .filter(|m| m.sync_error.as_deref().is_some_and(|e| e.starts_with(prefix))),
            );
            if !full {
                return Ok(out);
            }
            after = last;
        }
    }
}

fn is_not_imported(e: &Error) -> bool {
    e.code() == ErrorCode::NotFound && e.field.as_deref() == Some("order_id")
}

fn count_seller_cancel(report: &mut AftersalesReport, outcome: &Result<CancellationOutcome>) {
    match outcome {
        Ok(CancellationOutcome::SellerCancelled) => report.seller_cancellations += 1,
        Ok(CancellationOutcome::Failed { .. }) | Err(_) => report.errors += 1,
        Ok(_) => {}
    }
}

fn log_failure<T>(shop_id: &str, order_id: &str, outcome: &Result<T>) {
    if let Err(e) = outcome {
        progress::error();
        tracing::warn!(shop = %shop_id, order = %order_id, code = %e.code(), error = %e, "after-sales failed for one order");
    }
}

/// Handles webhooks 11 and 12 from the inbox (other types are ignored).
pub struct AftersalesEvents(pub Arc<AftersalesEngine>);

#[async_trait::async_trait]
impl EventHandler for AftersalesEvents {
    async fn handle(&self, notification: &Notification) -> Result<()> {
        let shop_id = notification.shop_id.as_str();
        match &notification.event {
            Event::CancellationStatusChange(e) => {
                let outcomes = self
                    .0
                    .sync_cancellation(shop_id, &e.order_id, e.cancel_id.as_deref())
                    .await?;
                tracing::debug!(shop = %shop_id, order = %e.order_id, ?outcomes, "cancellation synced");
            }
            Event::ReturnStatusChange(e) => {
                let outcomes = self
                    .0
                    .sync_return(shop_id, &e.order_id, e.return_id.as_deref())
                    .await?;
                tracing::debug!(shop = %shop_id, order = %e.order_id, ?outcomes, "return synced");
            }
            _ => {}
        }
        Ok(())
    }
}

/// Several handlers for one inbox, in order; the first error stops the chain (the message is retried
/// and every handler runs again, which they tolerate: handlers are idempotent).
pub struct Handlers(pub Vec<Arc<dyn EventHandler>>);

#[async_trait::async_trait]
impl EventHandler for Handlers {
    async fn handle(&self, notification: &Notification) -> Result<()> {
        for handler in &self.0 {
            handler.handle(notification).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ret(status: &str, kind: &str, total: &str) -> ReturnRequest {
        ReturnRequest {
            id: "r1".into(),
            order_id: "o1".into(),
            return_type: kind.into(),
            status: status.into(),
            refund_total: total.parse().ok(),
            ..Default::default()
        }
    }

    #[test]
    fn cancellations_are_approved_until_shipped() {
        let rules = CancellationRules::default();
        assert_eq!(decide_cancellation(&rules, None, false), CancelDecision::Approve);
        assert_eq!(
            decide_cancellation(&rules, Some(Decimal::from(5)), false),
            CancelDecision::Approve
        );
        assert_eq!(
            decide_cancellation(&rules, Some(Decimal::new(81, 1)), false),
            CancelDecision::Approve
        );
        assert_eq!(
            decide_cancellation(&rules, Some(Decimal::from(7)), false),
            CancelDecision::Reject
        );
        assert_eq!(
            decide_cancellation(&rules, Some(Decimal::new(75, 1)), false),
            CancelDecision::Reject
        );
        assert_eq!(
            decide_cancellation(&rules, None, true),
            CancelDecision::Reject,
            "TikTok shipped"
        );
        assert_eq!(
            decide_cancellation(&rules, Some(Decimal::from(5)), true),
            CancelDecision::Reject
        );
        let manual = CancellationRules {
            auto_approve_unshipped: false,
            reject_shipped: false,
            ..Default::default()
        };
        assert!(matches!(
            decide_cancellation(&manual, Some(Decimal::from(5)), false),
            CancelDecision::Leave { .. }
        ));
        assert!(matches!(
            decide_cancellation(&manual, Some(Decimal::from(7)), false),
            CancelDecision::Leave { .. }
        ));
    }

    #[test]
    fn returns_follow_amount_and_plenty_status() {
        let mut rules = ReturnRules {
            auto_approve_below: Some(Decimal::from(50)),
            ..Default::default()
        };
        assert_eq!(
            decide_return(&rules, &ret(return_status::PENDING, "REFUND", "49.99"), None),
            ReturnDecision::Approve("APPROVE_REFUND")
        );
        assert_eq!(
            decide_return(
                &rules,
                &ret(return_status::PENDING, "RETURN_AND_REFUND", "10"),
                None
            ),
            ReturnDecision::Approve("APPROVE_RETURN")
        );
        assert!(matches!(
            decide_return(&rules, &ret(return_status::PENDING, "REFUND", "50"), None),
            ReturnDecision::Wait(_)
        ));
        // the received package is not approved by amount
        assert!(matches!(
            decide_return(
                &rules,
                &ret(return_status::BUYER_SHIPPED_ITEM, "RETURN_AND_REFUND", "1"),
                None
            ),
            ReturnDecision::Wait(_)
        ));
        rules.approve_at_status = Some(Decimal::new(91, 1));
        rules.reject_at_status = Some(Decimal::new(92, 1));
        let shipped = ret(return_status::BUYER_SHIPPED_ITEM, "RETURN_AND_REFUND", "100");
        assert!(
            matches!(
                decide_return(&rules, &shipped, Some(Decimal::new(91, 1))),
                ReturnDecision::Wait(_)
            ),
            "the request's approval status does not approve the package"
        );
        assert_eq!(
            decide_return(
                &rules,
                &ret(return_status::PENDING, "RETURN_AND_REFUND", "100"),
                Some(Decimal::new(91, 1))
            ),
            ReturnDecision::Approve("APPROVE_RETURN")
        );
        rules.approve_received_at_status = Some(Decimal::new(91, 1));
        assert_eq!(
            decide_return(&rules, &shipped, Some(Decimal::new(91, 1))),
            ReturnDecision::Approve("APPROVE_RECEIVED_PACKAGE")
        );
        assert_eq!(
            decide_return(&rules, &shipped, Some(Decimal::new(92, 1))),
            ReturnDecision::Reject("REJECT_RECEIVED_PACKAGE")
        );
        assert!(matches!(
            decide_return(&rules, &shipped, Some(Decimal::from(9))),
            ReturnDecision::Wait(_)
        ));
        assert_eq!(
            decide_return(&rules, &ret(return_status::REJECT, "REFUND", "1"), None),
            ReturnDecision::Nothing
        );
    }

    #[test]
    fn records_are_read_leniently_and_keys_are_deterministic() {
        let c = Cancellation::from_json(&json!({
            "cancel_id": "4035", "order_id": 577, "cancel_status": "CANCELLATION_REQUEST_PENDING", "update_time": "17"
        }))
        .unwrap();
        assert_eq!(
            (c.id.as_str(), c.order_id.as_str(), c.update_time),
            ("4035", "577", 17)
        );
        let r = ReturnRequest::from_json(&json!({
            "return_id": "4036", "order_id": "577", "return_type": "REFUND", "return_status": "RETURN_OR_REFUND_REQUEST_PENDING",
            "return_line_items": [{"order_line_item_id": "l1"}, {"order_line_item_id": 2}],
            "refund_amount": {"currency": "USD", "refund_total": "12.50"}
        }))
        .unwrap();
        assert_eq!(r.line_item_ids, vec!["l1", "2"]);
        assert_eq!(r.refund_total, Some(Decimal::new(1250, 2)));
        assert!(Cancellation::from_json(&json!({"order_id": "1"})).is_none());
        assert_eq!(
            idempotency_key("cancel", "4035", "approve"),
            "cancel-4035-approve"
        );
        assert_eq!(
            idempotency_key("return", "4036", "APPROVE_REFUND"),
            "return-4036-approve_refund"
        );
    }
}
