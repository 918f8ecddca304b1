//! Connecting a shop: authorize URL, `state`, token exchange/refresh, authorized shops.

use std::sync::LazyLock;

use napi::Env;
use napi::bindgen_prelude::PromiseRaw;
use napi_derive::napi;
use tts_core::ExposeSecret;
use tts_core::secret::secret;
use tts_tiktok::oauth::{
    AuthorizedShop, DEFAULT_AUTH_BASE, DEFAULT_STATE_TTL_SECS, MemoryStateGuard, Region, StateSigner,
    TokenSet, authorize_url, exchange_code, get_authorized_shops, refresh, verify_state_once,
};
use tts_tiktok::request::{AppCredentials, DEFAULT_API_BASE};
use tts_tiktok::transport::{HttpOptions, http_client};

use crate::errors::{check, invalid, now_unix, spawn};

/// One keep-alive pool for the module-level functions.
static HTTP: LazyLock<reqwest::Client> =
    LazyLock::new(|| http_client(HttpOptions::default()).expect("a default HTTP client always builds"));

/// Inputs of `authorizeUrl`.
#[napi(object)]
pub struct AuthorizeUrlInput {
    /// The app's service id (shown under the app name in Partner Center; not the app key).
    pub service_id: String,
    /// From `OAuthStates.issue()`.
    pub state: String,
    /// `US` or `ROW` (default `ROW`); picks the authorize host.
    pub region: Option<String>,
    /// Overrides the authorize host (e.g. the sandbox).
    pub authorize_base: Option<String>,
}

/// The seller-facing authorize URL.
#[napi(js_name = "authorizeUrl")]
pub fn authorize_url_for(env: Env, input: AuthorizeUrlInput) -> napi::Result<String> {
    let base = match (&input.authorize_base, &input.region) {
        (Some(base), _) => base.clone(),
        (None, Some(region)) => check(&env, Region::parse(region))?.authorize_base().to_string(),
        (None, None) => Region::Row.authorize_base().to_string(),
    };
    check(&env, authorize_url(&base, &input.service_id, &input.state))
}

/// Options of `OAuthStates`.
#[napi(object)]
pub struct OAuthStatesOptions {
    /// Keys the state MAC is derived from (HKDF); the first signs, all verify. Usually the app secret,
    /// or dedicated keys listed before it during a rotation.
    pub secrets: Vec<String>,
    /// Lifetime of a state in seconds (30-3600, default 600).
    pub ttl_seconds: Option<u32>,
}

/// A freshly issued state.
#[napi(object)]
pub struct IssuedOAuthState {
    pub state: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A state that verified (and is now used up).
#[napi(object)]
pub struct VerifiedOAuthState {
    pub issued_at: i64,
    pub expires_at: i64,
}

/// Issues and checks OAuth `state` values: signed, short-lived, single use within this process
/// (the durable store extends single use across instances).
#[napi]
pub struct OAuthStates {
    signer: StateSigner,
    used: MemoryStateGuard,
}

#[napi]
impl OAuthStates {
    #[napi(constructor)]
    pub fn new(env: Env, options: OAuthStatesOptions) -> napi::Result<Self> {
        let secrets: Vec<&str> = options.secrets.iter().map(String::as_str).collect();
        let signer = check(
            &env,
            StateSigner::new(&secrets, options.ttl_seconds.unwrap_or(DEFAULT_STATE_TTL_SECS)),
        )?;
        Ok(OAuthStates {
            signer,
            used: MemoryStateGuard::default(),
        })
    }

    /// A new state for one authorize redirect. `now` (Unix seconds) is for tests.
    #[napi]
    pub fn issue(&self, now: Option<i64>) -> IssuedOAuthState {
        let issued = self.signer.issue(now.unwrap_or_else(now_unix));
        IssuedOAuthState {
            state: issued.state,
            expires_at: issued.expires_at,
        }
    }

    /// Checks a state from the callback and uses it up. Throws `TTS_STATE_INVALID`,
    /// `TTS_STATE_EXPIRED` or `TTS_STATE_REUSED`.
    #[napi]
    pub fn verify(&self, env: Env, state: String, now: Option<i64>) -> napi::Result<VerifiedOAuthState> {
        let v = check(
            &env,
            verify_state_once(&self.signer, &self.used, &state, now.unwrap_or_else(now_unix)),
        )?;
        Ok(VerifiedOAuthState {
            issued_at: v.issued_at,
            expires_at: v.expires_at,
        })
    }
}

/// Tokens of a shop authorization.
#[napi(object)]
pub struct Tokens {
    pub access_token: String,
    /// Absolute Unix seconds.
    pub access_token_expire_in: i64,
    pub refresh_token: String,
    /// Absolute Unix seconds.
    pub refresh_token_expire_in: i64,
    pub open_id: String,
    pub seller_name: String,
    pub seller_base_region: String,
    /// 0 seller, 1 creator, 3 partner.
    pub user_type: i64,
    pub granted_scopes: Vec<String>,
}

pub fn tokens_to_js(t: TokenSet) -> Tokens {
    Tokens {
        access_token: t.access_token.expose_secret().to_string(),
        access_token_expire_in: t.access_token_expire_in,
        refresh_token: t.refresh_token.expose_secret().to_string(),
        refresh_token_expire_in: t.refresh_token_expire_in,
        open_id: t.open_id,
        seller_name: t.seller_name,
        seller_base_region: t.seller_base_region,
        user_type: t.user_type,
        granted_scopes: t.granted_scopes,
    }
}

/// Inputs of `exchangeAuthCode`.
#[napi(object)]
pub struct ExchangeAuthCodeInput {
    pub app_key: String,
    pub app_secret: String,
    /// The `code` query parameter of the callback.
    pub auth_code: String,
    /// Default `https://auth.tiktok-shops.com`.
    pub auth_base: Option<String>,
}

fn app_of(env: &Env, app_key: String, app_secret: String) -> napi::Result<AppCredentials> {
    check(env, AppCredentials::new(app_key, secret(app_secret)))
}

/// `GET /api/v2/token/get`: the callback's auth code → tokens. Rejects with `TTS_AUTH_CODE_INVALID`
/// for a used or expired code.
#[napi(ts_return_type = "Promise<Tokens>")]
pub fn exchange_auth_code<'env>(
    env: &'env Env,
    input: ExchangeAuthCodeInput,
) -> napi::Result<PromiseRaw<'env, Tokens>> {
    let app = app_of(env, input.app_key, input.app_secret)?;
    let base = input.auth_base.unwrap_or_else(|| DEFAULT_AUTH_BASE.to_string());
    let code = secret(input.auth_code);
    spawn(
        env,
        async move { exchange_code(&HTTP, &base, &app, &code, now_unix()).await },
        tokens_to_js,
    )
}

/// Inputs of `refreshAccessToken`.
#[napi(object)]
pub struct RefreshAccessTokenInput {
    pub app_key: String,
    pub app_secret: String,
    pub refresh_token: String,
    /// Default `https://auth.tiktok-shops.com`.
    pub auth_base: Option<String>,
}

/// `GET /api/v2/token/refresh`. The old access token stops working. Rejects with
/// `TTS_REAUTHORIZATION_REQUIRED` when the seller must connect again.
#[napi(ts_return_type = "Promise<Tokens>")]
pub fn refresh_access_token<'env>(
    env: &'env Env,
    input: RefreshAccessTokenInput,
) -> napi::Result<PromiseRaw<'env, Tokens>> {
    let app = app_of(env, input.app_key, input.app_secret)?;
    if input.refresh_token.is_empty() {
        return Err(invalid(env, "refreshToken", "must not be empty"));
    }
    let base = input.auth_base.unwrap_or_else(|| DEFAULT_AUTH_BASE.to_string());
    let token = secret(input.refresh_token);
    spawn(
        env,
        async move { refresh(&HTTP, &base, &app, &token, now_unix()).await },
        tokens_to_js,
    )
}

/// A shop the seller authorized.
#[napi(object)]
pub struct AuthorizedShopInfo {
    pub id: String,
    pub name: String,
    pub region: String,
    /// `CROSS_BORDER` or `LOCAL`.
    pub seller_type: String,
    /// Pass as `shop_cipher`.
    pub cipher: String,
    pub code: String,
}

fn shops_to_js(shops: Vec<AuthorizedShop>) -> Vec<AuthorizedShopInfo> {
    shops
        .into_iter()
        .map(|s| AuthorizedShopInfo {
            id: s.id,
            name: s.name,
            region: s.region,
            seller_type: s.seller_type,
            cipher: s.cipher,
            code: s.code,
        })
        .collect()
}

/// Inputs of `getAuthorizedShops`.
#[napi(object)]
pub struct GetAuthorizedShopsInput {
    pub app_key: String,
    pub app_secret: String,
    pub access_token: String,
    /// Default `https://open-api.tiktokglobalshop.com`.
    pub api_base: Option<String>,
}

/// `GET /authorization/202309/shops`: the shops the token may act for, with their ciphers.
#[napi(
    js_name = "getAuthorizedShops",
    ts_return_type = "Promise<Array<AuthorizedShopInfo>>"
)]
pub fn get_authorized_shops_for<'env>(
    env: &'env Env,
    input: GetAuthorizedShopsInput,
) -> napi::Result<PromiseRaw<'env, Vec<AuthorizedShopInfo>>> {
    let app = app_of(env, input.app_key, input.app_secret)?;
    let base = input.api_base.unwrap_or_else(|| DEFAULT_API_BASE.to_string());
    let token = secret(input.access_token);
    spawn(
        env,
        async move { get_authorized_shops(&HTTP, &base, &app, &token, now_unix()).await },
        shops_to_js,
    )
}
