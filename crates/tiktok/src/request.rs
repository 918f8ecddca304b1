//! Request building: (operation, path params, query, body, shop cipher, token, now) → the exact URL,
//! headers and body to send. Pure; the transport only sends what this returns.
//!
//! Common parameters (spec §1.1): `app_key` and `timestamp` (Unix seconds) in the query, `shop_cipher`
//! only where the operation table says the operation takes it, `sign` last; the token goes in the
//! `x-tts-access-token` header, never in the URL. Values are signed decoded and sent percent-encoded.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tts_core::{Error, ExposeSecret, Result, SecretString};

use crate::operations::{BodyKind, Operation, ShopCipher};
use crate::sign::{QueryValue, SignInput, sign};

/// Production API host (spec §3).
pub const DEFAULT_API_BASE: &str = "https://open-api.tiktokglobalshop.com";
/// Header carrying the access token (202309+).
pub const ACCESS_TOKEN_HEADER: &str = "x-tts-access-token";

/// Query keys the builder owns; callers may not set them.
const RESERVED_QUERY_KEYS: [&str; 5] = ["app_key", "timestamp", "sign", "shop_cipher", "access_token"];

/// Everything except RFC 3986 unreserved characters is escaped, so `+`, `/`, `=` in a `page_token`
/// arrive intact (a raw `+` would be decoded as a space and break the signature).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The app's credentials. `Debug` never shows the secret.
#[derive(Clone)]
pub struct AppCredentials {
    pub app_key: String,
    pub app_secret: SecretString,
}

impl fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppCredentials")
            .field("app_key", &self.app_key)
            .field("app_secret", &"[REDACTED]")
            .finish()
    }
}

impl AppCredentials {
    pub fn new(app_key: impl Into<String>, app_secret: SecretString) -> Result<Self> {
        let app_key = app_key.into();
        if app_key.trim().is_empty() {
            return Err(Error::invalid_argument("appKey", "must not be empty"));
        }
        if app_secret.expose_secret().is_empty() {
            return Err(Error::invalid_argument("appSecret", "must not be empty"));
        }
        Ok(AppCredentials { app_key, app_secret })
    }
}

/// A request body as it will be sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestBody {
    /// JSON bytes, signed exactly as sent.
    Json(Vec<u8>),
    /// A complete multipart body and its `Content-Type` (with the boundary); never signed.
    Multipart { content_type: String, bytes: Vec<u8> },
}

/// Inputs of one call.
#[derive(Debug)]
pub struct RequestParts<'a> {
    pub operation: &'static Operation,
    /// Values for the `{param}` placeholders of the path.
    pub path_params: &'a [(&'a str, &'a str)],
    /// Operation-specific query parameters (not `app_key`, `timestamp`, `sign`, `shop_cipher`).
    pub query: &'a [(String, QueryValue)],
    pub body: Option<RequestBody>,
    pub shop_cipher: Option<&'a str>,
    pub access_token: Option<&'a SecretString>,
    /// Unix seconds.
    pub now: i64,
}

/// The final request. `Debug` shows the token as `[REDACTED]`.
#[derive(Clone)]
pub struct BuiltRequest {
    pub operation: &'static Operation,
    pub method: &'static str,
    /// Absolute URL with the percent-encoded, signed query. Contains no token or secret.
    pub url: String,
    /// The signed path (no host, no query).
    pub path: String,
    pub content_type: Option<String>,
    pub access_token: Option<SecretString>,
    pub body: Option<Vec<u8>>,
}

impl fmt::Debug for BuiltRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BuiltRequest")
            .field("operation", &self.operation.id)
            .field("method", &self.method)
            .field("url", &self.url)
            .field("content_type", &self.content_type)
            .field("access_token", &self.access_token.as_ref().map(|_| "[REDACTED]"))
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .finish()
    }
}

/// Fills the path template, refusing values that would change the path's shape.
pub fn fill_path(operation: &Operation, params: &[(&str, &str)]) -> Result<String> {
    let mut path = String::with_capacity(operation.path.len() + 24);
    for segment in operation.path.split('/').skip(1) {
        path.push('/');
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => {
                let value = params
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| *v)
                    .ok_or_else(|| {
                        Error::invalid_argument(
                            format!("pathParams.{name}"),
                            format!("{} needs it", operation.id),
                        )
                    })?;
                let valid = !value.is_empty()
                    && value.len() <= 128
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
                if !valid {
                    return Err(Error::invalid_argument(
                        format!("pathParams.{name}"),
                        "must be 1-128 characters of [A-Za-z0-9_.-] (TikTok ids are digit strings)",
                    ));
                }
                path.push_str(value);
            }
            None => path.push_str(segment),
        }
    }
    for (name, _) in params {
        if !operation.path_params().any(|p| p == *name) {
            return Err(Error::invalid_argument(
                format!("pathParams.{name}"),
                format!("{} has no such path parameter", operation.id),
            ));
        }
    }
    Ok(path)
}

/// Builds the signed request.
pub fn build_request(api_base: &str, app: &AppCredentials, parts: RequestParts<'_>) -> Result<BuiltRequest> {
    let op = parts.operation;
    let path = fill_path(op, parts.path_params)?;

    let mut query: Vec<(String, QueryValue)> = Vec::with_capacity(parts.query.len() + 3);
    for (key, value) in parts.query {
        if RESERVED_QUERY_KEYS.contains(&key.as_str()) {
            return Err(Error::invalid_argument(
                format!("query.{key}"),
                "is set by the client; remove it from the query",
            ));
        }
        if key.is_empty() {
            return Err(Error::invalid_argument("query", "a parameter name is empty"));
        }
        if let (Some((lo, hi)), "page_size") = (op.page_size, key.as_str()) {
            let ok = value
                .joined()
                .parse::<u32>()
                .is_ok_and(|n| (lo..=hi).contains(&n));
            if !ok {
                return Err(Error::invalid_argument(
                    "query.page_size",
                    format!("{} takes a page_size between {lo} and {hi}", op.id),
                ));
            }
        }
        query.push((key.clone(), value.clone()));
    }
    query.push(("app_key".into(), QueryValue::One(app.app_key.clone())));
    query.push(("timestamp".into(), QueryValue::One(parts.now.to_string())));
    if op.shop_cipher == ShopCipher::Takes
        && let Some(cipher) = parts.shop_cipher.filter(|c| !c.is_empty())
    {
        query.push(("shop_cipher".into(), QueryValue::One(cipher.to_string())));
    }

    let (content_type, body) = match (op.body, parts.body) {
        (BodyKind::None, None) => (None, None),
        (BodyKind::None, Some(_)) => {
            return Err(Error::invalid_argument(
                "body",
                format!("{} takes no body", op.id),
            ));
        }
        (BodyKind::Json, Some(RequestBody::Json(bytes))) => {
            (Some("application/json".to_string()), Some(bytes))
        }
        (BodyKind::Json, None) => (Some("application/json".to_string()), None),
        (BodyKind::Multipart, Some(RequestBody::Multipart { content_type, bytes })) => {
            if !crate::sign::is_multipart(&content_type) {
                return Err(Error::invalid_argument(
                    "contentType",
                    "must be multipart/form-data; boundary=…",
                ));
            }
            (Some(content_type), Some(bytes))
        }
        (BodyKind::Multipart, _) => {
            return Err(Error::invalid_argument(
                "body",
                format!("{} takes a multipart/form-data body", op.id),
            ));
        }
        (BodyKind::Json, Some(RequestBody::Multipart { .. })) => {
            return Err(Error::invalid_argument(
                "body",
                format!("{} takes a JSON body", op.id),
            ));
        }
    };

    let sign_value = sign(
        app.app_secret.expose_secret(),
        &SignInput {
            path: &path,
            query: &query,
            body: body.as_deref(),
            content_type: content_type.as_deref(),
            legacy: false,
        },
    );

    let mut url = String::with_capacity(api_base.len() + path.len() + 160);
    url.push_str(api_base.trim_end_matches('/'));
    url.push_str(&path);
    for (i, (key, value)) in query
        .iter()
        .chain([&("sign".to_string(), QueryValue::One(sign_value))])
        .enumerate()
    {
        url.push(if i == 0 { '?' } else { '&' });
        url.extend(utf8_percent_encode(key, QUERY_VALUE));
        url.push('=');
        url.extend(utf8_percent_encode(&value.joined(), QUERY_VALUE));
    }

    Ok(BuiltRequest {
        operation: op,
        method: op.method.as_str(),
        url,
        path,
        content_type,
        access_token: parts.access_token.cloned(),
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tts_core::secret::secret;

    fn app() -> AppCredentials {
        AppCredentials::new(
            "6a1b2c3d4e5f6",
            secret("0123456789abcdef0123456789abcdef01234567"),
        )
        .unwrap()
    }

    fn op(id: &str) -> &'static Operation {
        Operation::find(id).unwrap()
    }

    /// Decodes the query of a built URL back into (key, decoded value) pairs.
    fn decoded_query(url: &str) -> Vec<(String, String)> {
        let query = url.split_once('?').unwrap().1;
        query
            .split('&')
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                let dec = |s: &str| {
                    percent_encoding::percent_decode_str(s)
                        .decode_utf8()
                        .unwrap()
                        .into_owned()
                };
                (dec(k), dec(v))
            })
            .collect()
    }

    #[test]
    fn reproduces_the_v3_vector_with_cipher_and_a_page_token_needing_escapes() {
        let token = secret("TTP_secret_token");
        let query = vec![
            ("page_size".to_string(), QueryValue::from("50")),
            ("sort_field".to_string(), QueryValue::from("create_time")),
            ("sort_order".to_string(), QueryValue::from("ASC")),
            ("page_token".to_string(), QueryValue::from("aDU2c2Z+Ymc9/PQ==")),
        ];
        let body =
            br#"{"order_status":"AWAITING_SHIPMENT","update_time_ge":1700000000,"update_time_lt":1700086400}"#;
        let built = build_request(
            "https://open-api.example/",
            &app(),
            RequestParts {
                operation: op("orders.search"),
                path_params: &[],
                query: &query,
                body: Some(RequestBody::Json(body.to_vec())),
                shop_cipher: Some("ROW_AbCdEfGhIjKlMnOp"),
                access_token: Some(&token),
                now: 1_700_000_000,
            },
        )
        .unwrap();
        assert!(
            built
                .url
                .starts_with("https://open-api.example/order/202309/orders/search?")
        );
        assert!(
            built.url.contains("page_token=aDU2c2Z%2BYmc9%2FPQ%3D%3D"),
            "{}",
            built.url
        );
        assert!(!built.url.contains("TTP_secret_token"), "token never in the URL");
        let q = decoded_query(&built.url);
        assert_eq!(
            q.last().unwrap(),
            &(
                "sign".into(),
                "ca31238c26e21cf0bf7d9c11de5f980fef080cf6ac34d246b7258d306c02abee".into()
            )
        );
        assert!(q.contains(&("shop_cipher".into(), "ROW_AbCdEfGhIjKlMnOp".into())));
        assert_eq!(built.content_type.as_deref(), Some("application/json"));
        assert_eq!(
            built.access_token.as_ref().unwrap().expose_secret(),
            "TTP_secret_token"
        );
        assert!(!format!("{built:?}").contains("TTP_secret_token"));
        assert!(!format!("{:?}", app()).contains("0123456789abcdef"));
    }

    #[test]
    fn cipher_is_dropped_where_the_operation_rejects_it() {
        let built = build_request(
            DEFAULT_API_BASE,
            &app(),
            RequestParts {
                operation: op("authorization.shops"),
                path_params: &[],
                query: &[],
                body: None,
                shop_cipher: Some("ROW_x"),
                access_token: None,
                now: 1_700_000_000,
            },
        )
        .unwrap();
        assert!(!built.url.contains("shop_cipher"));
        // V1-shaped: GET /authorization/... with app_key + timestamp only
        let q = decoded_query(&built.url);
        assert_eq!(
            q.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            ["app_key", "timestamp", "sign"]
        );
    }

    #[test]
    fn multipart_is_not_signed_and_path_params_are_checked() {
        let parts = |body| RequestParts {
            operation: op("images.upload"),
            path_params: &[],
            query: &[],
            body: Some(body),
            shop_cipher: None,
            access_token: None,
            now: 1_700_000_000,
        };
        let a = build_request(
            DEFAULT_API_BASE,
            &app(),
            parts(RequestBody::Multipart {
                content_type: "multipart/form-data; boundary=X".into(),
                bytes: b"one".to_vec(),
            }),
        )
        .unwrap();
        let b = build_request(
            DEFAULT_API_BASE,
            &app(),
            parts(RequestBody::Multipart {
                content_type: "multipart/form-data; boundary=X".into(),
                bytes: b"two".to_vec(),
            }),
        )
        .unwrap();
        assert_eq!(a.url, b.url);
        assert!(
            a.url
                .ends_with("sign=10d55f9ff7cec29cf518eb6fb3fab50ca3f8bbfae39044b3373a7449c3c3a0c4"),
            "V4 vector"
        );

        let get = |params: &[(&str, &str)]| {
            build_request(
                DEFAULT_API_BASE,
                &app(),
                RequestParts {
                    operation: op("products.get"),
                    path_params: params,
                    query: &[],
                    body: None,
                    shop_cipher: None,
                    access_token: None,
                    now: 1,
                },
            )
        };
        assert!(
            get(&[("product_id", "1729382256910270464")])
                .unwrap()
                .url
                .contains("/products/1729382256910270464?")
        );
        assert_eq!(
            get(&[]).unwrap_err().field.as_deref(),
            Some("pathParams.product_id")
        );
        assert_eq!(
            get(&[("product_id", "../x")]).unwrap_err().field.as_deref(),
            Some("pathParams.product_id")
        );
        assert_eq!(
            get(&[("product_id", "1"), ("order_id", "2")])
                .unwrap_err()
                .field
                .as_deref(),
            Some("pathParams.order_id")
        );
    }

    #[test]
    fn reserved_keys_page_size_bounds_and_body_kind_are_enforced() {
        let call = |id: &str, query: Vec<(String, QueryValue)>, body: Option<RequestBody>| {
            build_request(
                DEFAULT_API_BASE,
                &app(),
                RequestParts {
                    operation: op(id),
                    path_params: &[],
                    query: &query,
                    body,
                    shop_cipher: None,
                    access_token: None,
                    now: 1,
                },
            )
        };
        let e = call("orders.search", vec![("sign".into(), "x".into())], None).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("query.sign"));
        let e = call("orders.search", vec![("page_size".into(), "101".into())], None).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("query.page_size"));
        assert!(call("orders.search", vec![("page_size".into(), "100".into())], None).is_ok());
        let e = call("returns.search", vec![("page_size".into(), "5".into())], None).unwrap_err();
        assert!(e.message().contains("between 10 and 50"), "{e}");
        let e = call("orders.get", vec![], Some(RequestBody::Json(b"{}".to_vec()))).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("body"));
        let ids = QueryValue::Many(vec!["576486316948490001".into(), "576486316948490002".into()]);
        let built = call("orders.get", vec![("ids".into(), ids)], None).unwrap();
        assert!(built.url.contains("ids=576486316948490001%2C576486316948490002"));
    }
}
