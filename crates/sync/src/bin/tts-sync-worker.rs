//! A worker process for the crash tests: imports one shop's orders (one reconciliation pass), or with
//! `kind=products` exports its PlentyONE catalogue (one export pass, `product_config=<JSON of a
//! ProductMappingConfig>`), and exits. The test kills it with SIGKILL mid-pass, starts it again, and
//! checks that the end state has every order (product) exactly once. Settings come as `key=value`
//! arguments; a test tool, not for production.

use std::collections::HashMap;
use std::sync::Arc;

use tts_core::KeyRing;
use tts_core::secret::secret;
use tts_mapping::order::OrderMappingConfig;
use tts_sync::orders::OrderImporter;
use tts_tiktok::client::{Client, ClientOptions, ShopCredentials};
use tts_tiktok::oauth::TokenSet;
use tts_tiktok::request::AppCredentials;

#[tokio::main]
async fn main() {
    let args: HashMap<String, String> = std::env::args()
        .skip(1)
        .filter_map(|a| a.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .collect();
    let arg = |k: &str| args.get(k).cloned().unwrap_or_else(|| panic!("missing {k}=…"));

    let ring = Arc::new(KeyRing::parse(&arg("key")).expect("key"));
    let store = tts_store::open(&arg("store"), ring).await.expect("store");
    let app = AppCredentials::new(arg("app_key"), secret(arg("app_secret"))).expect("app");
    let tiktok = Client::new(
        app,
        ClientOptions {
            api_base: arg("tiktok"),
            auth_base: arg("tiktok"),
            ..Default::default()
        },
        None,
    )
    .expect("client");
    let shop_id = arg("shop_id");
    tiktok
        .add_shop(ShopCredentials {
            shop_id: shop_id.clone(),
            cipher: Some(arg("cipher")),
            tokens: TokenSet {
                access_token: secret(arg("access_token")),
                access_token_expire_in: arg("access_expires").parse().expect("number"),
                refresh_token: secret(arg("refresh_token")),
                refresh_token_expire_in: 0,
                open_id: String::new(),
                seller_name: String::new(),
                seller_base_region: String::new(),
                user_type: 0,
                granted_scopes: vec![],
            },
        })
        .await
        .expect("shop");
    // the session is kept in the store, so restarts do not pile up PlentyONE sessions
    let plenty = tts_sync::plenty_session::client_with_saved_session(
        tts_plenty::client::ClientOptions::new(arg("plenty"), arg("plenty_user"), arg("plenty_password")),
        store.clone(),
    )
    .await
    .expect("plenty");
    let lease = std::time::Duration::from_secs(arg("lease_secs").parse().expect("number"));
    let owner = format!("worker-{}", std::process::id());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    if args.get("kind").map(String::as_str) == Some("products") {
        let mapping: tts_mapping::product::ProductMappingConfig =
            serde_json::from_str(&arg("product_config")).expect("product_config");
        let exporter = tts_sync::products::ProductExporter::new(
            store,
            tiktok,
            plenty,
            vec![tts_sync::products::ShopExport {
                mapping,
                max_creates_per_day: 100_000,
            }],
            Arc::new(tts_sync::stock::NoReservations),
            tts_sync::stock::PushedValues::new(),
            owner,
            tts_sync::products::ExportSettings {
                lease,
                ..Default::default()
            },
        )
        .expect("exporter");
        let report = exporter.export(&shop_id, now).await.expect("export");
        println!(
            "{}",
            serde_json::json!({ "created": report.created, "errors": report.errors, "busy": report.busy,
                                "rejected": report.rejected, "cursor_advanced": report.cursor_advanced })
        );
        return;
    }
    let referrer = plenty.ensure_referrer("TikTok Shop").await.expect("referrer");
    let config = OrderMappingConfig {
        shop_id: shop_id.clone(),
        plenty_id: 1000,
        referrer_id: referrer,
        ..Default::default()
    };
    let importer = OrderImporter::new(
        store,
        tiktok,
        plenty,
        HashMap::from([(shop_id.clone(), config)]),
        owner,
    )
    .with_lease(lease);
    let report = importer
        .reconcile(&shop_id, now, 3600, 600, 60)
        .await
        .expect("reconcile");
    println!(
        "{}",
        serde_json::json!({ "created": report.created, "failed": report.failed, "seen": report.seen, "errors": report.errors })
    );
}
