//! Protocol checks with TikTok's HTTP statuses and codes (spec §1, §7).

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn accepts_a_correctly_signed_request() {
    let sb = start().await;
    let r = sb.call("GET", "/authorization/202309/shops", &[], None).await;
    assert_eq!((r.status, r.code()), (200, 0), "{}", r.json);
    assert!(r.json["request_id"].as_str().is_some_and(|s| s.len() > 10));
    let shops = r.json["data"]["shops"].as_array().unwrap();
    assert_eq!(shops[0]["cipher"], LOCAL_CIPHER);
    assert_eq!(shops[0]["seller_type"], "LOCAL");
}

#[tokio::test]
async fn rejects_a_wrong_sign_with_401_106001() {
    let sb = start().await;
    let ts = now().to_string();
    let q = [
        ("app_key", sb.app_key.as_str()),
        ("timestamp", ts.as_str()),
        ("sign", "0".repeat(64).leak() as &str),
    ];
    let r = sb
        .send(
            "GET",
            "/authorization/202309/shops",
            &q,
            String::new(),
            Some(&sb.token),
        )
        .await;
    assert_eq!((r.status, r.code()), (401, 106001), "{}", r.json);

    // Signed for one body, sent with another: the body is part of the signature.
    let body = json!({ "order_status": "UNPAID" }).to_string();
    let q0 = [
        ("app_key", sb.app_key.as_str()),
        ("timestamp", ts.as_str()),
        ("shop_cipher", LOCAL_CIPHER),
    ];
    let sig = sign(&sb.secret, "/order/202309/orders/search", &q0, &body, false);
    let mut q1 = q0.to_vec();
    q1.push(("sign", &sig));
    let r = sb
        .send(
            "POST",
            "/order/202309/orders/search",
            &q1,
            body.replace("UNPAID", "ON_HOLD"),
            Some(&sb.token),
        )
        .await;
    assert_eq!((r.status, r.code()), (401, 106001), "{}", r.json);
    let r = sb
        .send("POST", "/order/202309/orders/search", &q1, body, Some(&sb.token))
        .await;
    assert_eq!((r.status, r.code()), (200, 0), "{}", r.json);
}

#[tokio::test]
async fn rejects_stale_and_future_timestamps_with_36009004() {
    let sb = start().await;
    let tok = sb.token.clone();
    let r = sb
        .call_full(
            "GET",
            "/authorization/202309/shops",
            &[],
            None,
            Some(&tok),
            now() - 301,
        )
        .await;
    assert_eq!((r.status, r.code()), (401, 36009004), "{}", r.json);
    assert!(r.msg().contains("5 minutes in the past"), "{}", r.msg());
    let r = sb
        .call_full(
            "GET",
            "/authorization/202309/shops",
            &[],
            None,
            Some(&tok),
            now() + 60,
        )
        .await;
    assert_eq!(r.code(), 36009004);
    assert!(r.msg().contains("future"), "{}", r.msg());
    // Inside the window on both sides.
    let r = sb
        .call_full(
            "GET",
            "/authorization/202309/shops",
            &[],
            None,
            Some(&tok),
            now() - 290,
        )
        .await;
    assert_eq!(r.code(), 0, "{}", r.json);
    let r = sb
        .call_full(
            "GET",
            "/authorization/202309/shops",
            &[],
            None,
            Some(&tok),
            now() + 20,
        )
        .await;
    assert_eq!(r.code(), 0, "{}", r.json);
}

#[tokio::test]
async fn missing_sign_unknown_app_key_and_missing_token_say_which() {
    let sb = start().await;
    let ts = now().to_string();
    let r = sb
        .send(
            "GET",
            "/seller/202309/shops",
            &[("app_key", &sb.app_key), ("timestamp", &ts)],
            String::new(),
            Some(&sb.token),
        )
        .await;
    assert_eq!(r.code(), 36009004);
    assert!(r.msg().contains("sign"), "{}", r.msg());
    let q = [("app_key", "nope"), ("timestamp", ts.as_str())];
    let sig = sign(&sb.secret, "/seller/202309/shops", &q, "", false);
    let r = sb
        .send(
            "GET",
            "/seller/202309/shops",
            &[q[0], q[1], ("sign", &sig)],
            String::new(),
            Some(&sb.token),
        )
        .await;
    assert_eq!(r.code(), 36009004);
    assert!(r.msg().contains("app_key"), "{}", r.msg());
    let r = sb
        .call_full("GET", "/seller/202309/shops", &[], None, None, now())
        .await;
    assert_eq!((r.status, r.code()), (401, 36009004));
    assert!(r.msg().contains("x-tts-access-token"), "{}", r.msg());
    let r = sb
        .call_full(
            "GET",
            "/seller/202309/shops",
            &[],
            None,
            Some("TTP_unknown"),
            now(),
        )
        .await;
    assert_eq!(r.code(), 36009004);
    assert!(r.msg().contains("invalid"), "{}", r.msg());
}

#[tokio::test]
async fn missing_cipher_for_a_cross_border_shop_is_106013() {
    let sb = start().await;
    let cb = sb.token_for(CB_OPEN_ID).await;
    let r = sb
        .call_full("GET", "/logistics/202309/warehouses", &[], None, Some(&cb), now())
        .await;
    assert_eq!((r.status, r.code()), (400, 106013), "{}", r.json);
    let r = sb
        .call_full(
            "GET",
            "/logistics/202309/warehouses",
            &[("shop_cipher", GB_CIPHER)],
            None,
            Some(&cb),
            now(),
        )
        .await;
    assert_eq!(r.code(), 0, "{}", r.json);
    // A local single-shop seller may omit it.
    let r = sb.call("GET", "/logistics/202309/warehouses", &[], None).await;
    assert_eq!(r.code(), 0, "{}", r.json);
    // Another seller's cipher does not fit this token.
    let r = sb
        .call(
            "GET",
            "/logistics/202309/warehouses",
            &[("shop_cipher", GB_CIPHER)],
            None,
        )
        .await;
    assert_eq!(r.code(), 101000, "{}", r.json);
}

#[tokio::test]
async fn unexpected_cipher_is_36009004() {
    let sb = start().await;
    for path in [
        "/authorization/202309/shops",
        "/seller/202309/shops",
        "/seller/202309/permissions",
    ] {
        let r = sb.call("GET", path, &[("shop_cipher", LOCAL_CIPHER)], None).await;
        assert_eq!(r.code(), 36009004, "{path}: {}", r.json);
        assert!(
            r.msg().contains("Unexpected identifier shop_cipher"),
            "{}",
            r.msg()
        );
    }
}

#[tokio::test]
async fn unknown_path_and_wrong_method() {
    let sb = start().await;
    let r = sb.call("GET", "/order/202309/nothing", &[], None).await;
    assert_eq!((r.status, r.code()), (404, 36009009));
    let r = sb.call("DELETE", "/order/202309/orders/search", &[], None).await;
    assert_eq!((r.status, r.code()), (405, 36009010));
}

#[tokio::test]
async fn expired_revoked_and_scope_errors() {
    let sb = start().await;
    let t = sb.token_for("sbxOpenId0000000001").await;
    sb.control("POST", "/tokens/expire", json!({ "access_token": t }))
        .await;
    let r = sb
        .call_full("GET", "/seller/202309/shops", &[], None, Some(&t), now())
        .await;
    assert_eq!((r.status, r.code()), (401, 105002), "{}", r.json);

    let t = sb.token_for("sbxOpenId0000000001").await;
    sb.control("POST", "/tokens/revoke", json!({ "access_token": t }))
        .await;
    let r = sb
        .call_full("GET", "/seller/202309/shops", &[], None, Some(&t), now())
        .await;
    assert_eq!((r.status, r.code()), (401, 105001), "{}", r.json);

    // An app with only the order scope cannot read products.
    sb.control(
        "POST",
        "/apps",
        json!({ "app_key": "narrowapp", "app_secret": "narrowsecret", "service_id": "1",
        "redirect_uri": "http://127.0.0.1/cb", "scopes": ["seller.order.info"] }),
    )
    .await;
    let t = sb
        .control("POST", "/tokens", json!({ "app_key": "narrowapp" }))
        .await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let narrow = common::Sb {
        running: tts_sandbox::Running {
            base_url: sb.url().into(),
            sandbox: sb.running.sandbox.clone(),
            task: tokio::spawn(async {}),
        },
        http: sb.http.clone(),
        app_key: "narrowapp".into(),
        secret: "narrowsecret".into(),
        token: t,
    };
    let r = narrow
        .call(
            "POST",
            "/product/202309/products/search",
            &[("page_size", "10")],
            Some(json!({})),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, 105005), "{}", r.json);
    let r = narrow
        .call("POST", "/order/202309/orders/search", &[], Some(json!({})))
        .await;
    assert_eq!(r.code(), 0, "{}", r.json);
}

#[tokio::test]
async fn order_search_paginates_with_plus_slash_tokens_and_detail_limits_ids() {
    let sb = start().await;
    let ids = sb
        .control(
            "POST",
            &format!("/shops/{LOCAL_SHOP}/orders"),
            json!({ "count": 25 }),
        )
        .await;
    assert_eq!(ids["order_ids"].as_array().unwrap().len(), 25);
    let mut seen = std::collections::HashSet::new();
    let mut token = String::new();
    loop {
        let mut q = vec![
            ("page_size", "10"),
            ("sort_field", "create_time"),
            ("sort_order", "ASC"),
        ];
        if !token.is_empty() {
            q.push(("page_token", token.as_str()));
        }
        let d = sb
            .ok(
                "POST",
                "/order/202309/orders/search",
                &q,
                Some(json!({ "order_status": "UNPAID" })),
            )
            .await;
        assert_eq!(d["total_count"], 25);
        for o in d["orders"].as_array().unwrap() {
            assert!(seen.insert(o["id"].as_str().unwrap().to_string()));
            assert!(o["payment"]["total_amount"].is_string());
            assert!(o["buyer_email"].as_str().unwrap().ends_with("@scs2.tiktok.com"));
        }
        token = d["next_page_token"].as_str().unwrap().to_string();
        if token.is_empty() {
            break;
        }
        assert!(token.contains('+') && token.contains('/'), "{token}");
    }
    assert_eq!(seen.len(), 25);
    let some: Vec<String> = seen.iter().take(3).cloned().collect();
    let d = sb
        .ok("GET", "/order/202309/orders", &[("ids", &some.join(","))], None)
        .await;
    assert_eq!(d["orders"].as_array().unwrap().len(), 3);
    let many: Vec<String> = (0..51).map(|i| format!("{i}")).collect();
    let r = sb
        .call(
            "GET",
            "/order/202309/orders",
            &[("shop_cipher", LOCAL_CIPHER), ("ids", &many.join(","))],
            None,
        )
        .await;
    assert_ne!(r.code(), 0);
    assert!(r.msg().contains("50"), "{}", r.msg());
}

#[tokio::test]
async fn on_hold_orders_are_masked_and_cannot_ship() {
    let sb = start().await;
    let id = sb
        .control(
            "POST",
            "/seed",
            json!({ "orders": [{ "shop_id": LOCAL_SHOP, "status": "ON_HOLD" }] }),
        )
        .await["orders"][0]
        .as_str()
        .unwrap()
        .to_string();
    let d = sb.ok("GET", "/order/202309/orders", &[("ids", &id)], None).await;
    let o = &d["orders"][0];
    assert_eq!(o["status"], "ON_HOLD");
    assert_eq!(o["is_on_hold_order"], true);
    assert_eq!(o["recipient_address"]["full_address"], "");
    let r = sb
        .call(
            "POST",
            &format!("/fulfillment/202309/orders/{id}/packages"),
            &[("shop_cipher", LOCAL_CIPHER)],
            Some(json!({ "tracking_number": "1Z999", "shipping_provider_id": "7117858858072016686" })),
        )
        .await;
    assert_eq!(r.code(), 21011044, "{}", r.json);
}

#[tokio::test]
async fn empty_json_body_is_signed_strictly_unless_lenient() {
    for lenient in [false, true] {
        let sb = start_with(tts_sandbox::Config {
            lenient_empty_body: lenient,
            ..Default::default()
        })
        .await;
        let ts = now().to_string();
        let q = [
            ("app_key", sb.app_key.as_str()),
            ("timestamp", ts.as_str()),
            ("shop_cipher", LOCAL_CIPHER),
        ];
        // Signed without the body (as the official Node SDK does for `{}`), sent with `{}`.
        let sig = sign(&sb.secret, "/order/202309/orders/search", &q, "", false);
        let r = sb
            .send(
                "POST",
                "/order/202309/orders/search",
                &[q[0], q[1], q[2], ("sign", &sig)],
                "{}".into(),
                Some(&sb.token),
            )
            .await;
        assert_eq!(
            r.code(),
            if lenient { 0 } else { 106001 },
            "lenient={lenient}: {}",
            r.json
        );
    }
}

#[tokio::test]
async fn unimplemented_version_says_which_one_exists() {
    let sb = start().await;
    let r = sb.call("GET", "/order/202507/orders", &[], None).await;
    assert_eq!((r.status, r.code()), (404, 36009009));
    assert!(r.msg().contains("version 202309"), "{}", r.msg());
}
