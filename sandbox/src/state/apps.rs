//! Apps, sellers, shops, authorizations, auth codes and tokens.

use rand::Rng;
use rand::distr::Alphanumeric;
use serde::{Deserialize, Serialize};

/// Scopes the sandbox knows, one per API area (TikTok's real scope keys are not all public; these names
/// follow its `seller.<area>.<level>` pattern).
pub const ALL_SCOPES: &[&str] = &[
    "seller.authorization.info",
    "seller.shop.info",
    "seller.product.basic",
    "seller.product.write",
    "seller.order.info",
    "seller.fulfillment.basic",
    "seller.logistics",
    "seller.return_refund.basic",
    "seller.event",
];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct App {
    pub app_key: String,
    pub app_secret: String,
    pub service_id: String,
    pub redirect_uri: String,
    #[serde(default = "all_scopes")]
    pub scopes: Vec<String>,
}

fn all_scopes() -> Vec<String> {
    ALL_SCOPES.iter().map(|s| s.to_string()).collect()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Shop {
    pub id: String,
    pub name: String,
    pub region: String,
    /// `LOCAL` or `CROSS_BORDER`.
    pub seller_type: String,
    pub cipher: String,
    pub code: String,
}

impl Shop {
    pub fn is_cross_border(&self) -> bool {
        self.seller_type == "CROSS_BORDER"
    }
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id, "name": self.name, "region": self.region,
            "seller_type": self.seller_type, "cipher": self.cipher, "code": self.code,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Seller {
    pub open_id: String,
    pub name: String,
    pub base_region: String,
    /// Shop ids, in the order `/authorization/202309/shops` lists them.
    pub shops: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub access_token: String,
    pub refresh_token: String,
    pub app_key: String,
    pub open_id: String,
    pub access_expire: i64,
    pub refresh_expire: i64,
    /// Set when the seller deauthorized the app or the token was revoked (→ 105001).
    pub revoked: bool,
    /// Set when a newer token replaced this one by refresh (→ 36009004 invalid token, like an unknown one).
    pub superseded: bool,
    pub refresh_used: bool,
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct AuthCode {
    pub app_key: String,
    pub open_id: String,
    pub expires_at_ms: i64,
    pub used: bool,
}

pub fn random_token(prefix: &str, len: usize) -> String {
    let s: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect();
    format!("{prefix}{s}")
}

/// The seeded sellers: a US local seller with one shop (no `shop_cipher` needed) and a cross-border
/// seller with two shops (GB, DE) that must always send `shop_cipher`.
pub fn default_sellers() -> Vec<(Seller, Vec<Shop>)> {
    let shop = |id: &str, name: &str, region: &str, kind: &str, cipher: &str, code: &str| Shop {
        id: id.into(),
        name: name.into(),
        region: region.into(),
        seller_type: kind.into(),
        cipher: cipher.into(),
        code: code.into(),
    };
    let local = vec![shop(
        "7494049642642440001",
        "Sandbox US Shop",
        "US",
        "LOCAL",
        "ROW_SbxUsLocalShop0001AAAAAAAAAA",
        "USLCSBX001",
    )];
    let cb = vec![
        shop(
            "7494049642642440002",
            "Sandbox GB Shop",
            "GB",
            "CROSS_BORDER",
            "ROW_SbxGbCrossBorder0002AAAAAAAA",
            "GBCBSBX002",
        ),
        shop(
            "7494049642642440003",
            "Sandbox DE Shop",
            "DE",
            "CROSS_BORDER",
            "ROW_SbxDeCrossBorder0003AAAAAAAA",
            "DECBSBX003",
        ),
    ];
    let seller = |open_id: &str, name: &str, region: &str, shops: &[Shop]| Seller {
        open_id: open_id.into(),
        name: name.into(),
        base_region: region.into(),
        shops: shops.iter().map(|s| s.id.clone()).collect(),
    };
    vec![
        (
            seller("sbxOpenId0000000001", "Sandbox Local Seller", "US", &local),
            local,
        ),
        (
            seller("sbxOpenId0000000002", "Sandbox Cross-border Seller", "CN", &cb),
            cb,
        ),
    ]
}

pub const DEFAULT_OPEN_ID: &str = "sbxOpenId0000000001";
