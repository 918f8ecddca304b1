//! The control plane: one per process, the only place that decides when work happens.
//!
//! - A webhook is verified from its raw bytes, stored in the inbox and the inbox consumer woken, in
//!   one call ([`ControlPlane::receive_webhook`]); the route only answers what it returns.
//! - One inbox consumer ([`InboxProcessor`], one retry policy) dispatches every notification to the
//!   native engines' handler and to any handler a host adds ([`ControlPlane::add_handler`]): a host's
//!   handler is one more handler inside the same dispatch, never a second consumer of the table.
//! - One scheduler queues reconciliation runs (every sync interval; inventory every stock interval,
//!   a full inventory pass once a day), starts queued runs through the [`Runner`] (its lease keeps a
//!   pass single across instances) and tries a busy run again shortly.
//!
//! The engines attach later ([`ControlPlane::attach_engines`]) because they need a PlentyONE login
//! that may fail or be absent: webhooks are received and stored without them, runs stay queued.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tts_core::secret::{ExposeSecret, SecretString};
use tts_core::{Error, ErrorCode, Result};
use tts_store::{NewInboxMessage, RunStatus, ShopStatus, Store, SyncRun};
use tts_tiktok::webhook::{self, Notification};

use crate::inbox::{EventHandler, InboxProcessor, InboxSettings};
use crate::runner::{QUEUED, QUEUED_FULL, RunEvent, RunOutcome, RunRequest, Runner, SyncKind};
use crate::setup::ShopSyncSettings;

/// Settings of the control plane.
#[derive(Clone, Debug)]
pub struct ControlSettings {
    /// The app whose shops this process serves (webhooks are signed with its key).
    pub app_key: String,
    /// Secrets a webhook signature may match: the app secret, and a second one during a rotation.
    pub webhook_secrets: Vec<SecretString>,
    /// A reconciliation run per (shop, kind) this often.
    pub sync_interval: Duration,
    /// An inventory run this often (when shorter than `sync_interval`).
    pub stock_interval: Duration,
    /// How often a scheduled inventory run is a full pass instead of changed-only.
    pub full_inventory_every: Duration,
    /// How soon a run whose (shop, kind) lease another worker holds is tried again.
    pub busy_retry: Duration,
    pub inbox: InboxSettings,
}

impl ControlSettings {
    pub fn new(app_key: impl Into<String>, webhook_secrets: Vec<SecretString>) -> Self {
        ControlSettings {
            app_key: app_key.into(),
            webhook_secrets,
            sync_interval: Duration::from_secs(300),
            stock_interval: Duration::from_secs(60),
            full_inventory_every: Duration::from_secs(24 * 3600),
            busy_retry: Duration::from_secs(5),
            inbox: InboxSettings::default(),
        }
    }
}

/// Webhook counters since start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WebhookStats {
    pub received: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
}

#[derive(Default)]
struct Counters {
    received: AtomicU64,
    accepted: AtomicU64,
    duplicates: AtomicU64,
    rejected: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> WebhookStats {
        WebhookStats {
            received: self.received.load(Ordering::Relaxed),
            accepted: self.accepted.load(Ordering::Relaxed),
            duplicates: self.duplicates.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
        }
    }
}

/// What [`ControlPlane::receive_webhook`] did with a verified notification.
#[derive(Debug)]
pub struct WebhookReceipt {
    /// False when the inbox already had this notification (TikTok delivers more than once).
    pub inserted: bool,
    pub notification: Notification,
}

/// The dispatch the one inbox consumer calls: the engines' handler, then every added handler. A
/// failure of any makes the message fail and be retried whole, so handlers must be idempotent (the
/// engines are: an order is created once whatever the number of deliveries).
#[derive(Default)]
struct Dispatch {
    engines: RwLock<Option<Arc<dyn EventHandler>>>,
    added: RwLock<Vec<Arc<dyn EventHandler>>>,
}

impl Dispatch {
    fn handlers(&self) -> Vec<Arc<dyn EventHandler>> {
        let mut all: Vec<Arc<dyn EventHandler>> = Vec::new();
        all.extend(read(&self.engines).clone());
        all.extend(read(&self.added).iter().cloned());
        all
    }

    fn is_empty(&self) -> bool {
        read(&self.engines).is_none() && read(&self.added).is_empty()
    }
}

#[async_trait]
impl EventHandler for Dispatch {
    async fn handle(&self, notification: &Notification) -> Result<()> {
        for handler in self.handlers() {
            handler.handle(notification).await?;
        }
        Ok(())
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

struct Attached {
    runner: Arc<Runner>,
    /// The "TikTok Shop" referrer, for shops configured without one.
    referrer: rust_decimal::Decimal,
}

struct Running {
    stop: watch::Sender<bool>,
    loops: Vec<tokio::task::JoinHandle<()>>,
}

/// The process's control plane. Cheap to share (`Arc`).
pub struct ControlPlane {
    store: Arc<dyn Store>,
    settings: ControlSettings,
    attached: RwLock<Option<Attached>>,
    dispatch: Arc<Dispatch>,
    counters: Counters,
    inbox_wake: Arc<Notify>,
    scheduler_wake: Notify,
    /// Shops whose settings were refused, with the reason.
    settings_problems: Mutex<HashMap<String, String>>,
    /// The last event of each (shop, kind) pass, running or just finished.
    progress: Arc<Mutex<HashMap<(String, &'static str), RunEvent>>>,
    /// (shop, lane) of the runs this process has started and not finished.
    in_flight: Mutex<HashSet<(String, Lane)>>,
    runs: Mutex<JoinSet<()>>,
    running: Mutex<Option<Running>>,
}

impl ControlPlane {
    pub fn new(store: Arc<dyn Store>, settings: ControlSettings) -> Arc<Self> {
        Arc::new(ControlPlane {
            store,
            settings,
            attached: RwLock::new(None),
            dispatch: Arc::default(),
            counters: Counters::default(),
            inbox_wake: Arc::new(Notify::new()),
            scheduler_wake: Notify::new(),
            settings_problems: Mutex::default(),
            progress: Arc::default(),
            in_flight: Mutex::default(),
            runs: Mutex::new(JoinSet::new()),
            running: Mutex::new(None),
        })
    }

    /// An observer for the [`Runner`]: keeps each pass's last event for [`ControlPlane::status`], then
    /// hands it on (e.g. to a host's progress callback).
    pub fn observer(&self, then: Option<crate::runner::Observer>) -> crate::runner::Observer {
        let progress = self.progress.clone();
        Arc::new(move |e: &RunEvent| {
            lock(&progress).insert((e.shop_id.clone(), e.kind), e.clone());
            if let Some(then) = &then {
                then(e);
            }
        })
    }

    /// Installs the engines (their inbox handler and runner); queued runs start now.
    pub fn attach_engines(&self, runner: Arc<Runner>, referrer: rust_decimal::Decimal) {
        *self.dispatch.engines.write().unwrap_or_else(|p| p.into_inner()) =
            Some(runner.engines().inbox_handler());
        *self.attached.write().unwrap_or_else(|p| p.into_inner()) = Some(Attached { runner, referrer });
        self.inbox_wake.notify_one();
        self.scheduler_wake.notify_one();
    }

    pub fn runner(&self) -> Option<Arc<Runner>> {
        read(&self.attached).as_ref().map(|a| a.runner.clone())
    }

    /// Adds a handler to the inbox dispatch (after the engines'); waiting messages are handled now.
    pub fn add_handler(&self, handler: Arc<dyn EventHandler>) {
        self.dispatch
            .added
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(handler);
        self.inbox_wake.notify_one();
    }

    /// Gives the engines a shop's settings (the JSON of [`ShopSyncSettings`]). A refusal is kept for
    /// [`ControlPlane::status`] and returned, naming the field.
    pub fn set_shop(&self, settings: Value) -> Result<()> {
        let guard = read(&self.attached);
        let attached = guard.as_ref().ok_or_else(|| {
            Error::new(
                ErrorCode::ConfigInvalid,
                "the sync engines are not running (PlentyONE REST, PLENTY_ID and a durable store are needed)",
            )
        })?;
        let shop_id = settings
            .get("shop_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        match ShopSyncSettings::from_json(settings).and_then(|s| s.resolve(attached.referrer)) {
            Ok(configs) => {
                attached.runner.engines().set_shop(configs);
                lock(&self.settings_problems).remove(&shop_id);
                self.scheduler_wake.notify_one();
                Ok(())
            }
            Err(e) => {
                let field = e.field.as_deref().map(|f| format!(" ({f})")).unwrap_or_default();
                lock(&self.settings_problems).insert(shop_id, format!("{}{field}: {e}", e.code()));
                Err(e)
            }
        }
    }

    /// Verifies the raw body, stores the notification in the inbox and wakes the consumer. Errors:
    /// `TTS_SIGNATURE_INVALID`, `TTS_WEBHOOK_PAYLOAD_INVALID`, or the store's (answer 5xx: TikTok
    /// delivers again).
    pub async fn receive_webhook(&self, raw_body: &[u8], authorization: &str) -> Result<WebhookReceipt> {
        self.counters.received.fetch_add(1, Ordering::Relaxed);
        let secrets: Vec<&str> = self
            .settings
            .webhook_secrets
            .iter()
            .map(|s| s.expose_secret())
            .collect();
        let notification =
            match webhook::verify_and_parse(&self.settings.app_key, &secrets, authorization, raw_body) {
                Ok(n) => n,
                Err(e) => {
                    self.counters.rejected.fetch_add(1, Ordering::Relaxed);
                    return Err(e);
                }
            };
        let inserted = self
            .store
            .insert_inbox(&NewInboxMessage {
                notification_id: notification.tts_notification_id.clone(),
                shop_id: notification.shop_id.clone(),
                event_type: notification.type_code,
                payload: raw_body.to_vec(),
            })
            .await?;
        if inserted {
            self.counters.accepted.fetch_add(1, Ordering::Relaxed);
            self.inbox_wake.notify_one();
        } else {
            self.counters.duplicates.fetch_add(1, Ordering::Relaxed);
        }
        Ok(WebhookReceipt {
            inserted,
            notification,
        })
    }

    /// Counts a webhook the host refused before it reached [`ControlPlane::receive_webhook`] (no raw
    /// body, too large).
    pub fn count_rejected(&self) {
        self.counters.received.fetch_add(1, Ordering::Relaxed);
        self.counters.rejected.fetch_add(1, Ordering::Relaxed);
    }

    /// Sync kinds with an engine: all of them once the engines are attached, none before.
    pub fn kinds(&self) -> Vec<SyncKind> {
        if read(&self.attached).is_some() {
            SyncKind::ALL.to_vec()
        } else {
            Vec::new()
        }
    }

    async fn connected_shops(&self) -> Result<Vec<String>> {
        Ok(self
            .store
            .list_shops(Some(&self.settings.app_key))
            .await?
            .into_iter()
            .filter(|s| s.status == ShopStatus::Connected)
            .map(|s| s.shop_id)
            .collect())
    }

    /// Queues a run per (shop, kind) unless one is already waiting, and wakes the scheduler.
    /// `shop_id` must be a stored shop of this app; without it every connected shop. `full`
    /// (inventory only) sends every mapped SKU instead of only changed ones.
    pub async fn trigger(
        &self,
        shop_id: Option<&str>,
        kind: Option<SyncKind>,
        full: bool,
    ) -> Result<Vec<SyncRun>> {
        let shops = match shop_id {
            Some(id) => {
                let key = tts_store::ShopKey::new(&self.settings.app_key, id);
                if self.store.get_shop(&key).await?.is_none() {
                    return Err(
                        Error::new(ErrorCode::NotFound, format!("no TikTok shop {id} is connected"))
                            .with_field("shopId"),
                    );
                }
                vec![id.to_string()]
            }
            None => self.connected_shops().await?,
        };
        if shops.is_empty() {
            return Err(Error::new(
                ErrorCode::NotFound,
                "no TikTok shop is connected: connect one at /api/tiktok/auth first",
            ));
        }
        let kinds = kind.map_or_else(|| SyncKind::ALL.to_vec(), |k| vec![k]);
        let mut runs = Vec::new();
        for shop in &shops {
            for kind in &kinds {
                let phase = if full && *kind == SyncKind::Inventory {
                    QUEUED_FULL
                } else {
                    QUEUED
                };
                let recent = self.store.list_sync_runs(shop, Some(kind.as_str()), 5).await?;
                // One waiting run per (shop, kind) is enough; a full one also covers a changed-only one.
                let waiting = recent
                    .into_iter()
                    .find(|r| is_queued(r) && (r.phase == phase || phase == QUEUED));
                runs.push(match waiting {
                    Some(run) => run,
                    None => self.store.start_sync_run(shop, kind.as_str(), phase).await?,
                });
            }
        }
        self.scheduler_wake.notify_one();
        Ok(runs)
    }

    /// Queues one run per (connected shop, kind with an engine) unless one is already waiting; once
    /// every `full_inventory_every` the inventory run is a full one, repairing drift on TikTok. A run
    /// in progress does not stop the next from being queued: it starts when the lease is free.
    pub async fn queue_reconciliation(&self, only: Option<SyncKind>, now: i64) -> Result<Vec<SyncRun>> {
        let kinds: Vec<SyncKind> = self
            .kinds()
            .into_iter()
            .filter(|k| only.is_none_or(|o| o == *k))
            .collect();
        let mut queued = Vec::new();
        if kinds.is_empty() {
            return Ok(queued);
        }
        let full_every = i64::try_from(self.settings.full_inventory_every.as_secs()).unwrap_or(i64::MAX);
        for shop in self.connected_shops().await? {
            for kind in &kinds {
                let recent = self.store.list_sync_runs(&shop, Some(kind.as_str()), 50).await?;
                if recent.iter().any(is_queued) {
                    continue;
                }
                let mut phase = QUEUED;
                if *kind == SyncKind::Inventory {
                    let last_full = recent
                        .iter()
                        .find(|r| r.summary.as_ref().and_then(|s| s.get("full")) == Some(&Value::Bool(true)));
                    if last_full.is_none_or(|r| r.started_at < now.saturating_sub(full_every)) {
                        phase = QUEUED_FULL;
                    }
                }
                queued.push(self.store.start_sync_run(&shop, kind.as_str(), phase).await?);
            }
        }
        Ok(queued)
    }

    /// Starts every queued run whose (shop, [`lane`]) this process is not running yet, each in its
    /// own task. A shop without settings fails its run at once with the reason.
    async fn start_queued(self: &Arc<Self>) -> Result<()> {
        let Some(runner) = self.runner() else {
            return Ok(());
        };
        let configured = runner.engines().shops();
        for shop in self.connected_shops().await? {
            // Oldest first: a waiting run is not overtaken by a newer one.
            let mut runs = self.store.list_sync_runs(&shop, None, 50).await?;
            runs.reverse();
            for run in runs.into_iter().filter(is_queued) {
                let Ok(kind) = SyncKind::parse(&run.kind) else {
                    continue;
                };
                if !configured.contains(&shop) {
                    let problem = lock(&self.settings_problems)
                        .get(&shop)
                        .cloned()
                        .unwrap_or_else(|| "the shop has no sync settings".to_string());
                    let why =
                        json!({"error": {"code": ErrorCode::ConfigInvalid.as_str(), "message": problem}});
                    self.store
                        .finish_sync_run(run.id, RunStatus::Failed, &why)
                        .await?;
                    continue;
                }
                if !lock(&self.in_flight).insert((shop.clone(), lane(kind))) {
                    continue;
                }
                let (this, runner, shop) = (self.clone(), runner.clone(), shop.clone());
                lock(&self.runs).spawn(async move {
                    let request = RunRequest {
                        shop_id: shop.clone(),
                        kind,
                        queued_run_id: Some(run.id),
                        full: false,
                    };
                    let outcome = runner.run(request, tts_store::now_seconds()).await;
                    lock(&this.in_flight).remove(&(shop.clone(), lane(kind)));
                    match outcome {
                        Ok(RunOutcome::Busy { holder }) => {
                            tracing::debug!(shop = %shop, kind = kind.as_str(), holder = %holder, "sync run waits: another worker runs this shop and kind");
                            tokio::time::sleep(this.settings.busy_retry).await;
                        }
                        Ok(_) => {}
                        // The runner records engine failures itself; this is the store or the lease.
                        Err(e) => {
                            tracing::error!(shop = %shop, kind = kind.as_str(), code = %e.code(), error = %e, "sync run could not start");
                            tokio::time::sleep(this.settings.busy_retry).await;
                        }
                    }
                    // A run of the same (shop, kind) may have been queued meanwhile.
                    this.scheduler_wake.notify_one();
                });
            }
        }
        Ok(())
    }

    /// Starts the inbox consumer and the scheduler (in the current Tokio runtime). Twice does nothing.
    pub fn start(self: &Arc<Self>) {
        let mut running = lock(&self.running);
        if running.is_some() {
            return;
        }
        let (stop, stopped) = watch::channel(false);
        let processor = InboxProcessor::new(
            self.store.clone(),
            self.dispatch.clone(),
            self.settings.inbox.clone(),
        );
        let (dispatch, wake, shutdown) = (self.dispatch.clone(), self.inbox_wake.clone(), stopped.clone());
        let inbox = tokio::spawn(async move {
            processor
                .run_woken(shutdown, &wake, move || !dispatch.is_empty())
                .await
        });
        let scheduler = tokio::spawn(self.clone().schedule(stopped));
        *running = Some(Running {
            stop,
            loops: vec![inbox, scheduler],
        });
    }

    async fn schedule(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let start = tokio::time::Instant::now();
        let (sync_every, stock_every) = (self.settings.sync_interval, self.settings.stock_interval);
        let mut sync_tick = tokio::time::interval_at(start + sync_every, sync_every);
        // Without a shorter stock interval the inventory runs with the others.
        let stock_every = if stock_every < sync_every {
            stock_every
        } else {
            Duration::MAX / 4
        };
        let mut stock_tick = tokio::time::interval_at(start + stock_every, stock_every);
        for tick in [&mut sync_tick, &mut stock_tick] {
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        }
        loop {
            if let Err(e) = self.start_queued().await {
                tracing::error!(code = %e.code(), error = %e, "queued sync runs could not be started");
            }
            let queued = tokio::select! {
                _ = sync_tick.tick() => self.queue_reconciliation(None, tts_store::now_seconds()).await,
                _ = stock_tick.tick() => self.queue_reconciliation(Some(SyncKind::Inventory), tts_store::now_seconds()).await,
                _ = self.scheduler_wake.notified() => Ok(Vec::new()),
                _ = shutdown.changed() => break,
            };
            if let Err(e) = queued {
                tracing::error!(code = %e.code(), error = %e, "the scheduled sync could not be queued");
            }
        }
    }

    /// Stops the consumer after the batch in hand and the scheduler, then waits for the runs in
    /// progress to finish.
    pub async fn stop(&self) {
        let running = lock(&self.running).take();
        if let Some(Running { stop, loops }) = running {
            let _ = stop.send(true);
            for task in loops {
                let _ = task.await;
            }
        }
        let mut runs = std::mem::take(&mut *lock(&self.runs));
        while runs.join_next().await.is_some() {}
    }

    /// Counters, inbox backlog, and per shop its recent runs, live progress and refused settings.
    pub async fn status(&self) -> Result<ControlStatus> {
        let mut shops = Vec::new();
        let progress = lock(&self.progress).clone();
        let problems = lock(&self.settings_problems).clone();
        for shop in self.store.list_shops(Some(&self.settings.app_key)).await? {
            let id = shop.shop_id;
            let mut live: Vec<RunEvent> = progress
                .iter()
                .filter(|((s, _), _)| *s == id)
                .map(|(_, e)| e.clone())
                .collect();
            live.sort_by_key(|e| e.run_id);
            shops.push(ShopRuns {
                runs: self.store.list_sync_runs(&id, None, 20).await?,
                progress: live,
                settings_problem: problems.get(&id).cloned(),
                shop_id: id,
            });
        }
        Ok(ControlStatus {
            webhooks: self.counters.snapshot(),
            inbox_pending: self.store.count_inbox_pending().await?,
            kinds: self.kinds(),
            shops,
        })
    }
}

/// What [`ControlPlane::status`] reports.
#[derive(Clone, Debug)]
pub struct ControlStatus {
    pub webhooks: WebhookStats,
    pub inbox_pending: i64,
    /// Kinds with an engine (empty until the engines attach: runs stay queued).
    pub kinds: Vec<SyncKind>,
    pub shops: Vec<ShopRuns>,
}

#[derive(Clone, Debug)]
pub struct ShopRuns {
    pub shop_id: String,
    /// Newest first.
    pub runs: Vec<SyncRun>,
    pub progress: Vec<RunEvent>,
    pub settings_problem: Option<String>,
}

/// Runs of one lane of a shop go one after the other in this process; lanes run side by side. The
/// order kinds share a lane because each holds an order's lease while it works on it: side by side
/// they would find each other's orders busy and leave them for the next pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lane {
    /// orders, fulfillment, returns.
    Orders,
    /// The product export.
    Catalog,
    /// Stock and prices.
    Stock,
}

pub fn lane(kind: SyncKind) -> Lane {
    match kind {
        SyncKind::Orders | SyncKind::Fulfillment | SyncKind::Returns => Lane::Orders,
        SyncKind::Products => Lane::Catalog,
        SyncKind::Inventory => Lane::Stock,
    }
}

/// A run waiting for its engine.
pub fn is_queued(run: &SyncRun) -> bool {
    run.status == RunStatus::Running && run.phase.starts_with(QUEUED)
}

/// `queued`, `running`, `succeeded` or `failed`: a run as a host shows it.
pub fn run_state(run: &SyncRun) -> &'static str {
    if is_queued(run) {
        "queued"
    } else {
        run.status.as_str()
    }
}
