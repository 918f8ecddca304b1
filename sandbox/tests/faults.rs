//! Each fault kind does what it says.

mod common;

use std::time::Instant;

use common::*;
use serde_json::json;

const P: &str = "/seller/202309/shops";

#[tokio::test]
async fn server_error_burst_for_a_count_then_normal() {
    let sb = start().await;
    sb.control(
        "POST",
        "/faults",
        json!({ "kind": "server_error", "count": 2, "status": 502 }),
    )
    .await;
    let a = sb.call("GET", P, &[], None).await;
    let b = sb.call("GET", P, &[], None).await;
    let c = sb.call("GET", P, &[], None).await;
    assert_eq!((a.status, b.status, c.status), (502, 502, 200));
    assert!(a.json["request_id"].is_string(), "TikTok-shaped body: {}", a.json);
    let counters = sb.control("GET", "/counters", json!(null)).await;
    assert_eq!(counters["endpoints"][format!("GET {P}")]["faults"], 2);
    assert_eq!(
        sb.control("GET", "/faults", json!(null)).await["faults"]
            .as_array()
            .unwrap()
            .len(),
        0,
        "used up"
    );
}

#[tokio::test]
async fn faults_can_target_one_endpoint_and_a_share_of_requests() {
    let sb = start().await;
    sb.control("PUT", "/rate_limit", json!({ "per_second": null }))
        .await;
    sb.control(
        "POST",
        "/faults",
        json!({ "kind": "server_error", "endpoint": "GET /logistics/202309/warehouses", "probability": 0.5 }),
    )
    .await;
    let mut failed = 0;
    for _ in 0..200 {
        if sb
            .call("GET", "/logistics/202309/warehouses", &[], None)
            .await
            .status
            == 503
        {
            failed += 1;
        }
        assert_eq!(
            sb.call("GET", P, &[], None).await.status,
            200,
            "other endpoints untouched"
        );
    }
    assert!((60..=140).contains(&failed), "≈50 % of 200 failed: {failed}");
}

#[tokio::test]
async fn latency_is_added() {
    let sb = start().await;
    sb.control(
        "POST",
        "/faults",
        json!({ "kind": "latency", "latency_ms": 300, "count": 1 }),
    )
    .await;
    let t = Instant::now();
    assert_eq!(sb.call("GET", P, &[], None).await.code(), 0);
    assert!(t.elapsed().as_millis() >= 300);
    let t = Instant::now();
    sb.call("GET", P, &[], None).await;
    assert!(t.elapsed().as_millis() < 300);
}

#[tokio::test]
async fn dropped_connection_gets_no_response() {
    let sb = start().await;
    sb.control("POST", "/faults", json!({ "kind": "drop", "count": 1 }))
        .await;
    let ts = now().to_string();
    let q = [("app_key", sb.app_key.as_str()), ("timestamp", ts.as_str())];
    let sig = sign(&sb.secret, P, &q, "", false);
    let err = sb
        .http
        .get(format!("{}{P}", sb.url()))
        .query(&[q[0], q[1], ("sign", &sig)])
        .header("x-tts-access-token", &sb.token)
        .send()
        .await
        .expect_err("the connection is closed without a response");
    assert!(!err.is_status() && !err.is_timeout(), "{err:?}");
    assert_eq!(sb.call("GET", P, &[], None).await.code(), 0);
}

#[tokio::test]
async fn rate_limit_storm_is_429_36009002() {
    let sb = start().await;
    sb.control("POST", "/faults", json!({ "kind": "rate_limit", "count": 3 }))
        .await;
    for _ in 0..3 {
        let r = sb.call("GET", P, &[], None).await;
        assert_eq!((r.status, r.code()), (429, 36009002));
    }
    assert_eq!(sb.call("GET", P, &[], None).await.code(), 0);
    let c = sb.control("GET", "/counters", json!(null)).await;
    assert_eq!(c["endpoints"][format!("GET {P}")]["rate_limited"], 3);
}

#[tokio::test]
async fn malformed_json_is_truncated() {
    let sb = start().await;
    sb.control("POST", "/faults", json!({ "kind": "malformed_json", "count": 1 }))
        .await;
    let r = sb.call("GET", P, &[], None).await;
    assert_eq!(r.status, 200);
    let text = r.json.as_str().expect("not parseable as JSON");
    assert!(text.starts_with("{\"code\":0"), "{text}");
}

#[tokio::test]
async fn malformed_json_cuts_an_error_answer_too_and_counts_it() {
    let sb = start().await;
    const CREATE: &str = "/product/202309/products";
    sb.control(
        "POST",
        "/faults",
        json!({ "kind": "malformed_json", "endpoint": format!("POST {CREATE}"), "count": 1 }),
    )
    .await;
    // No title: the create fails validation, and its answer is cut.
    let r = sb
        .call("POST", CREATE, &[("shop_cipher", LOCAL_CIPHER)], Some(json!({})))
        .await;
    let text = r.json.as_str().expect("not parseable as JSON");
    assert!(
        text.starts_with("{\"code\":") && !text.starts_with("{\"code\":0"),
        "{text}"
    );
    let counters = sb.control("GET", "/counters", json!(null)).await;
    assert_eq!(counters["endpoints"][format!("POST {CREATE}")]["faults"], 1);
}

#[tokio::test]
async fn a_request_whose_client_hung_up_still_runs_to_its_end() {
    let sb = start().await;
    sb.control(
        "POST",
        "/faults",
        json!({ "kind": "latency", "latency_ms": 400, "count": 1 }),
    )
    .await;
    let ts = now().to_string();
    let q = [("app_key", sb.app_key.as_str()), ("timestamp", ts.as_str())];
    let sig = sign(&sb.secret, P, &q, "", false);
    let gave_up = sb
        .http
        .get(format!("{}{P}", sb.url()))
        .query(&[q[0], q[1], ("sign", &sig)])
        .header("x-tts-access-token", &sb.token)
        .timeout(std::time::Duration::from_millis(100))
        .send()
        .await;
    assert!(gave_up.is_err(), "the client timed out");
    // The server finishes the request anyway, as a real one does: it is answered and counted.
    let mut ok = json!(null);
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        ok = sb.control("GET", "/counters", json!(null)).await["endpoints"][format!("GET {P}")]["ok"].clone();
        if ok == 1 {
            break;
        }
    }
    assert_eq!(ok, 1, "the abandoned request ran to its end");
}

#[tokio::test]
async fn token_revocation_fault_revokes_for_good() {
    let sb = start().await;
    sb.control("POST", "/faults", json!({ "kind": "revoke_token", "count": 1 }))
        .await;
    let r = sb.call("GET", P, &[], None).await;
    assert_eq!((r.status, r.code()), (401, 105001));
    let r = sb.call("GET", P, &[], None).await;
    assert_eq!(
        r.code(),
        105001,
        "the token stays revoked after the fault is used up"
    );
}

#[tokio::test]
async fn reset_clears_faults_and_state() {
    let sb = start().await;
    sb.control("POST", "/faults", json!({ "kind": "server_error" }))
        .await;
    sb.control(
        "POST",
        &format!("/shops/{LOCAL_SHOP}/orders"),
        json!({ "count": 3 }),
    )
    .await;
    sb.control("POST", "/reset", json!({})).await;
    assert!(
        sb.control("GET", "/faults", json!(null)).await["faults"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let t = sb.control("POST", "/tokens", json!({})).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = sb
        .call_full(
            "POST",
            "/order/202309/orders/search",
            &[],
            Some(json!({})),
            Some(&t),
            now(),
        )
        .await;
    assert_eq!(r.json["data"]["total_count"], 0);
}

#[tokio::test]
async fn token_endpoints_can_be_faulted_too() {
    let sb = start().await;
    sb.control(
        "POST",
        "/faults",
        json!({ "kind": "server_error", "endpoint": "GET /api/v2/token/refresh", "count": 1 }),
    )
    .await;
    let rt = sb.control("POST", "/tokens", json!({})).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let refresh = || {
        sb.http
            .get(format!("{}/api/v2/token/refresh", sb.url()))
            .query(&[
                ("app_key", sb.app_key.as_str()),
                ("app_secret", &sb.secret),
                ("refresh_token", &rt),
                ("grant_type", "refresh_token"),
            ])
            .send()
    };
    assert_eq!(refresh().await.unwrap().status(), 503);
    let ok: serde_json::Value = refresh().await.unwrap().json().await.unwrap();
    assert_eq!(ok["code"], 0, "{ok}");
    let c = sb.control("GET", "/counters", json!(null)).await;
    assert_eq!(c["endpoints"]["GET /api/v2/token/refresh"]["faults"], 1);
    assert_eq!(c["endpoints"]["GET /api/v2/token/refresh"]["ok"], 1);
}
