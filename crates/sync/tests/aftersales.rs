//! Tracking and after-sales end to end: the TikTok sandbox and the PlentyONE stand-in in-process, a
//! SQLite store, orders imported by the order importer first. Tracking goes out exactly once per
//! package (the sandbox's counters prove it), unmapped carriers fail visibly without sending, buyer
//! cancellations and returns round-trip through signed webhooks and the inbox, a PlentyONE
//! cancellation becomes one TikTok seller cancellation.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::{Value, json};
use tts_mapping::order::OrderMappingConfig;
use tts_mapping::status::StatusConfig;
use tts_store::Store;
use tts_sync::aftersales::{AftersalesConfig, AftersalesEngine, AftersalesEvents, Handlers, ReturnRules};
use tts_sync::fulfillment::{ShipMethod, TrackingConfig, TrackingEngine};
use tts_sync::inbox::{InboxProcessor, InboxSettings};
use tts_sync::orders::{OrderEvents, OrderImporter};
use tts_tiktok::client::Client;

const MARK_SHIPPED: &str = "POST /fulfillment/202309/orders/{order_id}/packages";
const SHIP_PACKAGE: &str = "POST /fulfillment/202309/packages/{package_id}/ship";
const CANCEL_APPROVE: &str = "POST /return_refund/202309/cancellations/{cancel_id}/approve";
const CANCEL_REJECT: &str = "POST /return_refund/202309/cancellations/{cancel_id}/reject";
const SELLER_CANCEL: &str = "POST /return_refund/202309/cancellations";
const RETURN_APPROVE: &str = "POST /return_refund/202309/returns/{return_id}/approve";
const USPS: &str = "7117858858072016686";
/// The PlentyONE shipping profile the importer puts on every order (property 2).
const PROFILE: i64 = 6;

async fn call(http: &reqwest::Client, url: String, method: &str, body: Value) -> Value {
    let res = http
        .request(method.parse().unwrap(), &url)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{method} {url}: {}", res.status());
    res.json().await.unwrap()
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
    plenty_client: tts_plenty::client::Client,
    client: Client,
    importer: Arc<OrderImporter>,
    referrer: Decimal,
}

impl World {
    async fn sandbox(&self, method: &str, path: &str, body: Value) -> Value {
        call(
            &self.http,
            format!("{}/_sandbox{path}", self.tiktok.base_url),
            method,
            body,
        )
        .await
    }

    async fn plenty_control(&self, method: &str, path: &str, body: Value) -> Value {
        call(
            &self.http,
            format!("{}/_plenty{path}", self.plenty.base_url),
            method,
            body,
        )
        .await
    }

    async fn orders(&self, count: usize, status: &str) -> Vec<String> {
        let created = self
            .sandbox(
                "POST",
                &format!("/shops/{}/orders", self.shop_id),
                json!({"count": count, "status": status}),
            )
            .await;
        created["order_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    }

    /// Calls of one TikTok endpoint so far (every attempt counts).
    async fn calls(&self, endpoint: &str) -> u64 {
        let counters = self.sandbox("GET", "/counters", json!({})).await;
        counters["endpoints"][endpoint]["total"].as_u64().unwrap_or(0)
    }

    async fn plenty_id(&self, order_id: &str) -> i64 {
        self.store
            .get_order_mapping(&self.shop_id, order_id)
            .await
            .unwrap()
            .and_then(|m| m.plenty_order_id)
            .unwrap_or_else(|| panic!("order {order_id} is not imported"))
    }

    async fn tiktok_order(&self, order_id: &str) -> Value {
        self.sandbox("GET", &format!("/orders/{order_id}"), json!({}))
            .await
    }

    async fn import_all(&self) {
        let report = self
            .importer
            .reconcile(&self.shop_id, now() + 1, 3600, 600, 60)
            .await
            .unwrap();
        assert_eq!(report.failed, 0, "{report:?}");
    }

    /// Return orders (type 3) of a PlentyONE order.
    async fn return_orders(&self, parent: i64) -> Vec<tts_plenty::api::orders::Order> {
        use futures_util::TryStreamExt;
        let query = tts_plenty::api::orders::OrderQuery {
            referrer_id: Some(self.referrer),
            ..Default::default()
        };
        let all: Vec<tts_plenty::api::orders::Order> = self
            .plenty_client
            .orders(&query)
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        all.into_iter()
            .filter(|o| o.type_id == 3 && o.parent_order_id == Some(parent))
            .collect()
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn world(webhooks: bool) -> World {
    let (dir, store) = common::temp_store().await;
    let tiktok = common::tiktok_sandbox(&store, webhooks, tts_sandbox::Config::default()).await;
    let plenty_config = tts_plenty_sandbox::Config {
        window: Duration::from_secs(1),
        ..Default::default()
    };
    let (plenty_user, plenty_password) = (plenty_config.username.clone(), plenty_config.password.clone());
    let plenty = tts_plenty_sandbox::start(plenty_config).await.unwrap();

    let http = reqwest::Client::new();
    let info = call(
        &http,
        format!("{}/_sandbox/info", tiktok.base_url),
        "GET",
        json!({}),
    )
    .await;
    let shop = &info["shops"][0];
    let shop_id = shop["id"].as_str().unwrap().to_string();
    let tokens = call(
        &http,
        format!("{}/_sandbox/tokens", tiktok.base_url),
        "POST",
        json!({}),
    )
    .await;
    let client = common::sandbox_client(&tiktok.base_url, &info, shop, &tokens).await;
    let plenty_client = tts_plenty::client::Client::new(tts_plenty::client::ClientOptions::new(
        plenty.base_url.clone(),
        plenty_user,
        plenty_password,
    ))
    .unwrap();
    let referrer = plenty_client.ensure_referrer("TikTok Shop").await.unwrap();
    let config = OrderMappingConfig {
        shop_id: shop_id.clone(),
        plenty_id: 1000,
        referrer_id: referrer,
        shipping_profile_id: Some(PROFILE),
        status: StatusConfig {
            // ON_HOLD orders come in at once (status 1), so tracking has one to wait for.
            on_hold_window_secs: 0,
            import_on_hold_after_window: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let importer = Arc::new(OrderImporter::new(
        store.clone(),
        client.clone(),
        plenty_client.clone(),
        HashMap::from([(shop_id.clone(), config)]),
        "test-importer",
    ));
    World {
        _contract: common::ContractGuard::new(&tiktok),
        _dir: dir,
        store,
        tiktok,
        plenty,
        http,
        shop_id,
        plenty_client,
        client,
        importer,
        referrer,
    }
}

fn tracking_config(w: &World, carriers: &[(i64, &str)], method: Option<ShipMethod>) -> TrackingConfig {
    TrackingConfig {
        shop_id: w.shop_id.clone(),
        region: "US".into(),
        method,
        referrer_id: w.referrer,
        carriers: carriers.iter().map(|(p, id)| (*p, id.to_string())).collect(),
        default_provider_id: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tracking_goes_to_tiktok_once_per_package_and_unmapped_carriers_fail_visibly() {
    let w = world(false).await;
    let ids = w.orders(6, "AWAITING_SHIPMENT").await;
    let on_hold = w.orders(1, "ON_HOLD").await.remove(0);
    w.import_all().await;
    // the platform already shipped order 5 on TikTok (the import has not seen it: no webhooks)
    w.sandbox("POST", &format!("/orders/{}/ship", ids[5]), json!({}))
        .await;

    // the warehouse ships orders 0..=3, 5 and the ON_HOLD one in PlentyONE
    let mut numbers = HashMap::new();
    for (i, id) in ids.iter().enumerate().filter(|(i, _)| *i != 4) {
        let number = format!("TRK{i:04}");
        let plenty_id = w.plenty_id(id).await;
        w.plenty_control(
            "POST",
            &format!("/orders/{plenty_id}/ship"),
            json!({"package_number": number}),
        )
        .await;
        numbers.insert(id.clone(), number);
    }
    let held_plenty = w.plenty_id(&on_hold).await;
    w.plenty_control("POST", &format!("/orders/{held_plenty}/ship"), json!({}))
        .await;

    // no carrier mapped: a visible error per order, nothing sent
    let engine = TrackingEngine::new(
        w.store.clone(),
        w.client.clone(),
        w.plenty_client.clone(),
        HashMap::from([(w.shop_id.clone(), tracking_config(&w, &[], None))]),
        "test-tracking",
    );
    let first = engine.run_pass(&w.shop_id, now(), 3600, 300).await.unwrap();
    assert_eq!(first.unmapped_carrier, 4, "{first:?}");
    assert_eq!(
        first.skipped_already_shipped, 1,
        "order 5 was shipped on TikTok: {first:?}"
    );
    assert_eq!(first.waiting_on_hold, 1, "{first:?}");
    assert_eq!((first.shipped, first.errors), (0, 0), "{first:?}");
    assert_eq!(w.calls(MARK_SHIPPED).await + w.calls(SHIP_PACKAGE).await, 0);
    let m = w
        .store
        .get_order_mapping(&w.shop_id, &ids[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.sync_status, tts_store::SyncStatus::Error);
    let error = m.sync_error.unwrap();
    assert!(
        error.starts_with("tracking TTS_CONFIG_INVALID") && error.contains("carriers.6"),
        "{error}"
    );

    // the carrier is mapped: the failed orders are retried and shipped
    engine.set_shop(tracking_config(&w, &[(PROFILE, USPS)], None));
    let second = engine.run_pass(&w.shop_id, now(), 3600, 0).await.unwrap();
    assert_eq!(
        (second.shipped, second.calls, second.errors),
        (4, 4, 0),
        "{second:?}"
    );
    assert_eq!(w.calls(MARK_SHIPPED).await, 4, "one mark-shipped per package");
    for id in &ids[..4] {
        let order = w.tiktok_order(id).await;
        assert_eq!(order["status"], "IN_TRANSIT", "{id}");
        assert_eq!(order["tracking_number"], numbers[id].as_str(), "{id}");
        assert_eq!(order["shipping_provider_id"], USPS);
        let m = w.store.get_order_mapping(&w.shop_id, id).await.unwrap().unwrap();
        assert_eq!(m.tiktok_status.as_deref(), Some("IN_TRANSIT"));
        assert_eq!(
            (m.sync_status, m.sync_error),
            (tts_store::SyncStatus::Synced, None)
        );
    }
    // and TikTok's tracking API has it (through the client)
    let tracking = w
        .client
        .shop(&w.shop_id)
        .unwrap()
        .call_id(
            "orders.tracking",
            tts_tiktok::client::CallInput::default().path("order_id", ids[0].as_str()),
        )
        .await
        .unwrap()
        .value()
        .unwrap();
    assert!(
        tracking["tracking"].as_array().is_some_and(|t| !t.is_empty()),
        "{tracking}"
    );

    // again, over the same window: nothing is sent twice
    let third = engine.run_pass(&w.shop_id, now(), 3600, 3600).await.unwrap();
    assert_eq!((third.shipped, third.calls), (0, 0), "{third:?}");
    assert_eq!(third.skipped_already_shipped, 5, "{third:?}");
    assert_eq!(w.calls(MARK_SHIPPED).await, 4);
    assert_eq!(w.calls(SHIP_PACKAGE).await, 0);

    // a region without "mark as shipped": ship package with self_shipment, once
    engine.set_shop(tracking_config(
        &w,
        &[(PROFILE, USPS)],
        Some(ShipMethod::ShipPackage),
    ));
    let plenty_4 = w.plenty_id(&ids[4]).await;
    w.plenty_control(
        "POST",
        &format!("/orders/{plenty_4}/ship"),
        json!({"package_number": "PKG4"}),
    )
    .await;
    let fourth = engine.run_pass(&w.shop_id, now(), 3600, 3600).await.unwrap();
    assert_eq!((fourth.shipped, fourth.calls), (1, 1), "{fourth:?}");
    let fifth = engine.run_pass(&w.shop_id, now(), 3600, 3600).await.unwrap();
    assert_eq!(fifth.shipped, 0, "{fifth:?}");
    assert_eq!(w.calls(SHIP_PACKAGE).await, 1, "one ship call for the package");
    assert_eq!(w.calls(MARK_SHIPPED).await, 4);
    let order = w.tiktok_order(&ids[4]).await;
    assert_eq!(order["status"], "IN_TRANSIT");
    assert_eq!(order["tracking_number"], "PKG4");
    // the ON_HOLD order waited the whole time, nothing sent for it
    assert_eq!(w.tiktok_order(&on_hold).await["status"], "ON_HOLD");
    assert_eq!(fifth.waiting_on_hold, 1, "{fifth:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn buyer_cancellations_and_returns_round_trip_through_webhooks() {
    let w = world(true).await;
    let aftersales = Arc::new(AftersalesEngine::new(
        w.store.clone(),
        w.client.clone(),
        w.plenty_client.clone(),
        HashMap::from([(
            w.shop_id.clone(),
            AftersalesConfig {
                returns: ReturnRules {
                    auto_approve_below: Some(Decimal::from(100_000)),
                    ..Default::default()
                },
                ..AftersalesConfig::new(w.shop_id.clone(), w.referrer)
            },
        )]),
        "test-aftersales",
    ));
    let handler = Arc::new(Handlers(vec![
        Arc::new(OrderEvents(w.importer.clone())),
        Arc::new(AftersalesEvents(aftersales.clone())),
    ]));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|owner| {
            let processor = InboxProcessor::new(
                w.store.clone(),
                handler.clone(),
                InboxSettings {
                    owner: owner.into(),
                    idle_poll: Duration::from_millis(20),
                    retry_base: Duration::from_millis(50),
                    retry_cap: Duration::from_millis(500),
                    ..Default::default()
                },
            );
            let stopped = stopped.clone();
            tokio::spawn(async move { processor.run(stopped).await })
        })
        .collect();

    let ids = w.orders(3, "AWAITING_SHIPMENT").await;
    let mut plenty_ids = Vec::new();
    for id in &ids {
        let mut found = None;
        for _ in 0..300 {
            found = w
                .store
                .get_order_mapping(&w.shop_id, id)
                .await
                .unwrap()
                .and_then(|m| m.plenty_order_id);
            if found.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        plenty_ids.push(found.unwrap_or_else(|| panic!("order {id} was not imported")));
    }

    // the buyer cancels an unshipped order: approved with the idempotency key, PlentyONE cancelled
    let cancel = w
        .sandbox("POST", &format!("/orders/{}/buyer_cancel", ids[0]), json!({}))
        .await;
    let cancel_id = cancel["cancel_id"].as_str().unwrap().to_string();
    let mut status = Decimal::ZERO;
    for _ in 0..300 {
        status = w.plenty_client.order(plenty_ids[0]).await.unwrap().status_id;
        if status >= Decimal::from(8) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        status >= Decimal::from(8) && status < Decimal::from(9),
        "PlentyONE status {status}"
    );
    assert_eq!(w.tiktok_order(&ids[0]).await["status"], "CANCELLED");
    let search = w
        .client
        .shop(&w.shop_id)
        .unwrap()
        .call_id(
            "cancellations.search",
            tts_tiktok::client::CallInput::json(&json!({"cancel_ids": [cancel_id]})).query("page_size", "10"),
        )
        .await
        .unwrap()
        .value()
        .unwrap();
    assert_eq!(
        search["cancellations"][0]["cancel_status"], "CANCELLATION_REQUEST_COMPLETE",
        "{search}"
    );

    // the buyer cancels an order PlentyONE has shipped already: rejected, TikTok keeps it
    w.plenty_control("POST", &format!("/orders/{}/ship", plenty_ids[1]), json!({}))
        .await;
    w.sandbox("POST", &format!("/orders/{}/buyer_cancel", ids[1]), json!({}))
        .await;
    for _ in 0..300 {
        if w.calls(CANCEL_REJECT).await > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(w.calls(CANCEL_REJECT).await, 1);
    assert_eq!(w.tiktok_order(&ids[1]).await["status"], "AWAITING_SHIPMENT");
    assert!(
        w.plenty_client.order(plenty_ids[1]).await.unwrap().status_id == Decimal::from(7),
        "still shipped in PlentyONE"
    );

    // a delivered order is returned: one return order in PlentyONE, the refund approved
    w.sandbox(
        "POST",
        &format!("/orders/{}/advance", ids[2]),
        json!({"status": "DELIVERED"}),
    )
    .await;
    let ret = w
        .sandbox("POST", &format!("/orders/{}/buyer_return", ids[2]), json!({}))
        .await;
    let return_id = ret["return_id"].as_str().unwrap().to_string();
    let mut returns = Vec::new();
    for _ in 0..300 {
        returns = w.return_orders(plenty_ids[2]).await;
        if !returns.is_empty() && w.calls(RETURN_APPROVE).await > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(returns.len(), 1, "one return order");
    let sandbox_return = w
        .client
        .shop(&w.shop_id)
        .unwrap()
        .call_id(
            "returns.search",
            tts_tiktok::client::CallInput::json(&json!({"return_ids": [return_id]})).query("page_size", "10"),
        )
        .await
        .unwrap()
        .value()
        .unwrap();
    assert_eq!(
        sandbox_return["return_orders"][0]["return_status"], "RETURN_OR_REFUND_REQUEST_COMPLETE",
        "{sandbox_return}"
    );
    assert_eq!(returns[0].status_id, Decimal::from(9));
    assert!(!returns[0].order_items.is_empty());

    // let the inbox drain, then deliver everything again and reconcile: still one of each
    for _ in 0..300 {
        if w.store.count_inbox_pending().await.unwrap() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    aftersales
        .sync_return(&w.shop_id, &ids[2], Some(&return_id))
        .await
        .unwrap();
    let report = aftersales.run_pass(&w.shop_id, now(), 3600, 60).await.unwrap();
    assert_eq!(report.errors, 0, "{report:?}");
    assert_eq!(
        (
            report.returns_created,
            report.returns_approved,
            report.cancellations_approved
        ),
        (0, 0, 0),
        "{report:?}"
    );
    assert_eq!(
        w.return_orders(plenty_ids[2]).await.len(),
        1,
        "still one return order"
    );
    assert_eq!(
        w.calls(CANCEL_APPROVE).await,
        1,
        "one approve for the cancellation"
    );
    assert_eq!(w.calls(CANCEL_REJECT).await, 1);
    assert_eq!(w.calls(RETURN_APPROVE).await, 1, "one approve for the return");

    stop.send(true).unwrap();
    for worker in workers {
        worker.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_return_waits_for_the_merchant_and_a_plenty_cancellation_cancels_on_tiktok_once() {
    let w = world(false).await;
    let ids = w.orders(3, "AWAITING_SHIPMENT").await;
    w.import_all().await;
    let (approved_at, checked) = (Decimal::new(91, 1), Decimal::new(92, 1));
    let engine = AftersalesEngine::new(
        w.store.clone(),
        w.client.clone(),
        w.plenty_client.clone(),
        HashMap::from([(
            w.shop_id.clone(),
            AftersalesConfig {
                returns: ReturnRules {
                    auto_approve_below: Some(Decimal::new(1, 2)),
                    approve_at_status: Some(approved_at),
                    approve_received_at_status: Some(checked),
                    ..Default::default()
                },
                ..AftersalesConfig::new(w.shop_id.clone(), w.referrer)
            },
        )]),
        "test-aftersales",
    );

    // seller cancellation: PlentyONE cancels order 0 → TikTok cancellation created, once
    let plenty_0 = w.plenty_id(&ids[0]).await;
    w.plenty_client.cancel_order(plenty_0).await.unwrap();
    let first = engine.run_pass(&w.shop_id, now(), 3600, 60).await.unwrap();
    assert_eq!((first.seller_cancellations, first.errors), (1, 0), "{first:?}");
    assert_eq!(w.tiktok_order(&ids[0]).await["status"], "CANCELLED");
    let second = engine.run_pass(&w.shop_id, now(), 3600, 3600).await.unwrap();
    assert_eq!(second.seller_cancellations, 0, "{second:?}");
    assert_eq!(w.calls(SELLER_CANCEL).await, 1, "one seller cancellation");

    // a cancelled PlentyONE order TikTok has shipped: a visible error, nothing sent
    w.sandbox(
        "POST",
        &format!("/orders/{}/advance", ids[1]),
        json!({"status": "IN_TRANSIT"}),
    )
    .await;
    let plenty_1 = w.plenty_id(&ids[1]).await;
    w.plenty_client.cancel_order(plenty_1).await.unwrap();
    let third = engine.run_pass(&w.shop_id, now(), 3600, 3600).await.unwrap();
    assert_eq!((third.seller_cancellations, third.errors), (0, 1), "{third:?}");
    assert_eq!(w.calls(SELLER_CANCEL).await, 1);
    let m = w
        .store
        .get_order_mapping(&w.shop_id, &ids[1])
        .await
        .unwrap()
        .unwrap();
    assert!(
        m.sync_error
            .as_deref()
            .is_some_and(|e| e.starts_with("seller cancel ") && e.contains("IN_TRANSIT")),
        "{:?}",
        m.sync_error
    );

    // a return above the auto-approve amount waits for the merchant's PlentyONE status
    w.sandbox(
        "POST",
        &format!("/orders/{}/advance", ids[2]),
        json!({"status": "DELIVERED"}),
    )
    .await;
    let ret = w
        .sandbox(
            "POST",
            &format!("/orders/{}/buyer_return", ids[2]),
            json!({"return_type": "RETURN_AND_REFUND"}),
        )
        .await;
    let return_id = ret["return_id"].as_str().unwrap().to_string();
    let plenty_2 = w.plenty_id(&ids[2]).await;
    let pass = engine.run_pass(&w.shop_id, now(), 3600, 3600).await.unwrap();
    assert_eq!(
        (pass.returns_created, pass.returns_waiting, pass.returns_approved),
        (1, 1, 0),
        "{pass:?}"
    );
    let returns = w.return_orders(plenty_2).await;
    assert_eq!(returns.len(), 1);
    let again = engine.run_pass(&w.shop_id, now(), 3600, 3600).await.unwrap();
    assert_eq!(
        (again.returns_created, again.returns_approved),
        (0, 0),
        "{again:?}"
    );
    assert_eq!(w.calls(RETURN_APPROVE).await, 0);

    // the merchant approves in PlentyONE (return order → 9.1): APPROVE_RETURN goes out, once
    w.plenty_client
        .update_order_status(returns[0].id, approved_at)
        .await
        .unwrap();
    let decided = engine.run_pass(&w.shop_id, now(), 3600, 3600).await.unwrap();
    assert_eq!(decided.returns_approved, 1, "{decided:?}");
    let after = engine.run_pass(&w.shop_id, now(), 3600, 3600).await.unwrap();
    assert_eq!(after.returns_approved, 0, "{after:?}");
    assert_eq!(w.calls(RETURN_APPROVE).await, 1);
    assert_eq!(w.return_orders(plenty_2).await.len(), 1, "still one return order");

    // the buyer sends it back: the package waits for "items checked", then is approved once
    w.sandbox("POST", &format!("/returns/{return_id}/buyer_ship"), json!({}))
        .await;
    let arrived = engine.run_pass(&w.shop_id, now(), 3600, 3600).await.unwrap();
    assert_eq!(
        (arrived.returns_approved, arrived.returns_waiting),
        (0, 1),
        "{arrived:?}"
    );
    w.plenty_client
        .update_order_status(returns[0].id, checked)
        .await
        .unwrap();
    let received = engine.run_pass(&w.shop_id, now(), 3600, 3600).await.unwrap();
    assert_eq!(received.returns_approved, 1, "{received:?}");
    let done = engine.run_pass(&w.shop_id, now(), 3600, 3600).await.unwrap();
    // (the error left is order 1's seller cancellation, still visible on every pass)
    assert_eq!(
        (done.returns_approved, done.returns_waiting, done.errors),
        (0, 0, 1),
        "{done:?}"
    );
    assert_eq!(w.calls(RETURN_APPROVE).await, 2, "one approval per stage");
    let search = w
        .client
        .shop(&w.shop_id)
        .unwrap()
        .call_id(
            "returns.search",
            tts_tiktok::client::CallInput::json(&json!({"return_ids": [return_id]})).query("page_size", "10"),
        )
        .await
        .unwrap()
        .value()
        .unwrap();
    assert_eq!(
        search["return_orders"][0]["return_status"],
        "RETURN_OR_REFUND_REQUEST_COMPLETE"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lost_answers_never_ship_twice_and_unsent_calls_are_sent_next_pass() {
    let w = world(false).await;
    let ids = w.orders(2, "AWAITING_SHIPMENT").await;
    w.import_all().await;
    let engine = TrackingEngine::new(
        w.store.clone(),
        w.client.clone(),
        w.plenty_client.clone(),
        HashMap::from([(w.shop_id.clone(), tracking_config(&w, &[(PROFILE, USPS)], None))]),
        "test-tracking",
    );
    let ship_in_plenty = |n: usize, number: &'static str| {
        let (w, id) = (&w, ids[n].clone());
        async move {
            let plenty_id = w.plenty_id(&id).await;
            w.plenty_control(
                "POST",
                &format!("/orders/{plenty_id}/ship"),
                json!({"package_number": number}),
            )
            .await;
        }
    };

    // TikTok ships, but the answer is garbled: the outcome is unknown, recorded, not retried blindly
    ship_in_plenty(0, "LOST0001").await;
    w.sandbox(
        "POST",
        "/faults",
        json!({"kind": "malformed_json", "endpoint": MARK_SHIPPED, "count": 1}),
    )
    .await;
    // (the cursor ends in the future: the next pass's window cannot see the order, only its failure)
    let first = engine.run_pass(&w.shop_id, now() + 5, 3600, 60).await.unwrap();
    assert_eq!((first.shipped, first.errors), (0, 1), "{first:?}");
    let m = w
        .store
        .get_order_mapping(&w.shop_id, &ids[0])
        .await
        .unwrap()
        .unwrap();
    assert!(
        m.sync_error
            .as_deref()
            .is_some_and(|e| e.contains("outcome unknown")),
        "{:?}",
        m.sync_error
    );
    assert_eq!(
        w.tiktok_order(&ids[0]).await["tracking_number"],
        "LOST0001",
        "it did ship"
    );
    // the next pass looks at TikTok first and finds it shipped
    let second = engine.run_pass(&w.shop_id, now() + 5, 3600, 0).await.unwrap();
    assert_eq!(
        (
            second.seen,
            second.shipped,
            second.skipped_already_shipped,
            second.errors
        ),
        (1, 0, 1, 0),
        "{second:?}"
    );
    assert_eq!(w.calls(MARK_SHIPPED).await, 1, "never sent twice");
    let m = w
        .store
        .get_order_mapping(&w.shop_id, &ids[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (m.sync_status, m.sync_error),
        (tts_store::SyncStatus::Synced, None)
    );

    // the connection drops before TikTok acts: the next pass sends it (after checking)
    ship_in_plenty(1, "DROP0001").await;
    w.sandbox(
        "POST",
        "/faults",
        json!({"kind": "drop", "endpoint": MARK_SHIPPED, "count": 1}),
    )
    .await;
    let third = engine.run_pass(&w.shop_id, now(), 3600, 600).await.unwrap();
    assert_eq!((third.shipped, third.errors), (0, 1), "{third:?}");
    assert_eq!(w.tiktok_order(&ids[1]).await["status"], "AWAITING_SHIPMENT");
    let fourth = engine.run_pass(&w.shop_id, now(), 3600, 600).await.unwrap();
    assert_eq!((fourth.shipped, fourth.errors), (1, 0), "{fourth:?}");
    let order = w.tiktok_order(&ids[1]).await;
    assert_eq!(
        (order["status"].as_str(), order["tracking_number"].as_str()),
        (Some("IN_TRANSIT"), Some("DROP0001"))
    );
    assert_eq!(
        w.calls(MARK_SHIPPED).await,
        3,
        "one garbled, one dropped, one resent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_return_order_created_before_a_crash_is_adopted_not_created_again() {
    let w = world(false).await;
    let ids = w.orders(1, "AWAITING_SHIPMENT").await;
    w.import_all().await;
    let order_id = &ids[0];
    let parent = w.plenty_id(order_id).await;
    w.sandbox(
        "POST",
        &format!("/orders/{order_id}/advance"),
        json!({"status": "DELIVERED"}),
    )
    .await;
    let ret = w
        .sandbox("POST", &format!("/orders/{order_id}/buyer_return"), json!({}))
        .await;
    let return_id = ret["return_id"].as_str().unwrap().to_string();

    // a worker wrote its intent, created the return order and died before recording it
    let since = now() - 1;
    w.store
        .set_cursor(
            &w.shop_id,
            &format!("returns:{order_id}"),
            &json!({"returns": {return_id.clone(): {"creating_since": since}}}).to_string(),
        )
        .await
        .unwrap();
    let item = w.plenty_client.order(parent).await.unwrap().order_items[0].clone();
    let created = w
        .plenty_client
        .create_return(
            parent,
            &tts_plenty::api::returns::ReturnCreate {
                quantities: vec![tts_plenty::api::returns::ReturnQuantity {
                    order_item_id: item.id,
                    quantity: Decimal::ONE,
                }],
                ..Default::default()
            },
        )
        .await
        .unwrap();

    let engine = AftersalesEngine::new(
        w.store.clone(),
        w.client.clone(),
        w.plenty_client.clone(),
        HashMap::from([(
            w.shop_id.clone(),
            AftersalesConfig::new(w.shop_id.clone(), w.referrer),
        )]),
        "test-aftersales",
    );
    let outcomes = engine
        .sync_return(&w.shop_id, order_id, Some(&return_id))
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(
        (
            outcomes[0].plenty_return_order_id,
            outcomes[0].created,
            outcomes[0].adopted
        ),
        (Some(created.id), false, true),
        "{outcomes:?}"
    );
    assert!(outcomes[0].waiting.is_some(), "no rule approves it: {outcomes:?}");
    let again = engine
        .sync_return(&w.shop_id, order_id, Some(&return_id))
        .await
        .unwrap();
    assert_eq!(
        (again[0].plenty_return_order_id, again[0].created),
        (Some(created.id), false)
    );
    assert_eq!(
        w.return_orders(parent).await.len(),
        1,
        "adopted, not created again"
    );

    // a second return of the same order gets its own return order (the adopted one is claimed)
    let second = w
        .sandbox(
            "POST",
            &format!("/orders/{order_id}/buyer_return"),
            json!({"return_type": "RETURN_AND_REFUND"}),
        )
        .await;
    let second_id = second["return_id"].as_str().unwrap().to_string();
    let outcomes = engine
        .sync_return(&w.shop_id, order_id, Some(&second_id))
        .await
        .unwrap();
    assert!(outcomes[0].created, "{outcomes:?}");
    assert_ne!(outcomes[0].plenty_return_order_id, Some(created.id));
    assert_eq!(w.return_orders(parent).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_passing_at_once_ship_each_package_once() {
    let w = world(false).await;
    let ids = w.orders(8, "AWAITING_SHIPMENT").await;
    w.import_all().await;
    for id in &ids {
        let plenty_id = w.plenty_id(id).await;
        w.plenty_control("POST", &format!("/orders/{plenty_id}/ship"), json!({}))
            .await;
    }
    let engine = |owner: &str| {
        Arc::new(TrackingEngine::new(
            w.store.clone(),
            w.client.clone(),
            w.plenty_client.clone(),
            HashMap::from([(w.shop_id.clone(), tracking_config(&w, &[(PROFILE, USPS)], None))]),
            owner,
        ))
    };
    let (a, b) = (engine("worker-a"), engine("worker-b"));
    let shop = w.shop_id.clone();
    let (ra, rb) = tokio::join!(
        a.run_pass(&shop, now(), 3600, 60),
        b.run_pass(&shop, now(), 3600, 60)
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.shipped + rb.shipped, 8, "{ra:?} {rb:?}");
    assert_eq!(
        w.calls(MARK_SHIPPED).await,
        8,
        "one call per package: {ra:?} {rb:?}"
    );
    // whatever one of them skipped (busy lease) the next pass finds shipped
    let again = a.run_pass(&shop, now(), 3600, 3600).await.unwrap();
    assert_eq!(
        (again.shipped, again.skipped_already_shipped),
        (0, 8),
        "{again:?}"
    );
    assert_eq!(w.calls(MARK_SHIPPED).await, 8);
    for id in &ids {
        assert_eq!(w.tiktok_order(id).await["status"], "IN_TRANSIT");
    }
}
