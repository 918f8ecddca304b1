//! The records the store keeps, and the checks every input passes before it reaches SQL.
//!
//! Times are Unix seconds (`*_at`), except lease and retry deadlines, which are Unix milliseconds
//! (`*_ms`) because leases are seconds long.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tts_core::{Error, Result, SecretString};

pub type UnixSeconds = i64;
pub type UnixMillis = i64;

pub fn now_seconds() -> UnixSeconds {
    now_millis() / 1000
}

pub fn now_millis() -> UnixMillis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Identifies a shop's credentials: the same TikTok shop may be authorized to more than one app.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ShopKey {
    pub app_key: String,
    pub shop_id: String,
}

impl ShopKey {
    pub fn new(app_key: impl Into<String>, shop_id: impl Into<String>) -> Self {
        ShopKey {
            app_key: app_key.into(),
            shop_id: shop_id.into(),
        }
    }
}

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }
    };
}

text_enum!(
    /// Whether the seller's authorization is in force.
    ShopStatus { Connected => "connected", Deauthorized => "deauthorized" }
);
text_enum!(
    /// Where a mapping stands in the sync.
    SyncStatus { Pending => "pending", Synced => "synced", Error => "error" }
);
text_enum!(
    /// How an inbox message ended.
    InboxOutcome { Done => "done", GivenUp => "given_up" }
);
text_enum!(
    /// Outcome of a sync run.
    RunStatus { Running => "running", Succeeded => "succeeded", Failed => "failed" }
);

/// A shop's credentials. The cipher and both tokens are sealed in the database and opened on read;
/// `Debug` prints them as `[REDACTED]`.
#[derive(Clone, Debug)]
pub struct Shop {
    pub app_key: String,
    pub shop_id: String,
    pub region: String,
    pub shop_name: Option<String>,
    pub seller_type: Option<String>,
    pub shop_code: Option<String>,
    pub cipher: Option<SecretString>,
    pub access_token: SecretString,
    pub access_token_expires_at: UnixSeconds,
    pub refresh_token: SecretString,
    pub refresh_token_expires_at: UnixSeconds,
    pub granted_scopes: Vec<String>,
    pub status: ShopStatus,
    /// Set by the store (ignored on upsert).
    pub created_at: UnixSeconds,
    /// Set by the store (ignored on upsert).
    pub updated_at: UnixSeconds,
}

impl Shop {
    pub fn key(&self) -> ShopKey {
        ShopKey::new(&self.app_key, &self.shop_id)
    }
}

/// A shop without its secrets (nothing is opened to list these): for admin views and status pages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopSummary {
    pub app_key: String,
    pub shop_id: String,
    pub region: String,
    pub shop_name: Option<String>,
    pub seller_type: Option<String>,
    pub shop_code: Option<String>,
    pub has_cipher: bool,
    pub access_token_expires_at: UnixSeconds,
    pub refresh_token_expires_at: UnixSeconds,
    pub granted_scopes: Vec<String>,
    pub status: ShopStatus,
    pub created_at: UnixSeconds,
    pub updated_at: UnixSeconds,
}

/// The pair a token refresh returns.
#[derive(Clone, Debug)]
pub struct NewTokens {
    pub access_token: SecretString,
    pub access_token_expires_at: UnixSeconds,
    pub refresh_token: SecretString,
    pub refresh_token_expires_at: UnixSeconds,
}

/// The access token after [`crate::Store::refresh_token_exclusive`].
#[derive(Clone, Debug)]
pub struct AccessToken {
    pub access_token: SecretString,
    pub expires_at: UnixSeconds,
    /// True when this call ran the refresh; false when the token was still fresh (possibly because
    /// another process refreshed it while this one waited for the lock).
    pub refreshed: bool,
}

/// PlentyONE variation ↔ TikTok product/SKU. One per (shop, PlentyONE variation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductMapping {
    pub shop_id: String,
    pub plenty_item_id: i64,
    pub plenty_variation_id: i64,
    /// Absent until the product exists on TikTok.
    pub tiktok_product_id: Option<String>,
    pub tiktok_sku_id: Option<String>,
    pub seller_sku: Option<String>,
    pub sync_status: SyncStatus,
    pub sync_error: Option<String>,
    pub last_synced_at: Option<UnixSeconds>,
    /// TikTok's audit state of the product, e.g. `AUDITING`, `FAILED`, `LIVE`.
    pub audit_status: Option<String>,
    pub audit_reasons: Vec<String>,
    /// Set by the store.
    pub created_at: UnixSeconds,
    /// Set by the store.
    pub updated_at: UnixSeconds,
}

impl ProductMapping {
    /// A pending mapping with no TikTok ids yet; fill in the rest with struct update syntax.
    pub fn pending(shop_id: impl Into<String>, plenty_item_id: i64, plenty_variation_id: i64) -> Self {
        ProductMapping {
            shop_id: shop_id.into(),
            plenty_item_id,
            plenty_variation_id,
            tiktok_product_id: None,
            tiktok_sku_id: None,
            seller_sku: None,
            sync_status: SyncStatus::Pending,
            sync_error: None,
            last_synced_at: None,
            audit_status: None,
            audit_reasons: Vec::new(),
            created_at: 0,
            updated_at: 0,
        }
    }
}

/// How many mappings of a shop are in each sync status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncCounts {
    pub pending: i64,
    pub synced: i64,
    pub error: i64,
}

/// Which product mappings to list; ordered by PlentyONE variation id, `after` is the last id seen.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProductMappingQuery {
    pub shop_id: String,
    pub status: Option<SyncStatus>,
    pub after_variation_id: Option<i64>,
    pub limit: u32,
}

/// TikTok order ↔ PlentyONE order. One per (shop, TikTok order): inserting it first is what makes a
/// second PlentyONE order for the same TikTok order impossible.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderMapping {
    pub shop_id: String,
    pub tiktok_order_id: String,
    /// Absent until the PlentyONE order exists.
    pub plenty_order_id: Option<i64>,
    pub tiktok_status: Option<String>,
    /// TikTok's `update_time` of the order version last applied (Unix seconds).
    pub tiktok_update_time: Option<UnixSeconds>,
    pub sync_status: SyncStatus,
    pub sync_error: Option<String>,
    pub last_synced_at: Option<UnixSeconds>,
    /// Set by the store.
    pub created_at: UnixSeconds,
    /// Set by the store.
    pub updated_at: UnixSeconds,
}

impl OrderMapping {
    pub fn pending(shop_id: impl Into<String>, tiktok_order_id: impl Into<String>) -> Self {
        OrderMapping {
            shop_id: shop_id.into(),
            tiktok_order_id: tiktok_order_id.into(),
            plenty_order_id: None,
            tiktok_status: None,
            tiktok_update_time: None,
            sync_status: SyncStatus::Pending,
            sync_error: None,
            last_synced_at: None,
            created_at: 0,
            updated_at: 0,
        }
    }
}

/// Which order mappings to list; ordered by TikTok order id, `after` is the last id seen.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrderMappingQuery {
    pub shop_id: String,
    pub status: Option<SyncStatus>,
    pub after_tiktok_order_id: Option<String>,
    pub limit: u32,
}

/// A webhook as received, before processing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewInboxMessage {
    /// TikTok's `tts_notification_id`; the inbox holds one row per id.
    pub notification_id: String,
    pub shop_id: String,
    /// TikTok's webhook `type` (1 = order status change, …).
    pub event_type: i64,
    /// The raw body, exactly as received.
    pub payload: Vec<u8>,
}

/// A webhook in the inbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboxMessage {
    pub notification_id: String,
    pub shop_id: String,
    pub event_type: i64,
    pub payload: Vec<u8>,
    pub received_at: UnixSeconds,
    pub processed_at: Option<UnixSeconds>,
    /// Set with `processed_at`: completed, or given up after failures (see `last_error`).
    pub outcome: Option<InboxOutcome>,
    /// How many times the row was claimed (a claim whose worker died counts too).
    pub attempts: i64,
    pub last_error: Option<String>,
    /// The worker holding (or last holding) the claim.
    pub lease_owner: Option<String>,
    /// While claimed: the lease end; otherwise the earliest time it may be claimed (retry backoff).
    pub available_at_ms: UnixMillis,
}

/// Which inbox messages to list (newest first by notification id is not meaningful, so: by
/// notification id ascending; `after` is the last id seen).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InboxQuery {
    pub shop_id: Option<String>,
    pub state: InboxState,
    pub after_notification_id: Option<String>,
    pub limit: u32,
}

/// Where a message stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InboxState {
    /// Not processed yet (waiting, claimed or backing off after a failure).
    Pending,
    /// Completed.
    Done,
    /// Given up after failures.
    GivenUp,
    /// Pending with at least one failed attempt (`last_error` set): the ones to look at.
    Failing,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncCursor {
    pub shop_id: String,
    pub kind: String,
    pub position: String,
    pub updated_at: UnixSeconds,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncRun {
    pub id: i64,
    pub shop_id: String,
    pub kind: String,
    pub status: RunStatus,
    pub phase: String,
    pub done: i64,
    pub total: Option<i64>,
    pub errors: i64,
    pub started_at: UnixSeconds,
    pub finished_at: Option<UnixSeconds>,
    /// Free-form result summary (JSON) written when the run finishes.
    pub summary: Option<serde_json::Value>,
}

/// Progress of a running sync.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncProgress {
    pub phase: String,
    pub done: i64,
    pub total: Option<i64>,
    pub errors: i64,
}

/// Why an OAuth `state` was refused is an error ([`tts_core::ErrorCode::StateReused`], `StateExpired`,
/// `StateInvalid`); this is a named lease as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub name: String,
    pub owner: String,
    pub expires_at_ms: UnixMillis,
}

/// What the stock and price push last sent for one TikTok SKU of a shop: what TikTok holds, so an
/// unchanged value need not be sent again (also after a restart).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushedSku {
    pub tiktok_sku_id: String,
    /// Quantities per TikTok warehouse, as sent. `None`: never sent; when saving, keep the stored ones.
    pub inventory: Option<Vec<PushedQuantity>>,
    /// The price amount as sent (`"19.90"`). `None` as for `inventory`.
    pub price: Option<String>,
    /// Set by the store.
    pub updated_at: UnixSeconds,
}

impl PushedSku {
    /// Values to save for a SKU (`updated_at` is set by the store).
    pub fn new(
        tiktok_sku_id: impl Into<String>,
        inventory: Option<Vec<PushedQuantity>>,
        price: Option<String>,
    ) -> Self {
        PushedSku {
            tiktok_sku_id: tiktok_sku_id.into(),
            inventory,
            price,
            updated_at: 0,
        }
    }
}

/// One warehouse's quantity of a [`PushedSku`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushedQuantity {
    pub warehouse_id: String,
    pub quantity: i64,
}

/// Units of one PlentyONE variation held by a TikTok order that is not (yet) in PlentyONE (the
/// oversell guard's data); also a sum of such units per variation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderReservation {
    pub plenty_variation_id: i64,
    pub quantity: i64,
}

/// The lease name for "one runner per (shop, kind)".
pub fn sync_lease_name(shop_id: &str, kind: &str) -> String {
    format!("sync:{shop_id}:{kind}")
}

// ---- input checks -------------------------------------------------------------------------------

/// Ids (TikTok ids are ~19 digits; app keys, notification ids and owners are short too).
pub(crate) const MAX_ID: usize = 256;
/// Names, SKUs, statuses, phases, cursors.
pub(crate) const MAX_TEXT: usize = 4 * 1024;
/// Error texts are kept up to this size and cut (at a character boundary) beyond it: an error must
/// never fail to be recorded because it is long.
pub(crate) const MAX_ERROR: usize = 64 * 1024;
/// Webhook bodies (TikTok's are a few kB).
pub(crate) const MAX_PAYLOAD: usize = 8 * 1024 * 1024;
/// Secrets (tokens are ~100 characters).
pub(crate) const MAX_SECRET: usize = 8 * 1024;
/// Page sizes.
pub(crate) const MAX_LIMIT: u32 = 1000;

pub(crate) fn check_id(field: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::invalid_argument(field, "must not be empty"));
    }
    if value.len() > MAX_ID {
        return Err(Error::invalid_argument(
            field,
            format_args!("is longer than {MAX_ID} bytes"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::invalid_argument(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

pub(crate) fn check_text(field: &str, value: &str) -> Result<()> {
    if value.len() > MAX_TEXT {
        return Err(Error::invalid_argument(
            field,
            format_args!("is longer than {MAX_TEXT} bytes"),
        ));
    }
    Ok(())
}

pub(crate) fn check_opt_text(field: &str, value: &Option<String>) -> Result<()> {
    value.as_deref().map_or(Ok(()), |v| check_text(field, v))
}

pub(crate) fn check_opt_id(field: &str, value: &Option<String>) -> Result<()> {
    value.as_deref().map_or(Ok(()), |v| check_id(field, v))
}

pub(crate) fn check_secret(field: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid_argument(field, "must not be empty"));
    }
    if value.len() > MAX_SECRET {
        return Err(Error::invalid_argument(
            field,
            format_args!("is longer than {MAX_SECRET} bytes"),
        ));
    }
    Ok(())
}

pub(crate) fn check_positive(field: &str, value: i64) -> Result<()> {
    if value <= 0 {
        return Err(Error::invalid_argument(field, "must be a positive id"));
    }
    Ok(())
}

pub(crate) fn check_limit(field: &str, value: u32) -> Result<i64> {
    if value == 0 || value > MAX_LIMIT {
        return Err(Error::invalid_argument(
            field,
            format_args!("must be between 1 and {MAX_LIMIT}"),
        ));
    }
    Ok(i64::from(value))
}

pub(crate) fn check_duration(field: &str, value: Duration) -> Result<i64> {
    let ms = i64::try_from(value.as_millis()).unwrap_or(i64::MAX);
    if ms <= 0 || ms > 366 * 24 * 3600 * 1000 {
        return Err(Error::invalid_argument(field, "must be between 1 ms and a year"));
    }
    Ok(ms)
}

/// Cuts an error text to [`MAX_ERROR`] bytes at a character boundary.
pub(crate) fn clip_error(text: &str) -> String {
    if text.len() <= MAX_ERROR {
        return text.to_string();
    }
    let mut end = MAX_ERROR;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

pub(crate) fn clip_opt_error(text: &Option<String>) -> Option<String> {
    text.as_deref().map(clip_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_error_keeps_characters_whole() {
        let long = "ü".repeat(MAX_ERROR); // 2 bytes each
        let clipped = clip_error(&long);
        assert!(clipped.len() <= MAX_ERROR + '…'.len_utf8());
        assert!(clipped.ends_with('…'));
        assert_eq!(clip_error("short"), "short");
    }

    #[test]
    fn records_serialize_with_lowercase_statuses() {
        let m = ProductMapping {
            sync_status: SyncStatus::Error,
            ..ProductMapping::pending("shop", 1, 2)
        };
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["sync_status"], "error");
        assert_eq!(json["plenty_variation_id"], 2);
        assert_eq!(serde_json::to_value(InboxState::GivenUp).unwrap(), "given_up");
        assert_eq!(serde_json::to_value(InboxOutcome::GivenUp).unwrap(), "given_up");
        let back: ProductMapping = serde_json::from_value(json).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn checks_name_the_field() {
        assert_eq!(
            check_id("shop_id", " ").unwrap_err().field.as_deref(),
            Some("shop_id")
        );
        assert!(check_id("x", &"1".repeat(MAX_ID + 1)).is_err());
        assert!(check_id("x", "a\nb").is_err());
        assert!(check_limit("limit", 0).is_err());
        assert!(check_limit("limit", 1001).is_err());
        assert_eq!(check_limit("limit", 10).unwrap(), 10);
        for t in ["pending", "synced", "error"] {
            assert_eq!(SyncStatus::parse(t).unwrap().as_str(), t);
        }
    }
}
