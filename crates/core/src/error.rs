//! The one error type of the product.
//!
//! Every error carries a stable [`ErrorCode`] (what the caller can branch on, also `err.code` in JS), a
//! message that says what to fix, and, where known, TikTok's own `code`, the HTTP status, the request id,
//! a retry hint and the failing field. Messages never contain secrets: constructors take the field name,
//! never the value.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub type Result<T, E = Error> = std::result::Result<T, E>;

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident => $code:literal, $summary:literal; )+) => {
        /// Stable error codes. The strings never change meaning; new ones may be added.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode { $( $(#[$doc])* $variant, )+ }

        impl ErrorCode {
            /// Every code, in documentation order.
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )+ ];

            /// The stable string, e.g. `TTS_SIGNATURE_INVALID`.
            pub const fn as_str(self) -> &'static str {
                match self { $( ErrorCode::$variant => $code, )+ }
            }

            /// One line saying what the code means and what to do about it.
            pub const fn summary(self) -> &'static str {
                match self { $( ErrorCode::$variant => $summary, )+ }
            }

            /// Looks a code up by its string.
            pub fn from_str_code(code: &str) -> Option<ErrorCode> {
                match code { $( $code => Some(ErrorCode::$variant), )+ _ => None }
            }
        }
    };
}

error_codes! {
    InvalidArgument => "TTS_INVALID_ARGUMENT", "An argument is missing or malformed; the message names the field.";
    ConfigInvalid => "TTS_CONFIG_INVALID", "Configuration is missing or malformed; the message names the setting.";
    SignatureInvalid => "TTS_SIGNATURE_INVALID", "A signature did not verify (webhook `Authorization`, or TikTok code 106001 for a request sign).";
    WebhookRawBodyRequired => "TTS_WEBHOOK_RAW_BODY_REQUIRED", "A parsed object was passed where the webhook's raw body bytes are needed; pass the raw body (Buffer or string).";
    WebhookPayloadInvalid => "TTS_WEBHOOK_PAYLOAD_INVALID", "The webhook body verified but is not a TikTok Shop notification (not JSON, or a required field is missing).";
    StateInvalid => "TTS_STATE_INVALID", "The OAuth `state` is missing, malformed or not signed by us; restart the connection.";
    StateExpired => "TTS_STATE_EXPIRED", "The OAuth `state` is older than its lifetime; restart the connection.";
    StateReused => "TTS_STATE_REUSED", "The OAuth `state` was already used once; restart the connection.";
    AuthCodeInvalid => "TTS_AUTH_CODE_INVALID", "The authorization code is invalid, expired (30 min) or already used (TikTok 36004004); restart the connection.";
    TokenExpired => "TTS_TOKEN_EXPIRED", "The access token expired (TikTok 105002); refresh it.";
    ReauthorizationRequired => "TTS_REAUTHORIZATION_REQUIRED", "The seller revoked the authorization or the refresh token is no longer valid (TikTok 105001); the seller must connect the shop again.";
    PermissionDenied => "TTS_PERMISSION_DENIED", "The app or token lacks the scope for this API (TikTok 105005); enable it in Partner Center and re-authorize.";
    ShopCipherRequired => "TTS_SHOP_CIPHER_REQUIRED", "This shop needs `shop_cipher` on this call (TikTok 106013).";
    RequestRejected => "TTS_REQUEST_REJECTED", "TikTok rejected a parameter of the request (TikTok 36009004 and similar); the message says which.";
    RateLimited => "TTS_RATE_LIMITED", "Too many requests (HTTP 429 / TikTok 36009002); retry after the hinted delay.";
    ServiceUnavailable => "TTS_SERVICE_UNAVAILABLE", "The service answered 5xx or is overloaded; safe calls are retried.";
    Timeout => "TTS_TIMEOUT", "The request timed out (client timeout or TikTok 36009007).";
    Network => "TTS_NETWORK", "The connection failed (DNS, refused, reset, TLS).";
    NotFound => "TTS_NOT_FOUND", "The requested record does not exist.";
    Busy => "TTS_BUSY", "Another worker holds this sync pass (shop and kind) or record right now; it runs again once that one is done.";
    OrderOnHold => "TTS_ORDER_ON_HOLD", "The order is ON_HOLD and cannot be fulfilled yet (TikTok 21011044).";
    IpNotAllowed => "TTS_IP_NOT_ALLOWED", "The caller's IP is not in the app's allow-list (TikTok 36009033).";
    VersionInvalid => "TTS_VERSION_INVALID", "The API version in the path is invalid or retired (TikTok 36009014).";
    ApiError => "TTS_API_ERROR", "TikTok answered with another non-zero `code`; see `tiktokCode` and the message.";
    InvalidResponse => "TTS_INVALID_RESPONSE", "The response could not be decoded; the message names the JSON path.";
    SealKeyInvalid => "TTS_SEAL_KEY_INVALID", "An encryption key is malformed (TIKTOK_SHOP_ENCRYPTION_KEY); it must be 32 random bytes in base64.";
    SealOpenFailed => "TTS_SEAL_OPEN_FAILED", "A sealed value could not be opened: wrong or missing key, or the text was altered.";
    Store => "TTS_STORE", "The database failed or holds a malformed row.";
    Internal => "TTS_INTERNAL", "A bug: please report it with the message.";
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for ErrorCode {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// The product's error. Cheap to move (one pointer: the details are boxed, so `Result`s stay small)
/// and to clone (the source is shared), so one failure can be handed to many waiters (e.g. every
/// caller of a single-flight token refresh). The details are read through `Deref`.
#[derive(Clone)]
pub struct Error(Box<ErrorDetail>);

/// What an [`Error`] carries.
#[derive(Clone)]
pub struct ErrorDetail {
    code: ErrorCode,
    message: String,
    /// TikTok's business `code` from the response envelope, when the error came from TikTok.
    pub tiktok_code: Option<i64>,
    /// HTTP status of the response, when there was one.
    pub http_status: Option<u16>,
    /// TikTok's `request_id` (quote it to TikTok support).
    pub request_id: Option<String>,
    /// How long the server asked us to wait, when it said so.
    pub retry_after: Option<Duration>,
    /// The argument, setting or JSON path that failed.
    pub field: Option<String>,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl std::ops::Deref for Error {
    type Target = ErrorDetail;

    fn deref(&self) -> &ErrorDetail {
        &self.0
    }
}

impl std::ops::DerefMut for Error {
    fn deref_mut(&mut self) -> &mut ErrorDetail {
        &mut self.0
    }
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error(Box::new(ErrorDetail {
            code,
            message: message.into(),
            tiktok_code: None,
            http_status: None,
            request_id: None,
            retry_after: None,
            field: None,
            source: None,
        }))
    }

    /// `field` is wrong: `message` says what a valid value looks like.
    pub fn invalid_argument(field: impl Into<String>, message: impl fmt::Display) -> Self {
        let field = field.into();
        Error::new(ErrorCode::InvalidArgument, format!("`{field}`: {message}")).with_field(field)
    }

    /// A configuration setting is wrong; `setting` is the variable or option name.
    pub fn config(setting: impl Into<String>, message: impl fmt::Display) -> Self {
        let setting = setting.into();
        Error::new(ErrorCode::ConfigInvalid, format!("{setting}: {message}")).with_field(setting)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::Internal, message)
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn with_http_status(mut self, status: u16) -> Self {
        self.http_status = Some(status);
        self
    }

    pub fn with_tiktok_code(mut self, code: i64) -> Self {
        self.tiktok_code = Some(code);
        self
    }

    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        let id = request_id.into();
        if !id.is_empty() {
            self.request_id = Some(id);
        }
        self
    }

    pub fn with_retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    /// Keeps the underlying error for `source()`. Callers must make sure it prints no secret
    /// (e.g. strip URLs from reqwest errors first).
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(request_id) = &self.request_id {
            write!(f, " (request_id {request_id})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("code", &self.code.as_str())
            .field("message", &self.message);
        if let Some(v) = self.tiktok_code {
            d.field("tiktok_code", &v);
        }
        if let Some(v) = self.http_status {
            d.field("http_status", &v);
        }
        if let Some(v) = &self.request_id {
            d.field("request_id", v);
        }
        if let Some(v) = &self.retry_after {
            d.field("retry_after", v);
        }
        if let Some(v) = &self.field {
            d.field("field", v);
        }
        if let Some(v) = &self.source {
            d.field("source", &v.to_string());
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_prefixed_and_round_trip() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            assert!(code.as_str().starts_with("TTS_"), "{code}");
            assert!(seen.insert(code.as_str()), "duplicate {code}");
            assert_eq!(ErrorCode::from_str_code(code.as_str()), Some(*code));
            assert!(!code.summary().is_empty());
        }
        assert_eq!(ErrorCode::from_str_code("TTS_NOPE"), None);
    }

    #[test]
    fn results_stay_small() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn display_adds_request_id_and_invalid_argument_names_the_field() {
        let e = Error::invalid_argument("query.page_size", "must be between 1 and 100")
            .with_request_id("2024ABC");
        assert_eq!(e.code(), ErrorCode::InvalidArgument);
        assert_eq!(e.field.as_deref(), Some("query.page_size"));
        assert_eq!(
            e.to_string(),
            "`query.page_size`: must be between 1 and 100 (request_id 2024ABC)"
        );
    }
}
