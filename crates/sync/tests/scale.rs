//! Scale and faults, end to end on both stand-ins (in-process), a SQLite store, signed webhooks through
//! a receiver into the inbox and the engines draining it:
//!
//! - 1,000 TikTok orders through their lifecycle become exactly 1,000 PlentyONE orders whose statuses
//!   follow the status table, although webhooks arrive twice at once, late, newest first, again
//!   later and re-sent under new ids, while a reconciliation pass runs over the same orders;
//! - 500 items of the PlentyONE catalogue become 500 TikTok products, the ones TikTok's audit
//!   rejects with the reasons on their mappings;
//! - with about 10 % of the requests to either side failing (5xx, timeouts, dropped connections,
//!   429 storms, answers lost after the write took effect), orders and products end in the same
//!   state as a run without faults, in a bounded number of passes;
//! - an export worker killed (SIGKILL) mid-pass and started again leaves one TikTok product per item.
//!
//! Rate limits are lifted on both stand-ins and in the clients: these tests are about volume and
//! failures, not pacing (the clients' own tests cover that). The orders run on the US shop (synthetic
//! line items), the products on the DE shop (cross-border: cipher on every call).

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use futures_util::{StreamExt, TryStreamExt};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tts_mapping::order::OrderMappingConfig;
use tts_mapping::product::ProductMappingConfig;
use tts_mapping::status::{ImportDecision, OrderStatus, StatusConfig, plenty_status, should_import};
use tts_plenty::api::orders::OrderQuery;
use tts_store::{
    InboxQuery, InboxState, NewInboxMessage, OrderMapping, OrderMappingQuery, ProductMapping,
    ProductMappingQuery, Store, SyncStatus,
};
use tts_sync::aftersales::Handlers;
use tts_sync::inbox::{EventHandler, InboxProcessor, InboxSettings};
use tts_sync::orders::{OrderEvents, OrderImporter, PlentyStep, plenty_step};
use tts_sync::products::{ExportSettings, ProductEvents, ProductExporter, ShopExport};
use tts_sync::stock::{FnReservations, PushedValues};
use tts_tiktok::client::retry::RetryPolicy;
use tts_tiktok::client::{CallInput, Client, ClientOptions};
use tts_tiktok::transport::HttpOptions;
use tts_tiktok::webhook::{Event, Notification};

/// Order reconciliation: first run looks back an hour, 10-minute windows overlapping by a minute.
const LOOKBACK: i64 = 3600;
const WINDOW: i64 = 600;
const OVERLAP: i64 = 60;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn control(http: &reqwest::Client, url: &str, method: &str, body: Value) -> Value {
    let res = http
        .request(method.parse().unwrap(), url)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    assert!(status.is_success(), "{method} {url}: {status} {text}");
    serde_json::from_str(&text).unwrap()
}

/// Prints how long each phase took (the suite must stay fast in a debug build; never asserted).
struct Clock(Instant, Instant, &'static str);

impl Clock {
    fn start(test: &'static str) -> Self {
        Clock(Instant::now(), Instant::now(), test)
    }

    fn lap(&mut self, what: &str) {
        eprintln!(
            "[{}] {what}: {:.2?} (total {:.2?})",
            self.2,
            self.1.elapsed(),
            self.0.elapsed()
        );
        self.1 = Instant::now();
    }
}

// ---- the webhook receiver, with a hand on delivery ---------------------------------------------

/// One verified webhook as received.
#[derive(Clone)]
struct Received {
    body: Bytes,
    notification: Notification,
    /// Arrival number (for a stable order among events of the same second).
    arrival: u64,
}

/// The order a notification is about, if any.
fn order_of(n: &Notification) -> Option<&str> {
    match &n.event {
        Event::OrderStatusChange(e) => Some(&e.order_id),
        Event::RecipientAddressUpdate(e) => Some(&e.order_id),
        Event::CancellationStatusChange(e) => Some(&e.order_id),
        Event::ReturnStatusChange(e) => Some(&e.order_id),
        _ => None,
    }
    .map(String::as_str)
}

/// TikTok's `update_time` of an event (else the notification's timestamp).
fn event_time(n: &Notification) -> i64 {
    tts_sync::inbox::event_time(n)
}

/// Whether the webhooks of an order (by id) are kept back.
type HoldRule = fn(&str) -> bool;

/// Receives the sandbox's webhooks like the middleware route does (verify the raw bytes, store once
/// in the inbox), except for the orders in `hold`: their webhooks are kept back, to be delivered
/// later in an order the test chooses. Every webhook received is remembered for re-delivery.
struct Relay {
    store: Arc<dyn Store>,
    app_key: String,
    app_secret: String,
    url: Mutex<String>,
    /// Which orders' webhooks are kept back (none when `None`).
    hold: Mutex<Option<HoldRule>>,
    held: Mutex<Vec<Received>>,
    seen: Mutex<BTreeMap<String, Received>>,
    received: AtomicU64,
    /// Every n-th webhook is stored twice at once, as two deliveries racing would (0: none).
    twice_every: AtomicU64,
}

impl Relay {
    async fn start(store: Arc<dyn Store>, app: &tts_sandbox::config::AppSeed) -> Arc<Relay> {
        let relay = Arc::new(Relay {
            store,
            app_key: app.app_key.clone(),
            app_secret: app.app_secret.clone(),
            url: Mutex::new(String::new()),
            hold: Mutex::new(None),
            held: Mutex::new(Vec::new()),
            seen: Mutex::new(BTreeMap::new()),
            received: AtomicU64::new(0),
            twice_every: AtomicU64::new(0),
        });
        let me = relay.clone();
        let router = axum::Router::new().route(
            "/webhooks",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let me = me.clone();
                async move { me.receive(headers, body).await }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        *relay.url.lock().unwrap() = format!("http://{}/webhooks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        relay
    }

    fn url(&self) -> String {
        self.url.lock().unwrap().clone()
    }

    async fn receive(&self, headers: HeaderMap, body: Bytes) -> StatusCode {
        let arrival = self.received.fetch_add(1, Ordering::SeqCst);
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let Ok(n) = tts_tiktok::webhook::verify_and_parse(&self.app_key, &[&self.app_secret], auth, &body)
        else {
            return StatusCode::UNAUTHORIZED;
        };
        let received = Received {
            body: body.clone(),
            notification: n.clone(),
            arrival,
        };
        self.seen
            .lock()
            .unwrap()
            .entry(n.tts_notification_id.clone())
            .or_insert_with(|| received.clone());
        let hold = *self.hold.lock().unwrap();
        if let (Some(order), Some(hold)) = (order_of(&n), hold)
            && hold(order)
        {
            self.held.lock().unwrap().push(received);
            return StatusCode::OK;
        }
        let twice = self.twice_every.load(Ordering::SeqCst);
        let stored = match twice > 0 && arrival.is_multiple_of(twice) {
            true => {
                let (a, b) = tokio::join!(self.store_in_inbox(&n, &body), self.store_in_inbox(&n, &body));
                a.and(b)
            }
            false => self.store_in_inbox(&n, &body).await,
        };
        match stored {
            Ok(()) => StatusCode::OK,
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    async fn store_in_inbox(&self, n: &Notification, body: &[u8]) -> tts_core::Result<()> {
        self.store
            .insert_inbox(&NewInboxMessage {
                notification_id: n.tts_notification_id.clone(),
                shop_id: n.shop_id.clone(),
                event_type: n.type_code,
                payload: body.to_vec(),
            })
            .await
            .map(|_| ())
    }

    /// Posts `body` to the receiver signed like TikTok does (a re-delivery).
    async fn post(&self, http: &reqwest::Client, body: &[u8]) {
        let auth = tts_tiktok::webhook::sign(&self.app_key, &self.app_secret, body);
        let res = http
            .post(self.url())
            .header("authorization", auth)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
}

// ---- the world ------------------------------------------------------------------------------------

struct Setup {
    /// Catalogue items generated on top of the stand-in's 12.
    extra_items: usize,
    /// The sandbox delivers every webhook twice (at once, shuffled).
    duplicates: bool,
    /// Request timeout of both clients (short where the test injects timeouts).
    timeout: Duration,
}

struct World {
    /// Asserts at the end that the TikTok stand-in saw nothing outside the API contract.
    _contract: common::ContractGuard,
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    relay: Arc<Relay>,
    tiktok: tts_sandbox::Running,
    plenty: tts_plenty_sandbox::Running,
    http: reqwest::Client,
    client: Client,
    plenty_client: tts_plenty::client::Client,
    /// The US shop (orders) and the DE shop (products).
    us_shop: String,
    de_shop: String,
    importer: Arc<OrderImporter>,
    exporter: Arc<ProductExporter>,
    /// What a worker process needs to act like this world's exporter.
    worker: WorkerSettings,
}

struct WorkerSettings {
    store_url: String,
    store_key: String,
    info: Value,
    de: Value,
    de_tokens: Value,
    plenty_login: (String, String),
    mapping: ProductMappingConfig,
}

/// Fast retries: the policy's logic is what runs, only its delays are short.
fn retry_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 6,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(200),
        max_retry_after: Duration::from_secs(2),
    }
}

/// A SQLite store in a temporary folder, `synchronous=normal`: these tests are about volume, not
/// durability across power loss (crash.rs kills a worker mid-import on the default settings), and a
/// sync per commit would make the disk, not the engines, what they measure.
/// Returns the folder, the store, its URL and its key (for a worker process).
async fn temp_store() -> (tempfile::TempDir, Arc<dyn Store>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let key = tts_core::KeyRing::generate_key();
    let ring = Arc::new(tts_core::KeyRing::parse(&key).unwrap());
    let url = format!(
        "sqlite://{}?synchronous=normal",
        dir.path().join("scale.db").display()
    );
    let store = tts_store::open(&url, ring).await.unwrap();
    (dir, store, url, key)
}

/// The PlentyONE stand-in behind a host that answers its image URLs with the header of a
/// 1200×1200 PNG (all TikTok reads of an image): the stand-in's own image is a real, uncompressed
/// 180 KB PNG, and moving 2,000 of those through a debug build is all an export of 500 items would
/// measure.
async fn plenty_stand_in(config: tts_plenty_sandbox::Config) -> tts_plenty_sandbox::Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let sandbox = tts_plenty_sandbox::PlentySandbox::new(config, base_url.clone());
    let host = axum::Router::new()
        .route(
            "/_plenty/images/{item}/{file}",
            axum::routing::get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "image/png")],
                    png_header(1200),
                )
            }),
        )
        .fallback_service(tts_plenty_sandbox::router(sandbox.clone()));
    let task = tokio::spawn(tts_plenty_sandbox::server::serve(listener, host));
    tts_plenty_sandbox::Running {
        base_url,
        sandbox,
        task,
    }
}

/// A PNG signature, IHDR chunk (`side`×`side`, 8-bit RGB) and IEND: what an image's size is read from.
fn png_header(side: u32) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for b in bytes {
            crc ^= u32::from(*b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(&ihdr);
    png.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    png.extend_from_slice(&0u32.to_be_bytes());
    png.extend_from_slice(b"IEND");
    png.extend_from_slice(&crc32(b"IEND").to_be_bytes());
    png
}

async fn world(setup: Setup) -> World {
    let (dir, store, store_url, store_key) = temp_store().await;
    let sandbox_defaults = tts_sandbox::Config::default();
    let relay = Relay::start(store.clone(), &sandbox_defaults.app).await;
    let tiktok = tts_sandbox::start(tts_sandbox::Config {
        rate_limit: None,
        webhook_url: Some(relay.url()),
        webhook_duplicates: setup.duplicates,
        webhook_shuffle_ms: 30,
        // a webhook the receiver failed is delivered again after 120 ms instead of 2 min
        time_scale: 1000.0,
        audit_delay_ms: 150,
        ..sandbox_defaults
    })
    .await
    .unwrap();
    let unlimited = tts_plenty_sandbox::Plan {
        name: "unlimited".into(),
        reads_per_window: 1_000_000,
        writes_per_window: 1_000_000,
        reads_per_day: 100_000_000,
        writes_per_day: 100_000_000,
    };
    let plenty_config = tts_plenty_sandbox::Config {
        window: Duration::from_secs(1),
        plan: unlimited,
        route_limits: Vec::new(),
        extra_items: setup.extra_items,
        ..Default::default()
    };
    let (user, password) = (plenty_config.username.clone(), plenty_config.password.clone());
    let plenty_login = (user.clone(), password.clone());
    let plenty = plenty_stand_in(plenty_config).await;

    let http = reqwest::Client::new();
    let info = control(
        &http,
        &format!("{}/_sandbox/info", tiktok.base_url),
        "GET",
        json!({}),
    )
    .await;
    let shop_in = |region: &str| {
        info["shops"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["region"] == region)
            .unwrap()
            .clone()
    };
    let (us, de) = (shop_in("US"), shop_in("DE"));
    let tokens_url = format!("{}/_sandbox/tokens", tiktok.base_url);
    let us_tokens = control(&http, &tokens_url, "POST", json!({"open_id": us["open_id"]})).await;
    let de_tokens = control(&http, &tokens_url, "POST", json!({"open_id": de["open_id"]})).await;
    let client = common::sandbox_client_with(
        &tiktok.base_url,
        &info,
        &us,
        &us_tokens,
        ClientOptions {
            rate_per_second: 0,
            retry: retry_policy(),
            http: HttpOptions {
                connect_timeout: Duration::from_secs(2),
                request_timeout: setup.timeout,
            },
            ..Default::default()
        },
    )
    .await;
    common::add_sandbox_shop(&client, &de, &de_tokens).await;
    let (us_shop, de_shop) = (
        us["id"].as_str().unwrap().to_string(),
        de["id"].as_str().unwrap().to_string(),
    );

    let mut plenty_options = tts_plenty::client::ClientOptions::new(plenty.base_url.clone(), user, password);
    plenty_options.request_timeout = setup.timeout;
    plenty_options.retry = tts_plenty::client::retry::RetryPolicy {
        max_retry_after: Duration::from_secs(5),
        ..retry_policy()
    };
    let plenty_client = tts_plenty::client::Client::new(plenty_options).unwrap();

    let referrer = plenty_client.ensure_referrer("TikTok Shop").await.unwrap();
    let importer = Arc::new(OrderImporter::new(
        store.clone(),
        client.clone(),
        plenty_client.clone(),
        HashMap::from([(
            us_shop.clone(),
            OrderMappingConfig {
                shop_id: us_shop.clone(),
                plenty_id: 1000,
                referrer_id: referrer,
                ..Default::default()
            },
        )]),
        "scale-importer",
    ));

    // The DE shop's sales warehouse: both PlentyONE warehouses feed it.
    let sales = common::sales_warehouse(&client, &de_shop).await;
    let mapping = common::stand_in_product_config(&de_shop, &sales);
    let exporter = Arc::new(
        ProductExporter::new(
            store.clone(),
            client.clone(),
            plenty_client.clone(),
            vec![ShopExport {
                mapping: mapping.clone(),
                max_creates_per_day: 100_000,
            }],
            Arc::new(FnReservations(|_: &str, _: i64| Decimal::ZERO)),
            PushedValues::new(),
            "scale-exporter",
            ExportSettings::default(),
        )
        .unwrap(),
    );
    World {
        _contract: common::ContractGuard::new(&tiktok),
        _dir: dir,
        store,
        relay,
        tiktok,
        plenty,
        http,
        client,
        plenty_client,
        us_shop,
        de_shop,
        importer,
        exporter,
        worker: WorkerSettings {
            store_url,
            store_key,
            info,
            de,
            de_tokens,
            plenty_login,
            mapping,
        },
    }
}

/// Inbox workers draining the inbox into the order and product handlers.
struct Workers {
    stop: tokio::sync::watch::Sender<bool>,
    handles: Vec<tokio::task::JoinHandle<()>>,
}

impl Workers {
    async fn stop(self) {
        self.stop.send(true).unwrap();
        for h in self.handles {
            tokio::time::timeout(Duration::from_secs(30), h)
                .await
                .expect("workers stop")
                .unwrap();
        }
    }
}

impl World {
    fn start_workers(&self, count: usize) -> Workers {
        let handler: Arc<dyn EventHandler> = Arc::new(Handlers(vec![
            Arc::new(OrderEvents(self.importer.clone())),
            Arc::new(ProductEvents(self.exporter.clone())),
        ]));
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let handles = (0..count)
            .map(|i| {
                let processor = InboxProcessor::new(
                    self.store.clone(),
                    handler.clone(),
                    InboxSettings {
                        owner: format!("worker-{i}"),
                        batch_size: 50,
                        lease: Duration::from_secs(30),
                        max_attempts: 12,
                        retry_base: Duration::from_millis(20),
                        retry_cap: Duration::from_millis(500),
                        // (idle workers poll the store: not too often, three tests share two cores)
                        idle_poll: Duration::from_millis(100),
                    },
                );
                let stopped = stopped.clone();
                tokio::spawn(async move { processor.run(stopped).await })
            })
            .collect();
        Workers { stop, handles }
    }

    async fn sandbox(&self, method: &str, path: &str, body: Value) -> Value {
        control(
            &self.http,
            &format!("{}/_sandbox{path}", self.tiktok.base_url),
            method,
            body,
        )
        .await
    }

    async fn plenty_control(&self, method: &str, path: &str, body: Value) -> Value {
        control(
            &self.http,
            &format!("{}/_plenty{path}", self.plenty.base_url),
            method,
            body,
        )
        .await
    }

    /// Waits until every webhook sent has been received and handled: no delivery for a while and
    /// nothing pending in the inbox. Panics with the failing messages after `limit`.
    async fn drained(&self, limit: Duration) {
        let started = Instant::now();
        let mut quiet_since: Option<(u64, Instant)> = None;
        loop {
            let received = self.relay.received.load(Ordering::SeqCst);
            let pending = self.store.count_inbox_pending().await.unwrap();
            match quiet_since {
                Some((r, since)) if r == received && pending == 0 => {
                    if since.elapsed() >= Duration::from_millis(250) {
                        return;
                    }
                }
                _ if pending == 0 => quiet_since = Some((received, Instant::now())),
                _ => quiet_since = None,
            }
            if started.elapsed() > limit {
                let failing = self.inbox(InboxState::Failing, 5).await;
                panic!(
                    "inbox not drained after {limit:?}: {pending} pending; failing: {:?}",
                    failing
                        .iter()
                        .map(|m| (m.attempts, m.last_error.clone()))
                        .collect::<Vec<_>>()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn inbox(&self, state: InboxState, limit: u32) -> Vec<tts_store::InboxMessage> {
        self.store
            .list_inbox(&InboxQuery {
                shop_id: None,
                state,
                after_notification_id: None,
                limit,
            })
            .await
            .unwrap()
    }

    async fn order_mappings(&self) -> Vec<OrderMapping> {
        let mut out: Vec<OrderMapping> = Vec::new();
        loop {
            let page = self
                .store
                .list_order_mappings(&OrderMappingQuery {
                    shop_id: self.us_shop.clone(),
                    status: None,
                    after_tiktok_order_id: out.last().map(|m| m.tiktok_order_id.clone()),
                    limit: 500,
                })
                .await
                .unwrap();
            if page.is_empty() {
                return out;
            }
            out.extend(page);
        }
    }

    async fn product_mappings(&self) -> Vec<ProductMapping> {
        let mut out: Vec<ProductMapping> = Vec::new();
        loop {
            let page = self
                .store
                .list_product_mappings(&ProductMappingQuery {
                    shop_id: self.de_shop.clone(),
                    status: None,
                    after_variation_id: out.last().map(|m| m.plenty_variation_id),
                    limit: 500,
                })
                .await
                .unwrap();
            if page.is_empty() {
                return out;
            }
            out.extend(page);
        }
    }

    /// Every order in PlentyONE, as its REST API lists them (what the merchant's back office shows).
    async fn plenty_orders(&self) -> Vec<tts_plenty::api::orders::Order> {
        let query = OrderQuery {
            items_per_page: Some(250),
            ..Default::default()
        };
        self.plenty_client
            .orders(&query)
            .unwrap()
            .try_collect()
            .await
            .unwrap()
    }

    /// Every product of the DE shop on TikTok (any status).
    async fn tiktok_products(&self) -> Vec<Value> {
        let shop = self.client.shop(&self.de_shop).unwrap();
        let op = tts_tiktok::operations::Operation::find("products.search").unwrap();
        let filter = json!({"status": "ALL"});
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = shop
                .fetch_page(op, CallInput::json(&filter), 100, token.as_deref())
                .await
                .unwrap();
            out.extend(page.decode_items::<Value>("products").unwrap());
            match page.next_page_token {
                Some(t) => token = Some(t),
                None => return out,
            }
        }
    }

    /// What went over the wire, for the run's log.
    async fn traffic(&self) -> String {
        let tiktok = self.sandbox("GET", "/counters", json!({})).await;
        let plenty = self.plenty_control("GET", "/counters", json!({})).await;
        format!(
            "{} TikTok API requests, {} PlentyONE REST requests, {} webhook deliveries received",
            tiktok["totals"]["total"],
            plenty["totals"]["total"],
            self.relay.received.load(Ordering::SeqCst)
        )
    }

    async fn reconcile(&self) -> tts_core::Result<tts_sync::orders::ReconcileReport> {
        self.importer
            .reconcile(&self.us_shop, now() + 1, LOOKBACK, WINDOW, OVERLAP)
            .await
    }
}

// ---- orders: a lifecycle per order, and what PlentyONE must show for it --------------------------

/// How an order is created and which statuses TikTok then drives it to (one control call each):
/// indexed by `i % 10`, so every lifecycle is exercised evenly.
const LIFECYCLES: [(&str, &[&str]); 10] = [
    ("AWAITING_SHIPMENT", &[]),
    ("UNPAID", &["ON_HOLD", "AWAITING_SHIPMENT"]),
    ("AWAITING_SHIPMENT", &["AWAITING_COLLECTION"]),
    ("AWAITING_SHIPMENT", &["IN_TRANSIT"]),
    (
        "AWAITING_SHIPMENT",
        &["AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED"],
    ),
    ("AWAITING_SHIPMENT", &["COMPLETED"]),
    ("AWAITING_SHIPMENT", &["CANCELLED"]),
    ("UNPAID", &["AWAITING_SHIPMENT", "IN_TRANSIT"]),
    ("AWAITING_SHIPMENT", &["DELIVERED", "COMPLETED"]),
    ("AWAITING_SHIPMENT", &["AWAITING_COLLECTION", "CANCELLED"]),
];

struct TestOrder {
    id: String,
    lifecycle: usize,
}

/// The PlentyONE status the order must end with, from the mapping's status table and the
/// importer's forward-only rule: imported at the first status the import rules accept, then every
/// later TikTok status applied with [`plenty_step`].
fn expected_plenty_status(lifecycle: usize) -> Decimal {
    let config = StatusConfig::default();
    let (created, then) = LIFECYCLES[lifecycle];
    let mut current: Option<Decimal> = None;
    for status in std::iter::once(created).chain(then.iter().copied()) {
        let status = OrderStatus::parse(status);
        current = match current {
            None => match should_import(&status, now(), now(), &config) {
                ImportDecision::Import => plenty_status(&status, &config),
                _ => None,
            },
            Some(c) => Some(match plenty_step(&status, c, &config) {
                PlentyStep::Keep => c,
                PlentyStep::SetStatus(s) => s,
                PlentyStep::Cancel => tts_mapping::status::plenty_status::CANCELLED,
            }),
        };
    }
    current.expect("every lifecycle reaches an imported status")
}

/// Creates `count` orders in the US shop, their lifecycles by index.
async fn create_orders(w: &World, count: usize) -> Vec<TestOrder> {
    let mut by_created: BTreeMap<&str, usize> = BTreeMap::new();
    for i in 0..count {
        *by_created.entry(LIFECYCLES[i % 10].0).or_default() += 1;
    }
    let mut ids: HashMap<&str, std::vec::IntoIter<String>> = HashMap::new();
    for (status, n) in by_created {
        let created = w
            .sandbox(
                "POST",
                &format!("/shops/{}/orders", w.us_shop),
                json!({"count": n, "status": status}),
            )
            .await;
        let list: Vec<String> = created["order_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        assert_eq!(list.len(), n);
        ids.insert(status, list.into_iter());
    }
    (0..count)
        .map(|i| TestOrder {
            id: ids.get_mut(LIFECYCLES[i % 10].0).unwrap().next().unwrap(),
            lifecycle: i % 10,
        })
        .collect()
}

/// TikTok moves every order along its lifecycle (orders in parallel, each order's steps in turn).
async fn drive_lifecycles(w: &World, orders: &[TestOrder]) {
    futures_util::stream::iter(orders)
        .for_each_concurrent(8, |o| async move {
            for status in LIFECYCLES[o.lifecycle].1 {
                w.sandbox(
                    "POST",
                    &format!("/orders/{}/advance", o.id),
                    json!({"status": status}),
                )
                .await;
            }
        })
        .await;
}

/// PlentyONE sales orders per external order id, with their statuses.
async fn plenty_orders_by_external_id(w: &World) -> (HashMap<String, Vec<Decimal>>, usize) {
    let mut by_external: HashMap<String, Vec<Decimal>> = HashMap::new();
    let mut sales = 0;
    for o in w.plenty_orders().await {
        if o.type_id != 1 {
            continue;
        }
        sales += 1;
        by_external
            .entry(o.external_order_id().unwrap_or_default().to_string())
            .or_default()
            .push(o.status_id.normalize());
    }
    (by_external, sales)
}

/// What a merchant sees of the orders: exactly one PlentyONE order per TikTok order, nothing else,
/// each in the status the table gives for where TikTok took it.
async fn assert_orders_end_state(w: &World, orders: &[TestOrder]) {
    let (by_external, sales) = plenty_orders_by_external_id(w).await;
    let mut wrong = Vec::new();
    for o in orders {
        let external = format!("{}_{}", w.us_shop, o.id);
        let expected = expected_plenty_status(o.lifecycle).normalize();
        match by_external.get(&external).map(Vec::as_slice) {
            Some([status]) if *status == expected => {}
            found => wrong.push(format!(
                "{external} ({:?}): expected one order in {expected}, found {found:?}",
                LIFECYCLES[o.lifecycle]
            )),
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} orders wrong, e.g. {:?}",
        wrong.len(),
        orders.len(),
        &wrong[..wrong.len().min(10)]
    );
    assert_eq!(
        sales,
        orders.len(),
        "PlentyONE holds exactly one sales order per TikTok order"
    );
    // The order mappings agree: one per order, synced, pointing at that PlentyONE order.
    let mappings = w.order_mappings().await;
    assert_eq!(mappings.len(), orders.len());
    let plenty_ids: HashSet<i64> = mappings.iter().filter_map(|m| m.plenty_order_id).collect();
    assert_eq!(plenty_ids.len(), orders.len());
    for m in &mappings {
        assert_eq!(m.sync_status, SyncStatus::Synced, "{m:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_orders_through_their_lifecycle_become_exactly_a_thousand_plentyone_orders() {
    const ORDERS: usize = 1000;
    let mut clock = Clock::start("1000 orders");
    // The sandbox sends each webhook once; the receiver stores every fifth one twice at once (two
    // deliveries racing), and more come again later (below). (The other tests have the sandbox send
    // all of them twice: at this volume that would double the run's cost for what the store's
    // unique notification id already settles.)
    let w = world(Setup {
        extra_items: 0,
        duplicates: false,
        timeout: Duration::from_secs(30),
    })
    .await;
    w.relay.twice_every.store(5, Ordering::SeqCst);
    clock.lap("world");

    // About one order in ten has its webhooks held back: reconciliation has to find it, and its
    // webhooks arrive at the end, newest first.
    *w.relay.hold.lock().unwrap() = Some(held_back);
    let workers = w.start_workers(3);
    let orders = create_orders(&w, ORDERS).await;
    let held_orders = orders.iter().filter(|o| held_back(&o.id)).count();
    assert!(held_orders > ORDERS / 20, "{held_orders} orders held back");
    clock.lap("orders created");

    // Webhooks are handled while a reconciliation pass runs over the same orders.
    // (an order the inbox holds at that moment is left to the inbox: the report counts it failed)
    let reconciled = w.reconcile().await.unwrap();
    clock.lap(&format!(
        "reconciliation pass during webhooks (created {}, left to the inbox {})",
        reconciled.created, reconciled.failed
    ));
    w.drained(Duration::from_secs(120)).await;
    clock.lap("webhooks handled");

    drive_lifecycles(&w, &orders).await;
    clock.lap("lifecycles driven");
    w.drained(Duration::from_secs(120)).await;
    clock.lap("status webhooks handled");

    // The held webhooks arrive now, in reverse: each order's newest event first, then the one
    // before... (one round at a time, each handled before the next arrives), each twice.
    *w.relay.hold.lock().unwrap() = None;
    let held: Vec<Received> = std::mem::take(&mut *w.relay.held.lock().unwrap());
    let mut per_order: BTreeMap<String, Vec<Received>> = BTreeMap::new();
    let mut ids = HashSet::new();
    for r in held {
        if ids.insert(r.notification.tts_notification_id.clone()) {
            per_order
                .entry(order_of(&r.notification).unwrap().to_string())
                .or_default()
                .push(r);
        }
    }
    for events in per_order.values_mut() {
        events.sort_by_key(|r| std::cmp::Reverse((event_time(&r.notification), r.arrival)));
    }
    let rounds = per_order.values().map(Vec::len).max().unwrap_or(0);
    assert!(rounds >= 2, "held orders have several events each");
    for round in 0..rounds {
        for events in per_order.values() {
            if let Some(r) = events.get(round) {
                for _ in 0..2 {
                    w.relay.post(&w.http, &r.body).await;
                }
            }
        }
        w.drained(Duration::from_secs(60)).await;
    }
    clock.lap(&format!(
        "held webhooks of {} orders delivered in reverse ({rounds} rounds)",
        per_order.len()
    ));

    // Webhooks delivered again: the same notifications (TikTok's retries), and old events sent
    // again under new notification ids.
    let seen: Vec<Received> = w.relay.seen.lock().unwrap().values().cloned().collect();
    let mut resent = 0;
    for (i, r) in seen.iter().enumerate().filter(|(i, _)| i % 10 == 0) {
        w.relay.post(&w.http, &r.body).await;
        let old_id = &r.notification.tts_notification_id;
        let body = String::from_utf8(r.body.to_vec()).unwrap().replacen(
            &format!("\"tts_notification_id\":\"{old_id}\""),
            &format!("\"tts_notification_id\":\"resent-{i}-{old_id}\""),
            1,
        );
        w.relay.post(&w.http, body.as_bytes()).await;
        resent += 1;
    }
    w.drained(Duration::from_secs(60)).await;
    clock.lap(&format!(
        "{resent} webhooks delivered again (as they were, and under a new id)"
    ));

    assert_orders_end_state(&w, &orders).await;
    assert!(
        w.inbox(InboxState::GivenUp, 5).await.is_empty(),
        "no webhook given up"
    );
    clock.lap("end state checked");

    // Webhooks alone brought every order up to date: the scheduled reconciliation finds nothing.
    let last = w.reconcile().await.unwrap();
    assert_eq!((last.created, last.updated, last.failed), (0, 0, 0), "{last:?}");
    assert_orders_end_state(&w, &orders).await;
    clock.lap("final reconciliation");
    workers.stop().await;
    eprintln!("[1000 orders] {}", w.traffic().await);
}

/// The orders whose webhooks are held back: about one in ten, chosen by a hash of the id (the
/// relay decides as webhooks arrive, before the test knows the ids).
fn held_back(order_id: &str) -> bool {
    let hash = order_id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    hash % 10 == 3
}

// ---- products ---------------------------------------------------------------------------------------

/// The catalogue as the test leaves it: variation ids per item, and the items whose title TikTok's
/// audit rejects (the sandbox fails titles with "REJECT"). Every variation gets stock (TikTok refuses
/// a create with quantity 0), and one item in ten gets the rejected word in its title.
fn prepare_catalogue(w: &World) -> (BTreeMap<i64, Vec<i64>>, HashSet<i64>) {
    let mut store = w.plenty.sandbox.store.lock().unwrap();
    let catalog = &mut store.catalog;
    let mut items: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for v in catalog.variations.values_mut() {
        v.stock.insert(1, (25, 0));
        items.entry(v.item_id).or_default().push(v.id);
    }
    let mut rejected = HashSet::new();
    for (n, item) in items.keys().enumerate() {
        if n % 10 == 4 {
            for text in &mut catalog.items.get_mut(item).unwrap().texts {
                text.1 = format!("{} REJECT", text.1);
            }
            rejected.insert(*item);
        }
    }
    (items, rejected)
}

/// What a merchant sees of the export: one TikTok product per item with a SKU per variation, no
/// duplicates, each mapping linked, the audit result on every mapping (with TikTok's reasons when it
/// failed).
async fn assert_products_end_state(
    w: &World,
    items: &BTreeMap<i64, Vec<i64>>,
    audit_rejected: &HashSet<i64>,
) {
    let on_tiktok = w.tiktok_products().await;
    assert_eq!(on_tiktok.len(), items.len(), "one TikTok product per item");
    let mut seller_skus = HashSet::new();
    let mut tiktok_skus: HashMap<String, HashMap<String, String>> = HashMap::new();
    for p in &on_tiktok {
        let skus: HashMap<String, String> = p["skus"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let seller_sku = s["seller_sku"].as_str().unwrap().to_string();
                assert!(
                    seller_skus.insert(seller_sku.clone()),
                    "{seller_sku} on TikTok twice"
                );
                (seller_sku, s["id"].as_str().unwrap().to_string())
            })
            .collect();
        tiktok_skus.insert(p["id"].as_str().unwrap().to_string(), skus);
    }
    let mappings: HashMap<i64, ProductMapping> = w
        .product_mappings()
        .await
        .into_iter()
        .map(|m| (m.plenty_variation_id, m))
        .collect();
    assert_eq!(
        mappings.len(),
        items.values().map(Vec::len).sum::<usize>(),
        "a mapping per variation"
    );
    let mut products_seen = HashSet::new();
    for (item, variations) in items {
        let product = mappings[&variations[0]].tiktok_product_id.clone();
        let product = product.unwrap_or_else(|| panic!("item {item}: {:?}", mappings[&variations[0]]));
        assert!(
            products_seen.insert(product.clone()),
            "item {item}: its own product"
        );
        let skus = tiktok_skus
            .get(&product)
            .unwrap_or_else(|| panic!("item {item}: product {product} is on TikTok"));
        assert_eq!(skus.len(), variations.len(), "item {item}: a SKU per variation");
        for v in variations {
            let m = &mappings[v];
            assert_eq!(m.sync_status, SyncStatus::Synced, "{m:?}");
            assert_eq!(m.tiktok_product_id.as_deref(), Some(product.as_str()), "{m:?}");
            let seller_sku = m.seller_sku.as_deref().unwrap();
            assert_eq!(skus.get(seller_sku), m.tiktok_sku_id.as_ref(), "{m:?}");
            if audit_rejected.contains(item) {
                assert_eq!(m.audit_status.as_deref(), Some("FAILED"), "{m:?}");
                assert!(!m.audit_reasons.is_empty(), "reasons kept: {m:?}");
            } else {
                assert_eq!(m.audit_status.as_deref(), Some("ACTIVATE"), "{m:?}");
                assert!(m.audit_reasons.is_empty(), "{m:?}");
            }
        }
    }
}

/// Waits until every synced product mapping carries TikTok's audit result (webhooks 37/5).
async fn audits_settled(w: &World, limit: Duration) {
    let started = Instant::now();
    loop {
        w.drained(limit).await;
        let unsettled = w
            .product_mappings()
            .await
            .into_iter()
            .filter(|m| m.tiktok_product_id.is_some())
            .filter(|m| !matches!(m.audit_status.as_deref(), Some("ACTIVATE" | "FAILED")))
            .count();
        if unsettled == 0 {
            return;
        }
        assert!(
            started.elapsed() < limit,
            "{unsettled} mappings without an audit result"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_hundred_items_become_five_hundred_tiktok_products_with_audit_rejections_kept() {
    const ITEMS: usize = 500;
    let mut clock = Clock::start("500 products");
    // (the sandbox sends each audit webhook once: duplicates are the order and fault tests' part)
    let w = world(Setup {
        extra_items: ITEMS - 12,
        duplicates: false,
        timeout: Duration::from_secs(30),
    })
    .await;
    let (items, audit_rejected) = prepare_catalogue(&w);
    assert_eq!(items.len(), ITEMS);
    let variations: usize = items.values().map(Vec::len).sum();
    clock.lap(&format!("world: {ITEMS} items, {variations} variations"));

    let workers = w.start_workers(2);
    let report = w.exporter.export(&w.de_shop, now()).await.unwrap();
    clock.lap(&format!(
        "export pass: {} created, {} images uploaded",
        report.created, report.images_uploaded
    ));
    assert!(
        report.errors == 0 && report.cursor_advanced,
        "without faults one pass does it: {report:?}"
    );
    audits_settled(&w, Duration::from_secs(60)).await;
    clock.lap("audit results applied");

    assert_products_end_state(&w, &items, &audit_rejected).await;
    clock.lap("end state checked");

    // Nothing changed in PlentyONE: the next pass sends nothing, TikTok still has each product once.
    let again = w.exporter.export(&w.de_shop, now()).await.unwrap();
    assert_eq!((again.created, again.updated), (0, 0), "{again:?}");
    assert_eq!(w.tiktok_products().await.len(), ITEMS);
    clock.lap("second pass");
    workers.stop().await;
    eprintln!("[500 products] {}", w.traffic().await);
}

// ---- faults -----------------------------------------------------------------------------------------

/// Orders and catalogue items of the fault test (a run with faults and one without, compared).
const FAULT_ORDERS: usize = 120;
const FAULT_ITEMS: usize = 40;
/// Passes (export + reconciliation + inbox drained) a phase may take at most.
const MAX_PASSES: usize = 8;
/// Client request timeout in the fault test; injected latency is twice as long.
const FAULT_TIMEOUT: Duration = Duration::from_millis(600);

const CREATE_PRODUCT: &str = "POST /product/202309/products";
const CREATE_ORDER: &str = "POST /rest/orders";

/// About 10 % of the requests fail on each side: 5xx, timeouts (latency past the clients' timeout),
/// dropped connections, 429 storms, and answers lost after the request took effect (TikTok: a
/// cut-off body; PlentyONE: no answer until the client times out). The last kind is the one that
/// could create duplicates: the write happened, the caller cannot know.
async fn inject_faults(w: &World) {
    let late = FAULT_TIMEOUT.as_millis() as u64 * 2;
    // The first creates' answers are lost for sure (the rest of the time, at random).
    w.sandbox(
        "POST",
        "/faults",
        json!({"kind": "malformed_json", "endpoint": CREATE_PRODUCT, "count": 3}),
    )
    .await;
    w.plenty_control(
        "POST",
        "/faults",
        json!({"kind": "lost_answer", "endpoint": CREATE_ORDER, "count": 3, "latency_ms": late}),
    )
    .await;
    for rule in [
        json!({"kind": "server_error", "probability": 0.04, "status": 503}),
        json!({"kind": "rate_limit", "probability": 0.02}),
        json!({"kind": "latency", "probability": 0.02, "latency_ms": late}),
        json!({"kind": "drop", "probability": 0.01}),
        json!({"kind": "malformed_json", "probability": 0.01}),
    ] {
        w.sandbox("POST", "/faults", rule).await;
    }
    for rule in [
        json!({"kind": "server_error", "probability": 0.02, "status": 500}),
        json!({"kind": "server_error", "probability": 0.02, "status": 503}),
        json!({"kind": "rate_limit", "probability": 0.02, "retry_after_secs": 1}),
        json!({"kind": "latency", "probability": 0.01, "latency_ms": late}),
        json!({"kind": "lost_answer", "probability": 0.02, "latency_ms": late}),
        json!({"kind": "drop", "probability": 0.01}),
    ] {
        w.plenty_control("POST", "/faults", rule).await;
    }
}

/// (requests, requests failed by a fault) on each side: TikTok, then PlentyONE.
async fn fault_counts(w: &World) -> [(u64, u64); 2] {
    let hits = |rules: &Value| -> u64 {
        rules["faults"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["hits"].as_u64().unwrap_or(0))
            .sum()
    };
    let tiktok = w.sandbox("GET", "/counters", json!({})).await;
    let tiktok_faults = w.sandbox("GET", "/faults", json!({})).await;
    let plenty = w.plenty_control("GET", "/counters", json!({})).await;
    let plenty_faults = w.plenty_control("GET", "/faults", json!({})).await;
    [
        (tiktok["totals"]["total"].as_u64().unwrap(), hits(&tiktok_faults)),
        (plenty["totals"]["total"].as_u64().unwrap(), hits(&plenty_faults)),
    ]
}

/// What the engines still have to do: passes run (export, reconciliation, inbox drained) until a
/// pass finds nothing failed and nothing pending, at most [`MAX_PASSES`]. Returns the passes taken.
async fn until_quiet(w: &World, phase: &str) -> usize {
    let mut last = String::new();
    for pass in 1..=MAX_PASSES {
        let export = w.exporter.export(&w.de_shop, now()).await;
        let reconcile = w.reconcile().await;
        w.drained(Duration::from_secs(120)).await;
        let products = w.product_mappings().await;
        let orders = w.order_mappings().await;
        let pending_products = products
            .iter()
            .filter(|m| m.sync_status == SyncStatus::Pending)
            .count();
        let unaudited = products
            .iter()
            .filter(|m| m.tiktok_product_id.is_some())
            .filter(|m| !matches!(m.audit_status.as_deref(), Some("ACTIVATE" | "FAILED")))
            .count();
        let unsynced_orders = orders
            .iter()
            .filter(|m| m.sync_status != SyncStatus::Synced)
            .count();
        let export_clean = export
            .as_ref()
            .is_ok_and(|r| r.errors == 0 && r.busy == 0 && r.cursor_advanced);
        let reconcile_clean = reconcile.as_ref().is_ok_and(|r| r.failed == 0);
        if export_clean && reconcile_clean && pending_products == 0 && unaudited == 0 && unsynced_orders == 0
        {
            return pass;
        }
        last = format!(
            "export {:?}; reconcile {:?}; {pending_products} product mappings pending, {unaudited} \
             without audit result, {unsynced_orders} order mappings not synced",
            export.map(|r| (r.created, r.updated, r.errors, r.busy, r.cursor_advanced)),
            reconcile.map(|r| (r.created, r.updated, r.failed, r.errors)),
        );
        eprintln!("[faults] {phase}: pass {pass} not quiet yet: {last}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{phase}: still not quiet after {MAX_PASSES} passes: {last}");
}

/// A product mapping as the merchant sees it.
#[derive(Debug, PartialEq)]
struct ProductEnd {
    status: SyncStatus,
    error: Option<String>,
    audit: Option<String>,
    reasons: Vec<String>,
    /// The lowest variation id of the TikTok product the variation is a SKU of (which variations
    /// share a product, whatever TikTok's ids are in each run).
    product_of: Option<i64>,
    has_sku: bool,
}

/// The end state a merchant would compare.
#[derive(Debug, PartialEq)]
struct EndState {
    /// Per order, in creation order: the statuses of the PlentyONE sales orders with its external id.
    orders: Vec<Vec<Decimal>>,
    /// PlentyONE sales orders in total.
    plenty_sales_orders: usize,
    /// Per PlentyONE variation.
    products: BTreeMap<i64, ProductEnd>,
    /// Products on TikTok, and their SKUs.
    tiktok_products: usize,
    tiktok_skus: usize,
}

impl EndState {
    /// The entries that differ from `other`, as lines.
    fn differences(&self, other: &EndState) -> Vec<String> {
        let mut out = Vec::new();
        for (i, (a, b)) in self.orders.iter().zip(&other.orders).enumerate() {
            if a != b {
                out.push(format!("order #{i} ({:?}): {a:?} vs {b:?}", LIFECYCLES[i % 10]));
            }
        }
        for (v, a) in &self.products {
            let b = other.products.get(v);
            if b != Some(a) {
                out.push(format!("variation {v}: {a:?} vs {b:?}"));
            }
        }
        for (what, a, b) in [
            ("orders", self.orders.len(), other.orders.len()),
            (
                "PlentyONE sales orders",
                self.plenty_sales_orders,
                other.plenty_sales_orders,
            ),
            ("mapped variations", self.products.len(), other.products.len()),
            ("TikTok products", self.tiktok_products, other.tiktok_products),
            ("TikTok SKUs", self.tiktok_skus, other.tiktok_skus),
        ] {
            if a != b {
                out.push(format!("{what}: {a} vs {b}"));
            }
        }
        out
    }
}

async fn end_state(w: &World, orders: &[TestOrder]) -> EndState {
    let (by_external, plenty_sales_orders) = plenty_orders_by_external_id(w).await;
    let orders = orders
        .iter()
        .map(|o| {
            by_external
                .get(&format!("{}_{}", w.us_shop, o.id))
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    let mappings = w.product_mappings().await;
    let mut first_variation: HashMap<String, i64> = HashMap::new();
    for m in &mappings {
        if let Some(p) = &m.tiktok_product_id {
            let first = first_variation.entry(p.clone()).or_insert(m.plenty_variation_id);
            *first = (*first).min(m.plenty_variation_id);
        }
    }
    let on_tiktok = w.tiktok_products().await;
    let tiktok_skus = on_tiktok
        .iter()
        .map(|p| p["skus"].as_array().unwrap().len())
        .sum();
    let products = mappings
        .into_iter()
        .map(|m| {
            (
                m.plenty_variation_id,
                ProductEnd {
                    status: m.sync_status,
                    error: m.sync_error.clone(),
                    audit: m.audit_status.clone(),
                    reasons: m.audit_reasons.clone(),
                    product_of: m.tiktok_product_id.as_ref().map(|p| first_variation[p]),
                    has_sku: m.tiktok_sku_id.is_some(),
                },
            )
        })
        .collect();
    EndState {
        orders,
        plenty_sales_orders,
        products,
        tiktok_products: on_tiktok.len(),
        tiktok_skus,
    }
}

/// The whole run: catalogue export and order import, then the orders' lifecycles, each phase in
/// passes until quiet. With `faulted`, about 10 % of the requests to either side fail throughout.
async fn fault_run(faulted: bool) -> (EndState, [usize; 2], [(u64, u64); 2]) {
    let name = if faulted { "with faults" } else { "without faults" };
    let mut clock = Clock::start(if faulted { "faulted run" } else { "fault-free run" });
    let w = world(Setup {
        extra_items: FAULT_ITEMS - 12,
        duplicates: true,
        timeout: if faulted {
            FAULT_TIMEOUT
        } else {
            Duration::from_secs(30)
        },
    })
    .await;
    let (items, audit_rejected) = prepare_catalogue(&w);
    let orders = create_orders(&w, FAULT_ORDERS).await;
    if faulted {
        inject_faults(&w).await;
    }
    let workers = w.start_workers(3);
    let first = until_quiet(&w, name).await;
    clock.lap(&format!("export and import: {first} passes"));
    drive_lifecycles(&w, &orders).await;
    let second = until_quiet(&w, name).await;
    clock.lap(&format!("lifecycles: {second} passes"));
    workers.stop().await;
    let counts = fault_counts(&w).await;
    if faulted {
        let tiktok = w.sandbox("GET", "/counters", json!({})).await;
        let plenty = w.plenty_control("GET", "/counters", json!({})).await;
        let (products, orders) = (
            tiktok["endpoints"][CREATE_PRODUCT]["faults"]
                .as_u64()
                .unwrap_or(0),
            plenty["routes"][CREATE_ORDER]["faults"].as_u64().unwrap_or(0),
        );
        eprintln!("[faults] creates hit by a fault: {products} TikTok products, {orders} PlentyONE orders");
        assert!(products >= 3 && orders >= 3, "the lost answers happened");
    }
    // Reading the end state is not part of the run.
    w.sandbox("DELETE", "/faults", json!({})).await;
    w.plenty_control("DELETE", "/faults", json!({})).await;
    // Both runs end where the status table and the audit say (the faulted one is compared with
    // this one below).
    assert_orders_end_state(&w, &orders).await;
    assert_products_end_state(&w, &items, &audit_rejected).await;
    let state = end_state(&w, &orders).await;
    clock.lap("end state read");
    (state, [first, second], counts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_a_tenth_of_all_requests_failing_the_run_ends_as_without_faults() {
    let ((clean, clean_passes, _), (faulted, faulted_passes, counts)) =
        tokio::join!(fault_run(false), fault_run(true));
    for ((requests, failed), side) in counts.iter().zip(["TikTok", "PlentyONE"]) {
        eprintln!(
            "[faults] {side}: {failed} of {requests} requests failed ({:.1} %)",
            *failed as f64 * 100.0 / *requests as f64
        );
        assert!(
            *failed * 20 >= *requests,
            "{side}: at least 5 % of the requests failed ({failed} of {requests})"
        );
    }
    eprintln!("[faults] passes without faults {clean_passes:?}, with faults {faulted_passes:?}");
    let differences = clean.differences(&faulted);
    assert!(
        differences.is_empty(),
        "{} differences, e.g. {:#?}",
        differences.len(),
        &differences[..differences.len().min(10)]
    );
    assert_eq!(clean, faulted);
}

// ---- a killed export ------------------------------------------------------------------------------

/// An export worker process (`tts-sync-worker kind=products`): one pass, then a JSON report.
fn export_worker(w: &World) -> std::process::Child {
    let s = &w.worker;
    std::process::Command::new(env!("CARGO_BIN_EXE_tts-sync-worker"))
        .args([
            "kind=products".to_string(),
            format!("store={}", s.store_url),
            format!("key={}", s.store_key),
            format!("tiktok={}", w.tiktok.base_url),
            format!("app_key={}", s.info["app_key"].as_str().unwrap()),
            format!("app_secret={}", s.info["app_secret"].as_str().unwrap()),
            format!("shop_id={}", w.de_shop),
            format!("cipher={}", s.de["cipher"].as_str().unwrap()),
            format!("access_token={}", s.de_tokens["access_token"].as_str().unwrap()),
            format!(
                "access_expires={}",
                s.de_tokens["access_token_expire_in"].as_i64().unwrap()
            ),
            format!("refresh_token={}", s.de_tokens["refresh_token"].as_str().unwrap()),
            format!("plenty={}", w.plenty.base_url),
            format!("plenty_user={}", s.plenty_login.0),
            format!("plenty_password={}", s.plenty_login.1),
            "lease_secs=2".to_string(),
            format!("product_config={}", serde_json::to_string(&s.mapping).unwrap()),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_export_killed_mid_pass_resumes_without_duplicate_tiktok_products() {
    const ITEMS: usize = 60;
    let mut clock = Clock::start("killed export");
    let w = world(Setup {
        extra_items: ITEMS - 12,
        duplicates: false,
        timeout: Duration::from_secs(30),
    })
    .await;
    let (items, audit_rejected) = prepare_catalogue(&w);
    let created = || async {
        let c = w.sandbox("GET", "/counters", json!({})).await;
        c["endpoints"]["POST /product/202309/products"]["ok"]
            .as_u64()
            .unwrap_or(0)
    };

    // The first worker is killed (SIGKILL) once some, not all, products exist on TikTok.
    let mut first = export_worker(&w);
    let started = Instant::now();
    while created().await < 10 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the first worker never got going"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    first.kill().unwrap();
    first.wait().unwrap();
    let at_kill = created().await;
    assert!(at_kill < ITEMS as u64, "killed mid-pass ({at_kill} of {ITEMS})");
    let interrupted = w
        .product_mappings()
        .await
        .into_iter()
        .filter(|m| m.sync_status == SyncStatus::Pending && m.tiktok_product_id.is_none())
        .map(|m| m.plenty_item_id)
        .collect::<HashSet<_>>();
    clock.lap(&format!(
        "first worker killed after {at_kill} creates, items {interrupted:?} interrupted mid-create"
    ));

    // Restarted workers finish the pass (an item the dead one held is free after its 2 s lease).
    let mut passes = 0;
    loop {
        passes += 1;
        let out = export_worker(&w).wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "worker failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        if report["errors"] == 0 && report["busy"] == 0 && report["cursor_advanced"] == true {
            break;
        }
        assert!(passes < 5, "still not done after {passes} passes: {report}");
        tokio::time::sleep(Duration::from_millis(2100)).await;
    }
    clock.lap(&format!("restarted workers done in {passes} passes"));

    // Each item is one TikTok product, whatever the kill interrupted; audits land as usual.
    let workers = w.start_workers(2);
    audits_settled(&w, Duration::from_secs(60)).await;
    assert_products_end_state(&w, &items, &audit_rejected).await;
    workers.stop().await;
    clock.lap("end state checked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_created_while_their_answer_was_lost_follow_where_tiktok_has_moved_on_to() {
    let w = world(Setup {
        extra_items: 0,
        duplicates: false,
        timeout: FAULT_TIMEOUT,
    })
    .await;
    let created = w
        .sandbox(
            "POST",
            &format!("/shops/{}/orders", w.us_shop),
            json!({"count": 2, "status": "AWAITING_SHIPMENT"}),
        )
        .await;
    let orders: Vec<TestOrder> = created["order_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| TestOrder {
            id: id.as_str().unwrap().to_string(),
            lifecycle: 0,
        })
        .collect();
    let external = |o: &TestOrder| format!("{}_{}", w.us_shop, o.id);
    // PlentyONE creates both orders, but the answers never arrive.
    w.plenty_control(
        "POST",
        "/faults",
        json!({"kind": "lost_answer", "endpoint": CREATE_ORDER, "count": 2}),
    )
    .await;
    let seen = tts_sync::orders::Seen::default();
    for o in &orders {
        let first = w.importer.sync_order(&w.us_shop, &o.id, seen).await;
        assert!(first.is_err(), "{first:?}");
    }
    let (by_external, _) = plenty_orders_by_external_id(&w).await;
    for o in &orders {
        assert_eq!(by_external[&external(o)].len(), 1, "in PlentyONE all the same");
    }

    // Meanwhile one order ships, the other is cancelled; the next attempts find and adopt them.
    for (o, status) in orders.iter().zip(["IN_TRANSIT", "CANCELLED"]) {
        w.sandbox(
            "POST",
            &format!("/orders/{}/advance", o.id),
            json!({"status": status}),
        )
        .await;
        w.importer.sync_order(&w.us_shop, &o.id, seen).await.unwrap();
    }
    let (by_external, sales) = plenty_orders_by_external_id(&w).await;
    assert_eq!(sales, 2, "one PlentyONE order each");
    let config = StatusConfig::default();
    let created_as = plenty_status(&OrderStatus::AwaitingShipment, &config).unwrap();
    for (o, status) in orders
        .iter()
        .zip([OrderStatus::InTransit, OrderStatus::Cancelled])
    {
        let expected = match plenty_step(&status, created_as, &config) {
            PlentyStep::SetStatus(s) => s,
            PlentyStep::Cancel => tts_mapping::status::plenty_status::CANCELLED,
            PlentyStep::Keep => created_as,
        };
        assert_eq!(
            by_external[&external(o)],
            vec![expected.normalize()],
            "PlentyONE follows TikTok's {status:?}"
        );
        let m = w
            .store
            .get_order_mapping(&w.us_shop, &o.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(m.sync_status, SyncStatus::Synced, "{m:?}");
    }
}
