//! The sync engines in JS: `createOrderSync(store, client, options)` → an `OrderSync` that drains the
//! webhook inbox into PlentyONE orders (exactly once) and reconciles on demand.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use napi::Env;
use napi::bindgen_prelude::PromiseRaw;
use napi_derive::napi;
use tokio::sync::watch;
use tts_core::{Error, Result};
use tts_mapping::order::OrderMappingConfig;
use tts_store::Store;
use tts_sync::inbox::{BatchReport, InboxProcessor, InboxSettings};
use tts_sync::orders::{ImportOutcome, OrderEvents, OrderImporter, ReconcileReport, Seen};

use crate::client::TikTokShopClient;
use crate::errors::spawn;
use crate::store::NativeStore;

/// The PlentyONE back-office REST login (a back-end user with REST rights).
#[napi(object)]
pub struct PlentyConnection {
    /// The system's address, e.g. `https://shop.plentymarkets-cloud01.com` (no `/rest`).
    pub base_url: String,
    pub username: String,
    pub password: String,
}

/// Options of `createOrderSync`.
#[napi(object)]
pub struct OrderSyncOptions {
    pub plenty: PlentyConnection,
    /// Per shop: how its orders map, as the Rust `OrderMappingConfig` (snake_case keys, every key
    /// optional except `shop_id` and `plenty_id`), e.g. `{ shop_id, plenty_id: 1000, payment_method_id,
    /// status: { overrides: { AWAITING_SHIPMENT: 5 } } }`. `referrer_id` defaults to a "TikTok Shop"
    /// referrer created once in PlentyONE.
    pub shops: Option<Vec<serde_json::Value>>,
    /// Names this process's claims and leases; default `orders-<pid>`.
    pub owner: Option<String>,
}

/// What one inbox batch did.
#[napi(object)]
pub struct InboxBatchReport {
    pub claimed: u32,
    pub done: u32,
    pub retried: u32,
    pub given_up: u32,
    pub lost: u32,
}

fn batch_to_js(r: BatchReport) -> InboxBatchReport {
    InboxBatchReport {
        claimed: r.claimed as u32,
        done: r.done as u32,
        retried: r.retried as u32,
        given_up: r.given_up as u32,
        lost: r.lost as u32,
    }
}

/// What a reconciliation pass did.
#[napi(object)]
pub struct OrderReconcileReport {
    pub windows: u32,
    pub seen: u32,
    pub created: u32,
    pub updated: u32,
    pub unchanged: u32,
    pub not_imported: u32,
    pub rejected: u32,
    pub failed: u32,
}

fn reconcile_to_js(r: ReconcileReport) -> OrderReconcileReport {
    OrderReconcileReport {
        windows: r.windows as u32,
        seen: r.seen as u32,
        created: r.created as u32,
        updated: r.updated as u32,
        unchanged: r.unchanged as u32,
        not_imported: r.not_imported as u32,
        rejected: r.rejected as u32,
        failed: r.failed as u32,
    }
}

/// Options of `OrderSync.reconcile`.
#[napi(object)]
pub struct ReconcileOptions {
    /// How far back the first pass looks (no cursor yet); default 7 days.
    pub lookback_seconds: Option<i64>,
    /// Window size; default 6 h.
    pub window_seconds: Option<i64>,
    /// Overlap between windows (clock skew, late indexing); default 10 min.
    pub overlap_seconds: Option<i64>,
}

/// Order import: TikTok orders → exactly one PlentyONE order each, statuses followed.
#[napi]
pub struct OrderSync {
    importer: Arc<OrderImporter>,
    /// The "TikTok Shop" referrer, for shops configured without one.
    referrer: tts_plenty::Decimal,
    store: Arc<dyn Store>,
    owner: String,
    running: Mutex<Option<(watch::Sender<bool>, tokio::task::JoinHandle<()>)>>,
}

fn now_unix() -> i64 {
    crate::errors::now_unix()
}

async fn build(
    store: Arc<dyn Store>,
    tiktok: tts_tiktok::client::Client,
    options: OrderSyncOptions,
) -> Result<OrderSync> {
    // The session is kept in the store: restarts reuse it instead of piling up against PlentyONE's cap.
    let plenty = tts_sync::plenty_session::client_with_saved_session(
        tts_plenty::client::ClientOptions::new(
            options.plenty.base_url,
            options.plenty.username,
            options.plenty.password,
        ),
        store.clone(),
    )
    .await?;
    // Created once in PlentyONE (found again by name afterwards); also proves the login works.
    let referrer = plenty.ensure_referrer("TikTok Shop").await?;
    let mut configs = HashMap::new();
    for (i, shop) in options.shops.unwrap_or_default().into_iter().enumerate() {
        let config = shop_config(shop, referrer).map_err(|e| e.with_field(format!("shops[{i}]")))?;
        configs.insert(config.shop_id.clone(), config);
    }
    let owner = options
        .owner
        .unwrap_or_else(|| format!("orders-{}", std::process::id()));
    let importer = Arc::new(OrderImporter::new(
        store.clone(),
        tiktok,
        plenty,
        configs,
        owner.clone(),
    ));
    Ok(OrderSync {
        importer,
        referrer,
        store,
        owner,
        running: Mutex::new(None),
    })
}

/// A shop's settings from JS; `referrer_id` defaults to the "TikTok Shop" referrer.
fn shop_config(shop: serde_json::Value, referrer: tts_plenty::Decimal) -> Result<OrderMappingConfig> {
    let has_referrer = shop.get("referrer_id").is_some();
    let mut config: OrderMappingConfig =
        serde_json::from_value(shop).map_err(|e| Error::invalid_argument("shop", e))?;
    if config.shop_id.is_empty() || config.plenty_id <= 0 {
        return Err(Error::invalid_argument(
            "shop",
            "needs `shop_id` and a positive `plenty_id`",
        ));
    }
    if !has_referrer {
        config.referrer_id = referrer;
    }
    Ok(config)
}

/// Sets up order import (creates the "TikTok Shop" referrer in PlentyONE once; shops can be given
/// here or added later with `setShop`).
#[napi(ts_return_type = "Promise<OrderSync>")]
pub fn create_order_sync<'env>(
    env: &'env Env,
    store: &NativeStore,
    client: &TikTokShopClient,
    options: OrderSyncOptions,
) -> napi::Result<PromiseRaw<'env, OrderSync>> {
    let (store, tiktok) = (store.store.clone(), client.client.clone());
    spawn(env, async move { build(store, tiktok, options).await }, |sync| {
        sync
    })
}

impl OrderSync {
    fn processor(&self) -> InboxProcessor {
        InboxProcessor::new(
            self.store.clone(),
            Arc::new(OrderEvents(self.importer.clone())),
            InboxSettings {
                owner: self.owner.clone(),
                ..Default::default()
            },
        )
    }
}

#[napi]
impl OrderSync {
    /// Adds or replaces a shop's settings (same shape as `shops[]` of the options).
    #[napi]
    pub fn set_shop(&self, env: Env, shop: serde_json::Value) -> napi::Result<()> {
        let config = crate::errors::check(&env, shop_config(shop, self.referrer))?;
        self.importer.set_shop(config);
        Ok(())
    }

    /// The shops with order import settings.
    #[napi(getter)]
    pub fn shops(&self) -> Vec<String> {
        self.importer.shops()
    }

    /// Handles one batch of the webhook inbox.
    #[napi(ts_return_type = "Promise<InboxBatchReport>")]
    pub fn process_inbox<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, InboxBatchReport>> {
        let processor = self.processor();
        spawn(env, async move { processor.run_once().await }, batch_to_js)
    }

    /// Drains the inbox in the background until `stop()`. Calling it twice does nothing more.
    #[napi]
    pub fn start(&self) {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if running.is_some() {
            return;
        }
        let (stop, stopped) = watch::channel(false);
        let processor = self.processor();
        let task = napi::bindgen_prelude::spawn(async move { processor.run(stopped).await });
        *running = Some((stop, task));
    }

    /// Stops the background worker after the batch in hand.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn stop<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, ()>> {
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner()).take();
        spawn(
            env,
            async move {
                if let Some((stop, task)) = running {
                    let _ = stop.send(true);
                    let _ = task.await;
                }
                Ok(())
            },
            |()| (),
        )
    }

    /// Catches up with TikTok for one shop (see `ReconcileOptions`); webhooks may be lost or late.
    #[napi(ts_return_type = "Promise<OrderReconcileReport>")]
    pub fn reconcile<'env>(
        &self,
        env: &'env Env,
        shop_id: String,
        options: Option<ReconcileOptions>,
    ) -> napi::Result<PromiseRaw<'env, OrderReconcileReport>> {
        let o = options.unwrap_or(ReconcileOptions {
            lookback_seconds: None,
            window_seconds: None,
            overlap_seconds: None,
        });
        let importer = self.importer.clone();
        spawn(
            env,
            async move {
                importer
                    .reconcile(
                        &shop_id,
                        now_unix(),
                        o.lookback_seconds.unwrap_or(7 * 24 * 3600),
                        o.window_seconds.unwrap_or(6 * 3600),
                        o.overlap_seconds.unwrap_or(600),
                    )
                    .await
            },
            reconcile_to_js,
        )
    }

    /// Brings one order up to date now; resolves to `created`, `adopted`, `statusUpdated`,
    /// `unchanged`, `notImported: <why>` or `rejected: <why>`.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn sync_order<'env>(
        &self,
        env: &'env Env,
        shop_id: String,
        order_id: String,
    ) -> napi::Result<PromiseRaw<'env, String>> {
        let importer = self.importer.clone();
        spawn(
            env,
            async move { importer.sync_order(&shop_id, &order_id, Seen::default()).await },
            |outcome| match outcome {
                ImportOutcome::Created { adopted: false, .. } => "created".to_string(),
                ImportOutcome::Created { adopted: true, .. } => "adopted".to_string(),
                ImportOutcome::StatusUpdated { .. } => "statusUpdated".to_string(),
                ImportOutcome::Unchanged => "unchanged".to_string(),
                ImportOutcome::NotImported { reason } => format!("notImported: {reason}"),
                ImportOutcome::Rejected { reason } => format!("rejected: {reason}"),
            },
        )
    }
}
