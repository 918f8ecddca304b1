//! Start-up configuration: flags, `TTS_SANDBOX_*` environment variables, an optional JSON file.
//! Every value has a fixed default so that tests are reproducible.

use serde_json::Value;

/// The app seeded at start (and printed on the first stdout line).
#[derive(Debug, Clone)]
pub struct AppSeed {
    pub app_key: String,
    pub app_secret: String,
    pub service_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub port: u16,
    pub app: AppSeed,
    /// Extra seed (same schema as `POST /_sandbox/seed`), from `--config file.json`.
    pub seed: Option<Value>,
    /// Requests per second per endpoint per (app, shop); `None` = unlimited.
    pub rate_limit: Option<u32>,
    /// GCRA burst; `None` = a tenth of the rate (at least 1).
    pub rate_burst: Option<u32>,
    /// Send `Retry-After` (seconds) on 429 — not documented by TikTok, so off by default.
    pub retry_after: bool,
    /// Divides the webhook retry schedule and the auth-code lifetime (1000 = 2 min becomes 120 ms).
    pub time_scale: f64,
    pub auth_code_ttl_secs: i64,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    /// Delay between product create/edit and its audit result.
    pub audit_delay_ms: u64,
    /// Products whose title contains this (case-sensitive) fail the audit.
    pub audit_reject_keyword: String,
    /// Show an HTML approve page on `/open/authorize` instead of redirecting at once.
    pub approve_page: bool,
    /// Default webhook URL for every shop/event without a subscription made through the events API.
    pub webhook_url: Option<String>,
    pub webhook_duplicates: bool,
    /// Random extra delay (0..N ms) per delivery so deliveries can arrive out of order.
    pub webhook_shuffle_ms: u64,
    /// Seed for the random order generator.
    pub random_seed: u64,
    /// Random orders generated per seeded shop at start.
    pub initial_orders: usize,
    /// Also accept a sign computed WITHOUT the body when the body is an empty JSON object/array (the
    /// official Node SDK does not sign `{}`; whether TikTok accepts that is unverified). Off = strict.
    pub lenient_empty_body: bool,
    /// ON_HOLD orders move to AWAITING_SHIPMENT by themselves after this many seconds (TikTok: about an
    /// hour; divided by `time_scale`). 0 = only when advanced through the control API.
    pub on_hold_secs: u64,
    /// Hold every request and answer to the API contract and record divergences (`GET /_sandbox/contract`).
    pub contract_check: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            port: 0,
            app: AppSeed {
                app_key: "6sbx0a1b2c3d4".into(),
                app_secret: "sandbox0secret0123456789abcdef0123456789".into(),
                service_id: "7300000000000000001".into(),
                redirect_uri: "http://127.0.0.1:3000/api/tiktok/callback".into(),
                scopes: crate::state::apps::ALL_SCOPES
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            },
            seed: None,
            rate_limit: Some(50),
            rate_burst: None,
            retry_after: false,
            time_scale: 1.0,
            auth_code_ttl_secs: 30 * 60,
            access_token_ttl_secs: 7 * 24 * 3600,
            refresh_token_ttl_secs: 365 * 24 * 3600,
            audit_delay_ms: 1000,
            audit_reject_keyword: "REJECT".into(),
            approve_page: false,
            webhook_url: None,
            webhook_duplicates: false,
            webhook_shuffle_ms: 0,
            random_seed: 42,
            initial_orders: 0,
            lenient_empty_body: false,
            on_hold_secs: 0,
            contract_check: true,
        }
    }
}

pub const USAGE: &str = "\
tts-sandbox: a local TikTok Shop stand-in
Flags (each also as env TTS_SANDBOX_<NAME>, e.g. --rate-limit -> TTS_SANDBOX_RATE_LIMIT):
  --port N                 listen port on 127.0.0.1 (0 = any free port; default 0)
  --app-key K --app-secret S --service-id ID --redirect-uri URL   seeded app
  --scopes a,b,c           scopes granted to the seeded app (default: all)
  --config FILE.json       extra seed (apps, sellers, shops, products, orders), same schema as POST /_sandbox/seed
  --rate-limit N|off       requests/s per endpoint per (app, shop) (default 50)
  --rate-limit-burst N     GCRA burst (default = rate/10, at least 1)
  --retry-after            send Retry-After on 429 (not documented by TikTok)
  --time-scale F           compress webhook retries and auth-code lifetime by F (default 1)
  --auth-code-ttl SECS     (default 1800)   --access-token-ttl SECS (default 604800)
  --refresh-token-ttl SECS (default 31536000)
  --audit-delay-ms MS      product audit delay (default 1000)
  --audit-reject-keyword W titles containing W fail the audit (default REJECT)
  --approve-page           show an approve page instead of auto-consent
  --webhook-url URL        default webhook receiver for every shop and event
  --webhook-duplicates     deliver every webhook twice
  --webhook-shuffle-ms MS  random delay 0..MS per delivery (reorders deliveries)
  --random-seed N          seed of the random order generator (default 42)
  --orders N               random orders created per seeded shop at start (default 0)
  --lenient-empty-body     also accept signs that left out an empty JSON body ({} or [])
  --on-hold-secs N         ON_HOLD orders release themselves after N s (scaled; default 0 = manual)
  --contract-check on|off  hold requests and answers to the API contract, GET /_sandbox/contract (default on)
";

fn lookup(args: &[String], name: &str) -> Option<String> {
    let flag = format!("--{name}");
    let prefix = format!("--{name}=");
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if *a == flag {
            return Some(match it.clone().next() {
                Some(v) if !v.starts_with("--") => v.clone(),
                _ => "true".into(),
            });
        }
        if let Some(v) = a.strip_prefix(&prefix) {
            return Some(v.to_string());
        }
    }
    let env = format!("TTS_SANDBOX_{}", name.to_ascii_uppercase().replace('-', "_"));
    std::env::var(env).ok()
}

fn parse<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, String> {
    v.parse()
        .map_err(|_| format!("invalid value for --{name}: {v:?}"))
}

fn truthy(v: &str) -> bool {
    !matches!(v, "0" | "false" | "no" | "off" | "")
}

impl Config {
    pub fn from_args(args: &[String]) -> Result<Self, String> {
        const KNOWN: &[&str] = &[
            "port",
            "app-key",
            "app-secret",
            "service-id",
            "redirect-uri",
            "scopes",
            "config",
            "rate-limit",
            "rate-limit-burst",
            "retry-after",
            "time-scale",
            "auth-code-ttl",
            "access-token-ttl",
            "refresh-token-ttl",
            "audit-delay-ms",
            "audit-reject-keyword",
            "approve-page",
            "webhook-url",
            "webhook-duplicates",
            "webhook-shuffle-ms",
            "random-seed",
            "orders",
            "lenient-empty-body",
            "on-hold-secs",
            "contract-check",
            "help",
        ];
        for a in args {
            if let Some(name) = a.strip_prefix("--") {
                let name = name.split('=').next().unwrap_or(name);
                if !KNOWN.contains(&name) {
                    return Err(format!("unknown flag --{name}\n{USAGE}"));
                }
            }
        }
        let mut c = Config::default();
        let get = |n: &str| lookup(args, n);
        if let Some(v) = get("port") {
            c.port = parse("port", &v)?;
        }
        if let Some(v) = get("app-key") {
            c.app.app_key = v;
        }
        if let Some(v) = get("app-secret") {
            c.app.app_secret = v;
        }
        if let Some(v) = get("service-id") {
            c.app.service_id = v;
        }
        if let Some(v) = get("redirect-uri") {
            c.app.redirect_uri = v;
        }
        if let Some(v) = get("scopes") {
            c.app.scopes = v
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
        }
        if let Some(path) = get("config") {
            let text = std::fs::read_to_string(&path).map_err(|e| format!("--config {path}: {e}"))?;
            c.seed = Some(serde_json::from_str(&text).map_err(|e| format!("--config {path}: {e}"))?);
        }
        if let Some(v) = get("rate-limit") {
            c.rate_limit = if matches!(v.as_str(), "off" | "0" | "none") {
                None
            } else {
                Some(parse("rate-limit", &v)?)
            };
        }
        if let Some(v) = get("rate-limit-burst") {
            c.rate_burst = Some(parse("rate-limit-burst", &v)?);
        }
        if let Some(v) = get("retry-after") {
            c.retry_after = truthy(&v);
        }
        if let Some(v) = get("time-scale") {
            c.time_scale = parse("time-scale", &v)?;
            if c.time_scale <= 0.0 {
                return Err("--time-scale must be > 0".into());
            }
        }
        if let Some(v) = get("auth-code-ttl") {
            c.auth_code_ttl_secs = parse("auth-code-ttl", &v)?;
        }
        if let Some(v) = get("access-token-ttl") {
            c.access_token_ttl_secs = parse("access-token-ttl", &v)?;
        }
        if let Some(v) = get("refresh-token-ttl") {
            c.refresh_token_ttl_secs = parse("refresh-token-ttl", &v)?;
        }
        if let Some(v) = get("audit-delay-ms") {
            c.audit_delay_ms = parse("audit-delay-ms", &v)?;
        }
        if let Some(v) = get("audit-reject-keyword") {
            c.audit_reject_keyword = v;
        }
        if let Some(v) = get("approve-page") {
            c.approve_page = truthy(&v);
        }
        if let Some(v) = get("webhook-url") {
            c.webhook_url = Some(v);
        }
        if let Some(v) = get("webhook-duplicates") {
            c.webhook_duplicates = truthy(&v);
        }
        if let Some(v) = get("webhook-shuffle-ms") {
            c.webhook_shuffle_ms = parse("webhook-shuffle-ms", &v)?;
        }
        if let Some(v) = get("random-seed") {
            c.random_seed = parse("random-seed", &v)?;
        }
        if let Some(v) = get("on-hold-secs") {
            c.on_hold_secs = parse("on-hold-secs", &v)?;
        }
        if let Some(v) = get("lenient-empty-body") {
            c.lenient_empty_body = truthy(&v);
        }
        if let Some(v) = get("contract-check") {
            c.contract_check = truthy(&v);
        }
        if let Some(v) = get("orders") {
            c.initial_orders = parse("orders", &v)?;
        }
        Ok(c)
    }
}
