//! Cancellations and returns; `idempotency_key` replays the first result without a second effect.

mod common;

use common::*;
use serde_json::json;

async fn order_in(sb: &Sb, status: &str) -> String {
    sb.control(
        "POST",
        "/seed",
        json!({ "orders": [{ "shop_id": LOCAL_SHOP, "status": status }] }),
    )
    .await["orders"][0]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn seller_cancel_is_idempotent_per_key() {
    let sb = start().await;
    let id = order_in(&sb, "AWAITING_SHIPMENT").await;
    let body = json!({ "order_id": id, "cancel_reason": "Out of stock" });
    let a = sb
        .ok(
            "POST",
            "/return_refund/202309/cancellations",
            &[("idempotency_key", "k-1")],
            Some(body.clone()),
        )
        .await;
    let b = sb
        .ok(
            "POST",
            "/return_refund/202309/cancellations",
            &[("idempotency_key", "k-1")],
            Some(body.clone()),
        )
        .await;
    assert_eq!(a, b, "same key → same result");
    let list = sb
        .ok(
            "POST",
            "/return_refund/202309/cancellations/search",
            &[],
            Some(json!({ "order_ids": [id] })),
        )
        .await;
    assert_eq!(list["total_count"], 1, "no second cancellation");
    // A new key is a new request: the order is already cancelled now.
    let r = sb
        .call(
            "POST",
            "/return_refund/202309/cancellations",
            &[("shop_cipher", LOCAL_CIPHER), ("idempotency_key", "k-2")],
            Some(body),
        )
        .await;
    assert_ne!(r.code(), 0);
    let o = sb.ok("GET", "/order/202309/orders", &[("ids", &id)], None).await;
    assert_eq!(o["orders"][0]["status"], "CANCELLED");
}

#[tokio::test]
async fn buyer_cancellation_request_approve_and_reject() {
    let sb = start().await;
    let rx = receiver().await;
    sb.control("PUT", "/webhooks", json!({ "default_url": rx.url }))
        .await;
    let id = order_in(&sb, "AWAITING_SHIPMENT").await;
    let c = sb
        .control(
            "POST",
            &format!("/orders/{id}/buyer_cancel"),
            json!({ "reason": "Ordered by mistake" }),
        )
        .await;
    assert_eq!(c["cancel_status"], "CANCELLATION_REQUEST_PENDING");
    let cid = c["cancel_id"].as_str().unwrap().to_string();
    let path = format!("/return_refund/202309/cancellations/{cid}/approve");
    sb.ok("POST", &path, &[("idempotency_key", "a1")], None).await;
    // Replay with the same key succeeds without effect; without a key the second approve is refused.
    sb.ok("POST", &path, &[("idempotency_key", "a1")], None).await;
    let r = sb
        .call("POST", &path, &[("shop_cipher", LOCAL_CIPHER)], None)
        .await;
    assert_ne!(r.code(), 0);
    let o = sb.ok("GET", "/order/202309/orders", &[("ids", &id)], None).await;
    assert_eq!(o["orders"][0]["status"], "CANCELLED");
    let got = rx
        .wait_for(5, "cancellation webhooks", |b| {
            b.iter().filter(|x| x["type"] == 11).count() >= 2
        })
        .await;
    let c11: Vec<_> = got
        .iter()
        .filter(|x| x["type"] == 11)
        .map(|x| x["data"]["cancel_status"].clone())
        .collect();
    assert!(c11.contains(&json!("CANCELLATION_REQUEST_COMPLETE")), "{c11:?}");

    let id2 = order_in(&sb, "AWAITING_SHIPMENT").await;
    let c = sb
        .control("POST", &format!("/orders/{id2}/buyer_cancel"), json!({}))
        .await;
    let cid = c["cancel_id"].as_str().unwrap();
    sb.ok(
        "POST",
        &format!("/return_refund/202309/cancellations/{cid}/reject"),
        &[],
        Some(json!({ "reject_reason": "seller_reject_apply_product_has_been_packed" })),
    )
    .await;
    let o = sb.ok("GET", "/order/202309/orders", &[("ids", &id2)], None).await;
    assert_eq!(o["orders"][0]["status"], "AWAITING_SHIPMENT");
}

#[tokio::test]
async fn return_and_refund_flow() {
    let sb = start().await;
    let id = order_in(&sb, "DELIVERED").await;
    let r = sb
        .control(
            "POST",
            &format!("/orders/{id}/buyer_return"),
            json!({ "return_type": "RETURN_AND_REFUND" }),
        )
        .await;
    let rid = r["return_id"].as_str().unwrap().to_string();
    let approve = format!("/return_refund/202309/returns/{rid}/approve");
    sb.ok(
        "POST",
        &approve,
        &[("idempotency_key", "r1")],
        Some(json!({ "decision": "APPROVE_RETURN" })),
    )
    .await;
    sb.ok(
        "POST",
        &approve,
        &[("idempotency_key", "r1")],
        Some(json!({ "decision": "APPROVE_RETURN" })),
    )
    .await;
    let s = sb
        .ok(
            "POST",
            "/return_refund/202309/returns/search",
            &[],
            Some(json!({ "return_ids": [rid] })),
        )
        .await;
    assert_eq!(s["return_orders"][0]["return_status"], "AWAITING_BUYER_SHIP");
    sb.control("POST", &format!("/returns/{rid}/buyer_ship"), json!({}))
        .await;
    sb.ok(
        "POST",
        &approve,
        &[],
        Some(json!({ "decision": "APPROVE_RECEIVED_PACKAGE" })),
    )
    .await;
    let s = sb
        .ok(
            "POST",
            "/return_refund/202309/returns/search",
            &[],
            Some(json!({ "order_ids": [id] })),
        )
        .await;
    assert_eq!(
        s["return_orders"][0]["return_status"],
        "RETURN_OR_REFUND_REQUEST_COMPLETE"
    );
    // Decisions are not part of a return's search item (SDK `SearchReturnsResponseData`): its records are.
    let return_id = s["return_orders"][0]["return_id"].as_str().unwrap().to_string();
    let records = sb
        .ok(
            "GET",
            &format!("/return_refund/202309/returns/{return_id}/records"),
            &[],
            None,
        )
        .await;
    let decisions = records["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["role"] == "SELLER")
        .count();
    assert_eq!(decisions, 2, "the replay added no decision");
}
