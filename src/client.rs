//! The API client: `new TikTokShopClient(options, onEvent?)`, shops added with their tokens, calls by
//! operation id. Throttling, retries, pagination and token refresh happen in Rust.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use napi::JsValue;
use napi::bindgen_prelude::{Buffer, Either, JsObjectValue, Object, PromiseRaw, ToNapiValue};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status};
use napi_derive::napi;
use tts_core::secret::secret;
use tts_tiktok::client::paginate::Page;
use tts_tiktok::client::retry::RetryPolicy;
use tts_tiktok::client::{
    CallInput, Client, ClientEvent, ClientObserver, ClientOptions, Shop, ShopCredentials,
};
use tts_tiktok::oauth::{DEFAULT_AUTH_BASE, TokenSet};
use tts_tiktok::operations::{BodyKind, Operation};
use tts_tiktok::request::{AppCredentials, DEFAULT_API_BASE, RequestBody};
use tts_tiktok::sign::QueryValue;
use tts_tiktok::transport::Envelope;
use tts_tiktok::transport::HttpOptions;

use crate::errors::{JsonText, check, invalid, json_parse, spawn};
use crate::oauth::Tokens;

/// Options of `TikTokShopClient`.
#[napi(object)]
pub struct ClientOptionsInput {
    pub app_key: String,
    pub app_secret: String,
    /// Default `https://open-api.tiktokglobalshop.com`.
    pub api_base: Option<String>,
    /// Default `https://auth.tiktok-shops.com`.
    pub auth_base: Option<String>,
    /// Requests per second per (shop, operation); default 50 (TikTok's limit); 0 lifts the limit.
    pub rate_per_second: Option<u32>,
    /// Calls that may start at once before the rate applies; default 1 (evenly spaced).
    pub burst: Option<u32>,
    /// Attempts per call including the first; default 5.
    pub max_attempts: Option<u32>,
    /// Backoff base in ms (full jitter, doubling per attempt); default 200.
    pub retry_base_delay_ms: Option<u32>,
    /// Backoff ceiling in ms; default 10000.
    pub retry_max_delay_ms: Option<u32>,
    /// Refresh tokens this many seconds before they expire; default 300.
    pub refresh_margin_seconds: Option<u32>,
    /// Default 5000.
    pub connect_timeout_ms: Option<u32>,
    /// Default 30000.
    pub request_timeout_ms: Option<u32>,
}

/// A shop and its tokens.
#[napi(object)]
pub struct ShopInput {
    pub shop_id: String,
    /// From `getAuthorizedShops`; sent as `shop_cipher` where an operation takes it.
    pub cipher: Option<String>,
    pub access_token: String,
    /// Absolute Unix seconds.
    pub access_token_expire_in: i64,
    pub refresh_token: String,
    /// Absolute Unix seconds (0 = unknown).
    pub refresh_token_expire_in: Option<i64>,
}

/// Inputs of one call.
#[napi(object)]
pub struct CallOptions {
    pub path_params: Option<HashMap<String, String>>,
    pub query: Option<HashMap<String, Either<String, Vec<String>>>>,
    /// A JSON object, serialized once; those exact bytes are signed and sent.
    #[napi(ts_type = "Record<string, unknown>")]
    pub body: Option<serde_json::Value>,
    /// The exact body bytes instead of `body` (e.g. a multipart upload).
    pub raw_body: Option<Buffer>,
    /// For multipart uploads: `multipart/form-data; boundary=…`.
    pub content_type: Option<String>,
    /// Makes writes that take one (returns, cancellations, product create) safe to retry.
    pub idempotency_key: Option<String>,
}

/// The answer of a call (`data` arrives through `JSON.parse`).
#[allow(dead_code)] // declares the TypeScript shape
#[napi(object)]
pub struct CallResult {
    pub request_id: String,
    pub data: serde_json::Value,
}

/// One page of a search (`items` arrive through `JSON.parse`).
#[allow(dead_code)] // declares the TypeScript shape
#[napi(object)]
pub struct PageResult {
    pub items: Vec<serde_json::Value>,
    /// Absent on the last page.
    pub next_page_token: Option<String>,
    pub total_count: Option<f64>,
}

/// What the client reports: `retry`, `tokensRefreshed` (persist `tokens`), `reauthorizationRequired`.
#[napi(object)]
pub struct ClientEventInfo {
    #[napi(js_name = "type")]
    pub kind: String,
    pub shop_id: String,
    pub operation: Option<String>,
    pub attempt: Option<u32>,
    pub delay_ms: Option<f64>,
    pub code: Option<String>,
    pub message: Option<String>,
    pub tokens: Option<Tokens>,
}

type EventCallback = ThreadsafeFunction<ClientEventInfo, (), ClientEventInfo, Status, false, true>;

/// Forwards events to JS without blocking the caller (a weak callback: it never keeps Node alive).
struct JsObserver(EventCallback);

impl ClientObserver for JsObserver {
    fn on_event(&self, event: ClientEvent) {
        let info = match event {
            ClientEvent::Retry {
                shop_id,
                operation,
                attempt,
                delay,
                error,
            } => ClientEventInfo {
                kind: "retry".into(),
                shop_id,
                operation: Some(operation.into()),
                attempt: Some(attempt),
                delay_ms: Some(delay.as_secs_f64() * 1000.0),
                code: Some(error.code().as_str().into()),
                message: Some(error.to_string()),
                tokens: None,
            },
            ClientEvent::TokensRefreshed { shop_id, tokens } => ClientEventInfo {
                kind: "tokensRefreshed".into(),
                shop_id,
                operation: None,
                attempt: None,
                delay_ms: None,
                code: None,
                message: None,
                tokens: Some(crate::oauth::tokens_to_js(tokens)),
            },
            ClientEvent::ReauthorizationRequired { shop_id, error } => ClientEventInfo {
                kind: "reauthorizationRequired".into(),
                shop_id,
                operation: None,
                attempt: None,
                delay_ms: None,
                code: Some(error.code().as_str().into()),
                message: Some(error.to_string()),
                tokens: None,
            },
            ClientEvent::Completed { .. } => return,
        };
        self.0.call(info, ThreadsafeFunctionCallMode::NonBlocking);
    }
}

/// The TikTok Shop API client of one app.
#[napi]
pub struct TikTokShopClient {
    pub(crate) client: Client,
}

fn call_input(operation: &Operation, options: Option<CallOptions>) -> tts_core::Result<CallInput> {
    let Some(o) = options else {
        return Ok(CallInput::default());
    };
    let body = match (o.raw_body, o.body) {
        (None, None) => None,
        (Some(_), Some(_)) => {
            return Err(tts_core::Error::invalid_argument(
                "body",
                "give `body` or `rawBody`, not both",
            ));
        }
        (Some(bytes), None) if operation.body == BodyKind::Multipart => Some(RequestBody::Multipart {
            content_type: o.content_type.unwrap_or_default(),
            bytes: bytes.to_vec(),
        }),
        (Some(bytes), None) => Some(RequestBody::Json(bytes.to_vec())),
        (None, Some(value)) => {
            if !value.is_object() && !value.is_array() {
                return Err(tts_core::Error::invalid_argument(
                    "body",
                    "must be a JSON object (or `rawBody` with the exact bytes)",
                ));
            }
            Some(RequestBody::Json(value.to_string().into_bytes()))
        }
    };
    let mut query: Vec<(String, QueryValue)> = o
        .query
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| {
            (
                k,
                match v {
                    Either::A(one) => QueryValue::One(one),
                    Either::B(many) => QueryValue::Many(many),
                },
            )
        })
        .collect();
    query.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(CallInput {
        path_params: o.path_params.unwrap_or_default().into_iter().collect(),
        query,
        body,
        idempotency_key: o.idempotency_key,
    })
}

fn find_operation(id: &str) -> tts_core::Result<&'static Operation> {
    Operation::find(id).ok_or_else(|| {
        tts_core::Error::invalid_argument("operation", "is not an operation id; see operations()")
    })
}

/// Resolves what a call needs; failures reject the returned promise like any other failure.
fn prepare(
    client: &Client,
    shop_id: &str,
    operation: &str,
    options: Option<CallOptions>,
) -> tts_core::Result<(Shop, &'static Operation, CallInput)> {
    let op = find_operation(operation)?;
    let input = call_input(op, options)?;
    Ok((client.shop(shop_id)?, op, input))
}

/// What `call` resolves to; `data` goes through `JSON.parse`.
pub struct CallAnswer(Envelope);

impl ToNapiValue for CallAnswer {
    unsafe fn to_napi_value(
        raw_env: napi::sys::napi_env,
        value: Self,
    ) -> napi::Result<napi::sys::napi_value> {
        let env = Env::from_raw(raw_env);
        let mut result = Object::new(&env)?;
        result.set_named_property("requestId", value.0.request_id)?;
        result.set_named_property("data", json_parse(&env, value.0.data.get())?)?;
        Ok(result.raw())
    }
}

/// What `fetchPage` resolves to; `items` go through `JSON.parse`.
pub struct PageAnswer(Page);

impl ToNapiValue for PageAnswer {
    unsafe fn to_napi_value(
        raw_env: napi::sys::napi_env,
        value: Self,
    ) -> napi::Result<napi::sys::napi_value> {
        let env = Env::from_raw(raw_env);
        let mut result = Object::new(&env)?;
        result.set_named_property("items", json_parse(&env, value.0.items.get())?)?;
        if let Some(token) = value.0.next_page_token {
            result.set_named_property("nextPageToken", token)?;
        }
        if let Some(total) = value.0.total_count {
            result.set_named_property("totalCount", total as f64)?;
        }
        Ok(result.raw())
    }
}

#[napi]
impl TikTokShopClient {
    /// `onEvent` receives retries, refreshed tokens (persist them: the old ones stop working) and
    /// re-authorization requests.
    #[napi(
        constructor,
        ts_args_type = "options: ClientOptionsInput, onEvent?: (event: ClientEventInfo) => void"
    )]
    pub fn new(env: Env, options: ClientOptionsInput, on_event: Option<EventCallback>) -> napi::Result<Self> {
        let app = check(
            &env,
            AppCredentials::new(options.app_key, secret(options.app_secret)),
        )?;
        let defaults = RetryPolicy::default();
        let http_defaults = HttpOptions::default();
        let ms = |v: Option<u32>, d: Duration| v.map_or(d, |ms| Duration::from_millis(u64::from(ms)));
        let client_options = ClientOptions {
            api_base: options.api_base.unwrap_or_else(|| DEFAULT_API_BASE.to_string()),
            auth_base: options.auth_base.unwrap_or_else(|| DEFAULT_AUTH_BASE.to_string()),
            rate_per_second: options.rate_per_second.unwrap_or(50),
            burst: options.burst.unwrap_or(1),
            retry: RetryPolicy {
                max_attempts: options.max_attempts.unwrap_or(defaults.max_attempts),
                base_delay: ms(options.retry_base_delay_ms, defaults.base_delay),
                max_delay: ms(options.retry_max_delay_ms, defaults.max_delay),
                max_retry_after: defaults.max_retry_after,
            },
            refresh_margin: options
                .refresh_margin_seconds
                .map_or(Duration::from_secs(300), |s| Duration::from_secs(u64::from(s))),
            http: HttpOptions {
                connect_timeout: ms(options.connect_timeout_ms, http_defaults.connect_timeout),
                request_timeout: ms(options.request_timeout_ms, http_defaults.request_timeout),
            },
        };
        let observer = on_event.map(|cb| Arc::new(JsObserver(cb)) as Arc<dyn ClientObserver>);
        let client = check(&env, Client::new(app, client_options, observer))?;
        Ok(TikTokShopClient { client })
    }

    /// Adds a shop, or replaces its tokens (e.g. after the seller connected it again).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn add_shop<'env>(&self, env: &'env Env, shop: ShopInput) -> napi::Result<PromiseRaw<'env, ()>> {
        if shop.access_token.is_empty() || shop.refresh_token.is_empty() {
            return Err(invalid(
                env,
                "accessToken",
                "accessToken and refreshToken must not be empty",
            ));
        }
        let credentials = ShopCredentials {
            shop_id: shop.shop_id,
            cipher: shop.cipher.filter(|c| !c.is_empty()),
            tokens: TokenSet {
                access_token: secret(shop.access_token),
                access_token_expire_in: shop.access_token_expire_in,
                refresh_token: secret(shop.refresh_token),
                refresh_token_expire_in: shop.refresh_token_expire_in.unwrap_or(0),
                open_id: String::new(),
                seller_name: String::new(),
                seller_base_region: String::new(),
                user_type: 0,
                granted_scopes: Vec::new(),
            },
        };
        let client = self.client.clone();
        spawn(env, async move { client.add_shop(credentials).await }, |()| ())
    }

    /// Forgets a shop (e.g. after disconnecting it).
    #[napi]
    pub fn remove_shop(&self, shop_id: String) -> bool {
        self.client.remove_shop(&shop_id)
    }

    /// Calls an operation of the table for a shop: waits for its rate-limit slot, refreshes the token
    /// if needed, retries what is safe to retry.
    #[napi(
        ts_args_type = "shopId: string, operation: OperationId, options?: CallOptions | undefined | null",
        ts_return_type = "Promise<CallResult>"
    )]
    pub fn call<'env>(
        &self,
        env: &'env Env,
        shop_id: String,
        operation: String,
        options: Option<CallOptions>,
    ) -> napi::Result<PromiseRaw<'env, CallAnswer>> {
        let prepared = prepare(&self.client, &shop_id, &operation, options);
        spawn(
            env,
            async move {
                let (shop, op, input) = prepared?;
                shop.call(op, input).await
            },
            CallAnswer,
        )
    }

    /// One page of a search (`orders.search`, `products.search`, `packages.search`, `returns.search`,
    /// `cancellations.search`, `brands.list`). Pass the previous page's `nextPageToken` to continue.
    #[napi(
        ts_args_type = "shopId: string, operation: OperationId, options: CallOptions | undefined | null, pageSize: number, pageToken?: string | undefined | null",
        ts_return_type = "Promise<PageResult>"
    )]
    pub fn fetch_page<'env>(
        &self,
        env: &'env Env,
        shop_id: String,
        operation: String,
        options: Option<CallOptions>,
        page_size: u32,
        page_token: Option<String>,
    ) -> napi::Result<PromiseRaw<'env, PageAnswer>> {
        let prepared = prepare(&self.client, &shop_id, &operation, options);
        spawn(
            env,
            async move {
                let (shop, op, input) = prepared?;
                shop.fetch_page(op, input, page_size, page_token.as_deref()).await
            },
            PageAnswer,
        )
    }

    /// Order details for any number of ids (batches of 50 sent concurrently).
    #[napi(ts_return_type = "Promise<Array<Record<string, any>>>")]
    pub fn get_orders<'env>(
        &self,
        env: &'env Env,
        shop_id: String,
        ids: Vec<String>,
    ) -> napi::Result<PromiseRaw<'env, JsonText>> {
        let shop = self.client.shop(&shop_id);
        spawn(
            env,
            async move {
                let orders = shop?.get_orders(&ids).await?;
                serde_json::to_string(&orders)
                    .map(JsonText)
                    .map_err(|e| tts_core::Error::internal(e.to_string()))
            },
            |text| text,
        )
    }
}
