//! Throughput of the sandbox on loopback with rate limits lifted: signed API requests over 64 keep-alive
//! HTTP/1.1 connections. The server is the release binary in its own process; the load generator is a
//! lean hyper client on a 2-thread runtime.
//!
//! Run: `cargo bench -p tts-sandbox --bench throughput`. Environment:
//! - `BENCH_OP`: `detail` (default; `GET /order/202309/orders?ids=…`) or `search`
//!   (`POST /order/202309/orders/search`, 20 orders per page);
//! - `BENCH_IDS`: orders per detail request (1–5, default 1); `BENCH_SECS` (10); `BENCH_CONNS` (64).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use sha2::Sha256;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Independent signer (spec §1.1); returns the request target with the encoded query and sign.
fn signed_target(secret: &str, path: &str, query: &[(&str, &str)], body: &str) -> String {
    let mut q = query.to_vec();
    q.sort();
    let mut base = format!("{secret}{path}");
    for (k, v) in &q {
        base.push_str(k);
        base.push_str(v);
    }
    base.push_str(body);
    base.push_str(secret);
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(base.as_bytes());
    let sign = hex::encode(mac.finalize().into_bytes());
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &q {
        ser.append_pair(k, v);
    }
    ser.append_pair("sign", &sign);
    format!("{path}?{}", ser.finish())
}

struct Target {
    method: hyper::Method,
    uri: String,
    body: Bytes,
}

fn main() {
    let secs: u64 = env("BENCH_SECS", 10);
    let conns: usize = env("BENCH_CONNS", 64);
    let per_req: usize = env::<usize>("BENCH_IDS", 1).clamp(1, 5);
    let op: String = env("BENCH_OP", "detail".to_string());
    let mut child = Command::new(env!("CARGO_BIN_EXE_tts-sandbox"))
        .args([
            "--port",
            "0",
            "--rate-limit",
            "off",
            "--orders",
            "50",
            "--contract-check",
            "off",
        ])
        .env("TTS_SANDBOX_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start tts-sandbox");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let info: Value = serde_json::from_str(&line).unwrap();
    let base = info["base_url"].as_str().unwrap().to_string();
    let addr = base.trim_start_matches("http://").to_string();
    let app_key = info["app_key"].as_str().unwrap().to_string();
    let secret = info["app_secret"].as_str().unwrap().to_string();
    let cipher = info["shops"][0]["cipher"].as_str().unwrap().to_string();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (n, bad, bytes, elapsed, what) = rt.block_on(async move {
        let http = reqwest::Client::new();
        let tok: Value = http
            .post(format!("{base}/_sandbox/tokens"))
            .body("{}")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = tok["access_token"].as_str().unwrap().to_string();
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            .to_string();
        let common = [
            ("app_key", app_key.as_str()),
            ("timestamp", ts.as_str()),
            ("shop_cipher", cipher.as_str()),
        ];

        let search_path = "/order/202309/orders/search";
        let search_body = r#"{"order_status":"UNPAID"}"#;
        let mut q = common.to_vec();
        q.push(("page_size", "20"));
        let search_uri = signed_target(&secret, search_path, &q, search_body);
        let first: Value = http
            .post(format!("{base}{search_uri}"))
            .header("x-tts-access-token", &token)
            .header("content-type", "application/json")
            .body(search_body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ids: Vec<String> = first["data"]["orders"]
            .as_array()
            .expect("search works")
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_string())
            .collect();
        assert!(ids.len() >= 5, "{first}");

        let (target, what) = if op == "search" {
            let t = Target {
                method: hyper::Method::POST,
                uri: search_uri,
                body: Bytes::from_static(search_body.as_bytes()),
            };
            (t, "order searches (20 orders per page)".to_string())
        } else {
            let joined = ids[..per_req].join(",");
            let mut q = common.to_vec();
            q.push(("ids", &joined));
            let uri = signed_target(&secret, "/order/202309/orders", &q, "");
            (
                Target {
                    method: hyper::Method::GET,
                    uri,
                    body: Bytes::new(),
                },
                format!("order-detail requests ({per_req} order(s) each)"),
            )
        };
        let target = Arc::new(target);

        let stop = Arc::new(AtomicBool::new(false));
        let counting = Arc::new(AtomicBool::new(false));
        let (done, bad, bytes) = (
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicU64::new(0)),
        );
        let mut tasks = Vec::new();
        for _ in 0..conns {
            let (addr, target, token) = (addr.clone(), target.clone(), token.clone());
            let (stop, counting, done, bad, bytes) = (
                stop.clone(),
                counting.clone(),
                done.clone(),
                bad.clone(),
                bytes.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
                stream.set_nodelay(true).unwrap();
                let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                    .await
                    .unwrap();
                tokio::spawn(conn);
                while !stop.load(Relaxed) {
                    let mut b = hyper::Request::builder()
                        .method(target.method.clone())
                        .uri(&target.uri)
                        .header("host", &addr)
                        .header("x-tts-access-token", &token);
                    if !target.body.is_empty() {
                        b = b.header("content-type", "application/json");
                    }
                    let req = b.body(Full::new(target.body.clone())).unwrap();
                    let resp = send.send_request(req).await.unwrap();
                    let ok = resp.status() == 200;
                    let body = resp.into_body().collect().await.unwrap().to_bytes();
                    if counting.load(Relaxed) {
                        done.fetch_add(1, Relaxed);
                        bytes.fetch_add(body.len() as u64, Relaxed);
                        if !ok || !body.starts_with(b"{\"code\":0") {
                            bad.fetch_add(1, Relaxed);
                        }
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        counting.store(true, Relaxed);
        let t0 = Instant::now();
        tokio::time::sleep(Duration::from_secs(secs)).await;
        counting.store(false, Relaxed);
        let elapsed = t0.elapsed().as_secs_f64();
        stop.store(true, Relaxed);
        for t in tasks {
            let _ = t.await;
        }
        (
            done.load(Relaxed),
            bad.load(Relaxed),
            bytes.load(Relaxed),
            elapsed,
            what,
        )
    });
    let _ = child.kill();
    let _ = child.wait();
    println!(
        "tts-sandbox throughput: {n} signed {what} in {elapsed:.2}s over {conns} connections = {:.0} req/s, \
         {:.1} MB/s, {bad} non-success responses",
        n as f64 / elapsed,
        bytes as f64 / elapsed / 1e6
    );
    assert_eq!(bad, 0, "every response must be a success");
}
