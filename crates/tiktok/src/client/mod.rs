//! The API client: one per app, a cheap view per shop. Every call waits for its rate-limit slot
//! (GCRA per shop × operation), uses a fresh token (refreshed ahead of expiry, single-flight per shop),
//! is retried only where [`retry::decide`] allows, and comes back as data or a coded error.

pub mod api;
pub mod paginate;
pub mod retry;
pub mod tokens;

use std::collections::HashMap;
use std::future::Future;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use rand::Rng;
use tts_core::{Error, ErrorCode, ExposeSecret, Result, SecretString};

use crate::oauth::{DEFAULT_AUTH_BASE, TokenSet, refresh};
use crate::operations::{KeyLocation, Operation, RetrySafety};
use crate::request::{AppCredentials, DEFAULT_API_BASE, RequestBody, RequestParts, build_request};
use crate::sign::QueryValue;
use crate::transport::{Envelope, HttpOptions, http_client, send_once};
use retry::{RetryDecision, RetryPolicy, decide};
use tokens::{Refresh, RefreshOutcome, ShopTokens};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Client settings.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    pub api_base: String,
    pub auth_base: String,
    /// Requests per second per (shop, operation); 0 lifts the limit. TikTok's default is 50.
    pub rate_per_second: u32,
    /// Requests that may go at once before the rate applies. 1 spaces calls evenly, so no 1-second
    /// window on the server side can ever see more than `rate_per_second`.
    pub burst: u32,
    pub retry: RetryPolicy,
    /// Refresh tokens this long before they expire.
    pub refresh_margin: Duration,
    pub http: HttpOptions,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            api_base: DEFAULT_API_BASE.to_string(),
            auth_base: DEFAULT_AUTH_BASE.to_string(),
            rate_per_second: 50,
            burst: 1,
            retry: RetryPolicy::default(),
            refresh_margin: Duration::from_secs(300),
            http: HttpOptions::default(),
        }
    }
}

/// What the client reports as it works (for logs, metrics and the re-authorization flow).
#[derive(Clone, Debug)]
pub enum ClientEvent {
    /// A call is retried after `delay`.
    Retry {
        shop_id: String,
        operation: &'static str,
        attempt: u32,
        delay: Duration,
        error: Error,
    },
    /// New tokens for a shop; persist them (the old access token no longer works).
    TokensRefreshed { shop_id: String, tokens: TokenSet },
    /// The seller must connect the shop again; calls for it fail until then.
    ReauthorizationRequired { shop_id: String, error: Error },
    /// A call finished (after all its attempts).
    Completed {
        shop_id: String,
        operation: &'static str,
        attempts: u32,
        elapsed: Duration,
        error: Option<ErrorCode>,
    },
}

/// Receives [`ClientEvent`]s. Must not block.
pub trait ClientObserver: Send + Sync {
    fn on_event(&self, event: ClientEvent);
}

/// A shop the client may act for.
#[derive(Clone)]
pub struct ShopCredentials {
    pub shop_id: String,
    pub cipher: Option<String>,
    pub tokens: TokenSet,
}

struct ShopEntry {
    shop_id: String,
    cipher: Option<String>,
    /// Shared by every shop of the same authorization (see [`Client::add_shop`]).
    tokens: Arc<ShopTokens>,
}

struct Inner {
    http: reqwest::Client,
    app: AppCredentials,
    options: ClientOptions,
    limiter: Option<DefaultKeyedRateLimiter<(String, &'static str)>>,
    shops: RwLock<HashMap<String, Arc<ShopEntry>>>,
    observer: Option<Arc<dyn ClientObserver>>,
}

/// The client of one app. Cloning shares transport, limiter and token state.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

/// Inputs of one call.
#[derive(Clone, Debug, Default)]
pub struct CallInput {
    pub path_params: Vec<(String, String)>,
    pub query: Vec<(String, QueryValue)>,
    pub body: Option<RequestBody>,
    /// Makes writes that take one safe to retry; sent where the operation table says.
    pub idempotency_key: Option<String>,
}

impl CallInput {
    pub fn json(body: &serde_json::Value) -> Self {
        CallInput {
            body: Some(RequestBody::Json(body.to_string().into_bytes())),
            ..Default::default()
        }
    }

    pub fn path(mut self, name: &str, value: impl Into<String>) -> Self {
        self.path_params.push((name.to_string(), value.into()));
        self
    }

    pub fn query(mut self, name: &str, value: impl Into<QueryValue>) -> Self {
        self.query.push((name.to_string(), value.into()));
        self
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Client {
    pub fn new(
        app: AppCredentials,
        options: ClientOptions,
        observer: Option<Arc<dyn ClientObserver>>,
    ) -> Result<Client> {
        let limiter = match NonZeroU32::new(options.rate_per_second) {
            None => None,
            Some(rate) => {
                let burst = NonZeroU32::new(options.burst)
                    .ok_or_else(|| Error::invalid_argument("burst", "must be at least 1"))?;
                Some(RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)))
            }
        };
        if options.retry.max_attempts == 0 {
            return Err(Error::invalid_argument("maxAttempts", "must be at least 1"));
        }
        Ok(Client {
            inner: Arc::new(Inner {
                http: http_client(options.http)?,
                app,
                options,
                limiter,
                shops: RwLock::new(HashMap::new()),
                observer,
            }),
        })
    }

    /// Adds a shop, or replaces its cipher and tokens (e.g. after it was connected again).
    ///
    /// TikTok issues one token pair per seller authorization, valid for all the seller's shops, and a
    /// refresh replaces it for all of them. So shops added with the same refresh token share one token
    /// state: one refresh serves them all, and none is left holding a replaced token.
    pub async fn add_shop(&self, shop: ShopCredentials) -> Result<()> {
        if shop.shop_id.is_empty() {
            return Err(Error::invalid_argument("shopId", "must not be empty"));
        }
        let entries: Vec<Arc<ShopEntry>> = self
            .inner
            .shops
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        let mut shared = None;
        for entry in &entries {
            if entry.tokens.holds_refresh_token(&shop.tokens.refresh_token).await {
                shared = Some(entry.tokens.clone());
                break;
            }
        }
        let tokens = match shared {
            Some(tokens) => tokens,
            None => match entries.iter().find(|e| e.shop_id == shop.shop_id) {
                // Reconnected: the new pair replaces the old one wherever it was shared.
                Some(existing) => {
                    existing.tokens.replace(shop.tokens).await;
                    existing.tokens.clone()
                }
                None => Arc::new(ShopTokens::new(shop.tokens)),
            },
        };
        let entry = Arc::new(ShopEntry {
            shop_id: shop.shop_id.clone(),
            cipher: shop.cipher,
            tokens,
        });
        self.inner
            .shops
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(shop.shop_id, entry);
        Ok(())
    }

    pub fn remove_shop(&self, shop_id: &str) -> bool {
        self.inner
            .shops
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(shop_id)
            .is_some()
    }

    /// The view of one shop. Fails with `TTS_NOT_FOUND` for a shop that was never added.
    pub fn shop(&self, shop_id: &str) -> Result<Shop> {
        let entry = self
            .inner
            .shops
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(shop_id)
            .cloned()
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::NotFound,
                    format!("shop {shop_id} is not connected to this client"),
                )
                .with_field("shopId")
            })?;
        Ok(Shop {
            inner: self.inner.clone(),
            entry,
        })
    }

    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }
}

/// A shop's view of the client: every call carries the shop's cipher and token.
#[derive(Clone)]
pub struct Shop {
    inner: Arc<Inner>,
    entry: Arc<ShopEntry>,
}

impl Inner {
    fn emit(&self, event: ClientEvent) {
        if let Some(o) = &self.observer {
            o.on_event(event);
        }
    }
}

impl Refresh for Inner {
    fn refresh(&self, refresh_token: SecretString) -> BoxFuture<'_, Result<TokenSet>> {
        Box::pin(async move {
            refresh(
                &self.http,
                &self.options.auth_base,
                &self.app,
                &refresh_token,
                unix_now(),
            )
            .await
        })
    }
}

impl Shop {
    pub fn shop_id(&self) -> &str {
        &self.entry.shop_id
    }

    /// Every shop sharing this shop's token state (itself included).
    fn shops_of_grant(&self) -> Vec<String> {
        let shops = self.inner.shops.read().unwrap_or_else(|p| p.into_inner());
        let mut ids: Vec<String> = shops
            .values()
            .filter(|e| Arc::ptr_eq(&e.tokens, &self.entry.tokens))
            .map(|e| e.shop_id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// Reports a refresh (or its refusal) once for every shop of the grant, so each shop's stored
    /// tokens can be updated.
    fn outcome_handler(&self) -> impl Fn(RefreshOutcome) + Send + Sync + '_ {
        move |outcome| {
            for shop_id in self.shops_of_grant() {
                let event = match &outcome {
                    RefreshOutcome::Refreshed(tokens) => ClientEvent::TokensRefreshed {
                        shop_id,
                        tokens: tokens.clone(),
                    },
                    RefreshOutcome::ReauthorizationRequired(error) => ClientEvent::ReauthorizationRequired {
                        shop_id,
                        error: error.clone(),
                    },
                };
                self.inner.emit(event);
            }
        }
    }

    /// Calls an operation of the table.
    pub async fn call(&self, operation: &'static Operation, input: CallInput) -> Result<Envelope> {
        let started = Instant::now();
        let mut attempts = 0;
        let result = self.call_with_attempts(operation, input, &mut attempts).await;
        self.inner.emit(ClientEvent::Completed {
            shop_id: self.entry.shop_id.clone(),
            operation: operation.id,
            attempts,
            elapsed: started.elapsed(),
            error: result.as_ref().err().map(Error::code),
        });
        result
    }

    async fn call_with_attempts(
        &self,
        operation: &'static Operation,
        mut input: CallInput,
        attempts: &mut u32,
    ) -> Result<Envelope> {
        let inner = &*self.inner;
        let on_outcome = self.outcome_handler();
        let has_key = input.idempotency_key.is_some();
        if let (Some(key), RetrySafety::WithIdempotencyKey(location)) =
            (input.idempotency_key.clone(), operation.retry)
        {
            attach_idempotency_key(&mut input, &key, location)?;
        }
        let path_params: Vec<(&str, &str)> = input
            .path_params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut token_retried = false;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            *attempts += 1;
            let lease = self
                .entry
                .tokens
                .lease(unix_now(), inner.options.refresh_margin, inner, &on_outcome)
                .await?;
            if let Some(limiter) = &inner.limiter {
                limiter
                    .until_key_ready(&(self.entry.shop_id.clone(), operation.id))
                    .await;
            }
            let now = unix_now();
            let request = build_request(
                &inner.options.api_base,
                &inner.app,
                RequestParts {
                    operation,
                    path_params: &path_params,
                    query: &input.query,
                    body: input.body.clone(),
                    shop_cipher: self.entry.cipher.as_deref(),
                    access_token: Some(&lease.access_token),
                    now,
                },
            )?;
            let secrets = [
                inner.app.app_secret.expose_secret(),
                lease.access_token.expose_secret(),
            ];
            let (error, failure) = match send_once(&inner.http, &request, &secrets, now).await {
                Ok(envelope) => return Ok(envelope),
                Err(failed) => failed,
            };
            match error.code() {
                ErrorCode::TokenExpired if !token_retried => {
                    token_retried = true;
                    attempt -= 1; // the refresh is not a failed attempt of the call
                    self.entry
                        .tokens
                        .refresh_after_rejection(lease.generation, now, inner, &on_outcome)
                        .await?;
                    continue;
                }
                ErrorCode::ReauthorizationRequired => {
                    return Err(self.entry.tokens.deauthorized(&error, &on_outcome).await);
                }
                // Sent with a token that a concurrent refresh has just replaced: go again with the new one.
                ErrorCode::RequestRejected
                    if is_token_rejection(&error)
                        && self.entry.tokens.generation().await != lease.generation =>
                {
                    attempt -= 1;
                    continue;
                }
                _ => {}
            }
            let jitter: f64 = rand::rng().random();
            match decide(
                &inner.options.retry,
                operation,
                has_key,
                attempt,
                &error,
                failure,
                jitter,
            ) {
                RetryDecision::GiveUp => return Err(error),
                RetryDecision::RetryAfter(delay) => {
                    tracing::debug!(shop = %self.entry.shop_id, operation = operation.id, attempt, ?delay, code = %error.code(), "retrying");
                    inner.emit(ClientEvent::Retry {
                        shop_id: self.entry.shop_id.clone(),
                        operation: operation.id,
                        attempt,
                        delay,
                        error,
                    });
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    /// Calls an operation by id.
    pub async fn call_id(&self, operation_id: &str, input: CallInput) -> Result<Envelope> {
        let operation = Operation::find(operation_id).ok_or_else(|| {
            Error::invalid_argument("operation", format!("`{operation_id}` is not an operation id"))
        })?;
        self.call(operation, input).await
    }
}

/// TikTok answers a replaced or unknown token with the overloaded 36009004, telling only its message
/// apart from other parameter errors (spec §7).
pub fn is_token_rejection(error: &Error) -> bool {
    let message = error.message().to_ascii_lowercase();
    error.tiktok_code == Some(36009004)
        && (message.contains("access token") || message.contains("access_token"))
}

fn attach_idempotency_key(input: &mut CallInput, key: &str, location: KeyLocation) -> Result<()> {
    if key.is_empty() || key.len() > 128 {
        return Err(Error::invalid_argument(
            "idempotencyKey",
            "must be 1-128 characters",
        ));
    }
    match location {
        KeyLocation::Query => {
            input.query.retain(|(k, _)| k != "idempotency_key");
            input
                .query
                .push(("idempotency_key".into(), QueryValue::One(key.to_string())));
        }
        KeyLocation::Body => {
            let bytes = match &input.body {
                Some(RequestBody::Json(b)) => b.clone(),
                None => b"{}".to_vec(),
                Some(RequestBody::Multipart { .. }) => {
                    return Err(Error::invalid_argument("body", "expected JSON"));
                }
            };
            let mut value: serde_json::Value = serde_json::from_slice(&bytes)
                .map_err(|e| Error::invalid_argument("body", format!("is not JSON: {e}")))?;
            let obj = value
                .as_object_mut()
                .ok_or_else(|| Error::invalid_argument("body", "must be a JSON object"))?;
            obj.insert(
                "idempotency_key".into(),
                serde_json::Value::String(key.to_string()),
            );
            input.body = Some(RequestBody::Json(value.to_string().into_bytes()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_rejections_are_told_apart_from_other_parameter_errors() {
        let replaced = Error::new(
            ErrorCode::RequestRejected,
            "Invalid credentials. The access token was replaced",
        )
        .with_tiktok_code(36009004);
        let header = Error::new(ErrorCode::RequestRejected, "access_token header is invalid")
            .with_tiktok_code(36009004);
        let cipher = Error::new(ErrorCode::RequestRejected, "Unexpected identifier shop_cipher")
            .with_tiktok_code(36009004);
        assert!(is_token_rejection(&replaced));
        assert!(is_token_rejection(&header));
        assert!(!is_token_rejection(&cipher));
    }

    #[test]
    fn idempotency_keys_go_where_the_operation_takes_them() {
        let mut input = CallInput::json(&serde_json::json!({"decision": "APPROVE_REFUND"}));
        attach_idempotency_key(&mut input, "ret-1-approve", KeyLocation::Query).unwrap();
        assert!(
            input
                .query
                .contains(&("idempotency_key".into(), QueryValue::One("ret-1-approve".into())))
        );
        let mut input = CallInput::json(&serde_json::json!({"title": "Shirt"}));
        attach_idempotency_key(&mut input, "create-1", KeyLocation::Body).unwrap();
        let Some(RequestBody::Json(bytes)) = &input.body else {
            panic!()
        };
        let body: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        assert_eq!(
            (body["idempotency_key"].as_str(), body["title"].as_str()),
            (Some("create-1"), Some("Shirt"))
        );
        assert!(attach_idempotency_key(&mut input, &"x".repeat(129), KeyLocation::Query).is_err());
    }
}
