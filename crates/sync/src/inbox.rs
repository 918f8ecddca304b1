//! The inbox processor: webhook notifications stored at receipt are claimed in batches, parsed, put
//! in order, handed to an [`EventHandler`], and completed — or retried with backoff, or given up.
//!
//! Guarantees: every message is handled at least once (a crash before `complete` means the lease
//! runs out and another worker claims it), so handlers must be idempotent; within a batch, events
//! about the same order (or product) are handled in TikTok's `update_time` order, since webhooks
//! arrive out of order and duplicated; a message whose payload cannot be parsed is given up at once,
//! with the reason kept for the errors view, instead of blocking the queue.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rand::Rng;
use tokio::sync::{Notify, watch};
use tts_core::backoff::full_jitter;
use tts_core::{Error, Result};
use tts_store::{InboxMessage, Store};
use tts_tiktok::client::retry::is_transient;
use tts_tiktok::webhook::{Event, Notification, parse};

/// What a handler does with one notification. `Err` with a transient code (rate limited, network,
/// timeout, 5xx) is retried later; any other error counts as a failed attempt too, and the message is
/// given up after [`InboxSettings::max_attempts`].
#[async_trait]
pub trait EventHandler: Send + Sync {
    async fn handle(&self, notification: &Notification) -> Result<()>;
}

/// Settings of the processor.
#[derive(Clone, Debug)]
pub struct InboxSettings {
    /// Identifies this worker's claims (e.g. host + pid).
    pub owner: String,
    /// Messages claimed at once.
    pub batch_size: u32,
    /// How long a claim holds; a worker that dies gives its messages back after this.
    pub lease: Duration,
    /// Attempts before a failing message is given up.
    pub max_attempts: i64,
    /// Backoff of failed messages: base and cap.
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// Sleep when the inbox is empty.
    pub idle_poll: Duration,
}

impl Default for InboxSettings {
    fn default() -> Self {
        InboxSettings {
            owner: format!("inbox-{}", std::process::id()),
            batch_size: 100,
            lease: Duration::from_secs(60),
            max_attempts: 8,
            retry_base: Duration::from_secs(2),
            retry_cap: Duration::from_secs(600),
            idle_poll: Duration::from_millis(500),
        }
    }
}

/// What one batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchReport {
    pub claimed: usize,
    pub done: usize,
    pub retried: usize,
    pub given_up: usize,
    /// Claims that ran out before the message was finished (another worker has it now).
    pub lost: usize,
    /// The shortest retry delay given to a failed message, so the consumer wakes for it.
    pub first_retry: Option<Duration>,
}

/// The key events must be ordered by: the order, package or product they are about. Events without
/// one (deauthorization...) get their own key, so they never wait for others.
pub fn ordering_key(notification: &Notification) -> String {
    let id = match &notification.event {
        Event::OrderStatusChange(e) => Some(("order", e.order_id.as_str())),
        Event::RecipientAddressUpdate(e) => Some(("order", e.order_id.as_str())),
        Event::CancellationStatusChange(e) => Some(("order", e.order_id.as_str())),
        Event::ReturnStatusChange(e) => Some(("order", e.order_id.as_str())),
        Event::ProductStatusChange(e) => Some(("product", e.product_id.as_str())),
        Event::ProductAuditStatusChange(e) => Some(("product", e.product_id.as_str())),
        _ => None,
    };
    match id {
        Some((kind, id)) if !id.is_empty() => format!("{}:{kind}:{id}", notification.shop_id),
        _ => format!(
            "{}:notification:{}",
            notification.shop_id, notification.tts_notification_id
        ),
    }
}

/// When the event happened at TikTok (its `update_time`, else the notification's `timestamp`).
pub fn event_time(notification: &Notification) -> i64 {
    let t = match &notification.event {
        Event::OrderStatusChange(e) => e.update_time,
        Event::RecipientAddressUpdate(e) => e.update_time,
        Event::ReturnStatusChange(e) => e.update_time.or(e.create_time),
        Event::CancellationStatusChange(e) => e.create_time,
        Event::ProductStatusChange(e) => e.update_time,
        Event::ProductAuditStatusChange(e) => e.update_time,
        _ => None,
    };
    t.unwrap_or(notification.timestamp)
}

/// Puts parsed notifications in handling order: grouped by [`ordering_key`], oldest event first
/// within a group (ties broken by notification id, so the order is deterministic). Pure.
pub fn handling_order(mut items: Vec<(InboxMessage, Notification)>) -> Vec<(InboxMessage, Notification)> {
    items.sort_by(|(_, a), (_, b)| {
        (ordering_key(a), event_time(a), &a.tts_notification_id).cmp(&(
            ordering_key(b),
            event_time(b),
            &b.tts_notification_id,
        ))
    });
    items
}

/// Drains the inbox of a store with one handler.
pub struct InboxProcessor {
    store: Arc<dyn Store>,
    handler: Arc<dyn EventHandler>,
    settings: InboxSettings,
}

impl InboxProcessor {
    pub fn new(store: Arc<dyn Store>, handler: Arc<dyn EventHandler>, settings: InboxSettings) -> Self {
        InboxProcessor {
            store,
            handler,
            settings,
        }
    }

    /// Claims one batch and handles it. Store failures are returned; handler failures are recorded
    /// on the messages.
    pub async fn run_once(&self) -> Result<BatchReport> {
        let s = &self.settings;
        let claimed = self.store.claim_inbox(&s.owner, s.batch_size, s.lease).await?;
        let mut report = BatchReport {
            claimed: claimed.len(),
            ..Default::default()
        };
        let mut parsed = Vec::with_capacity(claimed.len());
        for message in claimed {
            match parse(&message.payload) {
                Ok(notification) => parsed.push((message, notification)),
                Err(e) => {
                    // A poison message never gets better: give it up now, keeping why.
                    let why = format!("unreadable payload: {e}");
                    self.record(&mut report, &message, Some(&why), None).await?;
                }
            }
        }
        for (message, notification) in handling_order(parsed) {
            match self.handler.handle(&notification).await {
                Ok(()) => self.record(&mut report, &message, None, None).await?,
                Err(e) => {
                    let retry = (message.attempts < s.max_attempts).then(|| self.retry_delay(&message, &e));
                    tracing::warn!(
                        notification = %message.notification_id, attempts = message.attempts,
                        code = %e.code(), retry = ?retry, "webhook handling failed"
                    );
                    if let Some(delay) = retry {
                        report.first_retry = Some(report.first_retry.map_or(delay, |d| d.min(delay)));
                    }
                    self.record(&mut report, &message, Some(&e.to_string()), retry)
                        .await?;
                }
            }
        }
        Ok(report)
    }

    fn retry_delay(&self, message: &InboxMessage, error: &Error) -> Duration {
        let attempt = u32::try_from(message.attempts).unwrap_or(u32::MAX);
        let jitter: f64 = rand::rng().random();
        let delay = full_jitter(attempt, self.settings.retry_base, self.settings.retry_cap, jitter);
        // A server that said how long to wait knows better than our backoff.
        match error.retry_after {
            Some(after) if is_transient(error.code()) => after.max(delay),
            _ => delay,
        }
    }

    async fn record(
        &self,
        report: &mut BatchReport,
        message: &InboxMessage,
        error: Option<&str>,
        retry: Option<Duration>,
    ) -> Result<()> {
        let id = &message.notification_id;
        let owner = &self.settings.owner;
        let held = match error {
            None => self.store.complete_inbox(id, owner).await?,
            Some(error) => self.store.fail_inbox(id, owner, error, retry).await?,
        };
        match (held, error, retry) {
            (false, _, _) => report.lost += 1,
            (true, None, _) => report.done += 1,
            (true, Some(_), Some(_)) => report.retried += 1,
            (true, Some(_), None) => report.given_up += 1,
        }
        Ok(())
    }

    /// Runs until `shutdown` turns true: batch after batch, sleeping when the inbox is empty. A store
    /// failure is logged and retried after the idle poll, so a database restart does not stop the
    /// worker.
    pub async fn run(&self, shutdown: watch::Receiver<bool>) {
        self.run_woken(shutdown, &Notify::new(), || true).await
    }

    /// [`InboxProcessor::run`], also woken from its idle sleep by `wake` (a webhook just stored), and
    /// claiming nothing while `ready()` is false (no handler yet: messages wait in the inbox).
    pub async fn run_woken(
        &self,
        mut shutdown: watch::Receiver<bool>,
        wake: &Notify,
        ready: impl Fn() -> bool,
    ) {
        // When the earliest retry this worker scheduled falls due: it sleeps no longer than that.
        let mut retry_due: Option<tokio::time::Instant> = None;
        while !*shutdown.borrow() {
            let idle = if !ready() {
                true
            } else {
                match self.run_once().await {
                    Ok(report) => {
                        if let Some(delay) = report.first_retry {
                            // A little after the delay, so the message is due when claimed.
                            let due = tokio::time::Instant::now() + delay + Duration::from_millis(5);
                            retry_due = Some(retry_due.map_or(due, |d| d.min(due)));
                        }
                        report.claimed == 0
                    }
                    Err(e) => {
                        tracing::error!(code = %e.code(), error = %e, "inbox batch failed");
                        true
                    }
                }
            };
            if idle {
                let now = tokio::time::Instant::now();
                let mut sleep = self.settings.idle_poll;
                match retry_due {
                    Some(due) if due <= now => {
                        retry_due = None;
                        continue;
                    }
                    Some(due) => sleep = sleep.min(due - now),
                    None => {}
                }
                tokio::select! {
                    _ = tokio::time::sleep(sleep) => {}
                    _ = wake.notified() => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }
}
