//! Order import end to end: the TikTok sandbox and the PlentyONE stand-in, both in-process; signed
//! webhooks (duplicated and shuffled) received, verified and stored in a SQLite inbox; the inbox
//! processor with the order importer turns them into exactly one PlentyONE order per TikTok order.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tts_mapping::order::OrderMappingConfig;
use tts_plenty::api::orders::OrderQuery;
use tts_store::{OrderMappingQuery, Store, SyncStatus};
use tts_sync::inbox::{InboxProcessor, InboxSettings};
use tts_sync::orders::{OrderEvents, OrderImporter};

async fn control(http: &reqwest::Client, base: &str, method: &str, path: &str, body: Value) -> Value {
    let req = http
        .request(method.parse().unwrap(), format!("{base}/_sandbox{path}"))
        .json(&body);
    let res = req.send().await.unwrap();
    assert!(res.status().is_success(), "{method} {path}: {}", res.status());
    res.json().await.unwrap()
}

struct World {
    /// Asserts at the end that the TikTok stand-in saw nothing outside the API contract.
    _contract: common::ContractGuard,
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    tiktok: tts_sandbox::Running,
    _plenty: tts_plenty_sandbox::Running,
    http: reqwest::Client,
    shop_id: String,
    plenty_client: tts_plenty::client::Client,
    importer: Arc<OrderImporter>,
}

/// Both stand-ins in-process, a SQLite store, the clients and the importer. With `webhooks`, the
/// sandbox delivers its webhooks (twice each, shuffled) to a receiver that stores them in the inbox.
async fn world(webhooks: bool) -> World {
    let (dir, store) = common::temp_store().await;
    let tiktok = common::tiktok_sandbox(&store, webhooks, tts_sandbox::Config::default()).await;
    // Basic plan (40 writes, 80 reads per window) with a 1 s window instead of a minute: the same rules, fast.
    let plenty_config = tts_plenty_sandbox::Config {
        window: Duration::from_secs(1),
        ..Default::default()
    };
    let (plenty_user, plenty_password) = (plenty_config.username.clone(), plenty_config.password.clone());
    let plenty = tts_plenty_sandbox::start(plenty_config).await.unwrap();

    let http = reqwest::Client::new();
    let info = control(&http, &tiktok.base_url, "GET", "/info", json!({})).await;
    let shop = &info["shops"][0];
    let shop_id = shop["id"].as_str().unwrap().to_string();
    let tokens = control(&http, &tiktok.base_url, "POST", "/tokens", json!({})).await;

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
        ..Default::default()
    };
    let importer = Arc::new(OrderImporter::new(
        store.clone(),
        client.clone(),
        plenty_client.clone(),
        HashMap::from([(shop_id.clone(), config)]),
        "test-worker",
    ));

    World {
        _contract: common::ContractGuard::new(&tiktok),
        _dir: dir,
        store,
        tiktok,
        _plenty: plenty,
        http,
        shop_id,
        plenty_client,
        importer,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhook_driven_import_creates_each_order_once_and_follows_cancellations() {
    let World {
        store,
        tiktok,
        http,
        shop_id,
        plenty_client,
        importer,
        _dir,
        _plenty,
        _contract,
    } = world(true).await;
    // 30 paid orders; webhooks arrive twice each and out of order
    let created = control(
        &http,
        &tiktok.base_url,
        "POST",
        &format!("/shops/{shop_id}/orders"),
        json!({"count": 30, "status": "AWAITING_SHIPMENT"}),
    )
    .await;
    let order_ids: Vec<String> = created["order_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|owner| {
            let processor = InboxProcessor::new(
                store.clone(),
                Arc::new(OrderEvents(importer.clone())),
                InboxSettings {
                    owner: owner.into(),
                    idle_poll: Duration::from_millis(20),
                    retry_base: Duration::from_millis(50),
                    ..Default::default()
                },
            );
            let stopped = stopped.clone();
            tokio::spawn(async move { processor.run(stopped).await })
        })
        .collect();

    let synced = |store: Arc<dyn Store>, shop_id: String| async move {
        store
            .list_order_mappings(&OrderMappingQuery {
                shop_id,
                status: Some(SyncStatus::Synced),
                after_tiktok_order_id: None,
                limit: 1000,
            })
            .await
            .unwrap()
    };
    let mut mappings = Vec::new();
    for _ in 0..300 {
        mappings = synced(store.clone(), shop_id.clone()).await;
        if mappings.len() == order_ids.len() && store.count_inbox_pending().await.unwrap() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if mappings.len() != 30 {
        let all = store
            .list_order_mappings(&OrderMappingQuery {
                shop_id: shop_id.clone(),
                status: None,
                after_tiktok_order_id: None,
                limit: 1000,
            })
            .await
            .unwrap();
        let failing = store
            .list_inbox(&tts_store::InboxQuery {
                shop_id: None,
                state: tts_store::InboxState::Failing,
                after_notification_id: None,
                limit: 5,
            })
            .await
            .unwrap();
        let given_up = store
            .list_inbox(&tts_store::InboxQuery {
                shop_id: None,
                state: tts_store::InboxState::GivenUp,
                after_notification_id: None,
                limit: 5,
            })
            .await
            .unwrap();
        panic!(
            "{} of 30 imported; mappings: {:?}; failing: {:?}; given up: {:?}",
            mappings.len(),
            all.iter()
                .map(|m| (m.sync_status, m.sync_error.clone()))
                .take(5)
                .collect::<Vec<_>>(),
            failing.iter().map(|m| m.last_error.clone()).collect::<Vec<_>>(),
            given_up.iter().map(|m| m.last_error.clone()).collect::<Vec<_>>()
        );
    }
    let plenty_ids: HashSet<i64> = mappings.iter().map(|m| m.plenty_order_id.unwrap()).collect();
    assert_eq!(plenty_ids.len(), 30, "one PlentyONE order per TikTok order");

    // PlentyONE holds exactly one order per external id
    for id in &order_ids {
        let external = format!("{shop_id}_{id}");
        let found = plenty_client
            .find_order_by_external_id(&external)
            .await
            .unwrap()
            .expect("created");
        let mapped = mappings
            .iter()
            .find(|m| &m.tiktok_order_id == id)
            .unwrap()
            .plenty_order_id;
        assert_eq!(Some(found.id), mapped, "{external}");
        let query = OrderQuery {
            external_order_id: Some(external.clone()),
            ..Default::default()
        };
        let copies: Vec<_> = plenty_client.orders(&query).unwrap().collect().await;
        assert_eq!(copies.len(), 1, "{external} exists once in PlentyONE");
    }

    // a buyer cancels three orders: their PlentyONE orders follow
    for id in &order_ids[..3] {
        control(
            &http,
            &tiktok.base_url,
            "POST",
            &format!("/orders/{id}/advance"),
            json!({"status": "CANCELLED"}),
        )
        .await;
    }
    for _ in 0..300 {
        let cancelled = synced(store.clone(), shop_id.clone())
            .await
            .into_iter()
            .filter(|m| m.tiktok_status.as_deref() == Some("CANCELLED"))
            .count();
        if cancelled == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for id in &order_ids[..3] {
        let m = store.get_order_mapping(&shop_id, id).await.unwrap().unwrap();
        assert_eq!(m.tiktok_status.as_deref(), Some("CANCELLED"));
        let order = plenty_client.order(m.plenty_order_id.unwrap()).await.unwrap();
        assert!(
            order.status_id >= rust_decimal::Decimal::from(8)
                && order.status_id < rust_decimal::Decimal::from(9),
            "{}",
            order.status_id
        );
    }
    stop.send(true).unwrap();
    for w in workers {
        w.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reconciliation_imports_without_webhooks_resumes_from_its_cursor_and_never_duplicates() {
    let World {
        store,
        tiktok,
        http,
        shop_id,
        plenty_client,
        importer,
        _dir,
        _plenty,
        _contract,
    } = world(false).await;
    let created = control(
        &http,
        &tiktok.base_url,
        "POST",
        &format!("/shops/{shop_id}/orders"),
        json!({"count": 12, "status": "AWAITING_SHIPMENT"}),
    )
    .await;
    let order_ids: Vec<String> = created["order_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
            + 1
    };

    let first = importer.reconcile(&shop_id, now(), 3600, 600, 60).await.unwrap();
    assert_eq!((first.created, first.failed), (12, 0), "{first:?}");
    let cursor = store
        .get_cursor(&shop_id, tts_sync::orders::ORDERS_CURSOR)
        .await
        .unwrap()
        .unwrap();
    assert!(cursor.position.parse::<i64>().unwrap() >= now() - 1);

    // a second pass sees the overlap again and changes nothing
    let second = importer.reconcile(&shop_id, now(), 3600, 600, 60).await.unwrap();
    assert_eq!((second.created, second.updated), (0, 0), "{second:?}");
    assert_eq!(second.unchanged, second.seen);

    // the platform ships one order; the next pass moves its PlentyONE status along
    control(
        &http,
        &tiktok.base_url,
        "POST",
        &format!("/orders/{}/advance", order_ids[0]),
        json!({"status": "IN_TRANSIT"}),
    )
    .await;
    // (most likely the same second as the import: the same update_time with a new status still counts)
    let third = importer.reconcile(&shop_id, now(), 3600, 600, 60).await.unwrap();
    assert_eq!(third.updated, 1, "{third:?}");
    let m = store
        .get_order_mapping(&shop_id, &order_ids[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.tiktok_status.as_deref(), Some("IN_TRANSIT"));
    let order = plenty_client.order(m.plenty_order_id.unwrap()).await.unwrap();
    assert_eq!(
        order.status_id,
        rust_decimal::Decimal::from(7),
        "IN_TRANSIT → 7 outgoing items booked"
    );
    for id in &order_ids {
        let query = OrderQuery {
            external_order_id: Some(format!("{shop_id}_{id}")),
            ..Default::default()
        };
        assert_eq!(
            plenty_client
                .orders(&query)
                .unwrap()
                .collect::<Vec<_>>()
                .await
                .len(),
            1
        );
    }
}
