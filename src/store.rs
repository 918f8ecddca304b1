//! The durable store (`TIKTOK_SHOP_DATABASE_URL`: SQLite file or PostgreSQL): `openStore(url, keys)`
//! resolves to a `NativeStore` whose methods mirror the Rust `Store` trait in camelCase (and the
//! `TikTokStore` interface of the Alokai layer). Shop secrets are sealed by the store itself.

use std::sync::Arc;
use std::time::Duration;

use napi::Env;
use napi::bindgen_prelude::{Buffer, PromiseRaw};
use napi_derive::napi;
use tts_core::secret::secret;
use tts_core::{Error, ExposeSecret, KeyRing, Result};
use tts_store::{
    InboxMessage, InboxOutcome, InboxQuery, InboxState, NewInboxMessage, OrderMapping, OrderMappingQuery,
    ProductMapping, ProductMappingQuery, RunStatus, Shop, ShopKey, ShopStatus, Store, SyncProgress, SyncRun,
    SyncStatus,
};

use crate::errors::{check, spawn};

/// Which shop.
#[napi(object)]
pub struct ShopKeyInput {
    pub app_key: String,
    pub shop_id: String,
}

impl From<ShopKeyInput> for ShopKey {
    fn from(k: ShopKeyInput) -> Self {
        ShopKey::new(k.app_key, k.shop_id)
    }
}

/// A shop's credentials, secrets opened. Never send this to a browser.
#[napi(object)]
pub struct StoredShop {
    pub app_key: String,
    pub shop_id: String,
    pub region: String,
    pub shop_name: Option<String>,
    pub seller_type: Option<String>,
    pub shop_code: Option<String>,
    pub cipher: Option<String>,
    pub access_token: String,
    /// Unix seconds.
    pub access_token_expires_at: i64,
    pub refresh_token: String,
    pub refresh_token_expires_at: i64,
    pub granted_scopes: Vec<String>,
    /// `connected` or `deauthorized`.
    pub status: String,
    /// Set by the store (ignored on upsert).
    pub created_at: Option<i64>,
    pub updated_at: Option<i64>,
}

fn invalid_enum(field: &str, value: &str, allowed: &str) -> Error {
    Error::invalid_argument(field, format!("`{value}` is not one of {allowed}"))
}

fn shop_from_js(s: StoredShop) -> Result<Shop> {
    let status = ShopStatus::parse(&s.status)
        .ok_or_else(|| invalid_enum("status", &s.status, "connected, deauthorized"))?;
    Ok(Shop {
        app_key: s.app_key,
        shop_id: s.shop_id,
        region: s.region,
        shop_name: s.shop_name,
        seller_type: s.seller_type,
        shop_code: s.shop_code,
        cipher: s.cipher.filter(|c| !c.is_empty()).map(secret),
        access_token: secret(s.access_token),
        access_token_expires_at: s.access_token_expires_at,
        refresh_token: secret(s.refresh_token),
        refresh_token_expires_at: s.refresh_token_expires_at,
        granted_scopes: s.granted_scopes,
        status,
        created_at: 0,
        updated_at: 0,
    })
}

fn shop_to_js(s: Shop) -> StoredShop {
    StoredShop {
        app_key: s.app_key,
        shop_id: s.shop_id,
        region: s.region,
        shop_name: s.shop_name,
        seller_type: s.seller_type,
        shop_code: s.shop_code,
        cipher: s.cipher.map(|c| c.expose_secret().to_string()),
        access_token: s.access_token.expose_secret().to_string(),
        access_token_expires_at: s.access_token_expires_at,
        refresh_token: s.refresh_token.expose_secret().to_string(),
        refresh_token_expires_at: s.refresh_token_expires_at,
        granted_scopes: s.granted_scopes,
        status: s.status.as_str().to_string(),
        created_at: Some(s.created_at),
        updated_at: Some(s.updated_at),
    }
}

fn sync_status(field: &str, text: &str) -> Result<SyncStatus> {
    SyncStatus::parse(text).ok_or_else(|| invalid_enum(field, text, "pending, synced, error"))
}

/// A PlentyONE variation ↔ TikTok product/SKU mapping.
#[napi(object)]
pub struct ProductMappingRecord {
    pub shop_id: String,
    pub plenty_item_id: i64,
    pub plenty_variation_id: i64,
    pub tiktok_product_id: Option<String>,
    pub tiktok_sku_id: Option<String>,
    pub seller_sku: Option<String>,
    /// `pending`, `synced` or `error`.
    pub sync_status: String,
    pub sync_error: Option<String>,
    pub last_synced_at: Option<i64>,
    pub audit_status: Option<String>,
    pub audit_reasons: Vec<String>,
    pub created_at: Option<i64>,
    pub updated_at: Option<i64>,
}

fn product_mapping_from_js(m: ProductMappingRecord) -> Result<ProductMapping> {
    Ok(ProductMapping {
        shop_id: m.shop_id,
        plenty_item_id: m.plenty_item_id,
        plenty_variation_id: m.plenty_variation_id,
        tiktok_product_id: m.tiktok_product_id,
        tiktok_sku_id: m.tiktok_sku_id,
        seller_sku: m.seller_sku,
        sync_status: sync_status("syncStatus", &m.sync_status)?,
        sync_error: m.sync_error,
        last_synced_at: m.last_synced_at,
        audit_status: m.audit_status,
        audit_reasons: m.audit_reasons,
        created_at: 0,
        updated_at: 0,
    })
}

fn product_mapping_to_js(m: ProductMapping) -> ProductMappingRecord {
    ProductMappingRecord {
        shop_id: m.shop_id,
        plenty_item_id: m.plenty_item_id,
        plenty_variation_id: m.plenty_variation_id,
        tiktok_product_id: m.tiktok_product_id,
        tiktok_sku_id: m.tiktok_sku_id,
        seller_sku: m.seller_sku,
        sync_status: m.sync_status.as_str().to_string(),
        sync_error: m.sync_error,
        last_synced_at: m.last_synced_at,
        audit_status: m.audit_status,
        audit_reasons: m.audit_reasons,
        created_at: Some(m.created_at),
        updated_at: Some(m.updated_at),
    }
}

/// One page of product mappings.
#[napi(object)]
pub struct ProductMappingQueryInput {
    pub shop_id: String,
    pub status: Option<String>,
    /// The last `plentyVariationId` of the previous page.
    pub after_variation_id: Option<i64>,
    pub limit: u32,
}

/// A TikTok order ↔ PlentyONE order mapping.
#[napi(object)]
pub struct OrderMappingRecord {
    pub shop_id: String,
    pub tiktok_order_id: String,
    pub plenty_order_id: Option<i64>,
    pub tiktok_status: Option<String>,
    pub tiktok_update_time: Option<i64>,
    pub sync_status: String,
    pub sync_error: Option<String>,
    pub last_synced_at: Option<i64>,
    pub created_at: Option<i64>,
    pub updated_at: Option<i64>,
}

fn order_mapping_from_js(m: OrderMappingRecord) -> Result<OrderMapping> {
    Ok(OrderMapping {
        shop_id: m.shop_id,
        tiktok_order_id: m.tiktok_order_id,
        plenty_order_id: m.plenty_order_id,
        tiktok_status: m.tiktok_status,
        tiktok_update_time: m.tiktok_update_time,
        sync_status: sync_status("syncStatus", &m.sync_status)?,
        sync_error: m.sync_error,
        last_synced_at: m.last_synced_at,
        created_at: 0,
        updated_at: 0,
    })
}

fn order_mapping_to_js(m: OrderMapping) -> OrderMappingRecord {
    OrderMappingRecord {
        shop_id: m.shop_id,
        tiktok_order_id: m.tiktok_order_id,
        plenty_order_id: m.plenty_order_id,
        tiktok_status: m.tiktok_status,
        tiktok_update_time: m.tiktok_update_time,
        sync_status: m.sync_status.as_str().to_string(),
        sync_error: m.sync_error,
        last_synced_at: m.last_synced_at,
        created_at: Some(m.created_at),
        updated_at: Some(m.updated_at),
    }
}

/// One page of order mappings.
#[napi(object)]
pub struct OrderMappingQueryInput {
    pub shop_id: String,
    pub status: Option<String>,
    /// The last `tiktokOrderId` of the previous page.
    pub after_tiktok_order_id: Option<String>,
    pub limit: u32,
}

/// A webhook to keep.
#[napi(object)]
pub struct InboxMessageInput {
    /// TikTok's `tts_notification_id`: one row per id.
    pub notification_id: String,
    pub shop_id: String,
    /// TikTok's webhook `type`.
    pub event_type: i64,
    /// The raw body exactly as received.
    pub payload: Buffer,
}

/// A webhook in the inbox.
#[napi(object)]
pub struct InboxMessageRecord {
    pub notification_id: String,
    pub shop_id: String,
    pub event_type: i64,
    pub payload: Buffer,
    pub received_at: i64,
    pub processed_at: Option<i64>,
    /// `done` or `given_up` once processed.
    pub outcome: Option<String>,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub lease_owner: Option<String>,
    /// Unix milliseconds from which the message can be claimed.
    pub available_at_ms: i64,
}

fn inbox_to_js(m: InboxMessage) -> InboxMessageRecord {
    InboxMessageRecord {
        notification_id: m.notification_id,
        shop_id: m.shop_id,
        event_type: m.event_type,
        payload: m.payload.into(),
        received_at: m.received_at,
        processed_at: m.processed_at,
        outcome: m.outcome.map(|o: InboxOutcome| o.as_str().to_string()),
        attempts: m.attempts,
        last_error: m.last_error,
        lease_owner: m.lease_owner,
        available_at_ms: m.available_at_ms,
    }
}

/// One page of inbox messages in a state.
#[napi(object)]
pub struct InboxQueryInput {
    pub shop_id: Option<String>,
    /// `pending`, `done`, `given_up` or `failing`.
    pub state: String,
    pub after_notification_id: Option<String>,
    pub limit: u32,
}

/// A sync run and its progress.
#[napi(object)]
pub struct SyncRunRecord {
    pub id: i64,
    pub shop_id: String,
    pub kind: String,
    /// `running`, `succeeded` or `failed`.
    pub status: String,
    pub phase: String,
    pub done: i64,
    pub total: Option<i64>,
    pub errors: i64,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub summary: Option<serde_json::Value>,
    /// As shown to a merchant: `queued` (waiting for its engine or lease), `running`, `succeeded`,
    /// `failed`. Set by the integration's `trigger` and `status`.
    pub state: Option<String>,
}

pub(crate) fn run_to_js(r: SyncRun) -> SyncRunRecord {
    SyncRunRecord {
        id: r.id,
        shop_id: r.shop_id,
        kind: r.kind,
        status: r.status.as_str().to_string(),
        phase: r.phase,
        done: r.done,
        total: r.total,
        errors: r.errors,
        started_at: r.started_at,
        finished_at: r.finished_at,
        summary: r.summary,
        state: None,
    }
}

/// Progress of a running sync.
#[napi(object)]
pub struct SyncProgressInput {
    pub phase: String,
    pub done: i64,
    pub total: Option<i64>,
    pub errors: i64,
}

fn ms(v: f64, field: &str) -> Result<Duration> {
    if !(v.is_finite() && v >= 0.0) {
        return Err(Error::invalid_argument(
            field,
            "must be a non-negative number of milliseconds",
        ));
    }
    Ok(Duration::from_millis(v as u64))
}

/// The durable store.
#[napi]
pub struct NativeStore {
    pub(crate) store: Arc<dyn Store>,
}

/// Opens the store at `url` (`sqlite:///path/file.db`, a plain file path, or `postgres://…`) and
/// applies pending migrations. `encryptionKeys` is `TIKTOK_SHOP_ENCRYPTION_KEY`.
#[napi(ts_return_type = "Promise<NativeStore>")]
pub fn open_store<'env>(
    env: &'env Env,
    url: String,
    encryption_keys: String,
) -> napi::Result<PromiseRaw<'env, NativeStore>> {
    let ring = Arc::new(check(env, KeyRing::parse(&encryption_keys))?);
    spawn(env, async move { tts_store::open(&url, ring).await }, |store| {
        NativeStore { store }
    })
}

macro_rules! run {
    ($env:expr, $self:ident, |$s:ident| $body:expr, $convert:expr) => {{
        let $s = $self.store.clone();
        spawn($env, async move { $body }, $convert)
    }};
}

#[napi]
impl NativeStore {
    /// `sqlite` or `postgres`.
    #[napi(getter)]
    pub fn backend(&self) -> String {
        self.store.backend().to_string()
    }

    /// True when the data survives a restart (false for `memory:`).
    #[napi(getter)]
    pub fn durable(&self) -> bool {
        self.store.durable()
    }

    /// Inserts or replaces a shop (secrets sealed before they reach the database).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn upsert_shop<'env>(&self, env: &'env Env, shop: StoredShop) -> napi::Result<PromiseRaw<'env, ()>> {
        let shop = shop_from_js(shop);
        run!(env, self, |s| s.upsert_shop(&shop?).await, |()| ())
    }

    #[napi(ts_return_type = "Promise<StoredShop | null>")]
    pub fn get_shop<'env>(
        &self,
        env: &'env Env,
        key: ShopKeyInput,
    ) -> napi::Result<PromiseRaw<'env, Option<StoredShop>>> {
        let key = ShopKey::from(key);
        run!(env, self, |s| s.get_shop(&key).await, |shop| shop.map(shop_to_js))
    }

    /// All shops of an app (all apps when omitted).
    #[napi(ts_return_type = "Promise<Array<StoredShop>>")]
    pub fn list_shops<'env>(
        &self,
        env: &'env Env,
        app_key: Option<String>,
    ) -> napi::Result<PromiseRaw<'env, Vec<StoredShop>>> {
        run!(env, self, |s| s.list_shops(app_key.as_deref()).await, |shops| {
            shops.into_iter().map(shop_to_js).collect()
        })
    }

    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn delete_shop<'env>(
        &self,
        env: &'env Env,
        key: ShopKeyInput,
    ) -> napi::Result<PromiseRaw<'env, bool>> {
        let key = ShopKey::from(key);
        run!(env, self, |s| s.delete_shop(&key).await, |b| b)
    }

    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn mark_shop_deauthorized<'env>(
        &self,
        env: &'env Env,
        key: ShopKeyInput,
    ) -> napi::Result<PromiseRaw<'env, bool>> {
        let key = ShopKey::from(key);
        run!(env, self, |s| s.mark_shop_deauthorized(&key).await, |b| b)
    }

    /// Remembers an issued OAuth `state` until `expiresAt` (Unix seconds).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn save_o_auth_state<'env>(
        &self,
        env: &'env Env,
        state: String,
        expires_at: i64,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        run!(
            env,
            self,
            |s| s.save_oauth_state(&state, expires_at).await,
            |()| ()
        )
    }

    /// Accepts a state once; rejects with `TTS_STATE_REUSED`, `TTS_STATE_EXPIRED` or `TTS_STATE_INVALID`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn consume_o_auth_state<'env>(
        &self,
        env: &'env Env,
        state: String,
        now: i64,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        run!(env, self, |s| s.consume_oauth_state(&state, now).await, |()| ())
    }

    /// Stores a webhook unless its notification id is already there; resolves true if new.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn insert_inbox<'env>(
        &self,
        env: &'env Env,
        message: InboxMessageInput,
    ) -> napi::Result<PromiseRaw<'env, bool>> {
        let message = NewInboxMessage {
            notification_id: message.notification_id,
            shop_id: message.shop_id,
            event_type: message.event_type,
            payload: message.payload.to_vec(),
        };
        run!(env, self, |s| s.insert_inbox(&message).await, |b| b)
    }

    #[napi(ts_return_type = "Promise<InboxMessageRecord | null>")]
    pub fn get_inbox<'env>(
        &self,
        env: &'env Env,
        notification_id: String,
    ) -> napi::Result<PromiseRaw<'env, Option<InboxMessageRecord>>> {
        run!(env, self, |s| s.get_inbox(&notification_id).await, |m| m
            .map(inbox_to_js))
    }

    /// Claims up to `limit` messages for `owner` for `leaseMs`.
    #[napi(ts_return_type = "Promise<Array<InboxMessageRecord>>")]
    pub fn claim_inbox<'env>(
        &self,
        env: &'env Env,
        owner: String,
        limit: u32,
        lease_ms: f64,
    ) -> napi::Result<PromiseRaw<'env, Vec<InboxMessageRecord>>> {
        let lease = ms(lease_ms, "leaseMs");
        run!(env, self, |s| s.claim_inbox(&owner, limit, lease?).await, |v| v
            .into_iter()
            .map(inbox_to_js)
            .collect())
    }

    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn complete_inbox<'env>(
        &self,
        env: &'env Env,
        notification_id: String,
        owner: String,
    ) -> napi::Result<PromiseRaw<'env, bool>> {
        run!(
            env,
            self,
            |s| s.complete_inbox(&notification_id, &owner).await,
            |b| b
        )
    }

    /// Records a failed attempt; with `retryAfterMs` it is claimable again then, with `null` it is
    /// given up.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn fail_inbox<'env>(
        &self,
        env: &'env Env,
        notification_id: String,
        owner: String,
        error: String,
        retry_after_ms: Option<f64>,
    ) -> napi::Result<PromiseRaw<'env, bool>> {
        let retry = retry_after_ms.map(|v| ms(v, "retryAfterMs")).transpose();
        run!(
            env,
            self,
            |s| s.fail_inbox(&notification_id, &owner, &error, retry?).await,
            |b| b
        )
    }

    #[napi(ts_return_type = "Promise<number>")]
    pub fn count_inbox_pending<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, i64>> {
        run!(env, self, |s| s.count_inbox_pending().await, |n| n)
    }

    #[napi(ts_return_type = "Promise<Array<InboxMessageRecord>>")]
    pub fn list_inbox<'env>(
        &self,
        env: &'env Env,
        query: InboxQueryInput,
    ) -> napi::Result<PromiseRaw<'env, Vec<InboxMessageRecord>>> {
        let state = match query.state.as_str() {
            "pending" => Ok(InboxState::Pending),
            "done" => Ok(InboxState::Done),
            "given_up" => Ok(InboxState::GivenUp),
            "failing" => Ok(InboxState::Failing),
            other => Err(invalid_enum("state", other, "pending, done, given_up, failing")),
        };
        let query = state.map(|state| InboxQuery {
            shop_id: query.shop_id,
            state,
            after_notification_id: query.after_notification_id,
            limit: query.limit,
        });
        run!(env, self, |s| s.list_inbox(&query?).await, |v| v
            .into_iter()
            .map(inbox_to_js)
            .collect())
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn upsert_product_mapping<'env>(
        &self,
        env: &'env Env,
        mapping: ProductMappingRecord,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let mapping = product_mapping_from_js(mapping);
        run!(env, self, |s| s.upsert_product_mapping(&mapping?).await, |()| ())
    }

    #[napi(ts_return_type = "Promise<Array<ProductMappingRecord>>")]
    pub fn list_product_mappings<'env>(
        &self,
        env: &'env Env,
        query: ProductMappingQueryInput,
    ) -> napi::Result<PromiseRaw<'env, Vec<ProductMappingRecord>>> {
        let status = query
            .status
            .as_deref()
            .map(|text| sync_status("status", text))
            .transpose();
        let query = status.map(|status| ProductMappingQuery {
            shop_id: query.shop_id,
            status,
            after_variation_id: query.after_variation_id,
            limit: query.limit,
        });
        run!(env, self, |s| s.list_product_mappings(&query?).await, |v| v
            .into_iter()
            .map(product_mapping_to_js)
            .collect())
    }

    /// Inserts unless (shop, TikTok order) is mapped already; resolves true if this call inserted it.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn insert_order_mapping_if_absent<'env>(
        &self,
        env: &'env Env,
        mapping: OrderMappingRecord,
    ) -> napi::Result<PromiseRaw<'env, bool>> {
        let mapping = order_mapping_from_js(mapping);
        run!(
            env,
            self,
            |s| s.insert_order_mapping_if_absent(&mapping?).await,
            |b| b
        )
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn update_order_mapping<'env>(
        &self,
        env: &'env Env,
        mapping: OrderMappingRecord,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let mapping = order_mapping_from_js(mapping);
        run!(env, self, |s| s.update_order_mapping(&mapping?).await, |()| ())
    }

    #[napi(ts_return_type = "Promise<Array<OrderMappingRecord>>")]
    pub fn list_order_mappings<'env>(
        &self,
        env: &'env Env,
        query: OrderMappingQueryInput,
    ) -> napi::Result<PromiseRaw<'env, Vec<OrderMappingRecord>>> {
        let status = query
            .status
            .as_deref()
            .map(|text| sync_status("status", text))
            .transpose();
        let query = status.map(|status| OrderMappingQuery {
            shop_id: query.shop_id,
            status,
            after_tiktok_order_id: query.after_tiktok_order_id,
            limit: query.limit,
        });
        run!(env, self, |s| s.list_order_mappings(&query?).await, |v| v
            .into_iter()
            .map(order_mapping_to_js)
            .collect())
    }

    #[napi(ts_return_type = "Promise<SyncRunRecord>")]
    pub fn start_sync_run<'env>(
        &self,
        env: &'env Env,
        shop_id: String,
        kind: String,
        phase: String,
    ) -> napi::Result<PromiseRaw<'env, SyncRunRecord>> {
        run!(
            env,
            self,
            |s| s.start_sync_run(&shop_id, &kind, &phase).await,
            run_to_js
        )
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn update_sync_run<'env>(
        &self,
        env: &'env Env,
        id: i64,
        progress: SyncProgressInput,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let progress = SyncProgress {
            phase: progress.phase,
            done: progress.done,
            total: progress.total,
            errors: progress.errors,
        };
        run!(env, self, |s| s.update_sync_run(id, &progress).await, |()| ())
    }

    /// Finishes a run: `status` is `succeeded` or `failed`.
    #[napi(
        ts_return_type = "Promise<void>",
        ts_args_type = "id: number, status: 'succeeded' | 'failed', summary: unknown"
    )]
    pub fn finish_sync_run<'env>(
        &self,
        env: &'env Env,
        id: i64,
        status: String,
        summary: serde_json::Value,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let status = match RunStatus::parse(&status) {
            Some(s @ (RunStatus::Succeeded | RunStatus::Failed)) => Ok(s),
            _ => Err(invalid_enum("status", &status, "succeeded, failed")),
        };
        run!(
            env,
            self,
            |s| s.finish_sync_run(id, status?, &summary).await,
            |()| ()
        )
    }

    #[napi(ts_return_type = "Promise<SyncRunRecord | null>")]
    pub fn get_sync_run<'env>(
        &self,
        env: &'env Env,
        id: i64,
    ) -> napi::Result<PromiseRaw<'env, Option<SyncRunRecord>>> {
        run!(env, self, |s| s.get_sync_run(id).await, |r| r.map(run_to_js))
    }

    /// Newest first; optionally one kind.
    #[napi(ts_return_type = "Promise<Array<SyncRunRecord>>")]
    pub fn list_sync_runs<'env>(
        &self,
        env: &'env Env,
        shop_id: String,
        kind: Option<String>,
        limit: u32,
    ) -> napi::Result<PromiseRaw<'env, Vec<SyncRunRecord>>> {
        run!(
            env,
            self,
            |s| s.list_sync_runs(&shop_id, kind.as_deref(), limit).await,
            |v| v.into_iter().map(run_to_js).collect()
        )
    }

    /// Closes the connections; later calls reject.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, ()>> {
        run!(
            env,
            self,
            |s| {
                s.close().await;
                Ok(())
            },
            |()| ()
        )
    }
}
