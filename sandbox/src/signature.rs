//! TikTok Shop request signing, implemented here from the spec (§1.1) and NOT shared with the client
//! crate: two independent implementations catch each other's bugs.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Query keys that never take part in the signature.
const EXCLUDED: [&str; 2] = ["sign", "access_token"];

/// True when the media type is `multipart/form-data` (parameters such as `boundary` ignored).
pub fn is_multipart(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("multipart/form-data"))
}

/// The string that gets wrapped in the secret: `path + Σ sorted(key + value) [+ body]`.
/// `query` holds decoded values; for duplicate keys the first one wins (Go's `Query().Get`).
/// `legacy` (pre-202309 `/api/...`) never signs the body.
pub fn base_string(
    path: &str,
    query: &[(String, String)],
    body: &[u8],
    content_type: Option<&str>,
    legacy: bool,
) -> Vec<u8> {
    let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(query.len());
    for (k, v) in query {
        if EXCLUDED.contains(&k.as_str()) || pairs.iter().any(|(seen, _)| *seen == k) {
            continue;
        }
        pairs.push((k, v));
    }
    // Byte order, like Go's `keys[i] < keys[j]`.
    pairs.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = Vec::with_capacity(path.len() + 64 + body.len());
    out.extend_from_slice(path.as_bytes());
    for (k, v) in pairs {
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(v.as_bytes());
    }
    if !legacy && !is_multipart(content_type) {
        out.extend_from_slice(body);
    }
    out
}

/// `lowercase_hex(HMAC-SHA256(app_secret, app_secret + base + app_secret))`.
pub fn sign(
    app_secret: &str,
    path: &str,
    query: &[(String, String)],
    body: &[u8],
    content_type: Option<&str>,
    legacy: bool,
) -> String {
    let base = base_string(path, query, body, content_type, legacy);
    let mut mac = HmacSha256::new_from_slice(app_secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(app_secret.as_bytes());
    mac.update(&base);
    mac.update(app_secret.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Constant-time comparison of a received hex sign with the expected one.
pub fn verify(expected_hex: &str, received: &str) -> bool {
    let (a, b) = (expected_hex.as_bytes(), received.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Webhook `Authorization` header: `lowercase_hex(HMAC-SHA256(app_secret, app_key + raw_body))`.
pub fn webhook_signature(app_key: &str, app_secret: &str, raw_body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(app_secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(app_key.as_bytes());
    mac.update(raw_body);
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_detection_ignores_parameters_and_case() {
        assert!(is_multipart(Some("multipart/form-data; boundary=X")));
        assert!(is_multipart(Some("Multipart/Form-Data")));
        assert!(!is_multipart(Some("application/json")));
        assert!(!is_multipart(None));
    }

    #[test]
    fn duplicate_keys_use_the_first_value() {
        let q = vec![
            ("a".to_string(), "1".to_string()),
            ("a".to_string(), "2".to_string()),
        ];
        assert_eq!(base_string("/p", &q, b"", None, false), b"/pa1");
    }
}
