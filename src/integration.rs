//! The integration in JS: `createIntegration(store, client, options)` → `Integration`, the process's
//! one control plane (`crates/sync` `control`). A webhook is verified, stored and its consumer woken
//! in one call; one inbox consumer dispatches to the native engines and to handlers added from JS;
//! one scheduler queues and runs the passes. This module only converts.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use napi::Env;
use napi::Status;
use napi::bindgen_prelude::{Either, Promise, PromiseRaw, Unknown};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use tts_core::secret::secret;
use tts_core::{Error, ErrorCode, Result};
use tts_store::Store;
use tts_sync::control::{ControlPlane, ControlSettings, ControlStatus, run_state};
use tts_sync::inbox::{EventHandler, InboxSettings};
use tts_sync::orders::{ImportOutcome, Seen};
use tts_sync::runner::{
    Engines, Observer, RunEvent, RunOutcome, RunRequest, Runner, RunnerSettings, SyncKind,
};
use tts_sync::setup::ShopSyncSettings;
use tts_tiktok::webhook::Notification;

use crate::client::TikTokShopClient;
use crate::errors::{check, invalid, spawn, to_js};
use crate::store::{NativeStore, SyncRunRecord, run_to_js};
use crate::webhook::{WebhookNotification, notification_to_js, raw_body_bytes};

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

/// Options of `createIntegration`.
#[napi(object)]
pub struct IntegrationOptions {
    pub app_key: String,
    /// Secrets a webhook signature may match: the app secret, and a second one during a rotation.
    pub webhook_secrets: Vec<String>,
    /// Names this process's leases and inbox claims; default `sync-<pid>`.
    pub owner: Option<String>,
    /// A reconciliation run per (shop, kind) this often; default 300000 (5 min).
    pub sync_interval_ms: Option<f64>,
    /// An inventory run (changed stock and prices) this often; default 60000.
    pub stock_interval_ms: Option<f64>,
    /// How soon a run another instance holds is tried again; default 5000.
    pub busy_retry_ms: Option<f64>,
    /// The inbox consumer's idle poll (it is also woken by every stored webhook); default 500.
    pub inbox_idle_poll_ms: Option<f64>,
    /// First retry delay of a failed webhook (full jitter, doubling, capped at 10 min); default 2000.
    pub inbox_retry_base_ms: Option<f64>,
    /// Attempts before a failing webhook is given up; default 8.
    pub inbox_max_attempts: Option<u32>,
}

/// Options of `Integration.attachEngines`.
#[napi(object)]
pub struct EnginesOptions {
    pub plenty: PlentyConnection,
    /// Per shop, every engine's settings (snake_case, as the Rust configs):
    /// `{ shop_id, region, orders: { plenty_id, … }, products: { categories, inventory, … },
    /// max_creates_per_day, tracking: { carriers, default_provider_id, … }, aftersales: { … } }`.
    /// `referrer_id` defaults to a "TikTok Shop" referrer created once in PlentyONE.
    pub shops: Option<Vec<serde_json::Value>>,
    pub timings: Option<SyncTimings>,
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
    let (outcome, run, holder) = match o {
        RunOutcome::Finished(e) => ("finished", Some(event_to_js(e)), None),
        RunOutcome::Busy { holder } => ("busy", None, Some(holder)),
        RunOutcome::AlreadyTaken => ("alreadyTaken", None, None),
    };
    SyncRunResult {
        outcome: outcome.into(),
        run,
        holder,
    }
}

/// Options of `Integration.run`.
#[napi(object)]
pub struct RunOptions {
    /// A run queued in the store (phase `queued`) to start; without it a new run is recorded.
    pub run_id: Option<i64>,
    /// `inventory` only: send every mapped SKU, not only changed ones (repairs drift on TikTok).
    pub full: Option<bool>,
}

/// Options of `Integration.trigger`.
#[napi(object)]
pub struct TriggerOptions {
    /// One stored shop; default every connected shop.
    pub shop_id: Option<String>,
    #[napi(ts_type = "'orders' | 'products' | 'inventory' | 'fulfillment' | 'returns'")]
    pub kind: Option<String>,
    /// `inventory` only: a full pass.
    pub full: Option<bool>,
}

/// What `receiveWebhook` did with a verified notification.
#[napi(object)]
pub struct WebhookReceipt {
    /// False when the inbox already had it (TikTok delivers more than once): acknowledge it anyway.
    pub inserted: bool,
    pub notification: WebhookNotification,
}

#[napi(object)]
pub struct WebhookStats {
    pub received: f64,
    pub accepted: f64,
    pub duplicates: f64,
    pub rejected: f64,
}

/// A shop's runs in `status()`.
#[napi(object)]
pub struct ShopRunsStatus {
    pub shop_id: String,
    /// Newest first; `state` is `queued`, `running`, `succeeded` or `failed`.
    pub runs: Vec<SyncRunRecord>,
    /// The last event of each pass this process ran or runs (live progress, ETA).
    pub progress: Vec<SyncRunEvent>,
    /// Why the shop's sync settings were refused (it is not synced until they are fixed).
    pub settings_problem: Option<String>,
}

#[napi(object)]
pub struct IntegrationStatus {
    /// Kinds with an engine; empty until `attachEngines` succeeded (runs stay queued).
    pub engines: Vec<String>,
    pub webhooks: WebhookStats,
    pub inbox_pending: i64,
    pub shops: Vec<ShopRunsStatus>,
}

fn status_to_js(s: ControlStatus) -> IntegrationStatus {
    IntegrationStatus {
        engines: s.kinds.iter().map(|k| k.as_str().to_string()).collect(),
        webhooks: WebhookStats {
            received: s.webhooks.received as f64,
            accepted: s.webhooks.accepted as f64,
            duplicates: s.webhooks.duplicates as f64,
            rejected: s.webhooks.rejected as f64,
        },
        inbox_pending: s.inbox_pending,
        shops: s
            .shops
            .into_iter()
            .map(|shop| ShopRunsStatus {
                shop_id: shop.shop_id,
                runs: shop.runs.into_iter().map(run_view).collect(),
                progress: shop.progress.into_iter().map(event_to_js).collect(),
                settings_problem: shop.settings_problem,
            })
            .collect(),
    }
}

fn run_view(run: tts_store::SyncRun) -> SyncRunRecord {
    let state = run_state(&run).to_string();
    SyncRunRecord {
        state: Some(state),
        ..run_to_js(run)
    }
}

/// How a JS inbox handler reports a failure without throwing across threads: `{ code, message }`.
#[napi(object)]
pub struct InboxHandlerFailure {
    pub code: String,
    pub message: String,
}

type ProgressCallback = ThreadsafeFunction<SyncRunEvent, (), SyncRunEvent, Status, false, true>;
type JsInboxHandler = ThreadsafeFunction<
    WebhookNotification,
    Either<Promise<Option<InboxHandlerFailure>>, Option<InboxHandlerFailure>>,
    WebhookNotification,
    Status,
    false,
    true,
>;

/// A handler from JS, as one more handler in the native dispatch.
struct JsHandler(JsInboxHandler);

#[async_trait]
impl EventHandler for JsHandler {
    async fn handle(&self, notification: &Notification) -> Result<()> {
        let event = notification_to_js(notification.clone())?;
        let failed = |e: napi::Error| Error::internal(format!("the JS inbox handler failed: {}", e.reason));
        let answer = match self.0.call_async_catch(event).await.map_err(failed)? {
            Either::A(promise) => promise.await.map_err(failed)?,
            Either::B(value) => value,
        };
        match answer {
            None => Ok(()),
            // Known codes keep their retry policy (a 503 is transient); the stored reason shows the code.
            Some(f) => Err(Error::new(
                ErrorCode::from_str_code(&f.code).unwrap_or(ErrorCode::Internal),
                format!("{}: {}", f.code, f.message),
            )),
        }
    }
}

/// The integration's control plane over one store and one TikTok client.
#[napi]
pub struct Integration {
    control: Arc<ControlPlane>,
    store: Arc<dyn Store>,
    tiktok: tts_tiktok::client::Client,
    owner: String,
    observer: Observer,
}

fn millis(v: Option<f64>, field: &str, default: Duration) -> Result<Duration> {
    match v {
        None => Ok(default),
        Some(ms) if ms.is_finite() && ms >= 1.0 && ms <= 1e12 => Ok(Duration::from_millis(ms as u64)),
        Some(_) => Err(Error::invalid_argument(
            field,
            "must be a number of milliseconds ≥ 1",
        )),
    }
}

fn control_settings(o: IntegrationOptions, owner: &str) -> Result<ControlSettings> {
    if o.app_key.is_empty() {
        return Err(Error::invalid_argument("appKey", "must not be empty"));
    }
    let secrets: Vec<_> = o
        .webhook_secrets
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(secret)
        .collect();
    if secrets.is_empty() {
        return Err(Error::invalid_argument("webhookSecrets", "give the app secret"));
    }
    let mut s = ControlSettings::new(o.app_key, secrets);
    s.sync_interval = millis(o.sync_interval_ms, "syncIntervalMs", s.sync_interval)?;
    s.stock_interval = millis(o.stock_interval_ms, "stockIntervalMs", s.stock_interval)?;
    s.busy_retry = millis(o.busy_retry_ms, "busyRetryMs", s.busy_retry)?;
    let d = InboxSettings::default();
    s.inbox = InboxSettings {
        owner: owner.to_string(),
        idle_poll: millis(o.inbox_idle_poll_ms, "inboxIdlePollMs", d.idle_poll)?,
        retry_base: millis(o.inbox_retry_base_ms, "inboxRetryBaseMs", d.retry_base)?,
        max_attempts: o
            .inbox_max_attempts
            .map_or(d.max_attempts, |n| i64::from(n.max(1))),
        ..d
    };
    Ok(s)
}

fn runner_settings(t: Option<SyncTimings>) -> RunnerSettings {
    let d = RunnerSettings::default();
    let Some(t) = t else { return d };
    RunnerSettings {
        first_run_lookback_secs: t.first_run_lookback_seconds.unwrap_or(d.first_run_lookback_secs),
        order_window_secs: t.order_window_seconds.unwrap_or(d.order_window_secs),
        overlap_secs: t.overlap_seconds.unwrap_or(d.overlap_secs),
        heartbeat: t
            .heartbeat_ms
            .map_or(d.heartbeat, |ms| Duration::from_millis(u64::from(ms.max(10)))),
        lease_ttl: t
            .lease_ttl_seconds
            .map_or(d.lease_ttl, |s| Duration::from_secs(u64::from(s.max(1)))),
    }
}

/// `orders.plenty_id` → `shops[0].orders.plenty_id`: the message says which shop to fix.
fn prefix_field(e: Error, prefix: &str) -> Error {
    let field = match e.field.as_deref() {
        Some(f) => format!("{prefix}.{f}"),
        None => prefix.to_string(),
    };
    e.with_field(field)
}

/// Creates the integration's control plane (nothing runs until `start()`). `onProgress` gets every
/// pass's progress (every heartbeat) and its end.
#[napi(
    ts_args_type = "store: NativeStore, client: TikTokShopClient, options: IntegrationOptions, onProgress?: (event: SyncRunEvent) => void"
)]
pub fn create_integration(
    env: Env,
    store: &NativeStore,
    client: &TikTokShopClient,
    options: IntegrationOptions,
    on_progress: Option<ProgressCallback>,
) -> napi::Result<Integration> {
    let owner = options
        .owner
        .clone()
        .unwrap_or_else(|| format!("sync-{}", std::process::id()));
    let settings = check(&env, control_settings(options, &owner))?;
    let control = ControlPlane::new(store.store.clone(), settings);
    // A weak callback: it never keeps Node alive; events are dropped rather than block a pass.
    let then: Option<Observer> = on_progress.map(|f| {
        let f = Arc::new(f);
        Arc::new(move |e: &RunEvent| {
            f.call(event_to_js(e.clone()), ThreadsafeFunctionCallMode::NonBlocking);
        }) as Observer
    });
    Ok(Integration {
        observer: control.observer(then),
        control,
        store: store.store.clone(),
        tiktok: client.client.clone(),
        owner,
    })
}

impl Integration {
    fn runner(&self) -> Result<Arc<Runner>> {
        self.control.runner().ok_or_else(|| {
            Error::new(
                ErrorCode::ConfigInvalid,
                "the sync engines are not attached: PlentyONE REST access (attachEngines) is needed",
            )
        })
    }
}

#[napi]
impl Integration {
    /// Logs in to PlentyONE (session kept in the store), creates the "TikTok Shop" referrer once and
    /// attaches the five engines: the inbox consumer dispatches to them and queued runs start.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn attach_engines<'env>(
        &self,
        env: &'env Env,
        options: EnginesOptions,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let (store, tiktok, owner) = (self.store.clone(), self.tiktok.clone(), self.owner.clone());
        let (control, observer) = (self.control.clone(), self.observer.clone());
        spawn(
            env,
            async move {
                // The session is kept in the store: restarts reuse it instead of piling up sessions.
                let plenty = tts_sync::plenty_session::client_with_saved_session(
                    tts_plenty::client::ClientOptions::new(
                        options.plenty.base_url,
                        options.plenty.username,
                        options.plenty.password,
                    ),
                    store.clone(),
                )
                .await?;
                // Created once in PlentyONE (found again by name afterwards); also proves the login.
                let referrer = plenty.ensure_referrer("TikTok Shop").await?;
                let engines = Engines::build(store.clone(), tiktok, plenty, &owner)?;
                for (i, shop) in options.shops.unwrap_or_default().into_iter().enumerate() {
                    let configs = ShopSyncSettings::from_json(shop)
                        .and_then(|s| s.resolve(referrer))
                        .map_err(|e| prefix_field(e, &format!("shops[{i}]")))?;
                    engines.set_shop(configs);
                }
                let settings = runner_settings(options.timings);
                let runner = Runner::new(engines, store, owner, settings, Some(observer));
                control.attach_engines(Arc::new(runner), referrer);
                Ok(())
            },
            |()| (),
        )
    }

    /// Verifies the raw body (`Authorization` header = TikTok's signature), stores the notification in
    /// the inbox and wakes its consumer. Throws `TTS_SIGNATURE_INVALID`, `TTS_WEBHOOK_PAYLOAD_INVALID`,
    /// `TTS_WEBHOOK_RAW_BODY_REQUIRED` (a parsed object instead of the bytes) or a store error.
    #[napi(
        ts_args_type = "rawBody: Buffer | Uint8Array | string, authorization?: string | null",
        ts_return_type = "Promise<WebhookReceipt>"
    )]
    pub fn receive_webhook<'env>(
        &self,
        env: &'env Env,
        raw_body: Unknown,
        authorization: Option<String>,
    ) -> napi::Result<PromiseRaw<'env, WebhookReceipt>> {
        let body = match raw_body_bytes(env, raw_body) {
            Ok(body) => body,
            Err(e) => {
                self.control.count_rejected();
                return Err(e);
            }
        };
        let control = self.control.clone();
        env.spawn_future_with_callback(
            async move {
                Ok(control
                    .receive_webhook(&body, authorization.as_deref().unwrap_or(""))
                    .await)
            },
            |env, result| {
                let receipt = result.map_err(|e| to_js(env, e))?;
                Ok(WebhookReceipt {
                    inserted: receipt.inserted,
                    notification: check(env, notification_to_js(receipt.notification))?,
                })
            },
        )
    }

    /// Counts a webhook refused before `receiveWebhook` (e.g. a body over the size limit).
    #[napi]
    pub fn count_rejected_webhook(&self) {
        self.control.count_rejected();
    }

    /// Adds a handler to the inbox dispatch, after the native engines': it gets every notification
    /// at least once (so it must be idempotent) and answers `undefined` when done, or
    /// `{ code, message }` to have the message retried with backoff (given up after the attempts).
    #[napi(
        ts_args_type = "handler: (event: WebhookNotification) => Promise<InboxHandlerFailure | null | undefined> | InboxHandlerFailure | null | undefined"
    )]
    pub fn add_inbox_handler(&self, handler: JsInboxHandler) {
        self.control.add_handler(Arc::new(JsHandler(handler)));
    }

    /// Adds or replaces a shop's settings in every engine (same shape as `shops[]` of `attachEngines`).
    /// A refusal is also shown by `status()` until fixed.
    #[napi]
    pub fn set_shop(&self, env: Env, shop: serde_json::Value) -> napi::Result<()> {
        check(&env, self.control.set_shop(shop))
    }

    /// The shops with settings.
    #[napi(getter)]
    pub fn shops(&self) -> Vec<String> {
        self.control
            .runner()
            .map(|r| r.engines().shops())
            .unwrap_or_default()
    }

    /// The passes this process is running now, with their progress.
    #[napi]
    pub fn active(&self) -> Vec<SyncRunEvent> {
        let runs = self.control.runner().map(|r| r.active()).unwrap_or_default();
        runs.into_iter().map(event_to_js).collect()
    }

    /// Queues a run per (shop, kind) unless one is already waiting; the scheduler starts it now.
    #[napi(ts_return_type = "Promise<SyncRunRecord[]>")]
    pub fn trigger<'env>(
        &self,
        env: &'env Env,
        options: Option<TriggerOptions>,
    ) -> napi::Result<PromiseRaw<'env, Vec<SyncRunRecord>>> {
        let o = options.unwrap_or(TriggerOptions {
            shop_id: None,
            kind: None,
            full: None,
        });
        let kind = match o.kind.as_deref().map(SyncKind::parse).transpose() {
            Ok(kind) => kind,
            Err(e) => return Err(to_js(env, e)),
        };
        if o.shop_id.as_deref() == Some("") {
            return Err(invalid(env, "shopId", "must not be empty"));
        }
        let control = self.control.clone();
        spawn(
            env,
            async move {
                control
                    .trigger(o.shop_id.as_deref(), kind, o.full.unwrap_or(false))
                    .await
            },
            |runs| runs.into_iter().map(run_view).collect(),
        )
    }

    /// Webhook counters, inbox backlog, engines, and per shop its recent runs and live progress.
    #[napi(ts_return_type = "Promise<IntegrationStatus>")]
    pub fn status<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, IntegrationStatus>> {
        let control = self.control.clone();
        spawn(env, async move { control.status().await }, status_to_js)
    }

    /// Starts the inbox consumer and the scheduler. Calling it twice does nothing more.
    #[napi]
    pub fn start(&self) {
        let control = self.control.clone();
        napi::bindgen_prelude::within_runtime_if_available(move || control.start());
    }

    /// Stops the consumer (after the batch in hand) and the scheduler, and waits for the passes in
    /// progress.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn stop<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, ()>> {
        let control = self.control.clone();
        spawn(
            env,
            async move {
                control.stop().await;
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
        let runner = self.runner();
        let (run_id, full) = options.map_or((None, None), |o| (o.run_id, o.full));
        spawn(
            env,
            async move {
                let request = RunRequest {
                    shop_id,
                    kind: SyncKind::parse(&kind)?,
                    queued_run_id: run_id,
                    full: full.unwrap_or(false),
                };
                runner?.run(request, crate::errors::now_unix()).await
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
        let runner = self.runner();
        spawn(
            env,
            async move {
                let importer = runner?.engines().orders.clone();
                importer.sync_order(&shop_id, &order_id, Seen::default()).await
            },
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
