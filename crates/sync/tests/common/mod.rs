//! Shared by the end-to-end tests of the engines.
// Each suite uses some of these helpers, none uses all of them.
#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use tts_core::KeyRing;
use tts_core::secret::secret;
use tts_store::Store;
use tts_sync::control::{ControlPlane, ControlSettings};
use tts_tiktok::client::{Client, ClientOptions, ShopCredentials};
use tts_tiktok::oauth::TokenSet;
use tts_tiktok::request::AppCredentials;

/// A client of the TikTok sandbox at `base`, holding `shop` (from `/_sandbox/info`) with `tokens`
/// (from `/_sandbox/tokens`).
pub async fn sandbox_client(base: &str, info: &Value, shop: &Value, tokens: &Value) -> Client {
    sandbox_client_with(base, info, shop, tokens, ClientOptions::default()).await
}

/// [`sandbox_client`] with other client `options` (rate, retry policy, timeouts); its `api_base` and
/// `auth_base` are replaced by `base`.
pub async fn sandbox_client_with(
    base: &str,
    info: &Value,
    shop: &Value,
    tokens: &Value,
    options: ClientOptions,
) -> Client {
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
            ..options
        },
        None,
    )
    .unwrap();
    add_sandbox_shop(&client, shop, tokens).await;
    client
}

/// Lets `client` act for another sandbox `shop` (from `/_sandbox/info`) with `tokens` (from
/// `/_sandbox/tokens` for the shop's seller).
pub async fn add_sandbox_shop(client: &Client, shop: &Value, tokens: &Value) {
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
}

/// A SQLite store in a fresh temporary folder (keep the folder alive as long as the store).
pub async fn temp_store() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let ring = Arc::new(KeyRing::parse(&KeyRing::generate_key()).unwrap());
    let store = tts_store::open(
        &format!("sqlite://{}", dir.path().join("sync.db").display()),
        ring,
    )
    .await
    .unwrap();
    (dir, store)
}

/// Receives the sandbox's webhooks like the middleware route does: one call into the control plane
/// (verify the raw bytes, store once). Nothing consumes them here; each suite runs its own processor.
pub async fn start_receiver(store: Arc<dyn Store>, app_key: String, app_secret: String) -> String {
    let control = ControlPlane::new(store, ControlSettings::new(app_key, vec![secret(app_secret)]));
    let app = axum::Router::new().route(
        "/webhooks",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let control = control.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                match control.receive_webhook(&body, auth).await {
                    Ok(_) => StatusCode::OK,
                    Err(e) if e.code() == tts_core::ErrorCode::SignatureInvalid => StatusCode::UNAUTHORIZED,
                    Err(e) if e.code() == tts_core::ErrorCode::WebhookPayloadInvalid => {
                        StatusCode::BAD_REQUEST
                    }
                    Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// The TikTok sandbox with `config`; with `webhooks`, it delivers its webhooks (twice each,
/// shuffled) to a receiver that stores them in `store`'s inbox, as the middleware route does.
pub async fn tiktok_sandbox(
    store: &Arc<dyn Store>,
    webhooks: bool,
    config: tts_sandbox::Config,
) -> tts_sandbox::Running {
    let webhook_url = match webhooks {
        true => Some(
            start_receiver(
                store.clone(),
                config.app.app_key.clone(),
                config.app.app_secret.clone(),
            )
            .await,
        ),
        false => None,
    };
    tts_sandbox::start(tts_sandbox::Config {
        webhook_url,
        webhook_duplicates: true,
        webhook_shuffle_ms: 30,
        ..config
    })
    .await
    .unwrap()
}

/// The id of a shop's TikTok sales warehouse (the sandbox gives each shop one).
pub async fn sales_warehouse(client: &Client, shop_id: &str) -> String {
    let warehouses = client
        .shop(shop_id)
        .unwrap()
        .call_id("logistics.warehouses", tts_tiktok::client::CallInput::default())
        .await
        .unwrap()
        .value()
        .unwrap();
    warehouses["warehouses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["type"] == "SALES_WAREHOUSE")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The product mapping of the export tests against the stand-ins: a DE shop selling in EUR, both
/// PlentyONE warehouses feeding `sales_warehouse` with a 1-unit buffer, and (the stand-in has no
/// categories) everything listed as T-shirts, which require the Material attribute.
pub fn stand_in_product_config(
    shop_id: &str,
    sales_warehouse: &str,
) -> tts_mapping::product::ProductMappingConfig {
    use std::collections::HashMap;
    use tts_mapping::category::CategoryMapping;
    use tts_mapping::inventory::{InventoryConfig, StockBuffer, WarehouseMapping};
    use tts_mapping::product::ProductMappingConfig;
    use tts_tiktok::model::product::{ProductAttribute, ProductAttributeValue};

    ProductMappingConfig {
        shop_id: shop_id.to_string(),
        region: "DE".into(),
        currency: "EUR".into(),
        languages: vec!["de".into(), "en".into()],
        sales_price_id: 1,
        inventory: InventoryConfig {
            warehouses: WarehouseMapping::new([(1, sales_warehouse), (2, sales_warehouse)]),
            buffer: StockBuffer {
                absolute: rust_decimal::Decimal::ONE,
                percent: rust_decimal::Decimal::ZERO,
            },
            ..Default::default()
        },
        categories: CategoryMapping::default().with_default("601302"),
        category_product_attributes: HashMap::from([(
            "601302".to_string(),
            vec![ProductAttribute {
                id: "100198".into(),
                values: vec![ProductAttributeValue {
                    id: Some("3001".into()),
                    name: Some("Cotton".into()),
                }],
            }],
        )]),
        ..Default::default()
    }
}

/// Fails with every divergence the TikTok stand-in recorded: a request our client or engines sent, or
/// an answer the stand-in gave, that leaves the API contract (`GET /_sandbox/contract`).
pub fn assert_contract_clean(tiktok: &tts_sandbox::Sandbox) {
    let found = tiktok.contract.divergences();
    let list: Vec<String> = found.iter().map(|(d, n)| format!("  {d} (seen {n}x)")).collect();
    assert!(
        list.is_empty(),
        "the TikTok stand-in saw {} divergences from the API contract:\n{}",
        list.len(),
        list.join("\n")
    );
}

/// Held by each suite's world: when the test ends (without already failing), asserts the stand-in saw
/// no divergence from the API contract.
pub struct ContractGuard(Arc<tts_sandbox::Sandbox>);

impl ContractGuard {
    pub fn new(tiktok: &tts_sandbox::Running) -> Self {
        assert!(tiktok.sandbox.contract.enabled(), "the contract check is on");
        ContractGuard(tiktok.sandbox.clone())
    }
}

impl Drop for ContractGuard {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            assert_contract_clean(&self.0);
        }
    }
}

/// The five engines over `store`, with both APIs pointing at port 9 where nothing listens: a pass
/// fails before any request, which is all the runner's and scheduler's guarantees need.
pub fn offline_engines(store: Arc<dyn Store>, app_key: &str, app_secret: &str) -> tts_sync::runner::Engines {
    let tiktok = Client::new(
        AppCredentials::new(app_key, secret(app_secret)).unwrap(),
        ClientOptions {
            api_base: "http://127.0.0.1:9".into(),
            auth_base: "http://127.0.0.1:9".into(),
            ..Default::default()
        },
        None,
    )
    .unwrap();
    let plenty = tts_plenty::client::Client::new(tts_plenty::client::ClientOptions::new(
        "http://127.0.0.1:9".to_string(),
        "u".to_string(),
        "p".to_string(),
    ))
    .unwrap();
    tts_sync::runner::Engines::build(store, tiktok, plenty, "test").unwrap()
}
