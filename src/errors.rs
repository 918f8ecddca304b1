//! Core errors → JS `Error` objects with a stable `code` and, where known, `tiktokCode`, `httpStatus`,
//! `requestId`, `field` and `retryAfterMs`. Sync functions throw them; async ones reject with them.

use std::future::Future;

use napi::bindgen_prelude::JsObjectValue;
use napi::bindgen_prelude::{Function, PromiseRaw, ToNapiValue, Unknown};
use napi::{Env, JSON, JsError, JsValue};
use napi_derive::napi;
use tts_core::{ErrorCode, Result as CoreResult};

/// `napi::Error`'s status type: our stable code strings instead of Node-API statuses.
struct Code(&'static str);

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        self.0
    }
}

/// Builds the JS error object for a core error.
pub fn to_js(env: &Env, e: tts_core::Error) -> napi::Error {
    let js = JsError::from(napi::Error::new(Code(e.code().as_str()), e.to_string())).into_unknown(*env);
    if let Ok(mut obj) = js.coerce_to_object() {
        // Setting plain data properties on a fresh Error object cannot fail in practice; if it did,
        // the error would still carry its code and message.
        if let Some(v) = e.tiktok_code {
            let _ = obj.set_named_property("tiktokCode", v as f64);
        }
        if let Some(v) = e.http_status {
            let _ = obj.set_named_property("httpStatus", u32::from(v));
        }
        if let Some(v) = &e.request_id {
            let _ = obj.set_named_property("requestId", v.as_str());
        }
        if let Some(v) = &e.field {
            let _ = obj.set_named_property("field", v.as_str());
        }
        if let Some(v) = e.retry_after {
            let _ = obj.set_named_property("retryAfterMs", v.as_millis() as f64);
        }
    }
    napi::Error::from(js)
}

/// Converts a core result, throwing the coded JS error on failure.
pub fn check<T>(env: &Env, result: CoreResult<T>) -> napi::Result<T> {
    result.map_err(|e| to_js(env, e))
}

/// Shorthand for an invalid JS argument.
pub fn invalid(env: &Env, field: &str, message: &str) -> napi::Error {
    to_js(env, tts_core::Error::invalid_argument(field, message))
}

/// Runs a core future on the addon's tokio runtime; the promise rejects with a coded JS error.
/// (A plain `async fn` can only reject with Node-API status codes.)
pub fn spawn<'env, T, V, F>(
    env: &'env Env,
    future: F,
    convert: fn(T) -> V,
) -> napi::Result<PromiseRaw<'env, V>>
where
    T: Send + 'static,
    V: ToNapiValue + 'static,
    F: Future<Output = CoreResult<T>> + Send + 'static,
{
    env.spawn_future_with_callback(async move { Ok(future.await) }, move |env, result| match result {
        Ok(value) => Ok(convert(value)),
        Err(e) => Err(to_js(env, e)),
    })
}

/// Turns JSON text into a JS value with V8's own parser: one call, instead of one N-API call per
/// field and element, which is what makes large answers cheap to hand over.
pub fn json_parse<'env>(env: &'env Env, text: &str) -> napi::Result<Unknown<'env>> {
    let global = env.get_global()?;
    let json: JSON = global.get_named_property_unchecked("JSON")?;
    let parse: Function<String, Unknown> = json.get_named_property_unchecked("parse")?;
    parse.call(text.to_string())
}

/// JSON text that becomes a JS value through `JSON.parse` when handed to JS.
pub struct JsonText(pub String);

impl ToNapiValue for JsonText {
    unsafe fn to_napi_value(
        raw_env: napi::sys::napi_env,
        value: Self,
    ) -> napi::Result<napi::sys::napi_value> {
        let env = Env::from_raw(raw_env);
        Ok(json_parse(&env, &value.0)?.raw())
    }
}

/// A documented error code.
#[napi(object)]
pub struct ErrorCodeInfo {
    pub code: String,
    pub summary: String,
}

/// Every error `code` the package can throw, with what it means.
#[napi]
pub fn error_codes() -> Vec<ErrorCodeInfo> {
    ErrorCode::ALL
        .iter()
        .map(|c| ErrorCodeInfo {
            code: c.as_str().to_string(),
            summary: c.summary().to_string(),
        })
        .collect()
}

/// Current Unix time in seconds.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
