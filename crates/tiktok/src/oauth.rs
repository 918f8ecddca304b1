//! Connecting a shop (spec §2): authorize URL with a CSRF-proof `state`, token exchange and refresh on
//! the auth host, and the authorized shops (with their `cipher`).
//!
//! `state` = base64url(version ‖ issued_at ‖ ttl ‖ 32 random bytes) "." base64url(HMAC-SHA256). The MAC key
//! is an HKDF-SHA256 subkey of the app secret (or of configured keys), so state signatures can never be
//! confused with API signatures made with the raw secret; several keys verify, the first signs.
//! Verification is constant-time; single use is enforced by a [`StateGuard`] (memory here, the durable
//! store across instances).

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use rand::RngCore;
use serde::Deserialize;
use sha2::Sha256;
use tts_core::secret::secret;
use tts_core::{Error, ErrorCode, ExposeSecret, Result, SecretString};

use crate::model::lenient;
use crate::operations::Operation;
use crate::request::{AppCredentials, RequestParts, build_request};
use crate::transport::{self, Envelope, decode_envelope, transport_error};

type HmacSha256 = hmac::Hmac<Sha256>;

/// Authorize host for US sellers.
pub const AUTHORIZE_BASE_US: &str = "https://services.tiktokshops.us";
/// Authorize host for sellers outside the US.
pub const AUTHORIZE_BASE_ROW: &str = "https://services.tiktokshop.com";
/// Token host.
pub const DEFAULT_AUTH_BASE: &str = "https://auth.tiktok-shops.com";
/// Default lifetime of a `state`: long enough to log in and consent, short enough to be useless later.
pub const DEFAULT_STATE_TTL_SECS: u32 = 600;
/// How far in the future an `issued_at` may be (clock skew between instances).
const STATE_CLOCK_SKEW_SECS: i64 = 60;
const STATE_VERSION: u8 = 1;
const STATE_NONCE_LEN: usize = 32;
const HKDF_INFO: &[u8] = b"tiktok-shop-plentyone/oauth-state/v1";

/// Which partner portal a seller belongs to; it decides the authorize host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    Us,
    Row,
}

impl Region {
    pub fn parse(text: &str) -> Result<Region> {
        match text.trim().to_ascii_uppercase().as_str() {
            "US" => Ok(Region::Us),
            "ROW" | "GLOBAL" | "EU" | "UK" => Ok(Region::Row),
            _ => Err(Error::config(
                "TIKTOK_SHOP_REGION",
                "must be `US` or `ROW` (rest of world)",
            )),
        }
    }

    pub fn authorize_base(self) -> &'static str {
        match self {
            Region::Us => AUTHORIZE_BASE_US,
            Region::Row => AUTHORIZE_BASE_ROW,
        }
    }
}

/// `{authorize_base}/open/authorize?service_id=…&state=…`.
pub fn authorize_url(authorize_base: &str, service_id: &str, state: &str) -> Result<String> {
    if service_id.trim().is_empty() {
        return Err(Error::invalid_argument(
            "serviceId",
            "must not be empty (the app's service id, not the app key)",
        ));
    }
    let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
    Ok(format!(
        "{}/open/authorize?service_id={}&state={}",
        authorize_base.trim_end_matches('/'),
        enc(service_id),
        enc(state)
    ))
}

/// Signs and verifies `state` values. `Debug` shows the key count only.
pub struct StateSigner {
    keys: Vec<HmacSha256>,
    ttl_secs: u32,
}

impl fmt::Debug for StateSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateSigner")
            .field("keys", &self.keys.len())
            .field("ttl_secs", &self.ttl_secs)
            .finish()
    }
}

/// A freshly issued state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedState {
    pub state: String,
    /// Hex of the random part: the key for single-use bookkeeping.
    pub nonce: String,
    pub expires_at: i64,
}

/// A state that verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedState {
    pub nonce: String,
    pub issued_at: i64,
    pub expires_at: i64,
}

impl StateSigner {
    /// Keys are derived from each secret (app secret, or dedicated state keys); the first signs.
    pub fn new(secrets: &[&str], ttl_secs: u32) -> Result<StateSigner> {
        if secrets.is_empty() || secrets.iter().any(|s| s.is_empty()) {
            return Err(Error::invalid_argument(
                "secrets",
                "at least one non-empty key is needed to sign state",
            ));
        }
        if !(30..=3600).contains(&ttl_secs) {
            return Err(Error::invalid_argument(
                "ttlSeconds",
                "must be between 30 and 3600",
            ));
        }
        let keys = secrets
            .iter()
            .map(|s| {
                let mut okm = zeroize::Zeroizing::new([0u8; 32]);
                hkdf::Hkdf::<Sha256>::new(None, s.as_bytes())
                    .expand(HKDF_INFO, &mut okm[..])
                    .expect("32 bytes is a valid HKDF-SHA256 length");
                HmacSha256::new_from_slice(&okm[..]).expect("HMAC accepts any key length")
            })
            .collect();
        Ok(StateSigner { keys, ttl_secs })
    }

    pub fn issue(&self, now: i64) -> IssuedState {
        let mut nonce = [0u8; STATE_NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let mut payload = Vec::with_capacity(1 + 8 + 4 + STATE_NONCE_LEN);
        payload.push(STATE_VERSION);
        payload.extend_from_slice(&now.to_be_bytes());
        payload.extend_from_slice(&self.ttl_secs.to_be_bytes());
        payload.extend_from_slice(&nonce);
        let mut mac = self.keys[0].clone();
        mac.update(&payload);
        let tag = mac.finalize().into_bytes();
        IssuedState {
            state: format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(&payload),
                URL_SAFE_NO_PAD.encode(tag)
            ),
            nonce: hex::encode(nonce),
            expires_at: now + i64::from(self.ttl_secs),
        }
    }

    /// Checks the MAC (constant time, every key), then the age. Does not check single use.
    pub fn verify(&self, state: &str, now: i64) -> Result<VerifiedState> {
        let invalid = |why: &str| {
            Error::new(
                ErrorCode::StateInvalid,
                format!("OAuth state rejected: {why}; start the connection again"),
            )
            .with_field("state")
        };
        if state.is_empty() {
            return Err(invalid("it is missing"));
        }
        let (payload_text, tag_text) = state.split_once('.').ok_or_else(|| invalid("it is malformed"))?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload_text)
            .map_err(|_| invalid("it is malformed"))?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag_text)
            .map_err(|_| invalid("it is malformed"))?;
        let verified = self.keys.iter().fold(false, |ok, key| {
            let mut mac = key.clone();
            mac.update(&payload);
            mac.verify_slice(&tag).is_ok() | ok
        });
        if !verified {
            return Err(invalid("it was not issued by this app"));
        }
        if payload.len() != 1 + 8 + 4 + STATE_NONCE_LEN || payload[0] != STATE_VERSION {
            return Err(invalid("unknown format"));
        }
        let issued_at = i64::from_be_bytes(payload[1..9].try_into().expect("8 bytes"));
        let ttl = u32::from_be_bytes(payload[9..13].try_into().expect("4 bytes"));
        let expires_at = issued_at + i64::from(ttl);
        if now >= expires_at {
            return Err(Error::new(
                ErrorCode::StateExpired,
                format!(
                    "OAuth state expired {}s ago; start the connection again",
                    now - expires_at
                ),
            )
            .with_field("state"));
        }
        if issued_at > now + STATE_CLOCK_SKEW_SECS {
            return Err(invalid("it was issued in the future"));
        }
        Ok(VerifiedState {
            nonce: hex::encode(&payload[13..]),
            issued_at,
            expires_at,
        })
    }
}

/// Remembers used states until they expire, so each verifies once.
pub trait StateGuard: Send + Sync {
    /// True the first time a nonce is consumed, false afterwards.
    fn consume(&self, nonce: &str, expires_at: i64, now: i64) -> bool;
}

/// Single use within one process.
#[derive(Debug, Default)]
pub struct MemoryStateGuard {
    used: Mutex<HashMap<String, i64>>,
}

impl StateGuard for MemoryStateGuard {
    fn consume(&self, nonce: &str, expires_at: i64, now: i64) -> bool {
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        used.retain(|_, exp| *exp > now);
        used.insert(nonce.to_string(), expires_at).is_none()
    }
}

/// Verifies a state and consumes it.
pub fn verify_state_once(
    signer: &StateSigner,
    guard: &dyn StateGuard,
    state: &str,
    now: i64,
) -> Result<VerifiedState> {
    let verified = signer.verify(state, now)?;
    if !guard.consume(&verified.nonce, verified.expires_at, now) {
        return Err(Error::new(
            ErrorCode::StateReused,
            "OAuth state was already used; start the connection again",
        )
        .with_field("state"));
    }
    Ok(verified)
}

/// Tokens from the auth host. `Debug` redacts the tokens.
#[derive(Clone)]
pub struct TokenSet {
    pub access_token: SecretString,
    /// Absolute Unix seconds.
    pub access_token_expire_in: i64,
    pub refresh_token: SecretString,
    /// Absolute Unix seconds.
    pub refresh_token_expire_in: i64,
    pub open_id: String,
    pub seller_name: String,
    pub seller_base_region: String,
    pub user_type: i64,
    pub granted_scopes: Vec<String>,
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &"[REDACTED]")
            .field("access_token_expire_in", &self.access_token_expire_in)
            .field("refresh_token", &"[REDACTED]")
            .field("refresh_token_expire_in", &self.refresh_token_expire_in)
            .field("open_id", &self.open_id)
            .field("seller_name", &self.seller_name)
            .field("seller_base_region", &self.seller_base_region)
            .field("user_type", &self.user_type)
            .field("granted_scopes", &self.granted_scopes)
            .finish()
    }
}

#[derive(Deserialize)]
struct RawTokenData {
    #[serde(default)]
    access_token: String,
    #[serde(default, deserialize_with = "lenient::int")]
    access_token_expire_in: i64,
    #[serde(default)]
    refresh_token: String,
    #[serde(default, deserialize_with = "lenient::int")]
    refresh_token_expire_in: i64,
    #[serde(default)]
    open_id: String,
    #[serde(default)]
    seller_name: String,
    #[serde(default)]
    seller_base_region: String,
    #[serde(default, deserialize_with = "lenient::int")]
    user_type: i64,
    #[serde(default)]
    granted_scopes: Vec<String>,
}

/// `*_expire_in` are absolute Unix seconds (spec §2). A value below 10^9 (before 2001) cannot be one,
/// so it is read as a duration from `now`, in case a proxy or an older host answers with durations.
fn absolute_expiry(value: i64, now: i64) -> i64 {
    if value > 0 && value < 1_000_000_000 {
        now + value
    } else {
        value
    }
}

/// Decodes a token answer. `previous_refresh_token` is kept when a refresh answer omits the new one.
pub fn token_set_from(
    envelope: Envelope,
    now: i64,
    previous_refresh_token: Option<&SecretString>,
) -> Result<TokenSet> {
    let raw: RawTokenData = envelope.decode("token answer")?;
    if raw.access_token.is_empty() || raw.access_token_expire_in <= 0 {
        return Err(Error::new(
            ErrorCode::InvalidResponse,
            "token answer has no access_token or access_token_expire_in",
        )
        .with_request_id(envelope.request_id));
    }
    let refresh_token = match (raw.refresh_token.is_empty(), previous_refresh_token) {
        (false, _) => secret(raw.refresh_token),
        (true, Some(previous)) => previous.clone(),
        (true, None) => {
            return Err(
                Error::new(ErrorCode::InvalidResponse, "token answer has no refresh_token")
                    .with_request_id(envelope.request_id),
            );
        }
    };
    Ok(TokenSet {
        access_token: secret(raw.access_token),
        access_token_expire_in: absolute_expiry(raw.access_token_expire_in, now),
        refresh_token,
        refresh_token_expire_in: absolute_expiry(raw.refresh_token_expire_in, now),
        open_id: raw.open_id,
        seller_name: raw.seller_name,
        seller_base_region: raw.seller_base_region,
        user_type: raw.user_type,
        granted_scopes: raw.granted_scopes,
    })
}

async fn token_call(
    http: &reqwest::Client,
    auth_base: &str,
    path: &str,
    query: &[(&str, &str)],
    secrets: &[&str],
    now: i64,
) -> Result<Envelope> {
    // GET with the app secret in the query is TikTok's design; the URL is never logged or put in errors.
    let response = http
        .get(format!("{}{path}", auth_base.trim_end_matches('/')))
        .query(query)
        .send()
        .await
        .map_err(transport_error)?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.bytes().await.map_err(transport_error)?;
    decode_envelope(status, retry_after.as_deref(), &body, secrets, now)
}

/// `GET {auth_base}/api/v2/token/get` with the auth code from the callback.
pub async fn exchange_code(
    http: &reqwest::Client,
    auth_base: &str,
    app: &AppCredentials,
    auth_code: &SecretString,
    now: i64,
) -> Result<TokenSet> {
    if auth_code.expose_secret().is_empty() {
        return Err(Error::invalid_argument(
            "code",
            "the callback carried no authorization code",
        ));
    }
    let secret = app.app_secret.expose_secret();
    let envelope = token_call(
        http,
        auth_base,
        "/api/v2/token/get",
        &[
            ("app_key", &app.app_key),
            ("app_secret", secret),
            ("auth_code", auth_code.expose_secret()),
            ("grant_type", "authorized_code"),
        ],
        &[secret, auth_code.expose_secret()],
        now,
    )
    .await?;
    token_set_from(envelope, now, None)
}

/// `GET {auth_base}/api/v2/token/refresh`. The old access token stops working once this succeeds.
pub async fn refresh(
    http: &reqwest::Client,
    auth_base: &str,
    app: &AppCredentials,
    refresh_token: &SecretString,
    now: i64,
) -> Result<TokenSet> {
    let secret = app.app_secret.expose_secret();
    let envelope = token_call(
        http,
        auth_base,
        "/api/v2/token/refresh",
        &[
            ("app_key", &app.app_key),
            ("app_secret", secret),
            ("refresh_token", refresh_token.expose_secret()),
            ("grant_type", "refresh_token"),
        ],
        &[secret, refresh_token.expose_secret()],
        now,
    )
    .await?;
    token_set_from(envelope, now, Some(refresh_token))
}

/// A shop the seller authorized (`GET /authorization/202309/shops`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct AuthorizedShop {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub region: String,
    /// `CROSS_BORDER` or `LOCAL`.
    #[serde(default)]
    pub seller_type: String,
    /// The value to pass as `shop_cipher`.
    #[serde(default)]
    pub cipher: String,
    /// Shop code shown in Seller Center.
    #[serde(default)]
    pub code: String,
}

/// Decodes the authorized shops answer.
pub fn authorized_shops_from(envelope: Envelope) -> Result<Vec<AuthorizedShop>> {
    #[derive(Deserialize)]
    struct Data {
        #[serde(default)]
        shops: Vec<AuthorizedShop>,
    }
    let data: Data = envelope.decode("authorized shops")?;
    Ok(data.shops)
}

/// `GET /authorization/202309/shops` (signed; no `shop_cipher`).
pub async fn get_authorized_shops(
    http: &reqwest::Client,
    api_base: &str,
    app: &AppCredentials,
    access_token: &SecretString,
    now: i64,
) -> Result<Vec<AuthorizedShop>> {
    let operation = Operation::find("authorization.shops").expect("in the operation table");
    let request = build_request(
        api_base,
        app,
        RequestParts {
            operation,
            path_params: &[],
            query: &[],
            body: None,
            shop_cipher: None,
            access_token: Some(access_token),
            now,
        },
    )?;
    let envelope = transport::send(
        http,
        &request,
        &[app.app_secret.expose_secret(), access_token.expose_secret()],
        now,
    )
    .await?;
    authorized_shops_from(envelope)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn authorize_url_per_region() {
        let url = authorize_url(Region::parse("us").unwrap().authorize_base(), "7123", "a.b").unwrap();
        assert_eq!(
            url,
            "https://services.tiktokshops.us/open/authorize?service_id=7123&state=a%2Eb"
        );
        let url = authorize_url(Region::Row.authorize_base(), "7123", "s").unwrap();
        assert!(url.starts_with("https://services.tiktokshop.com/open/authorize?"));
        assert_eq!(
            Region::parse("mars").unwrap_err().code(),
            ErrorCode::ConfigInvalid
        );
        assert!(authorize_url(AUTHORIZE_BASE_ROW, " ", "s").is_err());
    }

    #[test]
    fn state_round_trip_tamper_expiry_reuse_and_rotation() {
        let signer = StateSigner::new(&["app-secret"], 600).unwrap();
        let issued = signer.issue(1_000);
        assert!(issued.state.len() >= 60);
        let ok = signer.verify(&issued.state, 1_100).unwrap();
        assert_eq!((ok.nonce.clone(), ok.expires_at), (issued.nonce.clone(), 1_600));

        // every single-character change is rejected
        let bytes = issued.state.as_bytes();
        for i in 0..bytes.len() {
            let mut t = bytes.to_vec();
            t[i] = if t[i] == b'A' { b'B' } else { b'A' };
            let t = String::from_utf8(t).unwrap();
            if t != issued.state {
                assert!(signer.verify(&t, 1_100).is_err(), "tampered at {i}");
            }
        }
        assert_eq!(
            signer.verify(&issued.state, 1_600).unwrap_err().code(),
            ErrorCode::StateExpired
        );
        assert_eq!(
            signer.verify("", 1_000).unwrap_err().code(),
            ErrorCode::StateInvalid
        );
        assert_eq!(
            StateSigner::new(&["other"], 600)
                .unwrap()
                .verify(&issued.state, 1_100)
                .unwrap_err()
                .code(),
            ErrorCode::StateInvalid
        );
        // issued far in the future (forged clock) is rejected
        let future = signer.issue(10_000);
        assert_eq!(
            signer.verify(&future.state, 1_000).unwrap_err().code(),
            ErrorCode::StateInvalid
        );

        let guard = MemoryStateGuard::default();
        verify_state_once(&signer, &guard, &issued.state, 1_100).unwrap();
        assert_eq!(
            verify_state_once(&signer, &guard, &issued.state, 1_101)
                .unwrap_err()
                .code(),
            ErrorCode::StateReused
        );

        let rotated = StateSigner::new(&["new-key", "app-secret"], 600).unwrap();
        rotated.verify(&issued.state, 1_100).unwrap();
    }

    #[test]
    fn token_answers_absolute_expiry_and_refresh_fallback() {
        let env = |data: Value| Envelope {
            request_id: "r".into(),
            data: serde_json::value::to_raw_value(&data).unwrap(),
        };
        let set = token_set_from(
            env(serde_json::json!({
                "access_token": "TTP_a", "access_token_expire_in": 1_700_604_800,
                "refresh_token": "TTP_r", "refresh_token_expire_in": 1_731_536_000,
                "open_id": "o", "seller_name": "Shop", "seller_base_region": "DE", "user_type": 0,
                "granted_scopes": ["seller.order.info"]
            })),
            1_700_000_000,
            None,
        )
        .unwrap();
        assert_eq!(set.access_token_expire_in, 1_700_604_800);
        assert_eq!(set.granted_scopes, ["seller.order.info"]);
        assert!(!format!("{set:?}").contains("TTP_"));

        let previous = secret("TTP_old_refresh");
        let set = token_set_from(
            env(serde_json::json!({"access_token": "TTP_b", "access_token_expire_in": 604800})),
            1_700_000_000,
            Some(&previous),
        )
        .unwrap();
        assert_eq!(
            set.access_token_expire_in, 1_700_604_800,
            "a duration is made absolute"
        );
        assert_eq!(set.refresh_token.expose_secret(), "TTP_old_refresh");

        let e = token_set_from(env(serde_json::json!({"access_token": ""})), 0, None).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidResponse);
    }
}
