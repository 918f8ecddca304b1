//! The sync engines in JS: `createSyncEngines(store, client, options)` → `SyncEngines`, which drains
//! the webhook inbox (orders, product audits, cancellations and returns) and runs passes of each
//! kind (orders, products, inventory, fulfillment, returns) once at a time across processes, with
//! progress events.

use std::sync::{Arc, Mutex};

use napi::Env;
use napi::Status;
use napi::bindgen_prelude::PromiseRaw;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use tokio::sync::watch;
use tts_core::Result;
use tts_store::Store;
use tts_sync::inbox::{BatchReport, InboxProcessor, InboxSettings};
use tts_sync::orders::{ImportOutcome, Seen};
use tts_sync::runner::{
    Engines, Observer, RunEvent, RunOutcome, RunRequest, Runner, RunnerSettings, SyncKind,
};
use tts_sync::setup::ShopSyncSettings;

use crate::client::TikTokShopClient;
use crate::errors::{check, spawn};
use crate::store::NativeStore;

/// The PlentyONE back-office REST login (a back-end user with REST rights).
#[napi(object)]
pub struct PlentyConnection {
    /// The system's address, e.g. `https://shop.plentymarkets-cloud01.com` (no `/rest`).
    pub base_url: String,
    pub username: String,
    pub password: String,
}

/// Time windows and timings of the passes (all optional).
#[napi(object)]
pub struct SyncTimings {
    /// How far back a first pass looks (no cursor yet); default 7 days.
    pub first_run_lookback_seconds: Option<i64>,
    /// Order reconciliation window; default 6 h.
    pub order_window_seconds: Option<i64>,
    /// Overlap between windows and passes (clock skew, late indexing); default 10 min.
    pub overlap_seconds: Option<i64>,
    /// How often a running pass stores its progress, emits `onProgress` and renews its lease; default 1000.
    pub heartbeat_ms: Option<u32>,
    /// A pass's (shop, kind) lease lasts this long without renewal; default 60.
    pub lease_ttl_seconds: Option<u32>,
}

/// Options of `createSyncEngines`.
#[napi(object)]
pub struct SyncEnginesOptions {
    pub plenty: PlentyConnection,
    /// Per shop, every engine's settings (snake_case, as the Rust configs):
    /// `{ shop_id, region, orders: { plenty_id, … }, products: { categories, inventory, … },
    /// max_creates_per_day, tracking: { carriers, default_provider_id, … }, aftersales: { … } }`.
    /// `referrer_id` defaults to a "TikTok Shop" referrer created once in PlentyONE.
    pub shops: Option<Vec<serde_json::Value>>,
    /// Names this process's leases and inbox claims; default `sync-<pid>`.
    pub owner: Option<String>,
    pub timings: Option<SyncTimings>,
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

/// A pass's state: while it runs (every heartbeat) and once when it ends.
#[napi(object)]
pub struct SyncRunEvent {
    pub run_id: i64,
    pub shop_id: String,
    /// `orders`, `products`, `inventory`, `fulfillment` or `returns`.
    pub kind: String,
    /// `running`, `succeeded` (no item failed) or `failed` (some item or the pass failed; see `summary`).
    pub state: String,
    /// What the pass is doing, e.g. `window 3/28`, `changed variations`.
    pub phase: String,
    pub done: f64,
    /// Items the pass will handle, once known.
    pub total: Option<f64>,
    pub errors: f64,
    pub elapsed_ms: f64,
    pub rate_per_sec: f64,
    /// Seconds left at the rate so far (needs `total`).
    pub eta_seconds: Option<f64>,
    /// `{ report, progress }` once finished: the engine's report, or `report.error` with its code.
    pub summary: Option<serde_json::Value>,
}

fn event_to_js(e: RunEvent) -> SyncRunEvent {
    SyncRunEvent {
        run_id: e.run_id,
        shop_id: e.shop_id,
        kind: e.kind.to_string(),
        state: e.state.to_string(),
        phase: e.progress.phase,
        done: e.progress.done as f64,
        total: e.progress.total.map(|t| t as f64),
        errors: e.progress.errors as f64,
        elapsed_ms: e.progress.elapsed_ms as f64,
        rate_per_sec: e.progress.rate_per_sec,
        eta_seconds: e.progress.eta_seconds,
        summary: e.summary,
    }
}

/// What `run` did.
#[napi(object)]
pub struct SyncRunResult {
    /// `finished` (see `run`), `busy` (another worker runs this shop and kind now; a queued run stays
    /// queued) or `alreadyTaken` (the queued run was started elsewhere).
    pub outcome: String,
    pub run: Option<SyncRunEvent>,
    /// The lease holder when `busy`.
    pub holder: Option<String>,
}

fn outcome_to_js(o: RunOutcome) -> SyncRunResult {
    match o {
        RunOutcome::Finished(e) => SyncRunResult {
            outcome: "finished".into(),
            run: Some(event_to_js(e)),
            holder: None,
        },
        RunOutcome::Busy { holder } => SyncRunResult {
            outcome: "busy".into(),
            run: None,
            holder: Some(holder),
        },
        RunOutcome::AlreadyTaken => SyncRunResult {
            outcome: "alreadyTaken".into(),
            run: None,
            holder: None,
        },
    }
}

/// Options of `SyncEngines.run`.
#[napi(object)]
pub struct RunOptions {
    /// A run queued in the store (phase `queued`) to start; without it a new run is recorded.
    pub run_id: Option<i64>,
    /// `inventory` only: send every mapped SKU, not only changed ones (repairs drift on TikTok).
    pub full: Option<bool>,
}

type ProgressCallback = ThreadsafeFunction<SyncRunEvent, (), SyncRunEvent, Status, false, true>;

/// The sync engines of TikTok Shop for PlentyONE over one store and one TikTok client.
#[napi]
pub struct SyncEngines {
    runner: Arc<Runner>,
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
    options: SyncEnginesOptions,
    observer: Option<Observer>,
) -> Result<SyncEngines> {
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
    let owner = options
        .owner
        .unwrap_or_else(|| format!("sync-{}", std::process::id()));
    let engines = Engines::build(store.clone(), tiktok, plenty, &owner)?;
    for (i, shop) in options.shops.unwrap_or_default().into_iter().enumerate() {
        let configs = ShopSyncSettings::from_json(shop)
            .and_then(|s| s.resolve(referrer))
            .map_err(|e| prefix_field(e, &format!("shops[{i}]")))?;
        engines.set_shop(configs);
    }
    let mut settings = RunnerSettings::default();
    if let Some(t) = options.timings {
        let d = RunnerSettings::default();
        settings = RunnerSettings {
            first_run_lookback_secs: t.first_run_lookback_seconds.unwrap_or(d.first_run_lookback_secs),
            order_window_secs: t.order_window_seconds.unwrap_or(d.order_window_secs),
            overlap_secs: t.overlap_seconds.unwrap_or(d.overlap_secs),
            heartbeat: t.heartbeat_ms.map_or(d.heartbeat, |ms| {
                std::time::Duration::from_millis(u64::from(ms.max(10)))
            }),
            lease_ttl: t.lease_ttl_seconds.map_or(d.lease_ttl, |s| {
                std::time::Duration::from_secs(u64::from(s.max(1)))
            }),
        };
    }
    let runner = Runner::new(engines, store.clone(), owner.clone(), settings, observer);
    Ok(SyncEngines {
        runner: Arc::new(runner),
        referrer,
        store,
        owner,
        running: Mutex::new(None),
    })
}

/// `orders.plenty_id` → `shops[0].orders.plenty_id`: the message says which shop to fix.
fn prefix_field(e: tts_core::Error, prefix: &str) -> tts_core::Error {
    let field = match e.field.as_deref() {
        Some(f) => format!("{prefix}.{f}"),
        None => prefix.to_string(),
    };
    e.with_field(field)
}

/// Sets up the sync engines: logs in to PlentyONE (session kept in the store), creates the
/// "TikTok Shop" referrer once; shops can be given here or added later with `setShop`.
#[napi(
    ts_return_type = "Promise<SyncEngines>",
    ts_args_type = "store: NativeStore, client: TikTokShopClient, options: SyncEnginesOptions, onProgress?: (event: SyncRunEvent) => void"
)]
pub fn create_sync_engines<'env>(
    env: &'env Env,
    store: &NativeStore,
    client: &TikTokShopClient,
    options: SyncEnginesOptions,
    on_progress: Option<ProgressCallback>,
) -> napi::Result<PromiseRaw<'env, SyncEngines>> {
    let (store, tiktok) = (store.store.clone(), client.client.clone());
    // A weak callback: it never keeps Node alive; events are dropped rather than block a pass.
    let observer: Option<Observer> = on_progress.map(|f| {
        let f = Arc::new(f);
        Arc::new(move |e: &RunEvent| {
            f.call(event_to_js(e.clone()), ThreadsafeFunctionCallMode::NonBlocking);
        }) as Observer
    });
    spawn(
        env,
        async move { build(store, tiktok, options, observer).await },
        |s| s,
    )
}

impl SyncEngines {
    fn processor(&self) -> InboxProcessor {
        InboxProcessor::new(
            self.store.clone(),
            self.runner.engines().inbox_handler(),
            InboxSettings {
                owner: self.owner.clone(),
                ..Default::default()
            },
        )
    }
}

#[napi]
impl SyncEngines {
    /// Adds or replaces a shop's settings in every engine (same shape as `shops[]` of the options).
    #[napi]
    pub fn set_shop(&self, env: Env, shop: serde_json::Value) -> napi::Result<()> {
        let configs = check(
            &env,
            ShopSyncSettings::from_json(shop).and_then(|s| s.resolve(self.referrer)),
        )?;
        self.runner.engines().set_shop(configs);
        Ok(())
    }

    /// The shops with settings.
    #[napi(getter)]
    pub fn shops(&self) -> Vec<String> {
        self.runner.engines().shops()
    }

    /// The passes this process is running now, with their progress.
    #[napi]
    pub fn active(&self) -> Vec<SyncRunEvent> {
        self.runner.active().into_iter().map(event_to_js).collect()
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

    /// Stops the background inbox worker after the batch in hand.
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

    /// Runs one pass of `kind` for a shop now, unless another worker (this process or another
    /// sharing the store) is running that shop and kind (`outcome: 'busy'`). Recorded as a sync run
    /// (or starts the queued `runId`), progress emitted to `onProgress` every heartbeat.
    #[napi(
        ts_return_type = "Promise<SyncRunResult>",
        ts_args_type = "shopId: string, kind: 'orders' | 'products' | 'inventory' | 'fulfillment' | 'returns', options?: RunOptions"
    )]
    pub fn run<'env>(
        &self,
        env: &'env Env,
        shop_id: String,
        kind: String,
        options: Option<RunOptions>,
    ) -> napi::Result<PromiseRaw<'env, SyncRunResult>> {
        let options = options.unwrap_or(RunOptions {
            run_id: None,
            full: None,
        });
        let runner = self.runner.clone();
        spawn(
            env,
            async move {
                let request = RunRequest {
                    shop_id,
                    kind: SyncKind::parse(&kind)?,
                    queued_run_id: options.run_id,
                    full: options.full.unwrap_or(false),
                };
                runner.run(request, now_unix()).await
            },
            outcome_to_js,
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
        let importer = self.runner.engines().orders.clone();
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
