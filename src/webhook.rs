//! Webhook verification from the raw bytes, and parsing into a typed notification.

use napi::bindgen_prelude::{BufferSlice, JsObjectValue, Object, Uint8Array, Unknown};
use napi::{Env, JsValue, ValueType};
use napi_derive::napi;
use tts_core::{Error, ErrorCode};
use tts_tiktok::webhook;

use crate::errors::{check, invalid, to_js};

/// Inputs of `verifyWebhook` / `parseWebhook`. (Read field by field, so that a parsed object passed
/// as `rawBody` gets its own error instead of a type error.)
#[allow(dead_code)] // declares the TypeScript shape; the fields are read one by one
#[napi(object)]
pub struct WebhookInput {
    pub app_key: String,
    /// The app secret TikTok signs with.
    pub app_secret: Option<String>,
    /// Several secrets (rotation): the signature may match any of them.
    pub app_secrets: Option<Vec<String>>,
    /// The `Authorization` request header.
    pub authorization: Option<String>,
    /// The body exactly as received: a Buffer (or Uint8Array), or the raw text. Never `JSON.parse`d.
    #[napi(ts_type = "Buffer | Uint8Array | string")]
    pub raw_body: String,
}

struct Parsed {
    app_key: String,
    secrets: Vec<String>,
    authorization: String,
    raw_body: Vec<u8>,
}

pub(crate) fn raw_body_bytes(env: &Env, value: Unknown) -> napi::Result<Vec<u8>> {
    match value.get_type()? {
        ValueType::String => Ok(unsafe { value.cast::<String>() }?.into_bytes()),
        ValueType::Object if value.is_buffer()? => Ok(unsafe { value.cast::<BufferSlice>() }?.to_vec()),
        ValueType::Object if value.is_typedarray()? => Ok(unsafe { value.cast::<Uint8Array>() }?.to_vec()),
        ValueType::Undefined | ValueType::Null => Err(to_js(
            env,
            Error::new(
                ErrorCode::WebhookRawBodyRequired,
                "`rawBody` is missing: pass the raw body bytes of the request (e.g. `req.rawBody` kept by \
                 the body-parser `verify` hook)",
            )
            .with_field("rawBody"),
        )),
        _ => Err(to_js(
            env,
            Error::new(
                ErrorCode::WebhookRawBodyRequired,
                "`rawBody` is a parsed object: pass the raw body (Buffer or string) exactly as received; \
                 re-serialized JSON does not match TikTok's signature",
            )
            .with_field("rawBody"),
        )),
    }
}

fn read_input(env: &Env, input: Object) -> napi::Result<Parsed> {
    let app_key: Option<String> = input.get("appKey")?;
    let app_key = app_key
        .filter(|k| !k.is_empty())
        .ok_or_else(|| invalid(env, "appKey", "must not be empty"))?;
    let mut secrets: Vec<String> = input.get::<Vec<String>>("appSecrets")?.unwrap_or_default();
    if let Some(one) = input.get::<String>("appSecret")? {
        secrets.insert(0, one);
    }
    secrets.retain(|s| !s.is_empty());
    if secrets.is_empty() {
        return Err(invalid(
            env,
            "appSecret",
            "give the app secret (or `appSecrets` during a rotation)",
        ));
    }
    let authorization: String = input.get("authorization")?.unwrap_or_default();
    let raw_body = raw_body_bytes(env, input.get_named_property::<Unknown>("rawBody")?)?;
    Ok(Parsed {
        app_key,
        secrets,
        authorization,
        raw_body,
    })
}

/// True when the `Authorization` header is TikTok's signature of the raw body
/// (HMAC-SHA256(app secret, app key + raw body), constant-time compare).
#[napi(ts_args_type = "input: WebhookInput")]
pub fn verify_webhook(env: Env, input: Object) -> napi::Result<bool> {
    let p = read_input(&env, input)?;
    let secrets: Vec<&str> = p.secrets.iter().map(String::as_str).collect();
    Ok(webhook::verify(
        &p.app_key,
        &secrets,
        &p.authorization,
        &p.raw_body,
    ))
}

/// A verified webhook notification.
#[napi(object)]
pub struct WebhookNotification {
    /// The topic number.
    #[napi(js_name = "type")]
    pub type_code: i64,
    /// `ORDER_STATUS_CHANGE`, ... or `UNKNOWN` for a topic this version does not know.
    pub event_type: String,
    pub notification_id: String,
    pub shop_id: String,
    /// Unix seconds.
    pub timestamp: i64,
    /// The topic's data: typed and normalized (ids as strings) for documented shapes, as received
    /// otherwise.
    pub data: serde_json::Value,
}

/// Verifies the signature, then parses the body into a notification. Throws `TTS_SIGNATURE_INVALID`,
/// `TTS_WEBHOOK_RAW_BODY_REQUIRED` or `TTS_WEBHOOK_PAYLOAD_INVALID`.
#[napi(ts_args_type = "input: WebhookInput")]
pub fn parse_webhook(env: Env, input: Object) -> napi::Result<WebhookNotification> {
    let p = read_input(&env, input)?;
    let secrets: Vec<&str> = p.secrets.iter().map(String::as_str).collect();
    let n = check(
        &env,
        webhook::verify_and_parse(&p.app_key, &secrets, &p.authorization, &p.raw_body),
    )?;
    check(&env, notification_to_js(n))
}

/// A parsed notification as JS sees it.
pub(crate) fn notification_to_js(n: webhook::Notification) -> tts_core::Result<WebhookNotification> {
    let data = serde_json::to_value(&n.event)
        .map_err(|e| Error::internal(format!("cannot convert webhook data: {e}")))?;
    Ok(WebhookNotification {
        type_code: n.type_code,
        event_type: n.event_type.to_string(),
        notification_id: n.tts_notification_id,
        shop_id: n.shop_id,
        timestamp: n.timestamp,
        data,
    })
}

/// Inputs of `signWebhook`.
#[allow(dead_code)] // declares the TypeScript shape; the fields are read one by one
#[napi(object)]
pub struct SignWebhookInput {
    pub app_key: String,
    pub app_secret: String,
    #[napi(ts_type = "Buffer | Uint8Array | string")]
    pub raw_body: String,
}

/// The `Authorization` header TikTok would send for a body: for your own tests.
#[napi(ts_args_type = "input: SignWebhookInput")]
pub fn sign_webhook(env: Env, input: Object) -> napi::Result<String> {
    let app_key: String = input.get("appKey")?.unwrap_or_default();
    let app_secret: String = input.get("appSecret")?.unwrap_or_default();
    if app_secret.is_empty() {
        return Err(invalid(&env, "appSecret", "must not be empty"));
    }
    let body = raw_body_bytes(&env, input.get_named_property::<Unknown>("rawBody")?)?;
    Ok(webhook::sign(&app_key, &app_secret, &body))
}
