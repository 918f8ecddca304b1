//! Throughput of the sandbox on loopback with rate limits lifted: signed `GET /order/202309/orders?ids=..`
//! (order detail) over 64 keep-alive HTTP/1.1 connections. The server is the release binary in its own
//! process; the load generator is a lean hyper client.
//!
//! Run: `cargo bench -p tts-sandbox --bench throughput` (env BENCH_SECS, BENCH_CONNS, BENCH_IDS ≤ 5).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use sha2::Sha256;

fn sign(secret: &str, path: &str, q: &[(&str, &str)]) -> String {
    let mut q = q.to_vec();
    q.sort();
    let mut s = format!("{secret}{path}");
    for (k, v) in q {
        s.push_str(k);
        s.push_str(v);
    }
    s.push_str(secret);
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(s.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn main() {
    let secs: u64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let conns: usize = std::env::var("BENCH_CONNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64);
    // Orders per detail request (TikTok allows up to 50; the bench seeds 5).
    let per_req: usize = std::env::var("BENCH_IDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let mut child = Command::new(env!("CARGO_BIN_EXE_tts-sandbox"))
        .args(["--port", "0", "--rate-limit", "off", "--orders", "50"])
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
    let (app_key, secret) = (
        info["app_key"].as_str().unwrap().to_string(),
        info["app_secret"].as_str().unwrap().to_string(),
    );
    let cipher = info["shops"][0]["cipher"].as_str().unwrap().to_string();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let result = rt.block_on(async move {
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
        let search = {
            let ts = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs()
                .to_string();
            let path = "/order/202309/orders/search";
            let q = [
                ("app_key", app_key.as_str()),
                ("timestamp", ts.as_str()),
                ("shop_cipher", cipher.as_str()),
                ("page_size", "5"),
            ];
            let mut s = sign(&secret, path, &q);
            // POST with "{}" body: the body is signed too.
            s = {
                let mut q2 = q.to_vec();
                q2.sort();
                let mut b = format!("{secret}{path}");
                for (k, v) in q2 {
                    b.push_str(k);
                    b.push_str(v);
                }
                b.push_str("{}");
                b.push_str(&secret);
                let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
                mac.update(b.as_bytes());
                let _ = s;
                hex::encode(mac.finalize().into_bytes())
            };
            let r: Value = http
                .post(format!("{base}{path}"))
                .query(&q)
                .query(&[("sign", s)])
                .header("x-tts-access-token", &token)
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            r
        };
        let ids: Vec<String> = search["data"]["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids.len(), 5, "{search}");
        let ids = ids[..per_req.min(5)].join(",");
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            .to_string();
        let path = "/order/202309/orders";
        let q = [
            ("app_key", app_key.as_str()),
            ("timestamp", ts.as_str()),
            ("shop_cipher", cipher.as_str()),
            ("ids", ids.as_str()),
        ];
        let sig = sign(&secret, path, &q);
        let uri = format!(
            "{path}?app_key={app_key}&timestamp={ts}&shop_cipher={cipher}&ids={}&sign={sig}",
            ids.replace(',', "%2C")
        );

        let stop = Arc::new(AtomicBool::new(false));
        let counting = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicU64::new(0));
        let bad = Arc::new(AtomicU64::new(0));
        let bytes = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..conns {
            let (addr, uri, token) = (addr.clone(), uri.clone(), token.clone());
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
                    let req = hyper::Request::get(&uri)
                        .header("host", &addr)
                        .header("x-tts-access-token", &token)
                        .body(Empty::<Bytes>::new())
                        .unwrap();
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
        )
    });
    let _ = child.kill();
    let _ = child.wait();
    let (n, bad, bytes, elapsed) = result;
    let rps = n as f64 / elapsed;
    println!(
        "tts-sandbox throughput: {n} signed order-detail requests ({per_req} order(s) each) in {elapsed:.2}s over {conns} connections \
         = {rps:.0} req/s, {:.1} MB/s, {bad} non-success responses",
        bytes as f64 / elapsed / 1e6
    );
    assert_eq!(bad, 0, "every response must be a success");
}
