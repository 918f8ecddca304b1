//! Runs one pass of a sync kind for one shop, at most one at a time per (shop, kind) across every
//! process sharing the store, recorded as a sync run with live progress.
//!
//! Scheduling (interval, manual triggers, shutdown) belongs to the host: the Alokai layer queues
//! runs in the store and asks [`Runner::run`] to run them; a CLI or test calls it directly. What
//! the runner guarantees is the part every host needs: the store lease `sync:<shop>:<kind>` (so two
//! middleware instances never run the same pass twice at once), a queued run started once, the
//! run's progress written every [`RunnerSettings::heartbeat`] and handed to an observer, and the
//! engine's report stored as the run's summary.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};
use tts_core::progress::{Progress, Snapshot};
use tts_core::{Error, ErrorCode, Result};
use tts_store::{RunStatus, Store, SyncProgress, SyncRun};

use crate::aftersales::{AftersalesEngine, AftersalesEvents, Handlers};
use crate::fulfillment::TrackingEngine;
use crate::inbox::EventHandler;
use crate::orders::{OrderEvents, OrderImporter};
use crate::products::{ProductEvents, ProductExporter};
use crate::stock::{StockMode, StockPusher};

/// What a pass synchronizes. The names are the run kinds in the store and in the Alokai layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SyncKind {
    /// TikTok orders → PlentyONE (reconciliation; webhooks do the rest).
    Orders,
    /// PlentyONE variations → TikTok products.
    Products,
    /// PlentyONE stock and prices → TikTok.
    Inventory,
    /// PlentyONE shipments → TikTok tracking.
    Fulfillment,
    /// TikTok cancellations and returns ↔ PlentyONE.
    Returns,
}

impl SyncKind {
    pub const ALL: [SyncKind; 5] = [
        SyncKind::Orders,
        SyncKind::Products,
        SyncKind::Inventory,
        SyncKind::Fulfillment,
        SyncKind::Returns,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SyncKind::Orders => "orders",
            SyncKind::Products => "products",
            SyncKind::Inventory => "inventory",
            SyncKind::Fulfillment => "fulfillment",
            SyncKind::Returns => "returns",
        }
    }

    pub fn parse(kind: &str) -> Result<SyncKind> {
        SyncKind::ALL
            .into_iter()
            .find(|k| k.as_str() == kind)
            .ok_or_else(|| {
                Error::invalid_argument(
                    "kind",
                    format!(
                        "`{kind}` is not a sync kind; use orders, products, inventory, fulfillment or returns"
                    ),
                )
            })
    }
}

/// The five engines, sharing one store, one TikTok client and one PlentyONE client.
#[derive(Clone)]
pub struct Engines {
    pub orders: Arc<OrderImporter>,
    pub products: Arc<ProductExporter>,
    pub stock: Arc<StockPusher>,
    pub tracking: Arc<TrackingEngine>,
    pub aftersales: Arc<AftersalesEngine>,
}

impl Engines {
    /// One inbox handler for every topic: order events, product audit events, after-sales events.
    /// Each ignores the topics that are not its own.
    pub fn inbox_handler(&self) -> Arc<dyn EventHandler> {
        Arc::new(Handlers(vec![
            Arc::new(OrderEvents(self.orders.clone())),
            Arc::new(ProductEvents(self.products.clone())),
            Arc::new(AftersalesEvents(self.aftersales.clone())),
        ]))
    }
}

/// Windows of the passes that look back in time.
#[derive(Clone, Debug)]
pub struct RunnerSettings {
    /// How far back a first pass looks (no cursor yet). Default 7 days.
    pub first_run_lookback_secs: i64,
    /// Order reconciliation window. Default 6 h.
    pub order_window_secs: i64,
    /// Overlap of windows and of a pass with the previous one. Default 10 min.
    pub overlap_secs: i64,
    /// How long the (shop, kind) lease lasts without renewal (a crashed runner's pass can be run
    /// by another after this). Default 60 s.
    pub lease_ttl: Duration,
    /// How often progress is stored and observed, and the lease renewed. Default 1 s.
    pub heartbeat: Duration,
}

impl Default for RunnerSettings {
    fn default() -> Self {
        RunnerSettings {
            first_run_lookback_secs: 7 * 24 * 3600,
            order_window_secs: 6 * 3600,
            overlap_secs: 600,
            lease_ttl: Duration::from_secs(60),
            heartbeat: Duration::from_secs(1),
        }
    }
}

/// Which run to run.
#[derive(Clone, Debug)]
pub struct RunRequest {
    pub shop_id: String,
    pub kind: SyncKind,
    /// A run the host queued (phase [`QUEUED`] or [`QUEUED_FULL`]); `None` starts a new one.
    pub queued_run_id: Option<i64>,
    /// Inventory only: send every mapped SKU, not only changed ones.
    pub full: bool,
}

/// A run's state as observers see it: while it runs and once when it ends.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunEvent {
    pub run_id: i64,
    pub shop_id: String,
    pub kind: &'static str,
    /// `running`, `succeeded` or `failed`.
    pub state: &'static str,
    pub progress: Snapshot,
    /// The engine's report (or the error) once finished.
    pub summary: Option<Value>,
}

pub type Observer = Arc<dyn Fn(&RunEvent) + Send + Sync>;

/// What [`Runner::run`] did.
#[derive(Clone, Debug)]
pub enum RunOutcome {
    Finished(RunEvent),
    /// Another worker holds the (shop, kind) lease; a queued run stays queued.
    Busy {
        holder: String,
    },
    /// The queued run was already started or finished (by another instance).
    AlreadyTaken,
}

struct Active {
    shop_id: String,
    kind: SyncKind,
    progress: Progress,
}

pub struct Runner {
    engines: Engines,
    store: Arc<dyn Store>,
    owner: String,
    settings: RunnerSettings,
    observer: Option<Observer>,
    active: Mutex<HashMap<i64, Active>>,
    runs: std::sync::atomic::AtomicU64,
}

/// Phase of a run a host queued; `queued:full` asks for a full inventory pass.
pub const QUEUED: &str = "queued";
pub const QUEUED_FULL: &str = "queued:full";

/// The lease a (shop, kind) pass holds.
pub fn lease_name(shop_id: &str, kind: SyncKind) -> String {
    format!("sync:{shop_id}:{}", kind.as_str())
}

impl Runner {
    pub fn new(
        engines: Engines,
        store: Arc<dyn Store>,
        owner: impl Into<String>,
        settings: RunnerSettings,
        observer: Option<Observer>,
    ) -> Self {
        Runner {
            engines,
            store,
            owner: owner.into(),
            settings,
            observer,
            active: Mutex::new(HashMap::new()),
            runs: std::sync::atomic::AtomicU64::new(0),
        }
    }

    pub fn engines(&self) -> &Engines {
        &self.engines
    }

    /// The runs of this process in progress.
    pub fn active(&self) -> Vec<RunEvent> {
        let active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        let mut runs: Vec<RunEvent> = active
            .iter()
            .map(|(id, a)| RunEvent {
                run_id: *id,
                shop_id: a.shop_id.clone(),
                kind: a.kind.as_str(),
                state: "running",
                progress: a.progress.snapshot(),
                summary: None,
            })
            .collect();
        runs.sort_by_key(|r| r.run_id);
        runs
    }

    /// Runs one pass now, or says why not. `now` is the pass's end of time (unix seconds).
    pub async fn run(&self, request: RunRequest, now: i64) -> Result<RunOutcome> {
        let lease = lease_name(&request.shop_id, request.kind);
        // A holder per run, not per process: two runs in one process exclude each other too.
        let holder = format!(
            "{}#{}",
            self.owner,
            self.runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        if !self
            .store
            .acquire_lease(&lease, &holder, self.settings.lease_ttl)
            .await?
        {
            let holder = self
                .store
                .get_lease(&lease)
                .await?
                .map(|l| l.owner)
                .unwrap_or_default();
            return Ok(RunOutcome::Busy { holder });
        }
        let outcome = self.run_leased(&request, &lease, &holder, now).await;
        if let Err(e) = self.store.release_lease(&lease, &holder).await {
            tracing::warn!(lease = %lease, code = %e.code(), error = %e, "sync lease not released; it expires");
        }
        outcome
    }

    async fn run_leased(
        &self,
        request: &RunRequest,
        lease: &str,
        holder: &str,
        now: i64,
    ) -> Result<RunOutcome> {
        let kind = request.kind;
        let run: SyncRun = match request.queued_run_id {
            Some(id) => match self.store.get_sync_run(id).await? {
                // Re-read under the lease: another instance may have run it meanwhile.
                Some(r) if r.status == RunStatus::Running && r.phase.starts_with(QUEUED) => {
                    if r.shop_id != request.shop_id || r.kind != kind.as_str() {
                        return Err(Error::invalid_argument(
                            "runId",
                            format!("run {id} is a {} run of shop {}", r.kind, r.shop_id),
                        ));
                    }
                    r
                }
                Some(_) => return Ok(RunOutcome::AlreadyTaken),
                None => {
                    return Err(
                        Error::new(ErrorCode::NotFound, format!("no sync run {id}")).with_field("runId")
                    );
                }
            },
            None => {
                self.store
                    .start_sync_run(&request.shop_id, kind.as_str(), "starting")
                    .await?
            }
        };
        // A run left "running" by a worker that died mid-pass: nobody else can be running it now
        // (this run holds the lease), so it is closed as interrupted instead of showing forever.
        for stale in self
            .store
            .list_sync_runs(&request.shop_id, Some(kind.as_str()), 20)
            .await?
        {
            if stale.id != run.id && stale.status == RunStatus::Running && !stale.phase.starts_with(QUEUED) {
                let why = json!({"interrupted": "the worker running this pass stopped before it finished; a later pass does its work"});
                self.store
                    .finish_sync_run(stale.id, RunStatus::Failed, &why)
                    .await?;
            }
        }
        // A host queues a full inventory pass as `queued:full`.
        let full = request.full || run.phase == QUEUED_FULL;
        let progress = Progress::new("starting");
        self.store
            .update_sync_run(run.id, &stored(&progress.snapshot()))
            .await?;
        self.active.lock().unwrap_or_else(|p| p.into_inner()).insert(
            run.id,
            Active {
                shop_id: request.shop_id.clone(),
                kind,
                progress: progress.clone(),
            },
        );
        let event = |state, progress: &Progress, summary| RunEvent {
            run_id: run.id,
            shop_id: request.shop_id.clone(),
            kind: kind.as_str(),
            state,
            progress: progress.snapshot(),
            summary,
        };

        let pass = progress.scope(self.pass(request, full, now));
        tokio::pin!(pass);
        let mut beat = tokio::time::interval(self.settings.heartbeat);
        beat.tick().await;
        let result = loop {
            tokio::select! {
                result = &mut pass => break result,
                _ = beat.tick() => {
                    // Progress is informative: a failed write must not fail the pass.
                    if let Err(e) = self.store.update_sync_run(run.id, &stored(&progress.snapshot())).await {
                        tracing::warn!(code = %e.code(), error = %e, "sync run progress not stored");
                    }
                    match self.store.renew_lease(lease, holder, self.settings.lease_ttl).await {
                        Ok(true) => {}
                        // Another worker took over (this one stalled past the TTL): stop here; every
                        // engine's pass can be cut anywhere and repeated.
                        Ok(false) => break Err(Error::new(
                            ErrorCode::Busy,
                            format!("lost the lease {lease} to another worker; the pass stopped"),
                        )),
                        Err(e) => tracing::warn!(code = %e.code(), error = %e, "sync lease not renewed"),
                    }
                    if let Some(observe) = &self.observer {
                        observe(&event("running", &progress, None));
                    }
                }
            }
        };

        let (status, summary) = match result {
            Ok((report, errors)) => (
                if errors == 0 {
                    RunStatus::Succeeded
                } else {
                    RunStatus::Failed
                },
                report,
            ),
            Err(e) => (
                RunStatus::Failed,
                json!({"error": {"code": e.code().as_str(), "message": e.to_string()}}),
            ),
        };
        let snapshot = progress.snapshot();
        let summary = json!({ "report": summary, "progress": snapshot, "full": full });
        self.store.update_sync_run(run.id, &stored(&snapshot)).await?;
        self.store.finish_sync_run(run.id, status, &summary).await?;
        self.active
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&run.id);
        let done = event(status.as_str(), &progress, Some(summary));
        if let Some(observe) = &self.observer {
            observe(&done);
        }
        Ok(RunOutcome::Finished(done))
    }

    /// The engine's pass: its report as JSON and how many items failed.
    async fn pass(&self, request: &RunRequest, full: bool, now: i64) -> Result<(Value, usize)> {
        let (e, s, shop) = (&self.engines, &self.settings, request.shop_id.as_str());
        Ok(match request.kind {
            SyncKind::Orders => {
                let r = e
                    .orders
                    .reconcile(
                        shop,
                        now,
                        s.first_run_lookback_secs,
                        s.order_window_secs,
                        s.overlap_secs,
                    )
                    .await?;
                (to_json(&r), r.failed)
            }
            SyncKind::Products => {
                let r = e.products.export(shop, now).await?;
                (r.summary(), r.errors + r.busy)
            }
            SyncKind::Inventory => {
                let mode = if full { StockMode::Full } else { StockMode::Changed };
                let r = e.stock.push(shop, mode, now).await?;
                (r.summary(), r.errors)
            }
            SyncKind::Fulfillment => {
                let r = e
                    .tracking
                    .run_pass(shop, now, s.first_run_lookback_secs, s.overlap_secs)
                    .await?;
                (to_json(&r), r.errors)
            }
            SyncKind::Returns => {
                let r = e
                    .aftersales
                    .run_pass(shop, now, s.first_run_lookback_secs, s.overlap_secs)
                    .await?;
                (to_json(&r), r.errors)
            }
        })
    }
}

fn to_json<T: Serialize>(report: &T) -> Value {
    serde_json::to_value(report).unwrap_or(Value::Null)
}

fn stored(s: &Snapshot) -> SyncProgress {
    SyncProgress {
        phase: s.phase.clone(),
        done: s.done as i64,
        total: s.total.map(|t| t as i64),
        errors: s.errors as i64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_back_and_unknown_ones_name_the_field() {
        for k in SyncKind::ALL {
            assert_eq!(SyncKind::parse(k.as_str()).unwrap(), k);
        }
        let e = SyncKind::parse("stock").unwrap_err();
        assert_eq!(
            (e.code(), e.field.as_deref()),
            (ErrorCode::InvalidArgument, Some("kind"))
        );
        assert_eq!(lease_name("s1", SyncKind::Inventory), "sync:s1:inventory");
    }
}
