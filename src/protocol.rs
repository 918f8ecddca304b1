//! Request signing, request building and the operation table.

use std::collections::HashMap;

use napi::Env;
use napi::bindgen_prelude::{Buffer, Either};
use napi_derive::napi;
use tts_core::secret::secret;
use tts_tiktok::operations::{BodyKind, KeyLocation, OPERATIONS, Operation, RetrySafety, ShopCipher};
use tts_tiktok::request::{AppCredentials, DEFAULT_API_BASE, RequestBody, RequestParts, build_request};
use tts_tiktok::sign::{QueryValue, SignInput, base_string, sign};

use crate::errors::{check, invalid, now_unix};

/// What `signRequest` signs.
#[napi(object)]
pub struct SignRequestInput {
    pub app_secret: String,
    /// The request path only, e.g. `/order/202309/orders/search`.
    pub path: String,
    /// Query parameters as sent: an object of decoded values (arrays are comma-joined), or the
    /// query string already built for the URL (`a=1&b=x%20y`, without `?`; a repeated key is a
    /// list), which is the faster form. `sign` and `access_token` are ignored.
    #[napi(ts_type = "Record<string, string | string[]> | string")]
    pub query: Option<Either<String, HashMap<String, Either<String, Vec<String>>>>>,
    /// The exact body bytes sent (a Buffer, or a string taken as UTF-8).
    pub body: Option<Either<Buffer, String>>,
    /// The request's Content-Type; `multipart/form-data` bodies are not signed.
    pub content_type: Option<String>,
    /// Legacy (pre-202309) signing: the body is never signed (also implied by paths under `/api/`).
    pub legacy: Option<bool>,
}

fn query_of(query: Option<HashMap<String, Either<String, Vec<String>>>>) -> Vec<(String, QueryValue)> {
    let mut out: Vec<(String, QueryValue)> = query
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| {
            let value = match v {
                Either::A(one) => QueryValue::One(one),
                Either::B(many) => QueryValue::Many(many),
            };
            (k, value)
        })
        .collect();
    // Objects cross the boundary as unordered maps; sort so URLs are reproducible.
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// A URL query string as the signer's pairs: decoded, a repeated key a list, sorted by key.
fn query_of_string(query: &str) -> Vec<(String, QueryValue)> {
    let mut out: Vec<(String, QueryValue)> = Vec::new();
    for (k, v) in form_urlencoded::parse(query.trim_start_matches('?').as_bytes()) {
        match out.iter_mut().find(|(key, _)| *key == k) {
            Some((_, QueryValue::Many(many))) => many.push(v.into_owned()),
            Some((_, one)) => {
                let QueryValue::One(first) = std::mem::replace(one, QueryValue::Many(Vec::new())) else {
                    unreachable!("matched above")
                };
                *one = QueryValue::Many(vec![first, v.into_owned()]);
            }
            None => out.push((k.into_owned(), QueryValue::One(v.into_owned()))),
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn body_bytes(body: &Option<Either<Buffer, String>>) -> Option<&[u8]> {
    body.as_ref().map(|b| match b {
        Either::A(buf) => &buf[..],
        Either::B(text) => text.as_bytes(),
    })
}

fn with_sign_input<T>(input: SignRequestInput, f: impl FnOnce(&str, &SignInput<'_>) -> T) -> T {
    let query = match input.query {
        Some(Either::A(text)) => query_of_string(&text),
        Some(Either::B(map)) => query_of(Some(map)),
        None => Vec::new(),
    };
    f(
        &input.app_secret,
        &SignInput {
            path: &input.path,
            query: &query,
            body: body_bytes(&input.body),
            content_type: input.content_type.as_deref(),
            legacy: input.legacy.unwrap_or(false),
        },
    )
}

/// The `sign` query parameter (64 lowercase hex characters) for a request.
#[napi]
pub fn sign_request(env: Env, input: SignRequestInput) -> napi::Result<String> {
    if input.app_secret.is_empty() {
        return Err(invalid(&env, "appSecret", "must not be empty"));
    }
    if !input.path.starts_with('/') {
        return Err(invalid(
            &env,
            "path",
            "must be the request path starting with `/`, without host or query",
        ));
    }
    Ok(with_sign_input(input, sign))
}

/// The string that is wrapped in the secret and MACed, for debugging a signature mismatch. It holds no
/// secret but does hold the body: don't log it by default.
#[napi]
pub fn signature_base_string(input: SignRequestInput) -> String {
    with_sign_input(input, |_, s| {
        String::from_utf8_lossy(&base_string(s)).into_owned()
    })
}

/// Inputs of `buildRequest`.
#[napi(object)]
pub struct BuildRequestInput {
    /// Operation id from `operations()`, e.g. `orders.search`.
    #[napi(ts_type = "OperationId")]
    pub operation: String,
    pub app_key: String,
    pub app_secret: String,
    /// API origin; default `https://open-api.tiktokglobalshop.com` (point it at the sandbox in tests).
    pub api_base: Option<String>,
    /// Values of the `{param}` placeholders in the operation's path.
    pub path_params: Option<HashMap<String, String>>,
    /// Operation parameters (not `app_key`, `timestamp`, `sign`, `shop_cipher`).
    pub query: Option<HashMap<String, Either<String, Vec<String>>>>,
    /// JSON body bytes (or, for uploads, the complete multipart body).
    pub body: Option<Either<Buffer, String>>,
    /// Required for multipart bodies: `multipart/form-data; boundary=…`.
    pub content_type: Option<String>,
    /// Added only where the operation takes it.
    pub shop_cipher: Option<String>,
    pub access_token: Option<String>,
    /// Unix seconds; default now.
    pub timestamp: Option<i64>,
}

/// A request ready to send.
#[napi(object)]
pub struct BuiltRequestInfo {
    pub method: String,
    /// Absolute URL with the signed, percent-encoded query.
    pub url: String,
    /// `content-type` and, when a token was given, `x-tts-access-token`.
    pub headers: HashMap<String, String>,
    pub body: Option<Buffer>,
}

/// Builds the exact request to send for an operation: common parameters, `shop_cipher` where the
/// operation takes it, the token header and the signature.
#[napi(js_name = "buildRequest")]
pub fn build_signed_request(env: Env, input: BuildRequestInput) -> napi::Result<BuiltRequestInfo> {
    let Some(operation) = Operation::find(&input.operation) else {
        return Err(invalid(
            &env,
            "operation",
            "is not an operation id; see operations()",
        ));
    };
    let app = check(&env, AppCredentials::new(input.app_key, secret(input.app_secret)))?;
    let token = input.access_token.map(secret);
    let path_params: Vec<(String, String)> = input.path_params.unwrap_or_default().into_iter().collect();
    let path_refs: Vec<(&str, &str)> = path_params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let body = body_bytes(&input.body)
        .map(<[u8]>::to_vec)
        .map(|bytes| match operation.body {
            BodyKind::Multipart => RequestBody::Multipart {
                content_type: input.content_type.clone().unwrap_or_default(),
                bytes,
            },
            _ => RequestBody::Json(bytes),
        });
    let query = query_of(input.query);
    let built = check(
        &env,
        build_request(
            input.api_base.as_deref().unwrap_or(DEFAULT_API_BASE),
            &app,
            RequestParts {
                operation,
                path_params: &path_refs,
                query: &query,
                body,
                shop_cipher: input.shop_cipher.as_deref(),
                access_token: token.as_ref(),
                now: input.timestamp.unwrap_or_else(now_unix),
            },
        ),
    )?;
    let mut headers = HashMap::new();
    if let Some(ct) = built.content_type {
        headers.insert("content-type".to_string(), ct);
    }
    if let Some(token) = &built.access_token {
        use tts_core::ExposeSecret;
        headers.insert(
            tts_tiktok::request::ACCESS_TOKEN_HEADER.to_string(),
            token.expose_secret().to_string(),
        );
    }
    Ok(BuiltRequestInfo {
        method: built.method.to_string(),
        url: built.url,
        headers,
        body: built.body.map(Buffer::from),
    })
}

/// One row of the operation table.
#[napi(object)]
pub struct OperationInfo {
    pub id: String,
    pub method: String,
    pub path: String,
    pub version: String,
    pub takes_shop_cipher: bool,
    /// `safe`, `idempotency-key-query`, `idempotency-key-body` or `unsafe`.
    pub retry: String,
    /// `none`, `json` or `multipart`.
    pub body: String,
    pub path_params: Vec<String>,
    pub min_page_size: Option<u32>,
    pub max_page_size: Option<u32>,
}

/// The operation table: every TikTok Shop call this package makes.
#[napi]
pub fn operations() -> Vec<OperationInfo> {
    OPERATIONS
        .iter()
        .map(|op| OperationInfo {
            id: op.id.to_string(),
            method: op.method.as_str().to_string(),
            path: op.path.to_string(),
            version: op.version().to_string(),
            takes_shop_cipher: op.shop_cipher == ShopCipher::Takes,
            retry: match op.retry {
                RetrySafety::Safe => "safe",
                RetrySafety::WithIdempotencyKey(KeyLocation::Query) => "idempotency-key-query",
                RetrySafety::WithIdempotencyKey(KeyLocation::Body) => "idempotency-key-body",
                RetrySafety::Unsafe => "unsafe",
            }
            .to_string(),
            body: match op.body {
                BodyKind::None => "none",
                BodyKind::Json => "json",
                BodyKind::Multipart => "multipart",
            }
            .to_string(),
            path_params: op.path_params().map(str::to_string).collect(),
            min_page_size: op.page_size.map(|p| p.0),
            max_page_size: op.page_size.map(|p| p.1),
        })
        .collect()
}
/// Every operation id of the table, as a TypeScript union (`OperationId`). A test checks it against the
/// table, so the two never drift.
#[napi(string_enum)]
pub enum OperationId {
    #[napi(value = "authorization.shops")]
    AuthorizationShops,
    #[napi(value = "seller.shops")]
    SellerShops,
    #[napi(value = "seller.permissions")]
    SellerPermissions,
    #[napi(value = "products.search")]
    ProductsSearch,
    #[napi(value = "products.get")]
    ProductsGet,
    #[napi(value = "products.create")]
    ProductsCreate,
    #[napi(value = "products.edit")]
    ProductsEdit,
    #[napi(value = "products.partial_edit")]
    ProductsPartialEdit,
    #[napi(value = "products.delete")]
    ProductsDelete,
    #[napi(value = "products.activate")]
    ProductsActivate,
    #[napi(value = "products.deactivate")]
    ProductsDeactivate,
    #[napi(value = "products.recover")]
    ProductsRecover,
    #[napi(value = "products.listing_check")]
    ProductsListingCheck,
    #[napi(value = "images.upload")]
    ImagesUpload,
    #[napi(value = "files.upload")]
    FilesUpload,
    #[napi(value = "categories.list")]
    CategoriesList,
    #[napi(value = "categories.attributes")]
    CategoriesAttributes,
    #[napi(value = "categories.rules")]
    CategoriesRules,
    #[napi(value = "categories.recommend")]
    CategoriesRecommend,
    #[napi(value = "brands.list")]
    BrandsList,
    #[napi(value = "brands.create")]
    BrandsCreate,
    #[napi(value = "inventory.update")]
    InventoryUpdate,
    #[napi(value = "inventory.search")]
    InventorySearch,
    #[napi(value = "prices.update")]
    PricesUpdate,
    #[napi(value = "orders.search")]
    OrdersSearch,
    #[napi(value = "orders.get")]
    OrdersGet,
    #[napi(value = "packages.search")]
    PackagesSearch,
    #[napi(value = "packages.get")]
    PackagesGet,
    #[napi(value = "packages.ship")]
    PackagesShip,
    #[napi(value = "packages.batch_ship")]
    PackagesBatchShip,
    #[napi(value = "packages.shipping_documents")]
    PackagesShippingDocuments,
    #[napi(value = "packages.update_shipping_info")]
    PackagesUpdateShippingInfo,
    #[napi(value = "orders.mark_shipped")]
    OrdersMarkShipped,
    #[napi(value = "orders.tracking")]
    OrdersTracking,
    #[napi(value = "orders.update_shipping_info")]
    OrdersUpdateShippingInfo,
    #[napi(value = "logistics.warehouses")]
    LogisticsWarehouses,
    #[napi(value = "logistics.delivery_options")]
    LogisticsDeliveryOptions,
    #[napi(value = "logistics.shipping_providers")]
    LogisticsShippingProviders,
    #[napi(value = "logistics.global_warehouses")]
    LogisticsGlobalWarehouses,
    #[napi(value = "returns.search")]
    ReturnsSearch,
    #[napi(value = "returns.approve")]
    ReturnsApprove,
    #[napi(value = "returns.reject")]
    ReturnsReject,
    #[napi(value = "returns.records")]
    ReturnsRecords,
    #[napi(value = "cancellations.search")]
    CancellationsSearch,
    #[napi(value = "cancellations.approve")]
    CancellationsApprove,
    #[napi(value = "cancellations.reject")]
    CancellationsReject,
    #[napi(value = "cancellations.create")]
    CancellationsCreate,
    #[napi(value = "webhooks.list")]
    WebhooksList,
    #[napi(value = "webhooks.update")]
    WebhooksUpdate,
    #[napi(value = "webhooks.delete")]
    WebhooksDelete,
}
