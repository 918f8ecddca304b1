//! Outgoing webhooks, signed like TikTok (`Authorization` = hex HMAC-SHA256(app_secret, app_key + body)),
//! retried on TikTok's schedule (2 min, 30 min, 3 h, 12 h; then given up), time-compressed by a factor.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use rand::Rng;
use serde::Serialize;
use serde_json::Value;

use crate::signature::webhook_signature;

/// TikTok's documented retry delays after the first failed delivery (seconds).
pub const RETRY_SCHEDULE_SECS: [u64; 4] = [120, 1800, 10_800, 43_200];

/// Per-attempt timeout: TikTok expects an answer within 3 s.
pub const DEFAULT_TIMEOUT_MS: u64 = 3000;

/// Most delivery-log entries kept.
const LOG_CAP: usize = 20_000;

/// Deliveries in flight at once. Every event is its own task; without a bound, a burst (a thousand
/// orders created at once) puts thousands of requests on one receiver's connection pool, whose
/// waiter queue is scanned on every checkout: quadratic, and most of a debug test's CPU.
const MAX_IN_FLIGHT: usize = 32;

#[derive(Debug, Clone, Serialize)]
pub struct WebhookConfig {
    pub default_url: Option<String>,
    pub duplicates: bool,
    pub shuffle_ms: u64,
    pub time_scale: f64,
    /// Per-attempt timeout; TikTok expects an answer within 3 s.
    pub timeout_ms: u64,
}

#[derive(Debug, Clone)]
pub struct Target {
    pub app_key: String,
    pub app_secret: String,
    pub url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub delivery_id: u64,
    pub tts_notification_id: String,
    #[serde(rename = "type")]
    pub kind: u32,
    pub event_type: &'static str,
    pub shop_id: String,
    pub app_key: String,
    pub url: String,
    /// 1 = first delivery, 2..5 = retries.
    pub attempt: u32,
    pub duplicate: bool,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub ok: bool,
    pub sent_at_ms: i64,
    /// Set on the final failed attempt.
    pub gave_up: bool,
    pub body: String,
}

pub struct Webhooks {
    client: reqwest::Client,
    pub config: RwLock<WebhookConfig>,
    log: Mutex<Vec<Delivery>>,
    next: AtomicU64,
    in_flight: tokio::sync::Semaphore,
}

impl Webhooks {
    pub fn new(config: WebhookConfig) -> Self {
        Webhooks {
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(4)
                .build()
                .expect("reqwest client"),
            config: RwLock::new(config),
            log: Mutex::new(Vec::new()),
            next: AtomicU64::new(1),
            in_flight: tokio::sync::Semaphore::new(MAX_IN_FLIGHT),
        }
    }

    pub fn log(&self) -> Vec<Delivery> {
        self.log.lock().expect("webhook log").clone()
    }

    fn record(&self, entry: Delivery) {
        let mut log = self.log.lock().expect("webhook log");
        // Bounded so long benchmarks with webhooks don't grow without limit (oldest half dropped).
        if log.len() >= LOG_CAP {
            log.drain(..LOG_CAP / 2);
        }
        log.push(entry);
    }

    pub fn clear_log(&self) {
        self.log.lock().expect("webhook log").clear();
    }

    fn notification_id(&self) -> String {
        let n = self.next.fetch_add(1, Relaxed);
        (7_380_000_000_000_000_000u64 + n * 1000 + rand::rng().random_range(0..1000)).to_string()
    }

    /// The exact bytes TikTok sends: `type, tts_notification_id, shop_id, timestamp, data` in that order.
    pub fn body(kind: u32, notification_id: &str, shop_id: &str, timestamp: i64, data: &Value) -> String {
        format!(
            r#"{{"type":{kind},"tts_notification_id":"{notification_id}","shop_id":"{shop_id}","timestamp":{timestamp},"data":{}}}"#,
            serde_json::to_string(data).expect("JSON values serialize")
        )
    }

    /// Starts delivery of one event to each target (each with its own notification id and signature).
    pub fn dispatch(self: &Arc<Self>, targets: Vec<Target>, kind: u32, shop_id: &str, data: &Value) {
        let cfg = self.config.read().expect("webhook config").clone();
        let now = crate::clock::now_secs();
        for t in targets {
            let nid = self.notification_id();
            let body = Self::body(kind, &nid, shop_id, now, data);
            let copies = if cfg.duplicates { 2 } else { 1 };
            for copy in 0..copies {
                let me = self.clone();
                let (t, body, nid, shop, cfg) = (
                    t.clone(),
                    body.clone(),
                    nid.clone(),
                    shop_id.to_string(),
                    cfg.clone(),
                );
                tokio::spawn(async move { me.deliver(t, kind, nid, shop, body, copy == 1, cfg).await });
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn deliver(
        &self,
        t: Target,
        kind: u32,
        nid: String,
        shop_id: String,
        body: String,
        duplicate: bool,
        cfg: WebhookConfig,
    ) {
        if cfg.shuffle_ms > 0 {
            let d = rand::rng().random_range(0..=cfg.shuffle_ms);
            tokio::time::sleep(Duration::from_millis(d)).await;
        }
        let signature = webhook_signature(&t.app_key, &t.app_secret, body.as_bytes());
        for attempt in 1..=(RETRY_SCHEDULE_SECS.len() as u32 + 1) {
            let permit = self.in_flight.acquire().await.expect("never closed");
            let result = self
                .client
                .post(&t.url)
                .header("content-type", "application/json")
                .header("authorization", &signature)
                .timeout(Duration::from_millis(cfg.timeout_ms))
                .body(body.clone())
                .send()
                .await;
            drop(permit);
            let (status, error) = match &result {
                Ok(r) => (Some(r.status().as_u16()), None),
                Err(e) => (None, Some(e.to_string())),
            };
            let ok = status == Some(200);
            let last = attempt as usize > RETRY_SCHEDULE_SECS.len();
            let entry = Delivery {
                delivery_id: self.next.fetch_add(1, Relaxed),
                tts_notification_id: nid.clone(),
                kind,
                event_type: crate::state::event_name(kind),
                shop_id: shop_id.clone(),
                app_key: t.app_key.clone(),
                url: t.url.clone(),
                attempt,
                duplicate,
                status,
                error: error.clone(),
                ok,
                sent_at_ms: crate::clock::now_millis(),
                gave_up: !ok && last,
                body: body.clone(),
            };
            self.record(entry);

            if ok {
                return;
            }
            tracing::info!(kind, attempt, ?status, url = %t.url, "webhook delivery failed");
            if last {
                return;
            }
            // Read the scale again so a test can compress time after a delivery already started.
            let scale = self
                .config
                .read()
                .expect("webhook config")
                .time_scale
                .max(f64::MIN_POSITIVE);
            let wait = RETRY_SCHEDULE_SECS[attempt as usize - 1] as f64 / scale;
            tokio::time::sleep(Duration::from_secs_f64(wait)).await;
        }
    }
}
