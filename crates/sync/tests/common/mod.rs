//! Shared by the end-to-end tests of the engines.

use serde_json::Value;
use tts_core::secret::secret;
use tts_tiktok::client::{Client, ClientOptions, ShopCredentials};
use tts_tiktok::oauth::TokenSet;
use tts_tiktok::request::AppCredentials;

/// A client of the TikTok sandbox at `base`, holding `shop` (from `/_sandbox/info`) with `tokens`
/// (from `/_sandbox/tokens`).
pub async fn sandbox_client(base: &str, info: &Value, shop: &Value, tokens: &Value) -> Client {
    let app = AppCredentials::new(
        info["app_key"].as_str().unwrap(),
        secret(info["app_secret"].as_str().unwrap()),
    )
    .unwrap();
    let client = Client::new(
        app,
        ClientOptions {
            api_base: base.to_string(),
            auth_base: base.to_string(),
            ..Default::default()
        },
        None,
    )
    .unwrap();
    client
        .add_shop(ShopCredentials {
            shop_id: shop["id"].as_str().unwrap().to_string(),
            cipher: shop["cipher"].as_str().map(str::to_string),
            tokens: TokenSet {
                access_token: secret(tokens["access_token"].as_str().unwrap()),
                access_token_expire_in: tokens["access_token_expire_in"].as_i64().unwrap(),
                refresh_token: secret(tokens["refresh_token"].as_str().unwrap()),
                refresh_token_expire_in: tokens["refresh_token_expire_in"].as_i64().unwrap(),
                open_id: String::new(),
                seller_name: String::new(),
                seller_base_region: String::new(),
                user_type: 0,
                granted_scopes: vec![],
            },
        })
        .await
        .unwrap();
    client
}
