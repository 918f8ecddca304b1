//! An order driven through its lifecycle emits correctly signed webhooks; retries and duplicates.

mod common;

use common::*;
use serde_json::{Value, json};

fn statuses(bodies: &[Value], order_id: &str) -> Vec<String> {
    bodies
        .iter()
        .filter(|b| b["type"] == 1 && b["data"]["order_id"] == order_id)
        .map(|b| b["data"]["order_status"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn order_lifecycle_emits_signed_webhooks() {
    let sb = start().await;
    let rx = receiver().await;
    // Subscribe through the real events API (signed), for order and package events.
    for t in ["ORDER_STATUS_CHANGE", "PACKAGE_UPDATE"] {
        sb.ok(
            "PUT",
            "/event/202309/webhooks",
            &[],
            Some(json!({ "address": rx.url, "event_type": t })),
        )
        .await;
    }
    let subs = sb.ok("GET", "/event/202309/webhooks", &[], None).await;
    assert_eq!(subs["total_count"], 2);

    let id = sb
        .control(
            "POST",
            &format!("/shops/{LOCAL_SHOP}/orders"),
            json!({ "count": 1 }),
        )
        .await["order_ids"][0]
        .as_str()
        .unwrap()
        .to_string();
    // UNPAID → ON_HOLD (US) → AWAITING_SHIPMENT.
    assert_eq!(
        sb.control("POST", &format!("/orders/{id}/advance"), json!({}))
            .await["status"],
        "ON_HOLD"
    );
    assert_eq!(
        sb.control("POST", &format!("/orders/{id}/advance"), json!({}))
            .await["status"],
        "AWAITING_SHIPMENT"
    );
    // The seller ships with its own carrier through the API → IN_TRANSIT.
    let d = sb
        .ok("POST", &format!("/fulfillment/202309/orders/{id}/packages"), &[],
            Some(json!({ "tracking_number": "1Z999AA10123456784", "shipping_provider_id": "7117859084333745966" })))
        .await;
    let pkg = d["package_id"].as_str().unwrap().to_string();
    let p = sb
        .ok("GET", &format!("/fulfillment/202309/packages/{pkg}"), &[], None)
        .await;
    assert_eq!(p["tracking_number"], "1Z999AA10123456784");
    assert_eq!(p["shipping_provider_name"], "UPS");
    assert_eq!(
        sb.control("POST", &format!("/orders/{id}/advance"), json!({}))
            .await["status"],
        "DELIVERED"
    );
    assert_eq!(
        sb.control("POST", &format!("/orders/{id}/advance"), json!({}))
            .await["status"],
        "COMPLETED"
    );
    let tracking = sb
        .ok(
            "GET",
            &format!("/fulfillment/202309/orders/{id}/tracking"),
            &[],
            None,
        )
        .await;
    assert!(tracking["tracking"].as_array().unwrap().len() >= 5);

    let want = [
        "UNPAID",
        "ON_HOLD",
        "AWAITING_SHIPMENT",
        "IN_TRANSIT",
        "DELIVERED",
        "COMPLETED",
    ];
    let bodies = rx
        .wait_for(5, "all status webhooks", |b| statuses(b, &id).len() >= want.len())
        .await;
    let mut got = statuses(&bodies, &id);
    // Deliveries are concurrent: compare as a set, then check the per-event fields.
    got.sort();
    let mut w: Vec<String> = want.iter().map(|s| s.to_string()).collect();
    w.sort();
    assert_eq!(got, w);
    assert!(bodies.iter().any(|b| b["type"] == 4), "package webhooks too");
    let on_hold = bodies
        .iter()
        .find(|b| b["data"]["order_status"] == "ON_HOLD")
        .unwrap();
    assert_eq!(on_hold["data"]["is_on_hold_order"], true);
    assert_eq!(on_hold["shop_id"], LOCAL_SHOP);

    // Every delivery is signed: Authorization = hex HMAC-SHA256(app_secret, app_key + raw body),
    // and the raw body starts with the documented key order.
    for (auth, raw) in rx.got.lock().unwrap().iter() {
        assert_eq!(auth, &webhook_hmac(&sb.app_key, &sb.secret, raw));
        assert_ne!(auth, &webhook_hmac(&sb.app_key, "wrong", raw));
        assert!(raw.starts_with(b"{\"type\":"), "{}", String::from_utf8_lossy(raw));
        let v: Value = serde_json::from_slice(raw).unwrap();
        assert!(v["tts_notification_id"].is_string() && v["timestamp"].is_i64());
    }
    let log = sb.control("GET", "/webhooks/deliveries", json!(null)).await;
    assert!(
        log["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["ok"] == true)
    );
}

#[tokio::test]
async fn failed_deliveries_are_retried_on_the_compressed_schedule_then_given_up() {
    let sb = start().await;
    let rx = receiver().await;
    *rx.status.lock().unwrap() = 500;
    // 2 min → 12 ms, 30 min → 180 ms, 3 h → 1.08 s, 12 h → 4.32 s: scale 10 000.
    sb.control(
        "PUT",
        "/webhooks",
        json!({ "default_url": rx.url, "time_scale": 10000.0 }),
    )
    .await;
    sb.control(
        "POST",
        &format!("/shops/{LOCAL_SHOP}/orders"),
        json!({ "count": 1 }),
    )
    .await;
    let got = rx.wait_for(10, "5 attempts", |b| b.len() >= 5).await;
    assert_eq!(got.len(), 5);
    let ids: std::collections::HashSet<_> = got.iter().map(|b| b["tts_notification_id"].clone()).collect();
    assert_eq!(ids.len(), 1, "retries reuse the notification id");
    let log = sb.control("GET", "/webhooks/deliveries", json!(null)).await;
    let attempts: Vec<u64> = log["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["attempt"].as_u64().unwrap())
        .collect();
    assert_eq!(attempts, vec![1, 2, 3, 4, 5]);
    assert_eq!(log["deliveries"][4]["gave_up"], true);
    // Gaps grow like the schedule.
    let t: Vec<i64> = log["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["sent_at_ms"].as_i64().unwrap())
        .collect();
    assert!(t[4] - t[3] > t[2] - t[1], "{t:?}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(rx.bodies().len(), 5, "no sixth attempt");
}

#[tokio::test]
async fn recovers_after_a_failure_and_duplicates_can_be_requested() {
    let sb = start().await;
    let rx = receiver().await;
    *rx.status.lock().unwrap() = 503;
    // 2 min → 120 ms, 30 min → 1.8 s.
    sb.control(
        "PUT",
        "/webhooks",
        json!({ "default_url": rx.url, "time_scale": 1000.0 }),
    )
    .await;
    sb.control(
        "POST",
        &format!("/shops/{LOCAL_SHOP}/orders"),
        json!({ "count": 1 }),
    )
    .await;
    rx.wait_for(5, "first attempt", |b| !b.is_empty()).await;
    *rx.status.lock().unwrap() = 200;
    rx.wait_for(5, "retry", |b| b.len() >= 2).await;
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    assert_eq!(rx.bodies().len(), 2, "no retry after a 200");

    let rx2 = receiver().await;
    sb.control(
        "PUT",
        "/webhooks",
        json!({ "default_url": rx2.url, "duplicates": true }),
    )
    .await;
    sb.control(
        "POST",
        &format!("/shops/{LOCAL_SHOP}/orders"),
        json!({ "count": 1 }),
    )
    .await;
    let got = rx2.wait_for(5, "duplicate", |b| b.len() >= 2).await;
    assert_eq!(got[0], got[1], "same body, same notification id");
}

#[tokio::test]
async fn shuffle_reorders_deliveries() {
    let sb = start().await;
    let rx = receiver().await;
    sb.control(
        "PUT",
        "/webhooks",
        json!({ "default_url": rx.url, "shuffle_ms": 300 }),
    )
    .await;
    let ids = sb
        .control(
            "POST",
            &format!("/shops/{LOCAL_SHOP}/orders"),
            json!({ "count": 12 }),
        )
        .await["order_ids"]
        .clone();
    let created: Vec<String> = ids
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let got = rx.wait_for(5, "12 deliveries", |b| b.len() >= 12).await;
    let arrived: Vec<String> = got
        .iter()
        .map(|b| b["data"]["order_id"].as_str().unwrap().to_string())
        .collect();
    let mut sorted = arrived.clone();
    sorted.sort();
    let mut c = created.clone();
    c.sort();
    assert_eq!(sorted, c, "every event arrives once");
    // 12 independent random delays in 0..300 ms: arriving in creation order has odds of 1/12!.
    assert_ne!(arrived, created, "deliveries were not reordered");
}

#[tokio::test]
async fn on_hold_releases_itself_when_configured() {
    let sb = start().await;
    let rx = receiver().await;
    sb.control("PUT", "/webhooks", json!({ "default_url": rx.url }))
        .await;
    sb.control("PUT", "/settings", json!({ "on_hold_ms": 150 })).await;
    let id = sb
        .control(
            "POST",
            &format!("/shops/{LOCAL_SHOP}/orders"),
            json!({ "count": 1 }),
        )
        .await["order_ids"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        sb.control("POST", &format!("/orders/{id}/advance"), json!({}))
            .await["status"],
        "ON_HOLD"
    );
    let got = rx
        .wait_for(5, "release", |b| {
            statuses(b, &id).contains(&"AWAITING_SHIPMENT".to_string())
        })
        .await;
    assert!(statuses(&got, &id).contains(&"ON_HOLD".to_string()));
    assert_eq!(
        sb.control("GET", &format!("/orders/{id}"), json!(null)).await["status"],
        "AWAITING_SHIPMENT"
    );
}
