//! The binary prints exactly one JSON line first (the contract other suites read), and honours flags.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn first_stdout_line_is_the_contract_json() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tts-sandbox"))
        .args([
            "--port",
            "0",
            "--app-key",
            "k123",
            "--app-secret",
            "s456",
            "--rate-limit",
            "off",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).expect("first line is JSON");
    assert!(v["base_url"].as_str().unwrap().starts_with("http://127.0.0.1:"));
    assert_eq!(v["app_key"], "k123");
    assert_eq!(v["app_secret"], "s456");
    assert!(v["service_id"].is_string() && v["redirect_uri"].is_string());
    assert_eq!(v["shops"].as_array().unwrap().len(), 3);
}

#[test]
fn bad_flags_fail_with_a_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_tts-sandbox"))
        .args(["--no-such-flag"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown flag --no-such-flag"));
}

#[test]
fn config_file_seeds_apps_sellers_products_and_orders() {
    let dir = std::env::temp_dir().join(format!("tts-sandbox-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("seed.json");
    std::fs::write(
        &file,
        serde_json::json!({
            "apps": [{ "app_key": "second", "app_secret": "s2", "service_id": "99", "redirect_uri": "http://127.0.0.1/cb" }],
            "sellers": [{ "open_id": "o3", "name": "Third", "base_region": "FR", "shops": [
                { "id": "9001", "name": "FR shop", "region": "FR", "seller_type": "LOCAL", "cipher": "ROW_fr", "code": "FR1" }] }],
            "products": [{ "shop_id": "9001", "title": "Seeded", "category_id": "600031",
                "skus": [{ "seller_sku": "S-1", "price": { "amount": "9.00", "currency": "EUR" } }] }],
            "random_orders": [{ "shop_id": "9001", "count": 3 }]
        })
        .to_string(),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tts-sandbox"))
        .args(["--config", file.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    let base = v["base_url"].as_str().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (token, orders) = rt.block_on(async {
        let c = reqwest::Client::new();
        let t: serde_json::Value = c
            .post(format!("{base}/_sandbox/tokens"))
            .body(r#"{"app_key":"second","open_id":"o3"}"#)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        // A signed search with the seeded app's own secret, on the seeded shop (no cipher: single local shop).
        let path = "/order/202309/orders/search";
        let ts = common::now().to_string();
        let q = [("app_key", "second"), ("timestamp", ts.as_str())];
        let sig = common::sign("s2", path, &q, "{}", false);
        let orders: serde_json::Value = c
            .post(format!("{base}{path}"))
            .query(&[q[0], q[1], ("sign", &sig)])
            .header("x-tts-access-token", t["access_token"].as_str().unwrap())
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (t, orders)
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(token["granted_scopes"].as_array().unwrap().len(), 9, "{token}");
    assert_eq!(orders["data"]["total_count"], 3, "{orders}");
    // The order generator used the seeded product's SKU.
    for o in orders["data"]["orders"].as_array().unwrap() {
        assert!(
            o["line_items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|l| l["seller_sku"] == "S-1" && l["sale_price"] == "9.00")
        );
        assert_eq!(o["payment"]["currency"], "EUR");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
