//! The stand-in's own contract, with a plain HTTP client: it really refuses over the limits (so the
//! client's "zero 429s" means something), the session cap, 401s, the headers, the binary's first line.

use std::time::Duration;

use serde_json::{Value, json};
use tts_plenty_sandbox::{Config, Plan, Running};

async fn start(config: Config) -> Running {
    tts_plenty_sandbox::start(config).await.unwrap()
}

async fn login(s: &Running) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/rest/login", s.base_url))
        .json(&json!({"username": "rest-user", "password": "sandbox-password"}))
        .send()
        .await
        .unwrap()
}

async fn token(s: &Running) -> String {
    let r = login(s).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["token_type"], "Bearer");
    assert!(v["refresh_token"].is_string());
    v["access_token"].as_str().unwrap().to_string()
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    r.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn reads_over_the_plan_limit_get_429_with_retry_after_and_writes_have_their_own_budget() {
    let s = start(Config {
        plan: Plan {
            reads_per_window: 5,
            writes_per_window: 2,
            ..Plan::basic()
        },
        ..Config::default()
    })
    .await;
    let t = token(&s).await;
    let http = reqwest::Client::new();
    let get = || {
        http.get(format!("{}/rest/orders/referrers", s.base_url))
            .bearer_auth(&t)
            .send()
    };
    for left in (0..5).rev() {
        let r = get().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            header(&r, "x-plenty-global-short-period-calls-left"),
            Some(left.to_string().as_str())
        );
        assert_eq!(header(&r, "x-plenty-global-short-period-limit"), Some("5"));
        assert_eq!(header(&r, "x-plenty-global-long-period-limit"), Some("59760"));
        let decay: f64 = header(&r, "x-plenty-global-short-period-decay")
            .unwrap()
            .parse()
            .unwrap();
        assert!(decay > 55.0 && decay <= 60.0, "{decay}");
    }
    let r = get().await.unwrap();
    assert_eq!(r.status(), 429);
    let retry_after: u64 = header(&r, "retry-after").unwrap().parse().unwrap();
    assert!((55..=60).contains(&retry_after));
    assert!(header(&r, "x-plenty-global-short-period-calls-reset").is_some());
    // writes are counted apart
    let r = http
        .post(format!("{}/rest/orders/referrers", s.base_url))
        .bearer_auth(&t)
        .json(&json!({"name": "TikTok Shop"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-plenty-global-short-period-limit"), Some("2"));
    // the orders route has its own limit headers
    let r = http
        .get(format!("{}/rest/orders", s.base_url))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429, "reads are still exhausted");
    assert_eq!(header(&r, "x-plenty-route-limit"), Some("60"));
    let counters: Value = reqwest::get(format!("{}/_plenty/counters", s.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counters["totals"]["rate_limited"], 2, "{counters}");
}

#[tokio::test]
async fn a_shortened_window_resets_in_time() {
    let s = start(Config {
        window: Duration::from_millis(300),
        plan: Plan {
            reads_per_window: 1,
            ..Plan::basic()
        },
        ..Config::default()
    })
    .await;
    let t = token(&s).await;
    let http = reqwest::Client::new();
    let get = || {
        http.get(format!("{}/rest/orders/referrers", s.base_url))
            .bearer_auth(&t)
            .send()
    };
    assert_eq!(get().await.unwrap().status(), 200);
    let r = get().await.unwrap();
    assert_eq!(r.status(), 429);
    let decay: f64 = header(&r, "x-plenty-global-short-period-decay")
        .unwrap()
        .parse()
        .unwrap();
    tokio::time::sleep(Duration::from_secs_f64(decay) + Duration::from_millis(5)).await;
    assert_eq!(get().await.unwrap().status(), 200);
}

#[tokio::test]
async fn session_cap_expiry_and_401s() {
    let s = start(Config {
        token_ttl: Duration::from_millis(300),
        ..Config::default()
    })
    .await;
    let first = token(&s).await;
    token(&s).await;
    token(&s).await;
    let r = login(&s).await;
    assert_eq!(r.status(), 429);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "too_many_concurrent_sessions");
    let http = reqwest::Client::new();
    let url = format!("{}/rest/orders/referrers", s.base_url);
    assert_eq!(http.get(&url).send().await.unwrap().status(), 401, "no token");
    assert_eq!(
        http.get(&url)
            .bearer_auth("forged")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        http.get(&url).bearer_auth(&first).send().await.unwrap().status(),
        200
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(
        http.get(&url).bearer_auth(&first).send().await.unwrap().status(),
        401,
        "expired"
    );
    token(&s).await; // expired sessions no longer count against the cap
    let bad = reqwest::Client::new()
        .post(format!("{}/rest/login", s.base_url))
        .json(&json!({"username": "rest-user", "password": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
}

#[tokio::test]
async fn control_api_plan_faults_and_reset() {
    let s = start(Config::default()).await;
    let http = reqwest::Client::new();
    let c = |p: &str| format!("{}/_plenty{p}", s.base_url);
    let limits: Value = http
        .put(c("/limits"))
        .json(&json!({"plan": "plus", "window_secs": 2, "route_limits": {"POST /rest/orders": null}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(limits["plan"]["reads_per_window"], 280);
    assert_eq!(limits["window_secs"], 2.0);
    assert!(limits["route_limits"].get("POST /rest/orders").is_none());
    let rule: Value = http
        .post(c("/faults"))
        .json(&json!({"kind": "server_error", "status": 500, "count": 1}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rule["id"], 1);
    let t = token(&s).await;
    let r = http
        .get(format!("{}/rest/orders", s.base_url))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert!(header(&r, "x-plenty-global-short-period-calls-left").is_some());
    let r = http
        .get(format!("{}/rest/orders", s.base_url))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let shipped = http.post(c("/orders/424242/ship")).send().await.unwrap();
    assert_eq!(shipped.status(), 404);
    let info: Value = http.get(c("/info")).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["username"], "rest-user");
    http.post(c("/reset")).send().await.unwrap();
    let sessions: Value = http
        .get(c("/sessions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sessions["valid"], 0);
}

#[tokio::test]
async fn a_lost_answer_fault_closes_the_connection_after_the_write_took_effect() {
    let s = start(Config::default()).await;
    let http = reqwest::Client::new();
    http.post(format!("{}/_plenty/faults", s.base_url))
        .json(&json!({"kind": "lost_answer", "endpoint": "POST /rest/accounts/contacts", "count": 1}))
        .send()
        .await
        .unwrap();
    let t = token(&s).await;
    let create = || {
        http.post(format!("{}/rest/accounts/contacts", s.base_url))
            .bearer_auth(&t)
            .json(&json!({"typeId": 1, "firstName": "Erika", "lastName": "Muster"}))
            .send()
    };
    assert!(create().await.is_err(), "no answer");
    assert_eq!(
        s.sandbox.store.lock().unwrap().contacts.len(),
        1,
        "but the contact exists"
    );
    assert_eq!(create().await.unwrap().status(), 200, "the rule was used up");
    assert_eq!(s.sandbox.store.lock().unwrap().contacts.len(), 2);
}

#[test]
fn the_binary_prints_one_json_line_first() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_plenty-sandbox"))
        .args(["--port", "0", "--window-secs", "1", "--plan", "classic"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let v: Value = serde_json::from_str(&line).unwrap();
    assert!(v["base_url"].as_str().unwrap().starts_with("http://127.0.0.1:"));
    assert_eq!(
        (v["username"].as_str(), v["password"].as_str()),
        (Some("rest-user"), Some("sandbox-password"))
    );
    assert_eq!(v["plan"]["reads_per_window"], 200);
    assert_eq!(v["window_secs"], 1.0);
}

#[tokio::test]
async fn the_router_mounts_under_another_servers_origin() {
    // What the TikTok sandbox will do: merge our routes into its router, which has a fallback.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let plenty = tts_plenty_sandbox::PlentySandbox::new(Config::default(), origin.clone());
    let host = axum::Router::new()
        .route("/other", axum::routing::get(|| async { "tiktok" }))
        .merge(tts_plenty_sandbox::router(plenty))
        .fallback(|| async { (axum::http::StatusCode::NOT_FOUND, "host fallback") });
    let task = tokio::spawn(tts_plenty_sandbox::server::serve(listener, host));
    let r = reqwest::Client::new()
        .post(format!("{origin}/rest/login"))
        .json(&json!({"username": "rest-user", "password": "sandbox-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let info: Value = reqwest::get(format!("{origin}/_plenty/info"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["base_url"], origin.as_str());
    assert_eq!(
        reqwest::get(format!("{origin}/other"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "tiktok"
    );
    assert_eq!(
        reqwest::get(format!("{origin}/nope")).await.unwrap().status(),
        404
    );
    task.abort();
}
