//! A worker process killed with SIGKILL in the middle of an import, then started again: every TikTok
//! order ends up as exactly one PlentyONE order (none lost, none duplicated).

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};
use tts_core::KeyRing;
use tts_plenty::api::orders::OrderQuery;
use tts_store::{OrderMappingQuery, SyncStatus};

mod common;

async fn control(base: &str, method: &str, path: &str, body: Value) -> Value {
    let res = reqwest::Client::new()
        .request(method.parse().unwrap(), format!("{base}/_sandbox{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{method} {path}");
    res.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_worker_killed_mid_import_resumes_and_ends_with_each_order_once() {
    let dir = tempfile::tempdir().unwrap();
    let key = KeyRing::generate_key();
    let store_url = format!("sqlite://{}", dir.path().join("crash.db").display());
    let store = tts_store::open(&store_url, Arc::new(KeyRing::parse(&key).unwrap()))
        .await
        .unwrap();

    let tiktok = tts_sandbox::start(tts_sandbox::Config::default()).await.unwrap();
    let _contract = common::ContractGuard::new(&tiktok);
    let plenty_config = tts_plenty_sandbox::Config {
        window: Duration::from_secs(1),
        ..Default::default()
    };
    let (user, password) = (plenty_config.username.clone(), plenty_config.password.clone());
    let plenty = tts_plenty_sandbox::start(plenty_config).await.unwrap();

    let info = control(&tiktok.base_url, "GET", "/info", json!({})).await;
    let shop = &info["shops"][0];
    let shop_id = shop["id"].as_str().unwrap().to_string();
    let tokens = control(&tiktok.base_url, "POST", "/tokens", json!({})).await;
    let created = control(
        &tiktok.base_url,
        "POST",
        &format!("/shops/{shop_id}/orders"),
        json!({"count": 60, "status": "AWAITING_SHIPMENT"}),
    )
    .await;
    let order_ids: Vec<String> = created["order_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();

    let worker = || {
        Command::new(env!("CARGO_BIN_EXE_tts-sync-worker"))
            .args([
                format!("store={store_url}"),
                format!("key={key}"),
                format!("tiktok={}", tiktok.base_url),
                format!("app_key={}", info["app_key"].as_str().unwrap()),
                format!("app_secret={}", info["app_secret"].as_str().unwrap()),
                format!("shop_id={shop_id}"),
                format!("cipher={}", shop["cipher"].as_str().unwrap()),
                format!("access_token={}", tokens["access_token"].as_str().unwrap()),
                format!(
                    "access_expires={}",
                    tokens["access_token_expire_in"].as_i64().unwrap()
                ),
                format!("refresh_token={}", tokens["refresh_token"].as_str().unwrap()),
                format!("plenty={}", plenty.base_url),
                format!("plenty_user={user}"),
                format!("plenty_password={password}"),
                "lease_secs=2".to_string(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let synced = || async {
        store
            .list_order_mappings(&OrderMappingQuery {
                shop_id: shop_id.clone(),
                status: Some(SyncStatus::Synced),
                after_tiktok_order_id: None,
                limit: 1000,
            })
            .await
            .unwrap()
            .len()
    };

    // first worker: killed once some (not all) orders are in PlentyONE
    let mut first = worker();
    let started = Instant::now();
    while synced().await < 10 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the first worker never got going"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "killing the first worker after {:?} with {} orders synced",
        started.elapsed(),
        synced().await
    );
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let at_kill = synced().await;
    assert!(
        at_kill < order_ids.len(),
        "killed mid-import ({at_kill} of {})",
        order_ids.len()
    );

    // restarted workers finish the job (a claim of the dead one is free again after its 2 s lease)
    let mut passes = 0;
    loop {
        passes += 1;
        let out = worker().wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "worker failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        if report["failed"] == 0 {
            break;
        }
        if passes >= 5 {
            let id = report["errors"][0]
                .as_str()
                .unwrap_or("")
                .split(':')
                .next()
                .unwrap_or("")
                .trim_start_matches("order ")
                .to_string();
            let lease = store.get_lease(&format!("order:{shop_id}:{id}")).await.unwrap();
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis();
            panic!("still failing after {passes} passes: {report}; lease {lease:?} at {now}");
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }

    assert_eq!(synced().await, order_ids.len());
    let plenty_client = tts_plenty::client::Client::new(tts_plenty::client::ClientOptions::new(
        plenty.base_url.clone(),
        user.clone(),
        password.clone(),
    ))
    .unwrap();
    for id in &order_ids {
        let query = OrderQuery {
            external_order_id: Some(format!("{shop_id}_{id}")),
            ..Default::default()
        };
        let copies = plenty_client.orders(&query).unwrap().collect::<Vec<_>>().await;
        assert_eq!(copies.len(), 1, "order {id} exists exactly once in PlentyONE");
    }
}
