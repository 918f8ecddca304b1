//! TikTok's answers → the product's [`Error`] with a stable code (spec §7). Pure.

use std::time::Duration;

use tts_core::{Error, ErrorCode};

/// Maps an HTTP status and envelope `code` to our error code. `code == 0` with a 2xx status is success
/// and never reaches here.
pub fn classify(http_status: u16, tiktok_code: Option<i64>) -> ErrorCode {
    use ErrorCode::*;
    match tiktok_code {
        Some(36009002) => RateLimited,
        Some(36009007) => Timeout,
        // 105001: token deauthorized; 36004001 "rt has expired"; 36004005 "can not find related auth record"
        Some(105001 | 36004001 | 36004005) => ReauthorizationRequired,
        Some(105002) => TokenExpired,
        Some(105005) => PermissionDenied,
        Some(106001) => SignatureInvalid,
        Some(106013) => ShopCipherRequired,
        Some(36004004) => AuthCodeInvalid,
        Some(36009004 | 36009009 | 36009010 | 36009021 | 36009022 | 36009023 | 101000) => RequestRejected,
        Some(36009014) => VersionInvalid,
        Some(36009033) => IpNotAllowed,
        Some(21011044) => OrderOnHold,
        _ if http_status == 429 => RateLimited,
        _ if http_status == 408 || http_status == 504 => Timeout,
        _ if http_status >= 500 => ServiceUnavailable,
        _ => ApiError,
    }
}

/// Builds the error for a non-success answer. `message` is TikTok's message with any secret of ours
/// already scrubbed (see [`scrub`]).
pub fn api_error(
    http_status: u16,
    tiktok_code: Option<i64>,
    message: &str,
    request_id: Option<&str>,
    retry_after: Option<Duration>,
) -> Error {
    let code = classify(http_status, tiktok_code);
    let text = match tiktok_code {
        Some(c) => format!("TikTok answered {c} (HTTP {http_status}): {message}"),
        None => format!("TikTok answered HTTP {http_status}: {message}"),
    };
    let mut err = Error::new(code, text).with_http_status(http_status);
    if let Some(c) = tiktok_code {
        err = err.with_tiktok_code(c);
    }
    if let Some(id) = request_id {
        err = err.with_request_id(id);
    }
    if let Some(after) = retry_after {
        err = err.with_retry_after(after);
    }
    err
}

/// Replaces every occurrence of a secret in `text` (TikTok echoes parameters in some messages, and the
/// token endpoints take the app secret in the query).
pub fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(s, "[REDACTED]");
    }
    out
}

/// Parses `Retry-After` as delay-seconds or an HTTP date, capped at `cap`. TikTok does not document
/// the header; we honour it when a proxy or the sandbox sends it.
pub fn parse_retry_after(value: &str, now_unix: i64, cap: Duration) -> Option<Duration> {
    let value = value.trim();
    let delay = if let Ok(secs) = value.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let at = parse_http_date(value)?;
        Duration::from_secs(u64::try_from(at - now_unix).unwrap_or(0))
    };
    Some(delay.min(cap))
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the only form RFC 9110 requires senders to use.
fn parse_http_date(value: &str) -> Option<i64> {
    let parts: Vec<&str> = value.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let day: i64 = day.parse().ok()?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == month)? as i64
        + 1;
    let year: i64 = year.parse().ok()?;
    let mut hms = time.split(':').map(|p| p.parse::<i64>());
    let (Some(Ok(h)), Some(Ok(m)), Some(Ok(s))) = (hms.next(), hms.next(), hms.next()) else {
        return None;
    };
    // days from civil (Howard Hinnant's algorithm)
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + m * 60 + s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_codes_map_to_stable_codes() {
        use ErrorCode::*;
        for (status, code, expected) in [
            (429, Some(36009002), RateLimited),
            (429, None, RateLimited),
            (200, Some(105001), ReauthorizationRequired),
            (200, Some(105002), TokenExpired),
            (200, Some(105005), PermissionDenied),
            (401, Some(106001), SignatureInvalid),
            (200, Some(106013), ShopCipherRequired),
            (200, Some(36009004), RequestRejected),
            (200, Some(36004004), AuthCodeInvalid),
            (200, Some(21011044), OrderOnHold),
            (503, None, ServiceUnavailable),
            (500, Some(1), ServiceUnavailable),
            (200, Some(12052048), ApiError),
        ] {
            assert_eq!(classify(status, code), expected, "{status} {code:?}");
        }
    }

    #[test]
    fn errors_carry_context_and_secrets_are_scrubbed() {
        let msg = scrub("invalid access_token TTP_abcdef given", &["TTP_abcdef", ""]);
        assert_eq!(msg, "invalid access_token [REDACTED] given");
        let e = api_error(401, Some(106001), &msg, Some("20240101ABC"), None);
        assert_eq!(e.code(), ErrorCode::SignatureInvalid);
        assert_eq!((e.http_status, e.tiktok_code), (Some(401), Some(106001)));
        assert!(e.to_string().ends_with("(request_id 20240101ABC)"));
    }

    #[test]
    fn retry_after_seconds_and_http_date_capped() {
        let cap = Duration::from_secs(60);
        assert_eq!(parse_retry_after("3", 0, cap), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("3600", 0, cap), Some(cap));
        // 1994-11-06T08:49:37Z = 784111777
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_770, cap),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_900, cap),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", 0, cap), None);
    }
}
