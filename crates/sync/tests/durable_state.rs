//! What the engines keep between events and between restarts, end to end: the TikTok sandbox and the
//! PlentyONE stand-in in-process, a SQLite store. The stand-in's catalogue (12 items, 60 variations)
//! is exported to the sandbox's DE shop first.
//!
//! - product audit webhooks (37) that carry their reasons are applied without reading the product;
//! - the stock and prices last pushed survive a restart: a new pusher on the same store sends nothing
//!   unchanged;
//! - the oversell guard: units of TikTok orders not in PlentyONE yet are held back from TikTok until
//!   PlentyONE has the order.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tts_mapping::order::OrderMappingConfig;
use tts_mapping::product::ProductMappingConfig;
use tts_store::{InboxQuery, InboxState, ProductMapping, ProductMappingQuery, Store};
use tts_sync::inbox::EventHandler;
use tts_sync::orders::{ImportOutcome, OrderImporter, Seen};
use tts_sync::products::{ExportSettings, ProductEvents, ProductExporter, ShopExport};
use tts_sync::stock::{
    NoReservations, PushedValues, Reservations, StockMode, StockPusher, StockSettings, StoreReservations,
};
use tts_tiktok::client::{CallInput, Client};

/// `=` + the exact counter key of Get Product.
const GET_PRODUCT: &str = "=GET /product/202309/products/{product_id}";

async fn control(http: &reqwest::Client, url: &str, method: &str, body: Value) -> Value {
    let res = http
        .request(method.parse().unwrap(), url)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{method} {url}: {}", res.status());
    res.json().await.unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

struct World {
    /// Asserts at the end that the TikTok stand-in saw nothing outside the API contract.
    _contract: common::ContractGuard,
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    tiktok: tts_sandbox::Running,
    plenty: tts_plenty_sandbox::Running,
    http: reqwest::Client,
    shop_id: String,
    client: Client,
    plenty_client: tts_plenty::client::Client,
    config: ProductMappingConfig,
}

impl World {
    fn exporter(&self) -> Arc<ProductExporter> {
        Arc::new(
            ProductExporter::new(
                self.store.clone(),
                self.client.clone(),
                self.plenty_client.clone(),
                vec![ShopExport::new(self.config.clone())],
                Arc::new(NoReservations),
                PushedValues::new(),
                "test-exporter",
                ExportSettings::default(),
            )
            .unwrap(),
        )
    }

    /// A stock pusher as a freshly started worker has it: nothing in memory.
    fn fresh_pusher(&self) -> StockPusher {
        self.pusher_with(Arc::new(NoReservations))
    }

    fn pusher_with(&self, reservations: Arc<dyn Reservations>) -> StockPusher {
        StockPusher::new(
            self.store.clone(),
            self.client.clone(),
            self.plenty_client.clone(),
            vec![self.config.clone()],
            reservations,
            PushedValues::new(),
            StockSettings::default(),
        )
        .unwrap()
    }

    /// The order import of the DE shop into the stand-in (client 1000, a TikTok referrer).
    async fn importer(&self) -> OrderImporter {
        let referrer = self.plenty_client.ensure_referrer("TikTok Shop").await.unwrap();
        let config = OrderMappingConfig {
            shop_id: self.shop_id.clone(),
            plenty_id: 1000,
            referrer_id: referrer,
            ..Default::default()
        };
        OrderImporter::new(
            self.store.clone(),
            self.client.clone(),
            self.plenty_client.clone(),
            HashMap::from([(self.shop_id.clone(), config)]),
            "test-importer",
        )
    }

    /// A TikTok order of `units` units of one SKU, in `status`; its id.
    async fn tiktok_order(&self, m: &ProductMapping, units: u32, status: &str) -> String {
        let out = control(
            &self.http,
            &format!("{}/_sandbox/seed", self.tiktok.base_url),
            "POST",
            json!({"orders": [{
                "shop_id": self.shop_id, "status": status,
                "line_items": [{
                    "sku_id": m.tiktok_sku_id, "seller_sku": m.seller_sku,
                    "product_id": m.tiktok_product_id, "sale_price": "19.90", "quantity": units,
                }],
            }]}),
        )
        .await;
        out["orders"][0].as_str().unwrap().to_string()
    }

    async fn drive_order(&self, order_id: &str, status: &str) {
        control(
            &self.http,
            &format!("{}/_sandbox/orders/{order_id}/advance", self.tiktok.base_url),
            "POST",
            json!({"status": status}),
        )
        .await;
    }

    /// TikTok's quantity of a SKU in its (one) warehouse.
    async fn tiktok_quantity(&self, m: &ProductMapping) -> i64 {
        let data = self
            .client
            .shop(&self.shop_id)
            .unwrap()
            .call_id(
                "inventory.search",
                CallInput::json(&json!({"product_ids": [m.tiktok_product_id]})),
            )
            .await
            .unwrap()
            .value()
            .unwrap();
        let sku = data["inventory"][0]["skus"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"].as_str() == m.tiktok_sku_id.as_deref())
            .unwrap()
            .clone();
        sku["warehouse_inventory"][0]["available_quantity"]
            .as_i64()
            .unwrap()
    }

    async fn reserved(&self, variation_id: i64) -> i64 {
        self.store
            .reserved_units(&self.shop_id, &[variation_id])
            .await
            .unwrap()
            .first()
            .map_or(0, |r| r.quantity)
    }

    async fn set_stock(&self, variation_id: i64, warehouse_id: i64, physical: i64) {
        control(
            &self.http,
            &format!("{}/_plenty/stock", self.plenty.base_url),
            "POST",
            json!({"variation_id": variation_id, "warehouse_id": warehouse_id, "physical": physical}),
        )
        .await;
    }

    async fn mappings(&self) -> Vec<ProductMapping> {
        self.store
            .list_product_mappings(&ProductMappingQuery {
                shop_id: self.shop_id.clone(),
                status: None,
                after_variation_id: None,
                limit: 1000,
            })
            .await
            .unwrap()
    }

    /// Successful calls of the sandbox's endpoints whose key contains `endpoint_part` (or is it,
    /// with a leading `=`).
    async fn tiktok_counter(&self, endpoint_part: &str) -> u64 {
        let c = control(
            &self.http,
            &format!("{}/_sandbox/counters", self.tiktok.base_url),
            "GET",
            json!({}),
        )
        .await;
        c["endpoints"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| match endpoint_part.strip_prefix('=') {
                Some(exact) => k.as_str() == exact,
                None => k.contains(endpoint_part),
            })
            .map(|(_, v)| v["ok"].as_u64().unwrap_or(0))
            .sum()
    }

    /// Webhooks of `event_type` in the inbox, parsed.
    async fn inbox_events(&self, event_type: i64) -> Vec<tts_tiktok::webhook::Notification> {
        let rows = self
            .store
            .list_inbox(&InboxQuery {
                shop_id: Some(self.shop_id.clone()),
                state: InboxState::Pending,
                after_notification_id: None,
                limit: 1000,
            })
            .await
            .unwrap();
        rows.into_iter()
            .filter(|m| m.event_type == event_type)
            .map(|m| tts_tiktok::webhook::parse(&m.payload).unwrap())
            .collect()
    }
}

/// Both stand-ins, the DE shop (both PlentyONE warehouses feed its sales warehouse, buffer 1 unit), a
/// SQLite store. With `webhooks`, the sandbox delivers its webhooks (twice each, shuffled) into the
/// inbox; audits take `audit_delay_ms`.
async fn world(webhooks: bool, audit_delay_ms: u64) -> World {
    let (dir, store) = common::temp_store().await;
    let tiktok = common::tiktok_sandbox(
        &store,
        webhooks,
        tts_sandbox::Config {
            audit_delay_ms,
            ..Default::default()
        },
    )
    .await;
    let plenty_config = tts_plenty_sandbox::Config {
        window: Duration::from_secs(1),
        ..Default::default()
    };
    let (plenty_user, plenty_password) = (plenty_config.username.clone(), plenty_config.password.clone());
    let plenty = tts_plenty_sandbox::start(plenty_config).await.unwrap();

    let http = reqwest::Client::new();
    let info = control(
        &http,
        &format!("{}/_sandbox/info", tiktok.base_url),
        "GET",
        json!({}),
    )
    .await;
    let shop = info["shops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["region"] == "DE")
        .unwrap()
        .clone();
    let shop_id = shop["id"].as_str().unwrap().to_string();
    let tokens = control(
        &http,
        &format!("{}/_sandbox/tokens", tiktok.base_url),
        "POST",
        json!({"open_id": shop["open_id"]}),
    )
    .await;
    let client = common::sandbox_client(&tiktok.base_url, &info, &shop, &tokens).await;
    let sales = common::sales_warehouse(&client, &shop_id).await;
    let plenty_client = tts_plenty::client::Client::new(tts_plenty::client::ClientOptions::new(
        plenty.base_url.clone(),
        plenty_user,
        plenty_password,
    ))
    .unwrap();
    let config = common::stand_in_product_config(&shop_id, &sales);
    World {
        _contract: common::ContractGuard::new(&tiktok),
        _dir: dir,
        store,
        tiktok,
        plenty,
        http,
        shop_id,
        client,
        plenty_client,
        config,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn audit_webhooks_with_reasons_are_applied_without_reading_the_product() {
    // Audits end 2 s after the create, so TikTok's update_time is after the mappings were written.
    let w = world(true, 2_000).await;
    // Item 103's title fails the sandbox's audit (`REJECT`), with a reason.
    {
        let mut store = w.plenty.sandbox.store.lock().unwrap();
        for text in &mut store.catalog.items.get_mut(&103).unwrap().texts {
            text.1 = format!("{} REJECT", text.1);
        }
    }
    let exporter = w.exporter();
    let export = exporter.export(&w.shop_id, now()).await.unwrap();
    assert_eq!(export.created, 11, "{export:?}");
    let products: HashSet<String> = w
        .mappings()
        .await
        .into_iter()
        .filter_map(|m| m.tiktok_product_id)
        .collect();
    assert_eq!(products.len(), 11);

    // The sandbox's signed PRODUCT_AUDIT_STATUS_CHANGE webhooks, one per product, reach the inbox.
    let mut audits = Vec::new();
    for _ in 0..200 {
        audits = w.inbox_events(37).await;
        if audits.len() == products.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(audits.len(), products.len(), "one audit webhook per product");
    let failed: Vec<_> = audits
        .iter()
        .filter_map(|n| match &n.event {
            tts_tiktok::webhook::Event::ProductAuditStatusChange(e) => Some(e),
            _ => None,
        })
        .filter(|e| e.status.as_deref() == Some("FAILED"))
        .collect();
    assert_eq!(failed.len(), 1, "{audits:?}");
    assert!(
        failed[0]
            .audit_failed_reasons
            .as_ref()
            .is_some_and(|r| !r.is_empty())
    );

    // Handled: the status and reasons come from the webhooks; TikTok is not asked.
    let handler = ProductEvents(exporter.clone());
    let gets = w.tiktok_counter(GET_PRODUCT).await;
    for n in &audits {
        handler.handle(n).await.unwrap();
    }
    assert_eq!(w.tiktok_counter(GET_PRODUCT).await, gets, "no products.get");
    for m in w
        .mappings()
        .await
        .iter()
        .filter(|m| m.tiktok_product_id.is_some())
    {
        if m.plenty_item_id == 103 {
            assert_eq!(m.audit_status.as_deref(), Some("FAILED"));
            assert!(
                m.audit_reasons
                    .iter()
                    .any(|r| r.starts_with("title: ") && r.contains("prohibited word")),
                "{:?}",
                m.audit_reasons
            );
        } else {
            assert_eq!(m.audit_status.as_deref(), Some("ACTIVATE"), "{m:?}");
            assert!(m.audit_reasons.is_empty());
        }
    }

    // The same webhook once more (TikTok redelivers, or a stale copy): not newer than the state
    // held, so TikTok's current state is read instead; the result is the same.
    let failed_again = audits
        .iter()
        .find(|n| match &n.event {
            tts_tiktok::webhook::Event::ProductAuditStatusChange(e) => e.status.as_deref() == Some("FAILED"),
            _ => false,
        })
        .unwrap();
    handler.handle(failed_again).await.unwrap();
    assert_eq!(w.tiktok_counter(GET_PRODUCT).await, gets + 1);
    // A webhook 37 without reasons: read from TikTok too.
    let mut bare = failed_again.clone();
    if let tts_tiktok::webhook::Event::ProductAuditStatusChange(e) = &mut bare.event {
        e.audit_failed_reasons = None;
        e.update_time = Some(now() + 60);
    }
    handler.handle(&bare).await.unwrap();
    assert_eq!(w.tiktok_counter(GET_PRODUCT).await, gets + 2);
    let m103: Vec<ProductMapping> = w
        .mappings()
        .await
        .into_iter()
        .filter(|m| m.plenty_item_id == 103)
        .collect();
    assert!(!m103.is_empty());
    for m in m103 {
        assert_eq!(m.audit_status.as_deref(), Some("FAILED"));
        assert!(m.audit_reasons.iter().any(|r| r.contains("prohibited word")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restarted_stock_pusher_does_not_send_unchanged_stock_or_prices_again() {
    let w = world(false, 150).await;
    let export = w.exporter().export(&w.shop_id, now()).await.unwrap();
    assert_eq!(export.created, 11, "{export:?}");
    let inventory_updates = || w.tiktok_counter("inventory/update");
    let price_updates = || w.tiktok_counter("prices/update");

    // Three variations' stock changes in PlentyONE.
    let changed: Vec<i64> = w
        .mappings()
        .await
        .into_iter()
        .filter(|m| m.tiktok_sku_id.is_some())
        .map(|m| m.plenty_variation_id)
        .take(3)
        .collect();
    for vid in &changed {
        w.set_stock(*vid, 1, 33).await;
    }

    // A worker started after the export: what the creates set is known from the store, so only
    // the three changed SKUs are sent.
    let first = w
        .fresh_pusher()
        .push(&w.shop_id, StockMode::Changed, now())
        .await
        .unwrap();
    assert_eq!(
        (first.stock_updates, first.price_updates, first.errors),
        (3, 0, 0),
        "{first:?}"
    );
    assert_eq!(first.mapped, 59, "{first:?}");
    let (inventory_calls, price_calls) = (inventory_updates().await, price_updates().await);
    assert!(inventory_calls >= 1 && price_calls == 0);

    // Another restart: the window overlaps the last one (the changed variations are read again),
    // but nothing differs from what TikTok holds, so the sandbox sees no update at all.
    let second = w
        .fresh_pusher()
        .push(&w.shop_id, StockMode::Changed, now() + 1)
        .await
        .unwrap();
    assert!(second.read >= 3, "{second:?}");
    assert_eq!(
        (second.stock_updates, second.price_updates, second.calls),
        (0, 0, 0),
        "{second:?}"
    );
    assert_eq!(
        inventory_updates().await,
        inventory_calls,
        "no inventory update sent"
    );
    assert_eq!(price_updates().await, price_calls, "no price update sent");

    // A real change after the restart is still sent, once.
    w.set_stock(changed[0], 1, 34).await;
    let third = w
        .fresh_pusher()
        .push(&w.shop_id, StockMode::Changed, now() + 2)
        .await
        .unwrap();
    assert_eq!((third.stock_updates, third.calls), (1, 1), "{third:?}");
    assert_eq!(inventory_updates().await, inventory_calls + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn units_of_tiktok_orders_not_in_plentyone_yet_are_held_back_until_plentyone_has_them() {
    let w = world(false, 150).await;
    let export = w.exporter().export(&w.shop_id, now()).await.unwrap();
    assert_eq!(export.created, 11, "{export:?}");
    let importer = w.importer().await;
    let pusher = w.pusher_with(StoreReservations::new(w.store.clone()));
    let m = w
        .mappings()
        .await
        .into_iter()
        .find(|m| m.plenty_item_id == 105 && m.tiktok_sku_id.is_some())
        .unwrap();
    let vid = m.plenty_variation_id;
    // PlentyONE: 30 physical in warehouse 1, of which the stand-in reserves `id % 3` for its own
    // orders (net stock already excludes those); nothing in warehouse 2; buffer 1.
    w.set_stock(vid, 1, 30).await;
    w.set_stock(vid, 2, 0).await;
    let net = 30 - vid % 3;
    pusher.push_variations(&w.shop_id, &[vid]).await.unwrap();
    assert_eq!(w.tiktok_quantity(&m).await, net - 1);

    // A buyer orders 2 units; unpaid orders are not imported, but TikTok counts them sold: they
    // are held back, or the next push would hand them back to TikTok.
    let unpaid = w.tiktok_order(&m, 2, "UNPAID").await;
    let outcome = importer
        .sync_order(&w.shop_id, &unpaid, Seen::default())
        .await
        .unwrap();
    assert!(
        matches!(outcome, ImportOutcome::NotImported { .. }),
        "{outcome:?}"
    );
    assert_eq!(w.reserved(vid).await, 2);
    let report = pusher.push_variations(&w.shop_id, &[vid]).await.unwrap();
    assert_eq!(report.stock_updates, 1, "{report:?}");
    assert_eq!(w.tiktok_quantity(&m).await, net - 2 - 1);

    // Paid: imported. PlentyONE reserves the order's stock itself from now on (its net stock
    // shows it), so nothing is held here any more: counting it again would under-offer.
    w.drive_order(&unpaid, "AWAITING_SHIPMENT").await;
    let outcome = importer
        .sync_order(&w.shop_id, &unpaid, Seen::default())
        .await
        .unwrap();
    assert!(matches!(outcome, ImportOutcome::Created { .. }), "{outcome:?}");
    assert_eq!(w.reserved(vid).await, 0);
    pusher.push_variations(&w.shop_id, &[vid]).await.unwrap();
    assert_eq!(w.tiktok_quantity(&m).await, net - 1);

    // Another order waits (unpaid), then is cancelled before it was ever imported: released.
    let cancelled = w.tiktok_order(&m, 3, "UNPAID").await;
    importer
        .sync_order(&w.shop_id, &cancelled, Seen::default())
        .await
        .unwrap();
    assert_eq!(w.reserved(vid).await, 3);
    let held = pusher.push_variations(&w.shop_id, &[vid]).await.unwrap();
    assert_eq!(held.stock_updates, 1, "{held:?}");
    assert_eq!(w.tiktok_quantity(&m).await, net - 3 - 1);
    w.drive_order(&cancelled, "CANCELLED").await;
    let outcome = importer
        .sync_order(&w.shop_id, &cancelled, Seen::default())
        .await
        .unwrap();
    assert!(
        matches!(outcome, ImportOutcome::NotImported { .. }),
        "{outcome:?}"
    );
    assert_eq!(w.reserved(vid).await, 0);
    pusher.push_variations(&w.shop_id, &[vid]).await.unwrap();
    assert_eq!(w.tiktok_quantity(&m).await, net - 1);
}
