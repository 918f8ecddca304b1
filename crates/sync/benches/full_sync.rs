//! Full sync against both stand-ins at their limits, compared with the floor those limits imply; and
//! the peak memory of a pass over a 100,000-variation catalogue.
//!
//! Run: `cargo bench -p tts-sync --bench full_sync` (release). Each stand-in runs in its own process
//! (this binary started again as `serve tiktok|plenty`), so the figures of this process are the
//! engines' own: their clients, the SQLite store, the engines.
//!
//! **Timed scenarios.** Every run gets fresh stand-ins and a fresh store; whatever a scenario needs
//! beforehand (orders on TikTok, products already exported for the stock pass) is prepared with the
//! limits lifted, then the limits are set, the counters cleared and fresh clients made, and only the
//! engine run is timed:
//! - `orders`: [`OrderImporter::reconcile`] of N paid TikTok orders into PlentyONE (contact,
//!   address, order, payment and its link: 5 writes per order, after one read that looks the order
//!   up by its external id);
//! - `products`: [`ProductExporter::export`] of M PlentyONE items (the first pass: every item is
//!   created on TikTok with its images);
//! - `full`: both at once, sharing one PlentyONE client (one budget per user, as in production);
//! - `stock`: [`StockPusher::push`] in full mode (every mapped SKU's stock and price) after an
//!   untimed export of the same items.
//!
//! Each scenario also runs once with both limits lifted: the time the engine needs by itself. The
//! scaled figures only mean something while that stays well below the floor.
//!
//! The limits are the stand-ins' defaults scaled by one factor `F` (`BENCH_SCALE`, default 10; the
//! stock scenario `BENCH_STOCK_SCALE`, default 1 = the real limits): TikTok 50·F requests/s per
//! (shop, endpoint) on the sandbox and in the client; PlentyONE's Basic plan (80 reads, 40 writes,
//! route limits `POST /rest/orders` 30 and `GET /rest/orders` 60 per window) with a window of 60/F s
//! (and a day of 86,400/F s). `BENCH_TIKTOK_LATENCY_MS` delays every TikTok answer (the sandbox's
//! latency fault), as a real network would.
//!
//! **The floor.** After the run the requests each side counted are read from the stand-ins'
//! counters. TikTok: each endpoint has its own limit, so its floor is the busiest endpoint's count ÷
//! 50·F. PlentyONE: every budget (reads, writes, each route limit) allows L requests per window W, so
//! K requests need K·W/L seconds; its floor is the largest of those. The sides work at the same time
//! (a search page feeds many PlentyONE writes, a PlentyONE page many TikTok calls), so the run's floor
//! is the larger of the two. Fixed windows allow a little less: a window's requests may all go the
//! moment it opens, so the last one can go at `(⌈K/L⌉ − 1)·W` (printed too). The default sizes make
//! the binding budget fill just over a whole number of windows, where the two agree.
//!
//! **Memory.** `BENCH_MEMORY_VARIATIONS` (default 100,000; 0 skips) variations in items of 1–12
//! variations (the stand-in's generator, 5 on average), limits lifted. A child process runs the first
//! product export (every item created on TikTok) and then a full stock pass, and reports its peak
//! resident set (`VmHWM`) after each; this process then reads the catalogue as the export reads it,
//! page by page, to give its size as JSON.
//!
//! Sizes: `BENCH_ORDERS` (N, default 41: 205 writes), `BENCH_ITEMS` (M of `products`, default 395:
//! 403 reads), `BENCH_FULL_ITEMS` (M of `full`, default 362: 411 reads with the orders'),
//! `BENCH_STOCK_ITEMS` (default 700); `BENCH_ONLY` picks scenarios (comma-separated names, `memory`).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use serde_json::{Value, json};
use tts_core::KeyRing;
use tts_core::secret::secret;
use tts_mapping::category::CategoryMapping;
use tts_mapping::inventory::{InventoryConfig, StockBuffer, WarehouseMapping};
use tts_mapping::order::OrderMappingConfig;
use tts_mapping::product::ProductMappingConfig;
use tts_store::Store;
use tts_sync::orders::{OrderImporter, ReconcileReport};
use tts_sync::products::{ExportReport, ExportSettings, ProductExporter, ShopExport, VARIATION_WITH};
use tts_sync::stock::{NoReservations, PushedValues, StockMode, StockPusher, StockReport, StockSettings};
use tts_tiktok::client::{CallInput, Client as TikTokClient, ClientOptions, ShopCredentials};
use tts_tiktok::model::product::{ProductAttribute, ProductAttributeValue};
use tts_tiktok::oauth::TokenSet;
use tts_tiktok::request::AppCredentials;

/// TikTok's documented limit per (shop, endpoint), requests per second.
const TIKTOK_RATE: f64 = 50.0;
/// PlentyONE's short window on the real system, seconds.
const PLENTY_WINDOW: f64 = 60.0;
/// PlentyONE's long window, seconds.
const PLENTY_DAY: f64 = 86_400.0;
/// "No limit" for a PlentyONE budget (the stand-in has no switch for it).
const LIFTED: u64 = 1_000_000_000;
/// Items in the stand-in's fixed seed (60 variations); the generator continues after them.
const SEED_ITEMS: usize = 12;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("serve") => serve(&args[1..]),
        Some("memory-pass") => runtime().block_on(memory_pass(&args[1], &args[2])),
        // `cargo bench` passes `--bench`
        _ => run(),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

// ---- the stand-ins, each in its own process -----------------------------------------------------

/// `serve tiktok <rate|off>` or `serve plenty <window secs> <day secs> <extra items>`: prints one JSON
/// line with `base_url`, then serves until stdin closes (the parent ended or let go of it).
fn serve(args: &[String]) {
    runtime().block_on(async {
        let (base_url, _keep): (String, Box<dyn std::any::Any>) = match args[0].as_str() {
            "tiktok" => {
                let running = tts_sandbox::start(tts_sandbox::Config {
                    rate_limit: args[1].parse().ok(),
                    audit_delay_ms: 200,
                    // Measures the engines, not the stand-in's contract check (the tests run it).
                    contract_check: false,
                    ..Default::default()
                })
                .await
                .unwrap();
                (running.base_url.clone(), Box::new(running))
            }
            "plenty" => {
                let secs = |s: &String| Duration::from_secs_f64(s.parse().unwrap());
                let running = tts_plenty_sandbox::start(tts_plenty_sandbox::Config {
                    window: secs(&args[1]),
                    long_window: secs(&args[2]),
                    extra_items: args[3].parse().unwrap(),
                    ..Default::default()
                })
                .await
                .unwrap();
                (running.base_url.clone(), Box::new(running))
            }
            other => panic!("unknown stand-in {other}"),
        };
        println!("{}", json!({ "base_url": base_url }));
        std::io::stdout().flush().unwrap();
        let _ = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        })
        .await;
    });
    std::process::exit(0);
}

/// A child process of this binary; killed when dropped.
struct Proc {
    child: Child,
    first_line: Value,
}

impl Proc {
    fn spawn(args: &[&str]) -> Proc {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start a child of the bench");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let first_line = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{args:?}: {e}: {line:?}"));
        Proc { child, first_line }
    }

    fn base_url(&self) -> String {
        self.first_line["base_url"].as_str().unwrap().to_string()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The stand-ins' limits: the defaults scaled by `factor`, or lifted.
#[derive(Clone, Copy, Debug)]
enum Limits {
    Scaled(f64),
    Lifted,
}

impl Limits {
    fn tiktok_rate(self) -> Option<u32> {
        match self {
            Limits::Scaled(f) => Some((TIKTOK_RATE * f).round() as u32),
            Limits::Lifted => None,
        }
    }
    fn window(self) -> f64 {
        match self {
            Limits::Scaled(f) => PLENTY_WINDOW / f,
            Limits::Lifted => PLENTY_WINDOW,
        }
    }
}

// ---- one world: both stand-ins, a store, the clients ---------------------------------------------

struct World {
    tiktok_url: String,
    plenty_url: String,
    /// The stand-ins' processes, when this world started them.
    _procs: Vec<Proc>,
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    http: reqwest::Client,
    info: Value,
    shop: Value,
    tokens: Value,
    shop_id: String,
    product_config: ProductMappingConfig,
    referrer: Decimal,
}

async fn control(http: &reqwest::Client, method: &str, url: &str, body: Value) -> Value {
    let res = http
        .request(method.parse().unwrap(), url)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{method} {url}: {}", res.status());
    res.json().await.unwrap()
}

async fn temp_store() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let ring = Arc::new(KeyRing::parse(&KeyRing::generate_key()).unwrap());
    let url = format!("sqlite://{}", dir.path().join("sync.db").display());
    (dir, tts_store::open(&url, ring).await.unwrap())
}

impl World {
    /// Both stand-ins with their limits lifted (for the preparation) and `extra_items` generated
    /// catalogue items; the DE shop (cross-border seller: cipher on every call).
    async fn start(extra_items: usize) -> World {
        let tiktok = Proc::spawn(&["serve", "tiktok", "off"]);
        let day = PLENTY_DAY.to_string();
        let plenty = Proc::spawn(&[
            "serve",
            "plenty",
            &PLENTY_WINDOW.to_string(),
            &day,
            &extra_items.to_string(),
        ]);
        let (tiktok_url, plenty_url) = (tiktok.base_url(), plenty.base_url());
        // Every fresh client logs in once: more than the real cap of 3 sessions in one world.
        let sessions = format!("{plenty_url}/_plenty/sessions");
        control(&reqwest::Client::new(), "PUT", &sessions, json!({"cap": 100})).await;
        let w = World::connect(tiktok_url, plenty_url, vec![tiktok, plenty]).await;
        w.set_limits(Limits::Lifted).await;
        w
    }

    /// A world around running stand-ins.
    async fn connect(tiktok_url: String, plenty_url: String, procs: Vec<Proc>) -> World {
        let http = reqwest::Client::new();
        let base = tiktok_url.clone();
        let info = control(&http, "GET", &format!("{base}/_sandbox/info"), json!({})).await;
        let shop = info["shops"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["region"] == "DE")
            .unwrap()
            .clone();
        let shop_id = shop["id"].as_str().unwrap().to_string();
        let tokens = control(
            &http,
            "POST",
            &format!("{base}/_sandbox/tokens"),
            json!({"open_id": shop["open_id"]}),
        )
        .await;
        let (dir, store) = temp_store().await;
        let mut w = World {
            tiktok_url,
            plenty_url,
            _procs: procs,
            _dir: dir,
            store,
            http,
            info,
            shop,
            tokens,
            shop_id,
            product_config: ProductMappingConfig::default(),
            referrer: Decimal::ZERO,
        };
        let client = w.tiktok_client(Limits::Lifted).await;
        // The shop's sales warehouse: both PlentyONE warehouses feed it.
        let warehouses = client
            .shop(&w.shop_id)
            .unwrap()
            .call_id("logistics.warehouses", CallInput::default())
            .await
            .unwrap()
            .value()
            .unwrap();
        let sales = warehouses["warehouses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["type"] == "SALES_WAREHOUSE")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        w.product_config = ProductMappingConfig {
            shop_id: w.shop_id.clone(),
            region: "DE".into(),
            currency: "EUR".into(),
            languages: vec!["de".into(), "en".into()],
            sales_price_id: 1,
            inventory: InventoryConfig {
                warehouses: WarehouseMapping::new([(1, sales.clone()), (2, sales.clone())]),
                buffer: StockBuffer {
                    absolute: Decimal::ZERO,
                    percent: Decimal::ZERO,
                },
                ..Default::default()
            },
            // The stand-in has no categories: everything goes to T-shirts, which requires Material.
            categories: CategoryMapping::default().with_default("601302"),
            category_product_attributes: HashMap::from([(
                "601302".to_string(),
                vec![ProductAttribute {
                    id: "100198".into(),
                    values: vec![ProductAttributeValue {
                        id: Some("3001".into()),
                        name: Some("Cotton".into()),
                    }],
                }],
            )]),
            ..Default::default()
        };
        w.referrer = w.plenty_client().ensure_referrer("TikTok Shop").await.unwrap();
        w
    }

    fn plenty_url(&self) -> String {
        self.plenty_url.clone()
    }

    /// A fresh client: its own login and budgets, learnt from the first answers.
    fn plenty_client(&self) -> tts_plenty::client::Client {
        let mut options =
            tts_plenty::client::ClientOptions::new(self.plenty_url(), "rest-user", "sandbox-password");
        options.max_pacing_wait = Duration::from_secs(3600);
        tts_plenty::client::Client::new(options).unwrap()
    }

    /// A fresh client pacing itself at the sandbox's limit.
    async fn tiktok_client(&self, limits: Limits) -> TikTokClient {
        let base = self.tiktok_url.clone();
        let app = AppCredentials::new(
            self.info["app_key"].as_str().unwrap(),
            secret(self.info["app_secret"].as_str().unwrap()),
        )
        .unwrap();
        let client = TikTokClient::new(
            app,
            ClientOptions {
                api_base: base.clone(),
                auth_base: base,
                rate_per_second: limits.tiktok_rate().unwrap_or(0),
                ..Default::default()
            },
            None,
        )
        .unwrap();
        let t = &self.tokens;
        client
            .add_shop(ShopCredentials {
                shop_id: self.shop_id.clone(),
                cipher: self.shop["cipher"].as_str().map(str::to_string),
                tokens: TokenSet {
                    access_token: secret(t["access_token"].as_str().unwrap()),
                    access_token_expire_in: t["access_token_expire_in"].as_i64().unwrap(),
                    refresh_token: secret(t["refresh_token"].as_str().unwrap()),
                    refresh_token_expire_in: t["refresh_token_expire_in"].as_i64().unwrap(),
                    open_id: String::new(),
                    seller_name: String::new(),
                    seller_base_region: String::new(),
                    user_type: 0,
                    granted_scopes: vec![],
                },
            })
            .await
            .unwrap();
        client
    }

    /// Sets both stand-ins' limits; PlentyONE's windows restart.
    async fn set_limits(&self, limits: Limits) {
        let tiktok = self.tiktok_url.clone();
        let rate = json!({"per_second": limits.tiktok_rate().unwrap_or(0)});
        control(&self.http, "PUT", &format!("{tiktok}/_sandbox/rate_limit"), rate).await;
        let plenty = match limits {
            Limits::Scaled(f) => json!({
                "plan": "basic", "window_secs": PLENTY_WINDOW / f, "long_window_secs": PLENTY_DAY / f,
                "route_limits": {"POST /rest/orders": 30, "GET /rest/orders": 60},
            }),
            Limits::Lifted => json!({
                "reads_per_window": LIFTED, "writes_per_window": LIFTED,
                "reads_per_day": LIFTED, "writes_per_day": LIFTED,
                "route_limits": {"POST /rest/orders": null, "GET /rest/orders": null},
            }),
        };
        control(
            &self.http,
            "PUT",
            &format!("{}/_plenty/limits", self.plenty_url()),
            plenty,
        )
        .await;
    }

    async fn clear_counters(&self) {
        let tiktok = self.tiktok_url.clone();
        control(
            &self.http,
            "DELETE",
            &format!("{tiktok}/_sandbox/counters"),
            json!({}),
        )
        .await;
        let plenty = self.plenty_url();
        control(
            &self.http,
            "DELETE",
            &format!("{plenty}/_plenty/counters"),
            json!({}),
        )
        .await;
    }

    fn importer(&self, tiktok: &TikTokClient, plenty: &tts_plenty::client::Client) -> OrderImporter {
        let config = OrderMappingConfig {
            shop_id: self.shop_id.clone(),
            plenty_id: 1000,
            referrer_id: self.referrer,
            // Vorkasse: every order gets its payment booked and linked (2 more writes).
            payment_method_id: Some(2),
            ..Default::default()
        };
        OrderImporter::new(
            self.store.clone(),
            tiktok.clone(),
            plenty.clone(),
            HashMap::from([(self.shop_id.clone(), config)]),
            "bench",
        )
    }

    fn exporter(
        &self,
        tiktok: &TikTokClient,
        plenty: &tts_plenty::client::Client,
        pushed: &Arc<PushedValues>,
    ) -> ProductExporter {
        ProductExporter::new(
            self.store.clone(),
            tiktok.clone(),
            plenty.clone(),
            vec![ShopExport {
                mapping: self.product_config.clone(),
                max_creates_per_day: u32::MAX,
            }],
            Arc::new(NoReservations),
            pushed.clone(),
            "bench",
            ExportSettings::default(),
        )
        .unwrap()
    }

    fn pusher(
        &self,
        tiktok: &TikTokClient,
        plenty: &tts_plenty::client::Client,
        pushed: &Arc<PushedValues>,
    ) -> StockPusher {
        StockPusher::new(
            self.store.clone(),
            tiktok.clone(),
            plenty.clone(),
            vec![self.product_config.clone()],
            Arc::new(NoReservations),
            pushed.clone(),
            StockSettings::default(),
        )
        .unwrap()
    }

    /// Requests each side counted since the counters were cleared.
    async fn counts(&self) -> Counts {
        let tiktok = control(
            &self.http,
            "GET",
            &format!("{}/_sandbox/counters", self.tiktok_url.clone()),
            json!({}),
        )
        .await;
        let plenty = control(
            &self.http,
            "GET",
            &format!("{}/_plenty/counters", self.plenty_url()),
            json!({}),
        )
        .await;
        let admitted = |v: &Value| v["total"].as_u64().unwrap_or(0) - v["rate_limited"].as_u64().unwrap_or(0);
        let mut c = Counts::default();
        for (endpoint, v) in tiktok["endpoints"].as_object().unwrap() {
            c.tiktok.insert(endpoint.clone(), admitted(v));
            c.tiktok_429 += v["rate_limited"].as_u64().unwrap_or(0);
        }
        for (route, v) in plenty["routes"].as_object().unwrap() {
            c.plenty_429 += v["rate_limited"].as_u64().unwrap_or(0);
            if route.starts_with("POST /rest/login") {
                continue; // login and refresh are not limited
            }
            c.plenty.insert(route.clone(), admitted(v));
        }
        c
    }
}

// ---- counting and the floor ----------------------------------------------------------------------

#[derive(Debug, Default)]
struct Counts {
    /// "METHOD /path/template" → requests admitted.
    tiktok: HashMap<String, u64>,
    plenty: HashMap<String, u64>,
    tiktok_429: u64,
    plenty_429: u64,
}

/// One side's floor: the binding budget, its request count, seconds by rate and by fixed windows.
#[derive(Debug, Clone)]
struct Floor {
    requests: u64,
    binding: String,
    rate_secs: f64,
    window_secs: f64,
}

impl Counts {
    fn tiktok_floor(&self, limits: Limits) -> Floor {
        let rate = f64::from(limits.tiktok_rate().expect("scaled"));
        let (endpoint, busiest) = self
            .tiktok
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(e, n)| (e.clone(), *n))
            .unwrap_or_default();
        let secs = busiest as f64 / rate;
        Floor {
            requests: self.tiktok.values().sum(),
            binding: format!("{endpoint} ×{busiest}"),
            rate_secs: secs,
            window_secs: secs,
        }
    }

    fn plenty_floor(&self, limits: Limits) -> Floor {
        let w = limits.window();
        let reads: u64 = self
            .plenty
            .iter()
            .filter(|(r, _)| r.starts_with("GET "))
            .map(|(_, n)| n)
            .sum();
        let writes: u64 = self
            .plenty
            .iter()
            .filter(|(r, _)| !r.starts_with("GET "))
            .map(|(_, n)| n)
            .sum();
        let route = |r: &str| self.plenty.get(r).copied().unwrap_or(0);
        let budgets = [
            ("reads".to_string(), reads, 80u64),
            ("writes".to_string(), writes, 40),
            ("POST /rest/orders".to_string(), route("POST /rest/orders"), 30),
            ("GET /rest/orders".to_string(), route("GET /rest/orders"), 60),
        ];
        let (mut best, mut rate_secs, mut window_secs) = (String::new(), 0.0f64, 0.0f64);
        for (name, k, l) in budgets {
            let by_rate = k as f64 * w / l as f64;
            if by_rate > rate_secs {
                rate_secs = by_rate;
                best = format!("{name} ×{k}");
            }
            window_secs = window_secs.max(k.div_ceil(l).saturating_sub(1) as f64 * w);
        }
        Floor {
            requests: reads + writes,
            binding: best,
            rate_secs,
            window_secs,
        }
    }
}

struct Row {
    scenario: &'static str,
    what: String,
    factor: f64,
    tiktok: Floor,
    plenty: Floor,
    wall: f64,
    /// The same run with both limits lifted: what the engine needs by itself.
    lifted: f64,
    c429: (u64, u64),
    summary: String,
}

impl Row {
    fn floor(&self) -> f64 {
        self.tiktok.rate_secs.max(self.plenty.rate_secs)
    }
    fn window_floor(&self) -> f64 {
        self.tiktok.window_secs.max(self.plenty.window_secs)
    }
}

// ---- the timed scenarios -------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scenario {
    Orders,
    Products,
    Full,
    Stock,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Orders => "orders",
            Scenario::Products => "products",
            Scenario::Full => "full",
            Scenario::Stock => "stock",
        }
    }
}

fn orders_text(r: &ReconcileReport) -> String {
    format!(
        "orders: seen {} created {} failed {}",
        r.seen, r.created, r.failed
    )
}

fn export_text(r: &ExportReport) -> String {
    format!(
        "export: items {} created {} rejected {} errors {} images {}",
        r.items, r.created, r.rejected, r.errors, r.images_uploaded
    )
}

fn stock_text(r: &StockReport) -> String {
    format!(
        "stock: read {} mapped {} calls {} errors {}",
        r.read, r.mapped, r.calls, r.errors
    )
}

/// One timed run in a fresh world: wall seconds, the counters, what the engines reported.
async fn scenario(
    kind: Scenario,
    limits: Limits,
    orders: usize,
    items: usize,
    latency_ms: u64,
) -> (f64, Counts, String) {
    let w = World::start(items.saturating_sub(SEED_ITEMS)).await;
    let pushed = PushedValues::new();
    // Preparation, limits lifted.
    if matches!(kind, Scenario::Orders | Scenario::Full) {
        control(
            &w.http,
            "POST",
            &format!("{}/_sandbox/shops/{}/orders", w.tiktok_url, w.shop_id),
            json!({"count": orders, "status": "AWAITING_SHIPMENT"}),
        )
        .await;
    }
    if kind == Scenario::Stock {
        let (tiktok, plenty) = (w.tiktok_client(Limits::Lifted).await, w.plenty_client());
        let exporter = w.exporter(&tiktok, &plenty, &pushed);
        let report = exporter.export(&w.shop_id, now()).await.unwrap();
        assert_eq!(report.errors, 0, "{report:?}");
    }
    w.set_limits(limits).await;
    if latency_ms > 0 {
        // Every TikTok call answers this much later (a real API is not on loopback).
        let faults = format!("{}/_sandbox/faults", w.tiktok_url);
        let rule = json!({"kind": "latency", "latency_ms": latency_ms});
        control(&w.http, "POST", &faults, rule).await;
    }
    w.clear_counters().await;
    let (tiktok, plenty) = (w.tiktok_client(limits).await, w.plenty_client());

    let start = Instant::now();
    let summary = match kind {
        Scenario::Orders => {
            let importer = w.importer(&tiktok, &plenty);
            let r = importer.reconcile(&w.shop_id, now(), 3600, 3600, 60).await;
            orders_text(&r.unwrap())
        }
        Scenario::Products => {
            let exporter = w.exporter(&tiktok, &plenty, &pushed);
            export_text(&exporter.export(&w.shop_id, now()).await.unwrap())
        }
        Scenario::Full => {
            let importer = w.importer(&tiktok, &plenty);
            let exporter = w.exporter(&tiktok, &plenty, &pushed);
            let (o, p) = tokio::join!(
                importer.reconcile(&w.shop_id, now(), 3600, 3600, 60),
                exporter.export(&w.shop_id, now()),
            );
            format!("{}; {}", orders_text(&o.unwrap()), export_text(&p.unwrap()))
        }
        Scenario::Stock => {
            let pusher = w.pusher(&tiktok, &plenty, &pushed);
            stock_text(&pusher.push(&w.shop_id, StockMode::Full, now()).await.unwrap())
        }
    };
    let wall = start.elapsed().as_secs_f64();
    (wall, w.counts().await, summary)
}

fn print_row(r: &Row) {
    println!(
        "| {} | {} | ×{} | {} ({}) | {} ({}) | {:.1} | {:.1} | **{:.1}** | **{:.2}×** | {:.2}× |",
        r.scenario,
        r.what,
        r.factor,
        r.tiktok.requests,
        r.tiktok.binding,
        r.plenty.requests,
        r.plenty.binding,
        r.lifted,
        r.floor(),
        r.wall,
        r.wall / r.floor(),
        r.wall / r.window_floor().max(f64::EPSILON),
    );
}

fn run() {
    let scale: f64 = env("BENCH_SCALE", 10.0);
    let stock_scale: f64 = env("BENCH_STOCK_SCALE", 1.0);
    let orders: usize = env("BENCH_ORDERS", 41);
    let items: usize = env("BENCH_ITEMS", 395);
    let full_items: usize = env("BENCH_FULL_ITEMS", 362);
    let stock_items: usize = env("BENCH_STOCK_ITEMS", 700);
    let latency_ms: u64 = env("BENCH_TIKTOK_LATENCY_MS", 0);
    let variations: usize = env("BENCH_MEMORY_VARIATIONS", 100_000);
    let only: Option<Vec<String>> = std::env::var("BENCH_ONLY")
        .ok()
        .map(|s| s.split(',').map(|x| x.trim().to_string()).collect());
    let wanted = |name: &str| only.as_ref().is_none_or(|o| o.iter().any(|x| x == name));

    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let load = || {
        let l = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    };
    println!(
        "full_sync: {} CPUs ({cpu}), load average {} at the start",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load()
    );
    println!(
        "limits ×F: TikTok 50·F req/s per (shop, endpoint); PlentyONE Basic plan (80 reads, 40 writes, \
         POST /rest/orders 30, GET /rest/orders 60 per window) with a 60/F s window; TikTok latency \
         added: {latency_ms} ms"
    );

    let rt = runtime();
    let mut rows = Vec::new();
    for (kind, factor, items) in [
        (Scenario::Orders, scale, items),
        (Scenario::Products, scale, items),
        (Scenario::Full, scale, full_items),
        (Scenario::Stock, stock_scale, stock_items),
    ] {
        if !wanted(kind.name()) {
            continue;
        }
        let (lifted, ..) = rt.block_on(scenario(kind, Limits::Lifted, orders, items, latency_ms));
        let limits = Limits::Scaled(factor);
        let (wall, counts, summary) = rt.block_on(scenario(kind, limits, orders, items, latency_ms));
        let row = Row {
            scenario: kind.name(),
            what: match kind {
                Scenario::Orders => format!("{orders} orders"),
                Scenario::Products | Scenario::Stock => format!("{items} products"),
                Scenario::Full => format!("{orders} orders + {items} products"),
            },
            factor,
            tiktok: counts.tiktok_floor(limits),
            plenty: counts.plenty_floor(limits),
            wall,
            lifted,
            c429: (counts.tiktok_429, counts.plenty_429),
            summary,
        };
        eprintln!(
            "{}: {:.1} s (limits lifted {:.1} s; floor {:.1} s by rate, {:.1} s by windows; TikTok {:?}, PlentyONE {:?}); \
             429s TikTok {} PlentyONE {}; {}; load {}",
            row.scenario,
            row.wall,
            row.lifted,
            row.floor(),
            row.window_floor(),
            row.tiktok,
            row.plenty,
            row.c429.0,
            row.c429.1,
            row.summary,
            load()
        );
        rows.push(row);
    }
    if !rows.is_empty() {
        println!();
        println!(
            "| scenario | size | limits | TikTok requests (busiest endpoint) | PlentyONE requests (binding budget) | \
             limits lifted s | floor s | wall s | wall ÷ floor | wall ÷ last window opens |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|");
        for r in &rows {
            print_row(r);
        }
        println!();
        for r in &rows {
            println!(
                "{}: {}; 429 answers: TikTok {}, PlentyONE {}",
                r.scenario, r.summary, r.c429.0, r.c429.1
            );
        }
        println!("load average {} at the end of the timed runs", load());
    }
    if variations > 0 && wanted("memory") {
        rt.block_on(memory(variations));
    }
}

// ---- peak memory over a big catalogue ------------------------------------------------------------

fn proc_status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Items the stand-in needs for at least `variations` variations: its generator gives item `n`
/// (1 + n % 3) × (1 + n / 3 % 4) variations, 60 per 12 items.
fn items_for(variations: usize) -> usize {
    let per = |n: usize| (1 + n % 3) * (1 + n / 3 % 4);
    let (mut items, mut total) = (0, 0);
    while total < variations {
        total += per(items);
        items += 1;
    }
    items
}

async fn memory(variations: usize) {
    let items = items_for(variations);
    let w = World::start(items.saturating_sub(SEED_ITEMS)).await;
    let total = {
        let request = tts_plenty::client::Request::new("GET /rest/items/variations");
        let first = w.plenty_client().page::<Value>(&request, 1, 1).await.unwrap();
        first.totals_count
    };
    let t0 = Instant::now();
    let child = Proc::spawn(&["memory-pass", &w.tiktok_url, &w.plenty_url]);
    let report = child.first_line.clone();
    drop(child);
    let secs = t0.elapsed().as_secs_f64();

    // The catalogue as the export reads it (its relations), page by page: its size as JSON.
    let plenty = w.plenty_client();
    let request = tts_plenty::client::Request::new("GET /rest/items/variations")
        .query("with", VARIATION_WITH.join(","));
    let (mut bytes, mut page) = (0usize, 1u32);
    loop {
        let raw = plenty
            .call_raw(&request.clone().query("page", page).query("itemsPerPage", 250))
            .await
            .unwrap();
        bytes += raw.len();
        let v: Value = serde_json::from_slice(&raw).unwrap();
        if v["isLastPage"].as_bool().unwrap_or(true) {
            break;
        }
        page += 1;
    }
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!();
    println!(
        "memory: {total} variations in {} items, catalogue {:.1} MiB as JSON ({} pages of 250 with the export's relations); \
         both stand-ins in their own processes; {secs:.0} s",
        report["items"],
        bytes as f64 / 1_048_576.0,
        page
    );
    println!("| phase | peak RSS (VmHWM) MiB | what it did |");
    println!("|---|---|---|");
    println!(
        "| started (runtime, store, clients) | {:.1} | |",
        mib(report["hwm_start_kib"].as_u64().unwrap())
    );
    println!(
        "| after the product export | {:.1} | {} ({:.0} s) |",
        mib(report["hwm_export_kib"].as_u64().unwrap()),
        report["export"].as_str().unwrap(),
        report["export_secs"].as_f64().unwrap()
    );
    println!(
        "| after the full stock pass | {:.1} | {} ({:.0} s) |",
        mib(report["hwm_stock_kib"].as_u64().unwrap()),
        report["stock"].as_str().unwrap(),
        report["stock_secs"].as_f64().unwrap()
    );
}

/// The child of [`memory`]: one export pass and one full stock pass with the limits lifted; prints
/// one JSON line with its peak RSS after each.
async fn memory_pass(tiktok_url: &str, plenty_url: &str) {
    let w = World::connect(tiktok_url.to_string(), plenty_url.to_string(), Vec::new()).await;
    let (tiktok, plenty) = (w.tiktok_client(Limits::Lifted).await, w.plenty_client());
    let pushed = PushedValues::new();
    let hwm_start = proc_status_kib("VmHWM:");

    let t = Instant::now();
    let export = w
        .exporter(&tiktok, &plenty, &pushed)
        .export(&w.shop_id, now())
        .await
        .unwrap();
    let export_secs = t.elapsed().as_secs_f64();
    let hwm_export = proc_status_kib("VmHWM:");

    let t = Instant::now();
    let stock = w
        .pusher(&tiktok, &plenty, &pushed)
        .push(&w.shop_id, StockMode::Full, now())
        .await
        .unwrap();
    let stock_secs = t.elapsed().as_secs_f64();
    let hwm_stock = proc_status_kib("VmHWM:");
    println!(
        "{}",
        json!({
            "items": export.items,
            "hwm_start_kib": hwm_start, "hwm_export_kib": hwm_export, "hwm_stock_kib": hwm_stock,
            "export": export_text(&export), "export_secs": export_secs,
            "stock": stock_text(&stock), "stock_secs": stock_secs,
        })
    );
    std::io::stdout().flush().unwrap();
    // Wait until the parent has read the line (it drops us then).
    let _ = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    })
    .await;
    std::process::exit(0);
}
