//! Sending built requests and decoding TikTok's envelope `{code, message, request_id, data}`.
//!
//! This is the minimal transport of the protocol layer (one attempt, no limiter); the API client adds
//! throttling, retries and token refresh on top. Errors never contain a URL: reqwest puts the full URL
//! (with the token endpoints' `app_secret`) into its errors, so it is stripped before wrapping.

use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;
use tts_core::{Error, ErrorCode, ExposeSecret, Result};

use crate::client::retry::AttemptFailure;
use crate::error::{api_error, parse_retry_after, scrub};
use crate::request::{ACCESS_TOKEN_HEADER, BuiltRequest};

/// Longest `Retry-After` we honour.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(120);

/// Timeouts of the shared HTTP client.
#[derive(Clone, Copy, Debug)]
pub struct HttpOptions {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// One HTTP client per app: keep-alive pool, rustls, no redirects (a redirect would re-send the token
/// header to another host and is never part of TikTok's API).
pub fn http_client(options: HttpOptions) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(options.connect_timeout)
        .timeout(options.request_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("tiktok-shop-plentyone/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::internal(format!("cannot build HTTP client: {}", e.without_url())))
}

/// The envelope of a successful answer. `data` stays raw JSON text until someone needs it: typed
/// helpers decode it straight into their models, and the Node binding hands it to V8's `JSON.parse`,
/// which is far cheaper than building JS objects field by field.
#[derive(Clone, Debug)]
pub struct Envelope {
    pub request_id: String,
    pub data: Box<RawValue>,
}

impl Envelope {
    /// Decodes `data` into `T`; a mismatch is `TTS_INVALID_RESPONSE` naming the JSON path.
    pub fn decode<T: DeserializeOwned>(&self, what: &str) -> Result<T> {
        decode_raw(what, &self.data)
    }

    /// `data` as a JSON value.
    pub fn value(&self) -> Result<Value> {
        self.decode("response")
    }
}

/// Decodes raw JSON `data` into `T`, naming the failing path.
pub fn decode_raw<T: DeserializeOwned>(what: &str, data: &RawValue) -> Result<T> {
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(data.get())).map_err(|e| {
        Error::new(
            ErrorCode::InvalidResponse,
            format!("{what}: `data.{}`: {}", e.path(), e.inner()),
        )
        .with_field(format!("data.{}", e.path()))
    })
}

#[derive(Deserialize)]
struct RawEnvelope {
    code: i64,
    #[serde(default)]
    message: String,
    #[serde(default)]
    request_id: String,
    #[serde(default)]
    data: Option<Box<RawValue>>,
}

/// Turns a response (status, `Retry-After`, body bytes) into data or a classified error. Pure.
pub fn decode_envelope(
    http_status: u16,
    retry_after: Option<&str>,
    body: &[u8],
    secrets: &[&str],
    now_unix: i64,
) -> Result<Envelope> {
    let retry_after = retry_after.and_then(|v| parse_retry_after(v, now_unix, RETRY_AFTER_CAP));
    let raw: RawEnvelope =
        match serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(body)) {
            Ok(raw) => raw,
            Err(e) => {
                if !(200..300).contains(&http_status) {
                    // e.g. a proxy's HTML 502 page: classify by status alone.
                    let snippet: String = String::from_utf8_lossy(body).chars().take(120).collect();
                    return Err(api_error(
                        http_status,
                        None,
                        &scrub(snippet.trim(), secrets),
                        None,
                        retry_after,
                    ));
                }
                let path = e.path().to_string();
                return Err(Error::new(
                    ErrorCode::InvalidResponse,
                    format!(
                        "TikTok response is not the expected envelope at `{path}`: {}",
                        e.inner()
                    ),
                )
                .with_http_status(http_status)
                .with_field(path));
            }
        };
    if raw.code == 0 && (200..300).contains(&http_status) {
        let data = raw
            .data
            .unwrap_or_else(|| RawValue::from_string("null".into()).expect("valid JSON"));
        return Ok(Envelope {
            request_id: raw.request_id,
            data,
        });
    }
    let request_id = Some(raw.request_id.as_str()).filter(|s| !s.is_empty());
    Err(api_error(
        http_status,
        Some(raw.code),
        &scrub(&raw.message, secrets),
        request_id,
        retry_after,
    ))
}

/// Maps a reqwest failure (no response) to our error, without the URL.
pub fn transport_error(e: reqwest::Error) -> Error {
    let e = e.without_url();
    let code = if e.is_timeout() {
        ErrorCode::Timeout
    } else {
        ErrorCode::Network
    };
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    let detail = std::error::Error::source(&e)
        .map(|s| format!(": {s}"))
        .unwrap_or_default();
    Error::new(code, format!("request to TikTok {what}{detail}")).with_source(e)
}

/// Sends one built request and decodes the answer. `secrets` are scrubbed from any message.
pub async fn send(
    http: &reqwest::Client,
    request: &BuiltRequest,
    secrets: &[&str],
    now_unix: i64,
) -> Result<Envelope> {
    send_once(http, request, secrets, now_unix)
        .await
        .map_err(|(e, _)| e)
}

/// Like [`send`], but also says whether the request can have reached the server (for retry decisions).
pub async fn send_once(
    http: &reqwest::Client,
    request: &BuiltRequest,
    secrets: &[&str],
    now_unix: i64,
) -> std::result::Result<Envelope, (Error, AttemptFailure)> {
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).expect("table methods are valid");
    let mut builder = http.request(method, &request.url);
    if let Some(token) = &request.access_token {
        let mut value = reqwest::header::HeaderValue::from_str(token.expose_secret()).map_err(|_| {
            (
                Error::invalid_argument("accessToken", "contains characters not allowed in a header"),
                AttemptFailure::NotSent,
            )
        })?;
        value.set_sensitive(true);
        builder = builder.header(ACCESS_TOKEN_HEADER, value);
    }
    if let Some(ct) = &request.content_type {
        builder = builder.header(reqwest::header::CONTENT_TYPE, ct);
    }
    if let Some(body) = &request.body {
        builder = builder.body(body.clone());
    }
    let response = builder.send().await.map_err(|e| {
        let failure = if e.is_connect() {
            AttemptFailure::NotSent
        } else {
            AttemptFailure::Failed
        };
        (transport_error(e), failure)
    })?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response
        .bytes()
        .await
        .map_err(|e| (transport_error(e), AttemptFailure::Failed))?;
    decode_envelope(status, retry_after.as_deref(), &body, secrets, now_unix)
        .map_err(|e| (e, AttemptFailure::Failed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_success_and_errors() {
        let ok = decode_envelope(
            200,
            None,
            br#"{"code":0,"message":"Success","request_id":"r1","data":{"a":1}}"#,
            &[],
            0,
        )
        .unwrap();
        assert_eq!(ok.value().unwrap()["a"], 1);
        assert_eq!(
            ok.decode::<std::collections::HashMap<String, i64>>("x").unwrap()["a"],
            1
        );
        let e = ok
            .decode::<std::collections::HashMap<String, String>>("thing")
            .unwrap_err();
        assert_eq!(
            (e.code(), e.field.as_deref()),
            (ErrorCode::InvalidResponse, Some("data.a"))
        );
        let e = decode_envelope(
            401,
            None,
            br#"{"code":106001,"message":"Invalid credentials","request_id":"r2"}"#,
            &[],
            0,
        )
        .unwrap_err();
        assert_eq!(e.code(), ErrorCode::SignatureInvalid);
        assert_eq!(e.request_id.as_deref(), Some("r2"));
        let e = decode_envelope(
            429,
            Some("2"),
            br#"{"code":36009002,"message":"Too many requests"}"#,
            &[],
            0,
        )
        .unwrap_err();
        assert_eq!(
            (e.code(), e.retry_after),
            (ErrorCode::RateLimited, Some(Duration::from_secs(2)))
        );
        // business error on HTTP 200
        let e = decode_envelope(200, None, br#"{"code":105002,"message":"expired"}"#, &[], 0).unwrap_err();
        assert_eq!(e.code(), ErrorCode::TokenExpired);
        let e = decode_envelope(502, None, b"<html>Bad Gateway</html>", &[], 0).unwrap_err();
        assert_eq!(
            (e.code(), e.http_status),
            (ErrorCode::ServiceUnavailable, Some(502))
        );
        let e = decode_envelope(200, None, br#"{"code":"zero"}"#, &[], 0).unwrap_err();
        assert_eq!(
            (e.code(), e.field.as_deref()),
            (ErrorCode::InvalidResponse, Some("code"))
        );
        let e = decode_envelope(
            200,
            None,
            br#"{"code":36009004,"message":"bad app_secret s3cr3t!"}"#,
            &["s3cr3t!"],
            0,
        )
        .unwrap_err();
        assert!(!e.to_string().contains("s3cr3t!"));
    }
}
