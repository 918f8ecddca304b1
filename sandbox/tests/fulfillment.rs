//! Packages: platform ship, batch ship, documents, shipping-info update, package search; logistics data.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn package_flows() {
    let sb = start().await;
    sb.control("PUT", "/rate_limit", json!({ "per_second": null }))
        .await;
    let ids = sb.control("POST", "/seed", json!({ "random_orders": [{ "shop_id": LOCAL_SHOP, "count": 2, "status": "AWAITING_SHIPMENT" }] })).await;
    let (a, b) = (
        ids["orders"][0].as_str().unwrap().to_string(),
        ids["orders"][1].as_str().unwrap().to_string(),
    );
    let pk = sb
        .ok(
            "POST",
            "/fulfillment/202309/packages/search",
            &[("page_size", "50")],
            Some(json!({ "package_status": "PROCESSING" })),
        )
        .await;
    assert_eq!(pk["total_count"], 2);
    let pkg_of = |o: &str| {
        pk["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["orders"][0]["id"] == o)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (pa, pb) = (pkg_of(&a), pkg_of(&b));

    // No label before shipping.
    let r = sb
        .call(
            "GET",
            &format!("/fulfillment/202309/packages/{pa}/shipping_documents"),
            &[("shop_cipher", LOCAL_CIPHER), ("document_type", "SHIPPING_LABEL")],
            None,
        )
        .await;
    assert_ne!(r.code(), 0);

    // Platform pickup → AWAITING_COLLECTION; self shipment in a batch → IN_TRANSIT.
    sb.ok(
        "POST",
        &format!("/fulfillment/202309/packages/{pa}/ship"),
        &[],
        Some(json!({ "handover_method": "PICKUP" })),
    )
    .await;
    let batch = sb
        .ok("POST", "/fulfillment/202309/packages/ship", &[], Some(json!({ "packages": [
            { "id": pb, "self_shipment": { "tracking_number": "TRK1", "shipping_provider_id": "7117858858072016686" } },
            { "id": "999" },
        ] })))
        .await;
    assert_eq!(batch["errors"].as_array().unwrap().len(), 1, "{batch}");
    let o = sb
        .ok(
            "GET",
            "/order/202309/orders",
            &[("ids", &format!("{a},{b}"))],
            None,
        )
        .await;
    let status = |id: &str| {
        o["orders"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == id)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status(&a), "AWAITING_COLLECTION");
    assert_eq!(status(&b), "IN_TRANSIT");
    let doc = sb
        .ok(
            "GET",
            &format!("/fulfillment/202309/packages/{pa}/shipping_documents"),
            &[("document_type", "SHIPPING_LABEL")],
            None,
        )
        .await;
    assert!(doc["doc_url"].as_str().unwrap().ends_with(".pdf"));

    // Fix the tracking number through the order.
    sb.ok(
        "POST",
        &format!("/fulfillment/202309/orders/{b}/shipping_info/update"),
        &[],
        Some(json!({ "tracking_number": "TRK2", "shipping_provider_id": "7129736205220267778" })),
    )
    .await;
    let p = sb
        .ok("GET", &format!("/fulfillment/202309/packages/{pb}"), &[], None)
        .await;
    assert_eq!(
        (
            p["tracking_number"].as_str().unwrap(),
            p["shipping_provider_name"].as_str().unwrap()
        ),
        ("TRK2", "FedEx")
    );

    // Shipping twice is refused.
    let r = sb
        .call(
            "POST",
            &format!("/fulfillment/202309/packages/{pa}/ship"),
            &[("shop_cipher", LOCAL_CIPHER)],
            Some(json!({})),
        )
        .await;
    assert_ne!(r.code(), 0);
}

#[tokio::test]
async fn partial_shipping_and_logistics_reference_data() {
    let sb = start().await;
    let id = sb
        .control(
            "POST",
            "/seed",
            json!({ "orders": [{ "shop_id": LOCAL_SHOP, "status": "AWAITING_SHIPMENT", "line_items": [
            { "sku_id": "1", "seller_sku": "A", "product_id": "10", "sale_price": "5.00" },
            { "sku_id": "2", "seller_sku": "B", "product_id": "10", "sale_price": "7.50" } ] }] }),
        )
        .await["orders"][0]
        .as_str()
        .unwrap()
        .to_string();
    let o = sb.ok("GET", "/order/202309/orders", &[("ids", &id)], None).await;
    assert_eq!(o["orders"][0]["payment"]["sub_total"], "12.50");
    let first = o["orders"][0]["line_items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    sb.ok("POST", &format!("/fulfillment/202309/orders/{id}/packages"), &[],
        Some(json!({ "tracking_number": "T1", "shipping_provider_id": "7117858858072016686", "order_line_item_ids": [first] }))).await;
    let o = sb.ok("GET", "/order/202309/orders", &[("ids", &id)], None).await;
    assert_eq!(o["orders"][0]["status"], "PARTIALLY_SHIPPING");
    assert_eq!(o["orders"][0]["packages"].as_array().unwrap().len(), 2);
    sb.ok(
        "POST",
        &format!("/fulfillment/202309/orders/{id}/packages"),
        &[],
        Some(json!({ "tracking_number": "T2", "shipping_provider_id": "7117858858072016686" })),
    )
    .await;
    let o = sb.ok("GET", "/order/202309/orders", &[("ids", &id)], None).await;
    assert_eq!(o["orders"][0]["status"], "IN_TRANSIT");

    let wh = sb.ok("GET", "/logistics/202309/warehouses", &[], None).await;
    let wid = wh["warehouses"][0]["id"].as_str().unwrap().to_string();
    let d = sb
        .ok(
            "GET",
            &format!("/logistics/202309/warehouses/{wid}/delivery_options"),
            &[],
            None,
        )
        .await;
    let did = d["delivery_options"][0]["id"].as_str().unwrap().to_string();
    let p = sb
        .ok(
            "GET",
            &format!("/logistics/202309/delivery_options/{did}/shipping_providers"),
            &[],
            None,
        )
        .await;
    assert!(p["shipping_providers"].as_array().unwrap().len() >= 3);
    let r = sb
        .call(
            "GET",
            "/logistics/202309/global_warehouses",
            &[("shop_cipher", LOCAL_CIPHER)],
            None,
        )
        .await;
    assert_eq!(r.code(), 36009004, "global_* endpoints do not take shop_cipher");
}
