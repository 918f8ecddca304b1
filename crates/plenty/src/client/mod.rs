//! The plentymarkets REST client: one shared token (single-flight login, refresh ahead of expiry, one
//! re-login on 401), pacing by the `X-Plenty-*` headers with separate read/write budgets, retries where
//! a repeat is safe, and lazy pagination. The operations live in [`crate::api`], one module per area.
//!
//! ```no_run
//! # async fn demo() -> tts_core::Result<()> {
//! use tts_plenty::client::{Client, ClientOptions};
//! let client = Client::new(ClientOptions::new("https://shop.plentymarkets-cloud01.com", "rest-user", "pw"))?;
//! let referrer = client.ensure_referrer("TikTok Shop").await?;
//! # Ok(()) }
//! ```

// `tts_core::Error` is large by design (code, message, status, hints); boxing it is the core's call.

pub mod auth;
pub mod limits;
pub mod pacer;
pub mod response;
pub mod retry;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::{Stream, StreamExt, TryStreamExt, stream};
use rand::Rng;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tts_core::{Error, ErrorCode, ExposeSecret, Result, SecretString};

use crate::model::Page;
use auth::{Authenticate, LoginTokens, TokenCache};
use limits::{Class, Scope};
use pacer::Pacer;
use retry::{AttemptFailure, RetryDecision};
pub use retry::{Repeat, RetryPolicy};

/// Settings of a [`Client`]. `Debug` hides the password.
#[derive(Clone)]
pub struct ClientOptions {
    /// The system's address, e.g. `https://shop.plentymarkets-cloud01.com` (no `/rest`).
    pub base_url: String,
    /// A back-end user with the REST rights the sync needs.
    pub username: String,
    pub password: SecretString,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    /// Added to every rate-limit reset time: the real system sends whole-second `Decay` values. When
    /// `Decay` comes with decimals (the stand-in), at most 25 ms are added.
    pub pacing_margin: Duration,
    /// A call that would wait longer than this for a rate-limit slot (e.g. the daily budget is used
    /// up) fails with `TTS_RATE_LIMITED` and the wait as `retry_after` instead of hanging.
    pub max_pacing_wait: Duration,
    /// Told about every new or refreshed session, to keep it (sealed) for the next start; see
    /// [`Client::restore_session`].
    pub on_session: Option<auth::SessionHook>,
}

impl ClientOptions {
    pub fn new(
        base_url: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        ClientOptions {
            base_url: base_url.into(),
            username: username.into(),
            password: SecretString::from(password.into()),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(60),
            retry: retry::default_policy(),
            pacing_margin: Duration::from_secs(1),
            max_pacing_wait: Duration::from_secs(300),
            on_session: None,
        }
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("base_url", &self.base_url)
            .field("username", &self.username)
            .field("password", &"[REDACTED]")
            .field("retry", &self.retry)
            .field("pacing_margin", &self.pacing_margin)
            .finish_non_exhaustive()
    }
}

/// Counters of what the client did (for tests, metrics and the demo).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientStats {
    pub logins: u64,
    pub refreshes: u64,
    /// HTTP requests sent to API routes (attempts, not calls).
    pub requests: u64,
    pub retries: u64,
    /// 429 answers received (pacing should keep this at 0).
    pub rate_limited: u64,
    pub relogins_after_401: u64,
}

#[derive(Default)]
struct Counters {
    logins: AtomicU64,
    refreshes: AtomicU64,
    requests: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
    relogins_after_401: AtomicU64,
}

/// One API call: route template, path parameters, query and body. `Debug` leaves the body out (the
/// login body holds the password).
#[derive(Clone)]
pub struct Request {
    method: reqwest::Method,
    /// `"METHOD /rest/template/{param}"`: names the call in errors and keys its route budget.
    route: &'static str,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    repeat: Repeat,
}

impl Request {
    /// `route` is `"METHOD /path/{param}"`; GET, PUT and DELETE are repeatable, POST is not (override
    /// with [`Request::repeat`]).
    pub fn new(route: &'static str) -> Self {
        let (method, path) = route.split_once(' ').expect("route is `METHOD /path`");
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("valid HTTP method");
        let repeat = if method == reqwest::Method::POST {
            Repeat::Unsafe
        } else {
            Repeat::Safe
        };
        Request {
            method,
            route,
            path: path.to_string(),
            query: Vec::new(),
            body: None,
            repeat,
        }
    }

    /// Fills `{name}` in the path (percent-encoded).
    pub fn param(mut self, name: &str, value: impl fmt::Display) -> Self {
        self.path = self
            .path
            .replace(&format!("{{{name}}}"), &encode_segment(&value.to_string()));
        self
    }

    pub fn query(mut self, name: &str, value: impl fmt::Display) -> Self {
        self.query.push((name.to_string(), value.to_string()));
        self
    }

    /// Adds `name=value` when `value` is present.
    pub fn query_opt(self, name: &str, value: Option<impl fmt::Display>) -> Self {
        match value {
            Some(v) => self.query(name, v),
            None => self,
        }
    }

    pub fn json(mut self, body: &impl Serialize) -> Result<Self> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::invalid_argument("body", format!("cannot be serialised: {e}")))?;
        self.body = Some(bytes);
        Ok(self)
    }

    pub fn repeat(mut self, repeat: Repeat) -> Self {
        self.repeat = repeat;
        self
    }

    pub fn route(&self) -> &'static str {
        self.route
    }

    fn unfilled_param(&self) -> Option<&str> {
        let start = self.path.find('{')?;
        let end = self.path[start..].find('}')? + start;
        Some(&self.path[start + 1..end])
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("route", &self.route)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("body_bytes", &self.body.as_ref().map(Vec::len))
            .field("repeat", &self.repeat)
            .finish()
    }
}

fn encode_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A plentymarkets REST client. Cheap to clone; clones share the token and the budgets, so keep one
/// per system (per back-end user) in the process.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    options: ClientOptions,
    base_url: String,
    http: reqwest::Client,
    tokens: TokenCache,
    pacer: Pacer,
    counters: Counters,
    /// Serialises `ensure_referrer` (find-or-create must not run twice at once).
    referrer_lock: tokio::sync::Mutex<()>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Client {
    pub fn new(options: ClientOptions) -> Result<Self> {
        let base_url = options.base_url.trim().trim_end_matches('/');
        // Paths start with /rest; accept the system address with or without it.
        let base_url = base_url.strip_suffix("/rest").unwrap_or(base_url).to_string();
        if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
            return Err(Error::config(
                "plenty.baseUrl",
                "must be the system's http(s) address, e.g. https://shop.plentymarkets-cloud01.com",
            ));
        }
        if options.username.trim().is_empty() {
            return Err(Error::config("plenty.username", "must not be empty"));
        }
        if options.password.expose_secret().is_empty() {
            return Err(Error::config("plenty.password", "must not be empty"));
        }
        if options.retry.max_attempts == 0 {
            return Err(Error::config("plenty.retry.maxAttempts", "must be at least 1"));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            // A redirect would carry the bearer token to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("tiktok-shop-plentyone/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::internal(format!("cannot build HTTP client: {}", e.without_url())))?;
        Ok(Client {
            inner: Arc::new(Inner {
                pacer: Pacer::new(options.pacing_margin, options.max_pacing_wait),
                tokens: TokenCache::with_hook(options.on_session.clone()),
                options,
                base_url,
                http,
                counters: Counters::default(),
                referrer_lock: tokio::sync::Mutex::new(()),
            }),
        })
    }

    /// Adopts a session kept from an earlier run (call before the first request): no new login, so
    /// restarts don't pile up sessions against the system's cap.
    pub async fn restore_session(&self, snapshot: auth::SessionSnapshot) {
        self.inner.tokens.restore(snapshot).await;
    }

    /// The current session (none before the first call).
    pub async fn session(&self) -> Option<auth::SessionSnapshot> {
        self.inner.tokens.snapshot().await
    }

    pub fn stats(&self) -> ClientStats {
        let c = &self.inner.counters;
        ClientStats {
            logins: c.logins.load(Relaxed),
            refreshes: c.refreshes.load(Relaxed),
            requests: c.requests.load(Relaxed),
            retries: c.retries.load(Relaxed),
            rate_limited: c.rate_limited.load(Relaxed),
            relogins_after_401: c.relogins_after_401.load(Relaxed),
        }
    }

    pub(crate) fn referrer_lock(&self) -> &tokio::sync::Mutex<()> {
        &self.inner.referrer_lock
    }

    fn secrets(&self) -> [&str; 1] {
        [self.inner.options.password.expose_secret()]
    }

    /// Everything that must never appear in an error message: the password and the token in use.
    fn secrets_with<'a>(&'a self, token: &'a SecretString) -> [&'a str; 2] {
        [self.inner.options.password.expose_secret(), token.expose_secret()]
    }

    /// Sends `request` and decodes the answer into `T`.
    pub async fn call<T: DeserializeOwned>(&self, request: &Request) -> Result<T> {
        let body = self.call_raw(request).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            // Some write routes answer with an empty body.
            return response::decode(request.route, b"null");
        }
        response::decode(request.route, &body)
    }

    /// Sends `request` (paced, authenticated, retried where safe) and returns the 2xx body.
    pub async fn call_raw(&self, request: &Request) -> Result<Vec<u8>> {
        if let Some(name) = request.unfilled_param() {
            return Err(Error::internal(format!(
                "{}: path parameter `{name}` not filled",
                request.route
            )));
        }
        let inner = &self.inner;
        let policy = inner.options.retry;
        let scopes = Scope::for_request(Class::of(&request.method), request.route).to_vec();
        let mut attempt = 0;
        let mut relogged = false;
        loop {
            attempt += 1;
            let (error, failure): (Error, AttemptFailure) = match inner.tokens.lease(self).await {
                // The login was not the request: its failures are retried as "not sent".
                Err(e) => (e, AttemptFailure::NotSent),
                Ok(lease) => {
                    let permit = inner.pacer.acquire(scopes.clone()).await.map_err(|wait| {
                        Error::new(
                            ErrorCode::RateLimited,
                            format!(
                                "plentymarkets {}: the rate-limit budget is used up for {}s; not waiting that long",
                                request.route,
                                wait.as_secs()
                            ),
                        )
                        .with_retry_after(wait)
                    })?;
                    inner.counters.requests.fetch_add(1, Relaxed);
                    match self.send_once(request, Some(&lease.access_token)).await {
                        Err(failed) => {
                            permit.observe(None);
                            failed
                        }
                        Ok(answer) => {
                            permit.observe(Some(&answer.headers));
                            if (200..300).contains(&answer.status) {
                                return Ok(answer.body);
                            }
                            if answer.status == 401 && !relogged {
                                // Token invalidated or expired server-side: log in again, once.
                                relogged = true;
                                attempt -= 1;
                                inner.counters.relogins_after_401.fetch_add(1, Relaxed);
                                inner.tokens.rejected(lease.generation).await;
                                continue;
                            }
                            let retry_after = limits::read_retry_after(&answer.headers);
                            if answer.status == 429 {
                                // Pacing should prevent this: another process uses the same user, or
                                // the limits changed.
                                tracing::warn!(
                                    route = request.route,
                                    ?retry_after,
                                    "plentymarkets answered 429"
                                );
                                inner.counters.rate_limited.fetch_add(1, Relaxed);
                                inner
                                    .pacer
                                    .block(&scopes, retry_after.unwrap_or(Duration::from_secs(1)));
                            }
                            (
                                response::status_error(
                                    request.route,
                                    answer.status,
                                    retry_after,
                                    &answer.body,
                                    &self.secrets_with(&lease.access_token),
                                ),
                                AttemptFailure::Failed,
                            )
                        }
                    }
                }
            };
            let jitter = rand::rng().random::<f64>();
            match retry::decide(&policy, request.repeat, attempt, &error, failure, jitter) {
                RetryDecision::GiveUp => return Err(error),
                RetryDecision::RetryAfter(delay) => {
                    inner.counters.retries.fetch_add(1, Relaxed);
                    tracing::debug!(route = request.route, attempt, ?delay, code = %error.code(), "retrying plentymarkets call");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    async fn send_once(
        &self,
        request: &Request,
        token: Option<&SecretString>,
    ) -> std::result::Result<Answer, (Error, AttemptFailure)> {
        let inner = &self.inner;
        let url = format!("{}{}", inner.base_url, request.path);
        let mut builder = inner
            .http
            .request(request.method.clone(), url)
            .header(reqwest::header::ACCEPT, "application/json");
        if !request.query.is_empty() {
            builder = builder.query(&request.query);
        }
        if let Some(token) = token {
            let mut value =
                reqwest::header::HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
                    .map_err(|_| {
                        (
                    Error::new(
                        ErrorCode::InvalidResponse,
                        "plentymarkets login answer: `access_token` has characters not allowed in a header",
                    )
                    .with_field("access_token"),
                    AttemptFailure::NotSent,
                )
                    })?;
            value.set_sensitive(true);
            builder = builder.header(reqwest::header::AUTHORIZATION, value);
        }
        if let Some(body) = &request.body {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let response = builder
            .send()
            .await
            .map_err(|e| response::transport_error(request.route, e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| response::transport_error(request.route, e))?
            .to_vec();
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    async fn login_call(&self, request: Request) -> Result<LoginTokens> {
        let answer = self.send_once(&request, None).await.map_err(|(e, _)| e)?;
        if (200..300).contains(&answer.status) {
            return auth::parse_login(&answer.body);
        }
        let retry_after = limits::read_retry_after(&answer.headers);
        let error = response::status_error(
            request.route,
            answer.status,
            retry_after,
            &answer.body,
            &self.secrets(),
        );
        Err(match answer.status {
            401 | 403 | 422 if request.route == LOGIN_ROUTE => Error::config(
                "plenty.username/plenty.password",
                format!(
                    "the plentymarkets login was refused (HTTP {}); check the back-end user and its REST rights",
                    answer.status
                ),
            )
            .with_http_status(answer.status),
            _ => error,
        })
    }

    /// One page of a paginated list: `page` (1-based) and `itemsPerPage` are added to the query.
    pub async fn page<T: DeserializeOwned>(
        &self,
        request: &Request,
        page: u32,
        items_per_page: u32,
    ) -> Result<Page<T>> {
        let request = request
            .clone()
            .query("page", page)
            .query("itemsPerPage", items_per_page);
        self.call(&request).await
    }

    /// Every entry of a paginated list, fetched page by page as the stream is read.
    pub fn paginate<T: DeserializeOwned + Send + 'static>(
        &self,
        request: Request,
        items_per_page: u32,
    ) -> impl Stream<Item = Result<T>> + Send + 'static {
        let client = self.clone();
        let pages = stream::try_unfold(Some(1u32), move |next| {
            let client = client.clone();
            let request = request.clone();
            async move {
                let Some(number) = next else {
                    return Ok(None);
                };
                let page: Page<T> = client.page(&request, number, items_per_page).await?;
                if number == 1 {
                    tts_core::progress::report_list_total(page.totals_count.max(0) as u64);
                }
                let last = page.is_last_page
                    || page.entries.is_empty()
                    || page.last_page_number.is_some_and(|l| i64::from(number) >= l);
                let following = if last { None } else { Some(number + 1) };
                Ok(Some((page.entries, following)))
            }
        });
        pages
            .map_ok(|entries| stream::iter(entries.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }
}

const LOGIN_ROUTE: &str = "POST /rest/login";
const REFRESH_ROUTE: &str = "POST /rest/login/refresh";

impl Authenticate for Client {
    fn login(&self) -> BoxFuture<'_, Result<LoginTokens>> {
        Box::pin(async move {
            self.inner.counters.logins.fetch_add(1, Relaxed);
            tracing::debug!(username = %self.inner.options.username, "plentymarkets login");
            let body = serde_json::json!({
                "username": self.inner.options.username,
                "password": self.inner.options.password.expose_secret(),
            });
            self.login_call(Request::new(LOGIN_ROUTE).json(&body)?).await
        })
    }

    fn refresh(&self, refresh_token: SecretString) -> BoxFuture<'_, Result<LoginTokens>> {
        Box::pin(async move {
            self.inner.counters.refreshes.fetch_add(1, Relaxed);
            let body = serde_json::json!({ "refresh_token": refresh_token.expose_secret() });
            let result = self.login_call(Request::new(REFRESH_ROUTE).json(&body)?).await;
            result.map_err(|e| match e.http_status {
                // An unknown or expired refresh token: the cache falls back to a full login.
                Some(400 | 401 | 403 | 422) => Error::new(
                    ErrorCode::PermissionDenied,
                    "plentymarkets refused the refresh token",
                )
                .with_http_status(401),
                _ => e,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_fill_params_encoded_and_know_their_repeat_safety() {
        let r = Request::new("PUT /rest/orders/{orderId}").param("orderId", "12/3 x");
        assert_eq!(r.path, "/rest/orders/12%2F3%20x");
        assert_eq!(r.repeat, Repeat::Safe);
        assert_eq!(Request::new("POST /rest/orders").repeat, Repeat::Unsafe);
        assert_eq!(
            Request::new("GET /rest/items/{id}/variations/{variationId}")
                .param("id", 1)
                .unfilled_param(),
            Some("variationId")
        );
    }

    #[test]
    fn calls_are_send_for_multi_threaded_runtimes() {
        fn assert_send<T: Send>(_: &T) {}
        let client = Client::new(ClientOptions::new("http://127.0.0.1:9", "u", "p")).unwrap();
        let order = crate::model::OrderCreate::default();
        assert_send(&client.create_order(&order));
        assert_send(&client.find_order_by_external_id("x"));
        assert_send(&client.item_variations(&Default::default()).unwrap());
        assert_send(&client.ensure_referrer("TikTok Shop"));
        fn assert_sync<T: Send + Sync + Clone>(_: &T) {}
        assert_sync(&client);
    }

    #[test]
    fn request_debug_leaves_the_body_out() {
        let r = Request::new("POST /rest/login")
            .json(&serde_json::json!({"password": "pa55word!"}))
            .unwrap();
        assert!(!format!("{r:?}").contains("pa55word!"));
    }

    #[test]
    fn options_debug_hides_the_password() {
        let o = ClientOptions::new("http://x", "user", "pa55word!");
        assert!(!format!("{o:?}").contains("pa55word!"));
        let e = Client::new(ClientOptions::new("ftp://x", "u", "p")).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ConfigInvalid);
        assert_eq!(e.field.as_deref(), Some("plenty.baseUrl"));
    }
}
