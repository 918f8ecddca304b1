//! The TikTok response envelope `{code, message, request_id, data}` and the error catalogue.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde_json::{Value, json};

/// An API error: HTTP status + TikTok business code + message.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: i64,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: i64, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
    /// 36009004: the gateway's catch-all for bad credentials/parameters; the message says which.
    pub fn invalid_param(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, codes::INVALID_PARAMS, message)
    }
    /// 36009004 for a malformed or unexpected parameter (HTTP 400; credential problems use `invalid_param`).
    pub fn bad_param(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, codes::INVALID_PARAMS, message)
    }
    /// A business-rule error (validation, state conflicts, unknown ids).
    pub fn business(code: i64, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::business(codes::BAD_REQUEST, message)
    }
    pub fn not_found(what: &str, id: &str) -> Self {
        Self::business(
            codes::NOT_FOUND,
            format!("{what} {id} does not exist in this shop."),
        )
    }
}

/// Business codes used by the sandbox. Gateway codes are from spec §7; the few business codes that
/// the spec does not name are marked as sandbox choices.
pub mod codes {
    pub const OK: i64 = 0;
    pub const RATE_LIMITED: i64 = 36009002;
    pub const INVALID_PARAMS: i64 = 36009004;
    pub const INVALID_PATH: i64 = 36009009;
    pub const INVALID_METHOD: i64 = 36009010;
    pub const BODY_TYPE: i64 = 36009022;
    pub const MULTIPART_REQUIRED: i64 = 36009023;
    pub const INVALID_AUTH_CODE: i64 = 36004004;
    pub const TOKEN_SHOP_MISMATCH: i64 = 101000;
    pub const TOKEN_REVOKED: i64 = 105001;
    pub const TOKEN_EXPIRED: i64 = 105002;
    pub const SCOPE_DENIED: i64 = 105005;
    pub const INVALID_SIGN: i64 = 106001;
    pub const CIPHER_REQUIRED: i64 = 106013;
    pub const ORDER_ON_HOLD: i64 = 21011044;
    pub const PRODUCT_NOT_IN_SHOP: i64 = 12052048;
    /// Sandbox choice: generic bad request / validation failure (the real API has many specific codes).
    pub const BAD_REQUEST: i64 = 12019000;
    /// Sandbox choice: an id that does not exist in the shop.
    pub const NOT_FOUND: i64 = 12019001;
    /// Sandbox choice: the operation is not allowed in the resource's current status.
    pub const INVALID_STATE: i64 = 12019002;
    pub const INTERNAL: i64 = 36009000;
}

/// TikTok-like request id: `YYYYMMDDhhmmss` + 18 upper-case hex chars.
pub fn request_id() -> String {
    let now = crate::clock::now_secs();
    let (y, mo, d, h, mi, s) = crate::clock::civil(now);
    let r: u128 = rand::rng().random();
    format!(
        "{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}{:018X}",
        r & ((1u128 << 72) - 1)
    )
}

pub fn envelope_response(status: StatusCode, code: i64, message: &str, data: Option<Value>) -> Response {
    let rid = request_id();
    let mut body = json!({ "code": code, "message": message, "request_id": rid });
    if let Some(d) = data {
        body["data"] = d;
    }
    let bytes = serde_json::to_vec(&body).expect("JSON values serialize");
    let mut resp = (status, bytes).into_response();
    let headers = resp.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(&rid) {
        headers.insert("x-tt-logid", v);
    }
    resp
}

/// Success envelope around already-serialized `data` JSON.
pub fn ok_raw(data: &str) -> Response {
    let rid = request_id();
    let body = format!(r#"{{"code":0,"message":"Success","request_id":"{rid}","data":{data}}}"#);
    let mut resp = (StatusCode::OK, body).into_response();
    let headers = resp.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(&rid) {
        headers.insert("x-tt-logid", v);
    }
    resp
}

pub fn ok(data: Value) -> Response {
    envelope_response(StatusCode::OK, codes::OK, "Success", Some(data))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        envelope_response(self.status, self.code, &self.message, None)
    }
}

pub type ApiResult = Result<Value, ApiError>;
