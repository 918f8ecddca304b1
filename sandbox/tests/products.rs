//! Products: upload, validation, audit (PENDING → ACTIVATE / FAILED), search, edit, inventory.

mod common;

use common::*;
use serde_json::{Value, json};

fn png(w: u32, h: u32) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    b.extend_from_slice(&w.to_be_bytes());
    b.extend_from_slice(&h.to_be_bytes());
    b.extend_from_slice(&[8, 6, 0, 0, 0]);
    b
}

async fn upload(sb: &Sb, w: u32, h: u32) -> common::Resp {
    let path = "/product/202309/images/upload";
    let ts = now().to_string();
    let q = [("app_key", sb.app_key.as_str()), ("timestamp", ts.as_str())];
    let sig = sign(&sb.secret, path, &q, "", true);
    let mut body = b"--XBOUND\r\nContent-Disposition: form-data; name=\"data\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n".to_vec();
    body.extend_from_slice(&png(w, h));
    body.extend_from_slice(b"\r\n--XBOUND\r\nContent-Disposition: form-data; name=\"use_case\"\r\n\r\nMAIN_IMAGE\r\n--XBOUND--\r\n");
    let r = sb
        .http
        .post(format!("{}{path}", sb.url()))
        .query(&[q[0], q[1], ("sign", &sig)])
        .header("x-tts-access-token", &sb.token)
        .header("content-type", "multipart/form-data; boundary=XBOUND")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    common::Resp {
        status,
        json: r.json().await.unwrap(),
        headers,
    }
}

fn product(title: &str, uri: &str, wh: &str) -> Value {
    json!({
        "title": title,
        "description": "<p>A pan</p>",
        "category_id": "600031",
        "main_images": [{ "uri": uri }],
        "product_attributes": [{ "id": "100198", "values": [{ "id": "3003" }] }],
        "package_weight": { "value": "1.2", "unit": "KILOGRAM" },
        "skus": [
            { "seller_sku": "PAN-24", "price": { "amount": "29.99", "currency": "USD" }, "inventory": [{ "warehouse_id": wh, "quantity": 10 }] },
            { "seller_sku": "PAN-28", "price": { "amount": "34.99", "currency": "USD" }, "inventory": [{ "warehouse_id": wh, "quantity": 5 }] }
        ]
    })
}

#[tokio::test]
async fn create_audit_edit_search_and_inventory() {
    let sb = start().await;
    sb.control("PUT", "/settings", json!({ "audit_delay_ms": 100 }))
        .await;
    let rx = receiver().await;
    sb.control("PUT", "/webhooks", json!({ "default_url": rx.url }))
        .await;
    let small = upload(&sb, 100, 100).await;
    assert_ne!(small.code(), 0, "main images must be ≥ 300 px: {}", small.json);
    let img = upload(&sb, 800, 800).await;
    assert_eq!(img.code(), 0, "{}", img.json);
    assert_eq!(img.json["data"]["width"], 800);
    let uri = img.json["data"]["uri"].as_str().unwrap().to_string();
    let wh = sb.ok("GET", "/logistics/202309/warehouses", &[], None).await["warehouses"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let attrs = sb
        .ok("GET", "/product/202309/categories/600031/attributes", &[], None)
        .await;
    assert!(
        attrs["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["is_requried"] == true)
    );

    let created = sb
        .ok(
            "POST",
            "/product/202309/products",
            &[],
            Some(product("Stainless steel frying pan", &uri, &wh)),
        )
        .await;
    let pid = created["product_id"].as_str().unwrap().to_string();
    assert_eq!(created["skus"].as_array().unwrap().len(), 2);
    let d = sb
        .ok("GET", &format!("/product/202309/products/{pid}"), &[], None)
        .await;
    assert_eq!(d["status"], "PENDING");
    rx.wait_for(5, "audit result", |b| {
        b.iter()
            .any(|x| x["type"] == 37 && x["data"]["product_id"] == pid.as_str())
    })
    .await;
    assert_eq!(
        sb.ok("GET", &format!("/product/202309/products/{pid}"), &[], None)
            .await["status"],
        "ACTIVATE"
    );

    let bad = sb
        .ok(
            "POST",
            "/product/202309/products",
            &[],
            Some(product("REJECT me pan", &uri, &wh)),
        )
        .await;
    let bad_id = bad["product_id"].as_str().unwrap().to_string();
    rx.wait_for(5, "rejection", |b| {
        b.iter()
            .any(|x| x["type"] == 37 && x["data"]["product_id"] == bad_id.as_str())
    })
    .await;
    let d = sb
        .ok("GET", &format!("/product/202309/products/{bad_id}"), &[], None)
        .await;
    assert_eq!(d["status"], "FAILED");
    assert!(!d["audit_failed_reasons"].as_array().unwrap().is_empty());

    // Search by status and seller_sku with pagination.
    let s = sb
        .ok(
            "POST",
            "/product/202309/products/search",
            &[("page_size", "1")],
            Some(json!({ "status": "ACTIVATE" })),
        )
        .await;
    assert_eq!(s["total_count"], 1);
    let s = sb
        .ok(
            "POST",
            "/product/202309/products/search",
            &[("page_size", "1")],
            Some(json!({ "seller_skus": ["PAN-24"] })),
        )
        .await;
    assert_eq!(s["total_count"], 2);
    assert!(!s["next_page_token"].as_str().unwrap().is_empty());
    let r = sb
        .call(
            "POST",
            "/product/202309/products/search",
            &[("shop_cipher", LOCAL_CIPHER)],
            Some(json!({})),
        )
        .await;
    assert_eq!(r.code(), 36009004, "page_size is required here");

    // Inventory and price.
    let sku = created["skus"][0]["id"].as_str().unwrap().to_string();
    sb.ok(
        "POST",
        &format!("/product/202309/products/{pid}/inventory/update"),
        &[],
        Some(json!({ "skus": [{ "id": sku, "inventory": [{ "warehouse_id": wh, "quantity": 77 }] }] })),
    )
    .await;
    let inv = sb
        .ok(
            "POST",
            "/product/202309/inventory/search",
            &[],
            Some(json!({ "sku_ids": [sku] })),
        )
        .await;
    assert_eq!(inv["inventory"][0]["skus"][0]["total_available_quantity"], 77);
    sb.ok(
        "POST",
        &format!("/product/202309/products/{pid}/prices/update"),
        &[],
        Some(json!({ "skus": [{ "id": sku, "price": { "amount": "19.99", "currency": "USD" } }] })),
    )
    .await;

    // Partial edit keeps the rest and restarts the audit; SKU ids are stable.
    let e = sb
        .ok(
            "POST",
            &format!("/product/202309/products/{pid}/partial_edit"),
            &[],
            Some(json!({ "title": "Frying pan, 24 cm" })),
        )
        .await;
    assert_eq!(e["skus"][0]["id"], sku);
    let d = sb
        .ok("GET", &format!("/product/202309/products/{pid}"), &[], None)
        .await;
    assert_eq!(
        (d["status"].as_str().unwrap(), d["title"].as_str().unwrap()),
        ("PENDING", "Frying pan, 24 cm")
    );
    assert_eq!(d["skus"][0]["price"]["sale_price"], "19.99");

    // Delete, then it is gone from edits.
    let del = sb
        .ok(
            "DELETE",
            "/product/202309/products",
            &[],
            Some(json!({ "product_ids": [bad_id] })),
        )
        .await;
    assert!(del["errors"].as_array().unwrap().is_empty());
    let r = sb
        .call(
            "PUT",
            &format!("/product/202309/products/{bad_id}"),
            &[("shop_cipher", LOCAL_CIPHER)],
            Some(product("x", &uri, &wh)),
        )
        .await;
    assert_eq!(r.code(), 12052048);
}

#[tokio::test]
async fn validation_rules() {
    let sb = start().await;
    sb.control("PUT", "/rate_limit", json!({ "per_second": null }))
        .await;
    let uri = upload(&sb, 600, 600).await.json["data"]["uri"]
        .as_str()
        .unwrap()
        .to_string();
    let wh = sb.ok("GET", "/logistics/202309/warehouses", &[], None).await["warehouses"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let good = product("Good pan", &uri, &wh);
    type Case = (&'static str, Box<dyn Fn(&mut Value)>);
    let cases: Vec<Case> = vec![
        ("title", Box::new(|p| p["title"] = json!("x".repeat(256)))),
        (
            "main_images",
            Box::new(|p| p["main_images"] = json!(vec![p["main_images"][0].clone(); 10])),
        ),
        (
            "seller_sku",
            Box::new(|p| p["skus"][0]["seller_sku"] = json!("HAS SPACE")),
        ),
        (
            "seller_sku",
            Box::new(|p| p["skus"][0]["seller_sku"] = json!("x".repeat(51))),
        ),
        (
            "quantity",
            Box::new(|p| p["skus"][0]["inventory"][0]["quantity"] = json!(100_000)),
        ),
        (
            "quantity",
            Box::new(|p| p["skus"][0]["inventory"][0]["quantity"] = json!(0)),
        ),
        (
            "required attribute",
            Box::new(|p| p["product_attributes"] = json!([])),
        ),
        ("leaf", Box::new(|p| p["category_id"] = json!("600024"))),
        (
            "skus",
            Box::new(|p| {
                let one = p["skus"][0].clone();
                p["skus"] = json!(
                    (0..301)
                        .map(|i| {
                            let mut s = one.clone();
                            s["seller_sku"] = json!(format!("S{i}"));
                            s
                        })
                        .collect::<Vec<_>>()
                );
            }),
        ),
    ];
    for (what, f) in cases {
        let mut p = good.clone();
        f(&mut p);
        let r = sb
            .call(
                "POST",
                "/product/202309/products",
                &[("shop_cipher", LOCAL_CIPHER)],
                Some(p),
            )
            .await;
        assert_ne!(r.code(), 0, "{what} should be rejected");
        assert!(r.msg().contains(what), "{what}: {}", r.msg());
    }
    assert_eq!(
        sb.call(
            "POST",
            "/product/202309/products",
            &[("shop_cipher", LOCAL_CIPHER)],
            Some(good)
        )
        .await
        .code(),
        0
    );
}

#[tokio::test]
async fn deactivate_activate_recover_emit_status_webhooks() {
    let sb = start().await;
    let rx = receiver().await;
    sb.control("PUT", "/webhooks", json!({ "default_url": rx.url }))
        .await;
    let seeded = sb
        .control(
            "POST",
            "/seed",
            json!({ "products": [{ "shop_id": LOCAL_SHOP, "title": "Seeded pan", "category_id": "600031",
            "skus": [{ "seller_sku": "SP-1", "price": { "amount": "9.99", "currency": "USD" } }] }] }),
        )
        .await;
    let pid = seeded["products"][0]["product_id"].as_str().unwrap().to_string();
    for (path, status) in [("deactivate", "SELLER_DEACTIVATED"), ("activate", "ACTIVATE")] {
        let d = sb
            .ok(
                "POST",
                &format!("/product/202309/products/{path}"),
                &[],
                Some(json!({ "product_ids": [pid] })),
            )
            .await;
        assert!(d["errors"].as_array().unwrap().is_empty(), "{d}");
        assert_eq!(
            sb.ok("GET", &format!("/product/202309/products/{pid}"), &[], None)
                .await["status"],
            status
        );
    }
    sb.ok(
        "DELETE",
        "/product/202309/products",
        &[],
        Some(json!({ "product_ids": [pid] })),
    )
    .await;
    let d = sb
        .ok(
            "POST",
            "/product/202309/products/activate",
            &[],
            Some(json!({ "product_ids": [pid, "1"] })),
        )
        .await;
    assert_eq!(
        d["errors"].as_array().unwrap().len(),
        2,
        "deleted and unknown products cannot be activated: {d}"
    );
    sb.ok(
        "POST",
        "/product/202309/products/recover",
        &[],
        Some(json!({ "product_ids": [pid] })),
    )
    .await;
    let got = rx
        .wait_for(5, "4 status webhooks", |b| {
            b.iter().filter(|x| x["type"] == 5).count() >= 4
        })
        .await;
    let statuses: Vec<_> = got
        .iter()
        .filter(|x| x["type"] == 5)
        .map(|x| x["data"]["status"].as_str().unwrap().to_string())
        .collect();
    for s in ["SELLER_DEACTIVATED", "ACTIVATE", "DELETED"] {
        assert!(statuses.iter().any(|x| x == s), "{s} in {statuses:?}");
    }
}

#[tokio::test]
async fn categories_are_recommended_by_title_in_the_documented_shape() {
    let sb = start().await;
    let r = sb
        .ok(
            "POST",
            "/product/202309/categories/recommend",
            &[],
            Some(json!({ "product_title": "Cotton shirt, blue" })),
        )
        .await;
    let chain = r["categories"].as_array().unwrap();
    let leaf = chain.last().unwrap();
    assert_eq!(leaf["id"], r["leaf_category_id"]);
    assert_eq!(leaf["is_leaf"], true);
    assert_eq!(leaf["level"], chain.len());
    assert!(leaf["name"].as_str().is_some_and(|n| !n.is_empty()));
    // The answer's shape is held to the contract when `sb` is dropped.
}
