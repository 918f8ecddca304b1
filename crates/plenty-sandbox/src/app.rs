//! The stand-in's shared state, its router, the login routes and the gateway every REST route passes:
//! token → rate limits (read/write, short/long, per route) → faults → handler → `X-Plenty-*` headers →
//! counters.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::config::Config;
use crate::faults::{FaultKind, Faults};
use crate::limits::{Class, Limits, write_headers};
use crate::server::DropConnection;
use crate::sessions::{LoginError, Sessions};
use crate::stats::{Outcome, Stats};
use crate::store::Store;

pub struct PlentySandbox {
    pub config: Config,
    base_url: RwLock<String>,
    pub store: Mutex<Store>,
    pub sessions: Mutex<Sessions>,
    pub limits: Mutex<Limits>,
    pub faults: Faults,
    pub stats: Stats,
}

pub const LOGIN_ROUTE: &str = "POST /rest/login";
pub const REFRESH_ROUTE: &str = "POST /rest/login/refresh";

impl PlentySandbox {
    pub fn new(config: Config, base_url: impl Into<String>) -> Arc<Self> {
        let now = crate::clock::now_secs();
        Arc::new(PlentySandbox {
            store: Mutex::new(Store::new(12 + config.extra_items, now)),
            sessions: Mutex::new(Sessions::new(config.session_cap, config.token_ttl)),
            limits: Mutex::new(Limits::new(
                config.plan.clone(),
                config.window,
                config.long_window,
                &config.route_limits,
            )),
            faults: Faults::default(),
            stats: Stats::default(),
            base_url: RwLock::new(base_url.into()),
            config,
        })
    }

    pub fn base_url(&self) -> String {
        self.base_url.read().expect("base url").clone()
    }

    /// Where the stand-in is reachable (a host mounting the router sets its own origin).
    pub fn set_base_url(&self, url: impl Into<String>) {
        *self.base_url.write().expect("base url") = url.into();
    }

    /// The first stdout line and `GET /_plenty/info`.
    pub fn info(&self) -> Value {
        let limits = self.limits.lock().expect("limits");
        json!({
            "base_url": self.base_url(),
            "username": self.config.username,
            "password": self.config.password,
            "plan": limits.plan,
            "window_secs": limits.window.as_secs_f64(),
            "long_window_secs": limits.long_window.as_secs_f64(),
            "session_cap": self.sessions.lock().expect("sessions").cap,
            "control": format!("{}/_plenty", self.base_url()),
        })
    }

    /// Back to the seed: catalogue and orders, sessions, windows, faults, counters.
    pub fn reset(&self) {
        *self.store.lock().expect("store") =
            Store::new(12 + self.config.extra_items, crate::clock::now_secs());
        self.sessions.lock().expect("sessions").clear();
        self.limits.lock().expect("limits").clear_windows();
        self.faults.remove(None);
        self.stats.reset();
    }
}

/// The whole stand-in: `/rest/...` and the control API `/_plenty/...`.
pub fn router(app: Arc<PlentySandbox>) -> Router {
    let api = crate::rest::routes().route_layer(axum::middleware::from_fn_with_state(app.clone(), gateway));
    Router::new()
        .route("/rest/login", post(login))
        .route("/rest/login/refresh", post(refresh))
        .merge(api)
        .nest("/_plenty", crate::control::router())
        .with_state(app)
}

pub fn json_response(status: u16, body: Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        axum::Json(body),
    )
        .into_response()
}

fn error_body(code: u16, message: &str) -> Value {
    json!({ "error": { "code": code, "message": message } })
}

/// `{username, password}` as JSON or a form.
fn fields(headers: &HeaderMap, body: &Bytes) -> Value {
    let is_form = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        let map: serde_json::Map<String, Value> = form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect();
        Value::Object(map)
    } else {
        serde_json::from_slice(body).unwrap_or(Value::Null)
    }
}

fn token_answer(s: &crate::sessions::Session, ttl: Duration) -> Value {
    json!({
        "token_type": "Bearer",
        "expires_in": ttl.as_secs_f64().ceil() as u64,
        "access_token": s.access_token,
        "refresh_token": s.refresh_token,
    })
}

async fn login(State(app): State<Arc<PlentySandbox>>, headers: HeaderMap, body: Bytes) -> Response {
    let f = fields(&headers, &body);
    let (user, password) = (f["username"].as_str(), f["password"].as_str());
    if user.is_none() || password.is_none() {
        app.stats.record(LOGIN_ROUTE, Outcome::Error);
        return json_response(
            422,
            json!({"message": "The given data was invalid.", "validation_errors": {"username": ["The username and password fields are required."]}}),
        );
    }
    if user != Some(app.config.username.as_str()) || password != Some(app.config.password.as_str()) {
        app.stats.record(LOGIN_ROUTE, Outcome::Error);
        return json_response(401, error_body(401, "invalid_credentials"));
    }
    let mut sessions = app.sessions.lock().expect("sessions");
    match sessions.login(Instant::now()) {
        Ok(s) => {
            app.stats.record(LOGIN_ROUTE, Outcome::Ok);
            json_response(200, token_answer(&s, sessions.ttl))
        }
        Err(LoginError::TooManySessions) => {
            app.stats.record(LOGIN_ROUTE, Outcome::RateLimited);
            let mut r = json_response(
                429,
                json!({"error": "too_many_concurrent_sessions", "message": format!("At most {} back-end sessions may be logged in at once.", sessions.cap)}),
            );
            r.headers_mut()
                .insert("retry-after", "60".parse().expect("header"));
            r
        }
    }
}

async fn refresh(State(app): State<Arc<PlentySandbox>>, headers: HeaderMap, body: Bytes) -> Response {
    let f = fields(&headers, &body);
    let token = f["refresh_token"]
        .as_str()
        .or_else(|| f["refreshToken"].as_str())
        .unwrap_or("");
    let mut sessions = app.sessions.lock().expect("sessions");
    match sessions.refresh(token, Instant::now()) {
        Some(s) => {
            app.stats.record(REFRESH_ROUTE, Outcome::Ok);
            json_response(200, token_answer(&s, sessions.ttl))
        }
        None => {
            app.stats.record(REFRESH_ROUTE, Outcome::Error);
            json_response(401, error_body(401, "invalid_refresh_token"))
        }
    }
}

/// Every `/rest/...` route except login passes here. The request runs to its end in its own task,
/// as on a real server: a client that times out or hangs up mid-request does not cancel the write
/// (nor the fault bookkeeping) halfway.
async fn gateway(
    State(app): State<Arc<PlentySandbox>>,
    matched: MatchedPath,
    req: Request,
    next: Next,
) -> Response {
    tokio::spawn(gateway_inner(app, matched, req, next))
        .await
        .unwrap_or_else(|_| json_response(500, error_body(500, "stand-in request task failed")))
}

async fn gateway_inner(app: Arc<PlentySandbox>, matched: MatchedPath, req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_string();
    let template = matched.as_str().to_string();
    let route = format!("{method} {template}");
    let path = req.uri().path().to_string();
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .unwrap_or("")
        .trim()
        .to_string();
    if token.is_empty()
        || !app
            .sessions
            .lock()
            .expect("sessions")
            .is_valid(&token, Instant::now())
    {
        app.stats.record(&route, Outcome::Error);
        return json_response(401, error_body(401, "Unauthenticated."));
    }
    let verdict = app
        .limits
        .lock()
        .expect("limits")
        .admit(Class::of(&method), &route, Instant::now());
    let with_headers = |mut r: Response| {
        write_headers(r.headers_mut(), &verdict);
        r
    };
    if verdict.refused_for.is_some() {
        app.stats.record(&route, Outcome::RateLimited);
        return with_headers(json_response(429, error_body(429, "Too Many Requests")));
    }
    let plan = app.faults.plan(&method, &template, &path);
    if plan.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(plan.latency_ms)).await;
    }
    if let Some(rule) = plan.terminal.as_ref().filter(|r| r.kind == FaultKind::LostAnswer) {
        let _done = next.run(req).await;
        app.stats.record(&route, Outcome::Fault);
        if let Some(ms) = rule.latency_ms {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        let mut r = StatusCode::OK.into_response();
        r.extensions_mut().insert(DropConnection);
        return r;
    }
    if let Some(rule) = plan.terminal {
        app.stats.record(&route, Outcome::Fault);
        return match rule.kind {
            FaultKind::ServerError => {
                let status = rule.status.unwrap_or(503);
                with_headers(json_response(
                    status,
                    error_body(status, "Internal server error (injected by the stand-in)."),
                ))
            }
            FaultKind::Drop => {
                let mut r = StatusCode::OK.into_response();
                r.extensions_mut().insert(DropConnection);
                r
            }
            FaultKind::RateLimit => {
                app.stats.record_storm(&route);
                let mut r = with_headers(json_response(
                    429,
                    error_body(429, "Too Many Requests (injected)"),
                ));
                let secs = rule.retry_after_secs.unwrap_or(1);
                r.headers_mut()
                    .insert("retry-after", secs.to_string().parse().expect("header"));
                r
            }
            FaultKind::Unauthorized => {
                app.sessions.lock().expect("sessions").invalidate(&token);
                json_response(401, error_body(401, "Unauthenticated."))
            }
            FaultKind::Latency => unreachable!("latency is never terminal"),
            FaultKind::LostAnswer => unreachable!("answered above"),
        };
    }
    let response = next.run(req).await;
    let outcome = if response.status().is_success() {
        Outcome::Ok
    } else {
        Outcome::Error
    };
    app.stats.record(&route, outcome);
    with_headers(response)
}
