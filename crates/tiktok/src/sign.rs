//! Request signing (spec §1). Pure: inputs in, hex out; no clock, no I/O.
//!
//! 202309+: `sign = hex(HMAC-SHA256(app_secret, app_secret + path + Σ sorted(key + value) + body + app_secret))`
//! where the query excludes `sign` and `access_token`, values are the *decoded* values (arrays comma-joined),
//! and the body is the exact bytes sent unless the request is `multipart/form-data`.
//! Legacy `/api/...`: the same, but the body is never signed.

use hmac::{KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = hmac::Hmac<Sha256>;

/// Query keys that never enter the base string.
pub const EXCLUDED_QUERY_KEYS: [&str; 2] = ["sign", "access_token"];

/// One query parameter's value as it will be sent: a single string or a list (comma-joined).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryValue {
    One(String),
    Many(Vec<String>),
}

impl QueryValue {
    /// The decoded value that is signed (and, percent-encoded, sent).
    pub fn joined(&self) -> std::borrow::Cow<'_, str> {
        match self {
            QueryValue::One(v) => std::borrow::Cow::Borrowed(v),
            QueryValue::Many(vs) => std::borrow::Cow::Owned(vs.join(",")),
        }
    }
}

impl From<&str> for QueryValue {
    fn from(v: &str) -> Self {
        QueryValue::One(v.to_string())
    }
}

impl From<String> for QueryValue {
    fn from(v: String) -> Self {
        QueryValue::One(v)
    }
}

/// What is signed. `body: None` means no body (e.g. GET).
#[derive(Clone, Copy, Debug)]
pub struct SignInput<'a> {
    pub path: &'a str,
    pub query: &'a [(String, QueryValue)],
    pub body: Option<&'a [u8]>,
    pub content_type: Option<&'a str>,
    /// Legacy (pre-202309) signing: the body is never signed. Paths under `/api/` are legacy too.
    pub legacy: bool,
}

impl SignInput<'_> {
    fn signs_body(&self) -> bool {
        !(self.legacy || is_legacy_path(self.path) || self.content_type.is_some_and(is_multipart))
    }
}

/// Legacy API paths live under `/api/` (spec §1.2); `/api/v2/token/*` is the auth host, never signed.
pub fn is_legacy_path(path: &str) -> bool {
    path.starts_with("/api/")
}

/// True for `multipart/form-data`, whatever its parameters (`; boundary=…`) or letter case.
pub fn is_multipart(content_type: &str) -> bool {
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    media_type.eq_ignore_ascii_case("multipart/form-data")
}

/// The string that is wrapped in the secret and MACed, for debugging signature mismatches.
/// It contains no secret, but it does contain the request body: don't log it by default.
pub fn base_string(input: &SignInput<'_>) -> Vec<u8> {
    let mut params: Vec<(&str, std::borrow::Cow<'_, str>)> = input
        .query
        .iter()
        .filter(|(k, _)| !EXCLUDED_QUERY_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.as_str(), v.joined()))
        .collect();
    // Byte order, as Go's `keys[i] < keys[j]` and JS's default sort on ASCII keys.
    params.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));

    let body = if input.signs_body() {
        input.body.unwrap_or_default()
    } else {
        &[]
    };
    let mut out = Vec::with_capacity(
        input.path.len() + params.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>() + body.len(),
    );
    out.extend_from_slice(input.path.as_bytes());
    for (k, v) in &params {
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(v.as_bytes());
    }
    out.extend_from_slice(body);
    out
}

/// The `sign` query parameter: 64 lowercase hex characters.
pub fn sign(app_secret: &str, input: &SignInput<'_>) -> String {
    let base = base_string(input);
    let mut mac = HmacSha256::new_from_slice(app_secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(app_secret.as_bytes());
    mac.update(&base);
    mac.update(app_secret.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    fn vectors() -> Vec<Value> {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/spec/sign-vectors.json"
        ))
        .expect("../shared/spec/sign-vectors.json beside the repository");
        let json: Value = serde_json::from_str(&text).unwrap();
        json["vectors"].as_array().unwrap().clone()
    }

    fn query_of(v: &Value) -> Vec<(String, QueryValue)> {
        v.as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    Value::Array(items) => {
                        QueryValue::Many(items.iter().map(|i| i.as_str().unwrap().to_string()).collect())
                    }
                    other => QueryValue::One(other.as_str().unwrap().to_string()),
                };
                (k.clone(), value)
            })
            .collect()
    }

    #[test]
    fn every_shared_vector_matches() {
        let vectors = vectors();
        assert!(vectors.len() >= 7);
        for v in vectors {
            let query = query_of(&v["query"]);
            let input = SignInput {
                path: v["path"].as_str().unwrap(),
                query: &query,
                body: v["body"].as_str().map(str::as_bytes),
                content_type: v["content_type"].as_str(),
                legacy: v["legacy"].as_bool().unwrap(),
            };
            let name = v["name"].as_str().unwrap();
            assert_eq!(
                String::from_utf8(base_string(&input)).unwrap(),
                v["base_string"].as_str().unwrap(),
                "{name}"
            );
            assert_eq!(
                sign(v["app_secret"].as_str().unwrap(), &input),
                v["sign"].as_str().unwrap(),
                "{name}"
            );
        }
    }

    #[test]
    fn multipart_detection_ignores_parameters_and_case() {
        assert!(is_multipart("multipart/form-data; boundary=----x"));
        assert!(is_multipart("Multipart/Form-Data"));
        assert!(!is_multipart("application/json"));
        assert!(!is_multipart("multipart/mixed"));
    }

    fn arb_query() -> impl Strategy<Value = Vec<(String, QueryValue)>> {
        proptest::collection::btree_map("[a-z_]{1,12}", "[ -~]{0,20}", 1..8)
            .prop_map(|m| m.into_iter().map(|(k, v)| (k, QueryValue::One(v))).collect())
    }

    proptest! {
        #[test]
        fn independent_of_query_order(query in arb_query(), seed in any::<u64>(), body in "[ -~]{0,64}") {
            let mut shuffled = query.clone();
            // deterministic Fisher-Yates driven by the seed
            let mut s = seed;
            for i in (1..shuffled.len()).rev() {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                shuffled.swap(i, (s >> 33) as usize % (i + 1));
            }
            let a = SignInput { path: "/order/202309/orders/search", query: &query, body: Some(body.as_bytes()), content_type: Some("application/json"), legacy: false };
            let b = SignInput { query: &shuffled, ..a };
            prop_assert_eq!(sign("secret", &a), sign("secret", &b));
        }

        #[test]
        fn any_changed_byte_changes_the_sign(
            query in arb_query(),
            body in proptest::collection::vec(any::<u8>(), 1..64),
            which in 0usize..3,
            pos in any::<usize>(),
            flip in 1u8..=255,
        ) {
            let path = "/product/202309/products".to_string();
            let base = SignInput { path: &path, query: &query, body: Some(&body), content_type: Some("application/json"), legacy: false };
            let original = sign("secret", &base);
            let changed = match which {
                0 => {
                    let mut b = body.clone();
                    let i = pos % b.len();
                    b[i] ^= flip;
                    sign("secret", &SignInput { body: Some(&b), ..base })
                }
                1 => {
                    let mut p = path.clone().into_bytes();
                    let i = pos % p.len();
                    p[i] = if p[i] == b'x' { b'y' } else { b'x' };
                    let p = String::from_utf8(p).unwrap();
                    sign("secret", &SignInput { path: &p, ..base })
                }
                _ => {
                    let mut q = query.clone();
                    let i = pos % q.len();
                    let QueryValue::One(v) = &q[i].1 else { unreachable!() };
                    q[i].1 = QueryValue::One(format!("{v}!"));
                    sign("secret", &SignInput { query: &q, ..base })
                }
            };
            prop_assert_ne!(original, changed);
        }

        #[test]
        fn multipart_ignores_the_body(a in proptest::collection::vec(any::<u8>(), 0..128), b in proptest::collection::vec(any::<u8>(), 0..128)) {
            let query = vec![("app_key".to_string(), QueryValue::from("k")), ("timestamp".to_string(), QueryValue::from("1"))];
            let ct = Some("multipart/form-data; boundary=X");
            let x = SignInput { path: "/product/202309/images/upload", query: &query, body: Some(&a), content_type: ct, legacy: false };
            let y = SignInput { body: Some(&b), ..x };
            let none = SignInput { body: None, ..x };
            prop_assert_eq!(sign("s", &x), sign("s", &y));
            prop_assert_eq!(sign("s", &x), sign("s", &none));
        }
    }
}
