//! Classifying plentymarkets answers and transport failures into the product's error. Pure, except
//! [`transport_error`] which only reads a reqwest error. Messages name the route template (never the
//! concrete URL with its query) and never contain the password or a token.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;
use tts_core::{Error, ErrorCode, Result};

use super::retry::AttemptFailure;

/// Replaces every secret (≥ 4 chars) in `text`.
pub fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(s, "[REDACTED]");
    }
    out
}

/// The server's own words from an error body: `error.message`, `error` (string) or `message`.
fn server_message(body: &Value) -> Option<String> {
    let e = &body["error"];
    e["message"]
        .as_str()
        .or_else(|| e.as_str())
        .or_else(|| body["message"].as_str())
        .map(str::to_owned)
}

/// The first field of a 422's `validation_errors` (`{"field": ["message"]}`), with its message.
fn validation_error(body: &Value) -> Option<(String, String)> {
    let errors = body
        .get("validation_errors")
        .or_else(|| body["error"].get("validation_errors"))?
        .as_object()?;
    let (field, messages) = errors.iter().next()?;
    let message = match messages {
        Value::Array(a) => a.first().and_then(Value::as_str).unwrap_or("is invalid"),
        Value::String(s) => s,
        _ => "is invalid",
    };
    Some((field.clone(), message.to_string()))
}

/// Turns a non-2xx answer into an error. `route` is the template (`"GET /rest/orders/{orderId}"`).
pub fn status_error(
    route: &str,
    status: u16,
    retry_after: Option<Duration>,
    body: &[u8],
    secrets: &[&str],
) -> Error {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let said = server_message(&json)
        .unwrap_or_else(|| {
            String::from_utf8_lossy(body)
                .chars()
                .take(160)
                .collect::<String>()
        })
        .chars()
        .take(300)
        .collect::<String>();
    let said = scrub(said.trim(), secrets);
    let text = |what: &str| {
        if said.is_empty() {
            format!("plentymarkets {route}: {what} (HTTP {status})")
        } else {
            format!("plentymarkets {route}: {what} (HTTP {status}): {said}")
        }
    };
    let error = match status {
        401 => Error::new(
            ErrorCode::PermissionDenied,
            text("the access token was not accepted"),
        ),
        403 => Error::new(
            ErrorCode::PermissionDenied,
            text("the back-end user lacks the REST right for this route"),
        ),
        404 => Error::new(ErrorCode::NotFound, text("not found")),
        400 | 422 => match validation_error(&json) {
            Some((field, message)) => Error::new(
                ErrorCode::InvalidArgument,
                format!("plentymarkets {route}: `{field}`: {}", scrub(&message, secrets)),
            )
            .with_field(field),
            None => Error::new(ErrorCode::RequestRejected, text("the request was rejected")),
        },
        429 if said.contains("too_many_concurrent_sessions") => Error::new(
            ErrorCode::RateLimited,
            text("too many concurrent back-end sessions for this user"),
        ),
        429 => Error::new(ErrorCode::RateLimited, text("rate limit exceeded")),
        500..=599 => Error::new(ErrorCode::ServiceUnavailable, text("server error")),
        _ => Error::new(ErrorCode::RequestRejected, text("unexpected answer")),
    };
    let error = error.with_http_status(status);
    match retry_after {
        Some(after) => error.with_retry_after(after),
        None => error,
    }
}

/// Decodes a 2xx body into `T`, naming the JSON path that failed.
pub fn decode<T: DeserializeOwned>(route: &str, body: &[u8]) -> Result<T> {
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(body)).map_err(|e| {
        let path = e.path().to_string();
        Error::new(
            ErrorCode::InvalidResponse,
            format!(
                "plentymarkets {route}: answer does not fit at `{path}`: {}",
                e.inner()
            ),
        )
        .with_field(path)
    })
}

/// Maps a reqwest failure (no answer) to our error, without the URL, and says whether anything can
/// have reached the server.
pub fn transport_error(route: &str, e: reqwest::Error) -> (Error, AttemptFailure) {
    let e = e.without_url();
    let failure = if e.is_connect() {
        AttemptFailure::NotSent
    } else {
        AttemptFailure::Failed
    };
    let (code, what) = if e.is_timeout() {
        (ErrorCode::Timeout, "timed out")
    } else if e.is_connect() {
        (ErrorCode::Network, "could not connect")
    } else {
        (ErrorCode::Network, "failed")
    };
    let detail = std::error::Error::source(&e)
        .map(|s| format!(": {s}"))
        .unwrap_or_default();
    (
        Error::new(code, format!("plentymarkets {route}: request {what}{detail}")).with_source(e),
        failure,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_codes_and_name_fields() {
        let e = status_error(
            "POST /rest/orders",
            422,
            None,
            br#"{"validation_errors":{"plentyId":["The plenty id field is required."]}}"#,
            &[],
        );
        assert_eq!(
            (e.code(), e.field.as_deref()),
            (ErrorCode::InvalidArgument, Some("plentyId"))
        );
        let e = status_error(
            "GET /rest/orders/{orderId}",
            404,
            None,
            br#"{"error":{"message":"Order not found"}}"#,
            &[],
        );
        assert_eq!(e.code(), ErrorCode::NotFound);
        assert!(e.message().contains("Order not found"), "{}", e.message());
        let e = status_error(
            "POST /rest/login",
            429,
            Some(Duration::from_secs(3)),
            br#"{"error":"too_many_concurrent_sessions"}"#,
            &[],
        );
        assert_eq!(
            (e.code(), e.retry_after),
            (ErrorCode::RateLimited, Some(Duration::from_secs(3)))
        );
        assert!(e.message().contains("concurrent"));
        let e = status_error("GET /rest/x", 502, None, b"<html>bad gateway</html>", &[]);
        assert_eq!(
            (e.code(), e.http_status),
            (ErrorCode::ServiceUnavailable, Some(502))
        );
        let e = status_error(
            "POST /rest/login",
            401,
            None,
            br#"{"message":"wrong password hunter22"}"#,
            &["hunter22"],
        );
        assert!(!e.to_string().contains("hunter22"));
    }

    #[test]
    fn decode_names_the_json_path() {
        let e = decode::<crate::model::Page<crate::model::Variation>>(
            "GET /rest/items/variations",
            br#"{"page":1,"entries":[{"id":1,"itemId":"x1"}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidResponse);
        assert_eq!(e.field.as_deref(), Some("entries[0].itemId"));
    }
}
