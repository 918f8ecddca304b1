//! OAuth: authorize redirect, single-use codes, absolute expiry, refresh invalidates the old token,
//! deauthorization.

mod common;

use common::*;
use serde_json::{Value, json};

async fn authorize(sb: &Sb, state: &str) -> (String, String) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http
        .get(format!("{}/open/authorize", sb.url()))
        .query(&[
            ("service_id", sb.running.sandbox.config.app.service_id.as_str()),
            ("state", state),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let url = reqwest::Url::parse(&loc).unwrap();
    let get = |k: &str| {
        url.query_pairs()
            .find(|(kk, _)| kk == k)
            .map(|(_, v)| v.into_owned())
            .unwrap()
    };
    assert!(
        loc.starts_with(&sb.running.sandbox.config.app.redirect_uri),
        "{loc}"
    );
    (get("code"), get("state"))
}

async fn token_get(sb: &Sb, code: &str) -> Value {
    let r = sb
        .http
        .get(format!("{}/api/v2/token/get", sb.url()))
        .query(&[
            ("app_key", sb.app_key.as_str()),
            ("app_secret", &sb.secret),
            ("auth_code", code),
            ("grant_type", "authorized_code"),
        ])
        .send()
        .await
        .unwrap();
    r.json().await.unwrap()
}

async fn refresh(sb: &Sb, rt: &str) -> Value {
    let r = sb
        .http
        .get(format!("{}/api/v2/token/refresh", sb.url()))
        .query(&[
            ("app_key", sb.app_key.as_str()),
            ("app_secret", &sb.secret),
            ("refresh_token", rt),
            ("grant_type", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    r.json().await.unwrap()
}

#[tokio::test]
async fn code_is_single_use_and_expiry_is_absolute() {
    let sb = start().await;
    let (code, state) = authorize(&sb, "st-123").await;
    assert_eq!(state, "st-123");
    let t = token_get(&sb, &code).await;
    assert_eq!(t["code"], 0, "{t}");
    let d = &t["data"];
    let exp = d["access_token_expire_in"].as_i64().unwrap();
    assert!(
        (exp - now() - 7 * 86_400).abs() < 5,
        "absolute Unix seconds, 7 days ahead: {exp}"
    );
    assert!(d["refresh_token_expire_in"].as_i64().unwrap() > exp);
    assert_eq!(d["open_id"], "sbxOpenId0000000001");
    assert!(d["granted_scopes"].as_array().unwrap().len() > 3);
    assert_eq!(d["user_type"], 0);
    // Second use of the same code.
    let again = token_get(&sb, &code).await;
    assert_eq!(again["code"], 36004004, "{again}");
    assert_eq!(again["message"], "Invalid auth code.");
    // The token works.
    let mut sb = sb;
    sb.token = d["access_token"].as_str().unwrap().into();
    assert_eq!(
        sb.call("GET", "/authorization/202309/shops", &[], None)
            .await
            .code(),
        0
    );
}

#[tokio::test]
async fn expired_auth_code_is_invalid() {
    let sb = start().await;
    sb.control("PUT", "/settings", json!({ "auth_code_ttl_ms": 50 }))
        .await;
    let (code, _) = authorize(&sb, "x").await;
    tokio::time::sleep(std::time::Duration::from_millis(120)).await;
    assert_eq!(token_get(&sb, &code).await["code"], 36004004);
}

#[tokio::test]
async fn refresh_invalidates_the_old_access_token() {
    let mut sb = start().await;
    let (code, _) = authorize(&sb, "s").await;
    let first = token_get(&sb, &code).await["data"].clone();
    let old = first["access_token"].as_str().unwrap().to_string();
    let r = refresh(&sb, first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(r["code"], 0, "{r}");
    let new = r["data"]["access_token"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    sb.token = old;
    let res = sb.call("GET", "/authorization/202309/shops", &[], None).await;
    assert_eq!(res.code(), 36009004, "{}", res.json);
    sb.token = new;
    assert_eq!(
        sb.call("GET", "/authorization/202309/shops", &[], None)
            .await
            .code(),
        0
    );
    // Wrong secret.
    let bad = sb
        .http
        .get(format!("{}/api/v2/token/refresh", sb.url()))
        .query(&[
            ("app_key", sb.app_key.as_str()),
            ("app_secret", "wrong"),
            ("refresh_token", first["refresh_token"].as_str().unwrap()),
            ("grant_type", "refresh_token"),
        ])
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(bad["code"], 36009004);
}

#[tokio::test]
async fn deauthorization_revokes_tokens_and_sends_webhook_type_6() {
    let sb = start().await;
    let rx = receiver().await;
    sb.control("PUT", "/webhooks", json!({ "default_url": rx.url }))
        .await;
    let d = sb
        .control("POST", "/sellers/sbxOpenId0000000001/deauthorize", json!({}))
        .await;
    assert!(d["revoked_tokens"].as_u64().unwrap() >= 1);
    let r = sb.call("GET", "/authorization/202309/shops", &[], None).await;
    assert_eq!((r.status, r.code()), (401, 105001));
    let got = rx
        .wait_for(5, "type 6", |b| b.iter().any(|x| x["type"] == 6))
        .await;
    assert_eq!(
        got.iter().find(|x| x["type"] == 6).unwrap()["shop_id"],
        LOCAL_SHOP
    );
}

#[tokio::test]
async fn approve_page_then_decision() {
    let sb = start().await;
    sb.control("PUT", "/settings", json!({ "approve_page": true }))
        .await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http
        .get(format!(
            "{}/open/authorize?service_id={}&state=abc",
            sb.url(),
            sb.running.sandbox.config.app.service_id
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let href = page
        .split("id=\"deny\" href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let r = http.get(format!("{}{href}", sb.url())).send().await.unwrap();
    let loc = r.headers()["location"].to_str().unwrap();
    assert!(
        loc.contains("error=auth_denied") && loc.contains("state=abc"),
        "{loc}"
    );
}

#[tokio::test]
async fn short_access_token_lifetime_makes_tokens_expire() {
    let mut sb = start().await;
    sb.control("PUT", "/settings", json!({ "access_token_ttl_secs": 1 }))
        .await;
    let (code, _) = authorize(&sb, "ttl").await;
    let t = token_get(&sb, &code).await["data"].clone();
    assert!(t["access_token_expire_in"].as_i64().unwrap() <= now() + 1);
    sb.token = t["access_token"].as_str().unwrap().into();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = sb.call("GET", "/authorization/202309/shops", &[], None).await;
    assert_eq!((r.status, r.code()), (401, 105002), "{}", r.json);
    // Refreshing brings it back.
    sb.control("PUT", "/settings", json!({ "access_token_ttl_secs": 3600 }))
        .await;
    let r2 = refresh(&sb, t["refresh_token"].as_str().unwrap()).await;
    sb.token = r2["data"]["access_token"].as_str().unwrap().into();
    assert_eq!(
        sb.call("GET", "/authorization/202309/shops", &[], None)
            .await
            .code(),
        0
    );
}
