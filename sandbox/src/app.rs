//! The sandbox: shared state, the router, and the API gateway that applies TikTok's protocol checks in
//! order (route → app_key/sign/timestamp → signature → token → scope → shop_cipher → rate limit → faults)
//! before any handler runs.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::config::Config;
use crate::envelope::{ApiError, codes, envelope_response, ok, request_id};
use crate::faults::{FaultKind, Faults};
use crate::ratelimit::RateLimit;
use crate::routes::{OPS, Req, RouteMatch, route};
use crate::server::DropConnection;
use crate::signature;
use crate::state::{State, event_name};
use crate::stats::{Outcome, Stats};
use crate::webhooks::{Target, WebhookConfig, Webhooks};

/// Counter slots after the operation table.
pub mod slots {
    pub const UNMATCHED: usize = crate::routes::OPS_LEN;
    pub const AUTHORIZE: usize = UNMATCHED + 1;
    pub const TOKEN_GET: usize = UNMATCHED + 2;
    pub const TOKEN_REFRESH: usize = UNMATCHED + 3;
}

pub struct Sandbox {
    pub config: Config,
    pub base_url: String,
    pub state: Mutex<State>,
    pub ratelimit: RateLimit,
    pub retry_after: AtomicBool,
    pub faults: Faults,
    pub stats: Stats,
    pub webhooks: Arc<Webhooks>,
    pub approve_page: AtomicBool,
    pub audit_delay_ms: AtomicU64,
    /// Every request and answer held to the API contract (`GET /_sandbox/contract`).
    pub contract: crate::contract::ContractCheck,
}

/// Allowed clock skew (spec §1.1: [now − 5 min, now + 30 s]).
const TS_PAST: i64 = 300;
const TS_FUTURE: i64 = 30;

impl Sandbox {
    pub fn new(config: Config, base_url: String) -> Arc<Self> {
        let mut names: Vec<String> = OPS.iter().map(|o| o.name()).collect();
        names.extend(
            [
                "(unknown path)",
                "GET /open/authorize",
                "GET /api/v2/token/get",
                "GET /api/v2/token/refresh",
            ]
            .map(String::from),
        );
        let webhooks = Webhooks::new(WebhookConfig {
            default_url: config.webhook_url.clone(),
            duplicates: config.webhook_duplicates,
            shuffle_ms: config.webhook_shuffle_ms,
            time_scale: config.time_scale,
            timeout_ms: crate::webhooks::DEFAULT_TIMEOUT_MS,
        });
        Arc::new(Sandbox {
            state: Mutex::new(State::new(&config)),
            ratelimit: RateLimit::new(config.rate_limit, config.rate_burst),
            retry_after: AtomicBool::new(config.retry_after),
            faults: Faults::new(),
            stats: Stats::new(names),
            webhooks: Arc::new(webhooks),
            approve_page: AtomicBool::new(config.approve_page),
            audit_delay_ms: AtomicU64::new(config.audit_delay_ms),
            contract: crate::contract::ContractCheck::new(config.contract_check),
            base_url,
            config,
        })
    }

    /// Runs `f` on the state, then (unlocked) delivers the webhooks and schedules the audits it queued.
    pub fn with_state<R>(self: &Arc<Self>, f: impl FnOnce(&mut State) -> R) -> R {
        let mut st = self.state.lock().expect("state");
        st.generation += 1;
        let r = f(&mut st);
        self.flush(st);
        r
    }

    /// Non-generic tail of `with_state` (also keeps the audit timer from instantiating itself recursively).
    fn flush(self: &Arc<Self>, mut st: std::sync::MutexGuard<'_, State>) {
        let events = std::mem::take(&mut st.events);
        let audits = std::mem::take(&mut st.audits);
        let on_hold = std::mem::take(&mut st.on_hold_timers);
        let on_hold_ms = st.settings.on_hold_ms;
        let mut deliveries = Vec::new();
        if !events.is_empty() {
            let default_url = self
                .webhooks
                .config
                .read()
                .expect("webhook config")
                .default_url
                .clone();
            for ev in events {
                self.contract.webhook(ev.kind, &ev.data);
                let Some(seller) = st.seller_of_shop(&ev.shop_id) else {
                    continue;
                };
                let apps: Vec<String> = match &ev.only_app {
                    Some(a) => vec![a.clone()],
                    None => {
                        let mut v: Vec<String> = st
                            .authorizations
                            .iter()
                            .filter(|(_, o)| *o == seller.open_id)
                            .map(|(a, _)| a.clone())
                            .collect();
                        v.sort();
                        v
                    }
                };
                let targets: Vec<Target> = apps
                    .iter()
                    .filter_map(|a| {
                        let app = st.apps.get(a)?;
                        let key = (a.clone(), ev.shop_id.clone(), event_name(ev.kind).to_string());
                        let url = st
                            .subscriptions
                            .get(&key)
                            .map(|s| s.address.clone())
                            .or_else(|| default_url.clone())?;
                        Some(Target {
                            app_key: a.clone(),
                            app_secret: app.app_secret.clone(),
                            url,
                        })
                    })
                    .collect();
                if !targets.is_empty() {
                    deliveries.push((targets, ev));
                }
            }
        }
        drop(st);
        for (targets, ev) in deliveries {
            self.webhooks.dispatch(targets, ev.kind, &ev.shop_id, &ev.data);
        }
        for (id, version) in audits {
            let me = self.clone();
            let delay = self.audit_delay_ms.load(Relaxed);
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(delay)).await;
                me.run_audit(&id, version);
            });
        }
        for order_id in on_hold {
            let me = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(on_hold_ms)).await;
                me.run_release(&order_id);
            });
        }
    }

    fn run_release(self: &Arc<Self>, order_id: &str) {
        let mut st = self.state.lock().expect("state");
        st.generation += 1;
        st.release_on_hold(order_id, crate::clock::now_secs());
        self.flush(st);
    }

    fn run_audit(self: &Arc<Self>, id: &str, version: u64) {
        let mut st = self.state.lock().expect("state");
        st.generation += 1;
        st.complete_audit(id, version, crate::clock::now_secs());
        self.flush(st);
    }

    /// The first stdout line and `GET /_sandbox/info`.
    pub fn info(&self) -> serde_json::Value {
        let st = self.state.lock().expect("state");
        let mut shops: Vec<_> = Vec::new();
        for (seller, _) in crate::state::apps::default_sellers() {
            for id in &seller.shops {
                if let Some(s) = st.shops.get(id) {
                    let mut j = s.to_json();
                    j["open_id"] = json!(seller.open_id);
                    shops.push(j);
                }
            }
        }
        json!({
            "base_url": self.base_url,
            "app_key": self.config.app.app_key,
            "app_secret": self.config.app.app_secret,
            "service_id": self.config.app.service_id,
            "redirect_uri": self.config.app.redirect_uri,
            "open_id": crate::state::apps::DEFAULT_OPEN_ID,
            "shops": shops,
        })
    }
}

pub fn router(app: Arc<Sandbox>) -> Router {
    Router::new()
        .route("/open/authorize", get(crate::auth::authorize))
        .route("/open/authorize/decision", get(crate::auth::authorize_decision))
        .route("/api/v2/token/get", get(crate::auth::token_get))
        .route("/api/v2/token/refresh", get(crate::auth::token_refresh))
        .nest("/_sandbox", crate::control::router())
        .fallback(gateway)
        .with_state(app)
}

enum Data {
    Value(serde_json::Value),
    Raw(String),
}

struct Authed {
    app_key: String,
    open_id: String,
    token: String,
    shop_id: Option<String>,
}

/// Every TikTok API request enters here.
async fn gateway(
    AxState(app): AxState<Arc<Sandbox>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Run to the end in its own task, as a real server does: a client that times out or hangs up
    // does not cancel a write (or its fault bookkeeping) halfway.
    let task = {
        let (method, uri) = (method.clone(), uri.clone());
        tokio::spawn(async move { gateway_inner(&app, &method, &uri, &headers, body).await })
    };
    let resp = task.await.unwrap_or_else(|_| {
        envelope_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            codes::INTERNAL,
            "sandbox request task failed",
            None,
        )
    });
    // Path only: the query holds the sign and app_key, the headers the token.
    tracing::debug!(%method, path = uri.path(), status = resp.status().as_u16(), "api request");
    resp
}

async fn gateway_inner(
    app: &Arc<Sandbox>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let (op_idx, params) = match route(method.as_str(), path) {
        RouteMatch::Found(i, p) => (i, p),
        RouteMatch::WrongMethod => {
            app.stats.record(slots::UNMATCHED, Outcome::Error);
            return ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                codes::INVALID_METHOD,
                format!("Invalid HTTP method {method} for path {path}."),
            )
            .into_response();
        }
        RouteMatch::NotFound => {
            app.stats.record(slots::UNMATCHED, Outcome::Error);
            let hint = crate::routes::other_version_hint(path).unwrap_or_default();
            return ApiError::new(
                StatusCode::NOT_FOUND,
                codes::INVALID_PATH,
                format!("Invalid path {path}.{hint}"),
            )
            .into_response();
        }
    };
    let op = &OPS[op_idx];
    let query: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok());
    let now = crate::clock::now_secs();

    let authed = match authenticate(app, op, path, &query, headers, content_type, &body, now) {
        Ok(a) => a,
        Err(e) => {
            app.stats.record(op_idx, Outcome::Error);
            return e.into_response();
        }
    };
    app.contract.request(op_idx, &query, content_type, &body);

    // Rate limit per endpoint per (app, shop); endpoints without a shop count per seller.
    let bucket = authed.shop_id.clone().unwrap_or_else(|| authed.open_id.clone());
    if let Err(wait) = app.ratelimit.check((authed.app_key.clone(), bucket, op_idx)) {
        app.stats.record(op_idx, Outcome::RateLimited);
        return rate_limited(app, Some(wait));
    }

    let malformed = match fault_prelude(app, op.method, op.path, path, op_idx, Some(&authed.token)).await {
        Ok(m) => m,
        Err(resp) => return resp,
    };

    let base_url = app.base_url.clone();
    let run = |st: &mut State| {
        let req = Req {
            app_key: &authed.app_key,
            open_id: &authed.open_id,
            shop_id: authed.shop_id.as_deref(),
            params,
            query: &query,
            body: &body,
            content_type,
            now,
            op,
            base_url: &base_url,
        };
        match op.raw {
            Some(raw) if !malformed => raw(&req, st).map(Data::Raw),
            _ => (op.handler)(&req, st).map(Data::Value),
        }
    };
    // Read-only operations skip the generation bump so cached JSON stays valid.
    let result = if op.read_only() {
        run(&mut app.state.lock().expect("state"))
    } else {
        app.with_state(run)
    };
    let result = match result {
        Ok(Data::Raw(raw)) => {
            app.contract.response_raw(op_idx, &raw);
            app.stats.record(op_idx, Outcome::Ok);
            return crate::envelope::ok_raw(&raw);
        }
        Ok(Data::Value(v)) => {
            app.contract.response(op_idx, &v);
            Ok(v)
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(data) if malformed => {
            app.stats.record(op_idx, Outcome::Fault);
            malformed_response(data)
        }
        Ok(data) => {
            app.stats.record(op_idx, Outcome::Ok);
            ok(data)
        }
        // A corrupting proxy cuts error answers too; the fault is counted either way.
        Err(e) if malformed => {
            app.stats.record(op_idx, Outcome::Fault);
            cut_in_half(json!({ "code": e.code, "message": e.message, "request_id": request_id() }))
        }
        Err(e) => {
            app.stats.record(op_idx, Outcome::Error);
            e.into_response()
        }
    }
}

/// Applies the fault plan for one request: sleeps for injected latency, answers terminal faults itself
/// (`Err(response)`), or returns whether the response must be malformed. `token` is the caller's access
/// token (API calls only; `revoke_token` does nothing without one).
pub async fn fault_prelude(
    app: &Sandbox,
    method: &str,
    template: &str,
    path: &str,
    slot: usize,
    token: Option<&str>,
) -> Result<bool, Response> {
    let plan = app.faults.plan(method, template, path);
    if plan.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(plan.latency_ms)).await;
    }
    match plan.terminal {
        Some((FaultKind::Drop, _)) => {
            app.stats.record(slot, Outcome::Fault);
            let mut r = StatusCode::OK.into_response();
            r.extensions_mut().insert(DropConnection);
            Err(r)
        }
        Some((FaultKind::ServerError, status)) => {
            app.stats.record(slot, Outcome::Fault);
            let st = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            Err(envelope_response(
                st,
                codes::INTERNAL,
                "Internal error (injected by the sandbox). Please retry.",
                None,
            ))
        }
        Some((FaultKind::RateLimit, _)) => {
            app.stats.record(slot, Outcome::Fault);
            app.stats.record_storm(slot);
            Err(rate_limited(app, None))
        }
        Some((FaultKind::RevokeToken, _)) => {
            let Some(token) = token else { return Ok(false) };
            app.stats.record(slot, Outcome::Fault);
            if let Some(t) = app.state.lock().expect("state").tokens.get_mut(token) {
                t.revoked = true;
            }
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                codes::TOKEN_REVOKED,
                "access token is invalid; detail: your token has been deauthorized",
            )
            .into_response())
        }
        Some((FaultKind::MalformedJson, _)) => Ok(true),
        Some((FaultKind::Latency, _)) | None => Ok(false),
    }
}

/// HTTP 200 whose JSON body is cut in half (the `malformed_json` fault).
pub fn malformed_response(data: serde_json::Value) -> Response {
    cut_in_half(json!({ "code": 0, "message": "Success", "request_id": request_id(), "data": data }))
}

/// HTTP 200 with the first half of `envelope`'s JSON, whatever the answer would have been.
fn cut_in_half(envelope: serde_json::Value) -> Response {
    let full = serde_json::to_string(&envelope).expect("JSON values serialize");
    let mut r = (StatusCode::OK, full[..full.len() / 2].to_string()).into_response();
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r
}

fn rate_limited(app: &Sandbox, wait: Option<Duration>) -> Response {
    let (rate, _) = app.ratelimit.current().unwrap_or((0, 0));
    let mut r = envelope_response(
        StatusCode::TOO_MANY_REQUESTS,
        codes::RATE_LIMITED,
        &format!("Too many requests. The limit is {rate} requests per second per API per shop."),
        None,
    );
    if app.retry_after.load(Relaxed) {
        let secs = wait.map(|w| w.as_secs_f64().ceil().max(1.0) as u64).unwrap_or(1);
        r.headers_mut().insert("retry-after", HeaderValue::from(secs));
    }
    r
}

#[allow(clippy::too_many_arguments)]
fn authenticate(
    app: &Sandbox,
    op: &crate::routes::Op,
    path: &str,
    query: &[(String, String)],
    headers: &HeaderMap,
    content_type: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<Authed, ApiError> {
    let q = |k: &str| query.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let app_key = q("app_key")
        .ok_or_else(|| ApiError::invalid_param("Invalid credentials. The app_key parameter is missing."))?;
    let st = app.state.lock().expect("state");
    let a = st.apps.get(app_key).ok_or_else(|| {
        ApiError::invalid_param(format!(
            "Invalid credentials. The app_key {app_key:?} is invalid."
        ))
    })?;
    let sign = q("sign")
        .ok_or_else(|| ApiError::invalid_param("Invalid credentials. The sign parameter is missing."))?;
    let ts_raw = q("timestamp")
        .ok_or_else(|| ApiError::invalid_param("Invalid timestamp. The timestamp parameter is missing."))?;
    let ts: i64 = ts_raw.parse().map_err(|_| {
        ApiError::invalid_param(format!("Invalid timestamp {ts_raw:?}: expected Unix seconds."))
    })?;
    if ts < now - TS_PAST {
        return Err(ApiError::invalid_param(format!(
            "Invalid timestamp. The timestamp {ts} is more than 5 minutes in the past (server time {now})."
        )));
    }
    if ts > now + TS_FUTURE {
        return Err(ApiError::invalid_param(format!(
            "Invalid timestamp. The timestamp {ts} is more than 30 seconds in the future (server time {now})."
        )));
    }
    if !body.is_empty()
        && !signature::is_multipart(content_type)
        && !content_type.is_some_and(|c| {
            c.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
        })
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::BODY_TYPE,
            "The request body must be application/json or multipart/form-data.",
        ));
    }
    let expected = signature::sign(&a.app_secret, path, query, body, content_type, false);
    let empty_json = matches!(std::str::from_utf8(body).map(str::trim), Ok("{}") | Ok("[]"));
    let lenient_ok = || {
        app.config.lenient_empty_body
            && empty_json
            && signature::verify(
                &signature::sign(&a.app_secret, path, query, b"", content_type, false),
                sign,
            )
    };
    if !signature::verify(&expected, sign) && !lenient_ok() {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            codes::INVALID_SIGN,
            "Invalid credentials. The sign is invalid.",
        ));
    }
    let token_header = headers.get("x-tts-access-token").and_then(|v| v.to_str().ok());
    let token = crate::auth::check_token(&st, app_key, token_header, now)?;
    if !token.scopes.iter().any(|s| s == op.scope) || !a.scopes.iter().any(|s| s == op.scope) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            codes::SCOPE_DENIED,
            format!(
                "Access denied. The app has not been granted the scope {} needed by {} {}.",
                op.scope, op.method, op.path
            ),
        ));
    }
    let seller = st.sellers.get(&token.open_id);
    let shop_id = match q("shop_cipher") {
        Some(_) if !op.cipher => {
            return Err(ApiError::bad_param(format!(
                "Unexpected identifier shop_cipher. {} {} does not take shop_cipher.",
                op.method, op.path
            )));
        }
        Some(cipher) => {
            let id = st
                .cipher_index
                .get(cipher)
                .ok_or_else(|| ApiError::bad_param(format!("Invalid shop_cipher {cipher:?}.")))?;
            if !seller.is_some_and(|s| s.shops.contains(id)) {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    codes::TOKEN_SHOP_MISMATCH,
                    "The x-tts-access-token is not tied to the shop of this shop_cipher.",
                ));
            }
            Some(id.clone())
        }
        None if op.cipher => {
            // Optional for local shops, required for cross-border ones (spec §1.1).
            let shops: Vec<_> = seller
                .map(|s| s.shops.iter().filter_map(|id| st.shops.get(id)).collect())
                .unwrap_or_default();
            match shops.as_slice() {
                [only] if !only.is_cross_border() => Some(only.id.clone()),
                list if !list.is_empty() && list.iter().all(|s| !s.is_cross_border()) => {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        codes::CIPHER_REQUIRED,
                        "shop_cipher is required: the seller has several shops.",
                    ));
                }
                _ => {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        codes::CIPHER_REQUIRED,
                        "shop_cipher is required for cross-border shops.",
                    ));
                }
            }
        }
        None => None,
    };
    Ok(Authed {
        app_key: app_key.to_string(),
        open_id: token.open_id.clone(),
        token: token.access_token.clone(),
        shop_id,
    })
}
