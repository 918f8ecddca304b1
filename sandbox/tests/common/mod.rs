//! Test helpers: an in-process sandbox on 127.0.0.1:0, an INDEPENDENT request signer (not the sandbox's
//! own), a tiny webhook receiver.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tts_sandbox::{Config, Running};

pub const LOCAL_CIPHER: &str = "ROW_SbxUsLocalShop0001AAAAAAAAAA";
pub const LOCAL_SHOP: &str = "7494049642642440001";
pub const GB_CIPHER: &str = "ROW_SbxGbCrossBorder0002AAAAAAAA";
pub const GB_SHOP: &str = "7494049642642440002";
pub const CB_OPEN_ID: &str = "sbxOpenId0000000002";

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Independent signer: written from the spec text, shares nothing with `tts_sandbox::signature`.
pub fn sign(secret: &str, path: &str, query: &[(&str, &str)], body: &str, multipart: bool) -> String {
    let mut q: Vec<_> = query
        .iter()
        .filter(|(k, _)| *k != "sign" && *k != "access_token")
        .collect();
    q.sort_by_key(|(k, _)| *k);
    let mut s = String::from(path);
    for (k, v) in q {
        s.push_str(k);
        s.push_str(v);
    }
    if !multipart {
        s.push_str(body);
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{secret}{s}{secret}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

pub fn webhook_hmac(app_key: &str, secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(app_key.as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

pub struct Sb {
    pub running: Running,
    pub http: reqwest::Client,
    pub app_key: String,
    pub secret: String,
    pub token: String,
}

/// Every answer the sandbox gave in a test holds to the API contract (requests are not checked here:
/// these tests send wrong ones on purpose).
impl Drop for Sb {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let answers: Vec<String> = self
            .running
            .sandbox
            .contract
            .divergences()
            .into_iter()
            .filter(|(d, _)| d.path.starts_with("data"))
            .map(|(d, n)| format!("  {d} (seen {n}x)"))
            .collect();
        assert!(
            answers.is_empty(),
            "the sandbox answered outside the API contract:\n{}",
            answers.join("\n")
        );
    }
}

pub struct Resp {
    pub status: u16,
    pub json: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Resp {
    pub fn code(&self) -> i64 {
        self.json["code"].as_i64().unwrap_or(-1)
    }
    pub fn msg(&self) -> &str {
        self.json["message"].as_str().unwrap_or("")
    }
}

pub async fn start_with(mut config: Config) -> Sb {
    config.port = 0;
    let app_key = config.app.app_key.clone();
    let secret = config.app.app_secret.clone();
    let running = tts_sandbox::start(config).await.expect("sandbox starts");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let mut sb = Sb {
        running,
        http,
        app_key,
        secret,
        token: String::new(),
    };
    sb.token = sb.control("POST", "/tokens", json!({})).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    sb
}

pub async fn start() -> Sb {
    start_with(Config::default()).await
}

impl Sb {
    pub fn url(&self) -> &str {
        &self.running.base_url
    }

    pub async fn control(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}/_sandbox{path}", self.url());
        let r = self
            .http
            .request(method.parse().unwrap(), url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert!(status.is_success(), "control {method} {path}: {status} {v}");
        v
    }

    pub async fn token_for(&self, open_id: &str) -> String {
        self.control("POST", "/tokens", json!({ "open_id": open_id }))
            .await["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// A signed API call. `query` excludes app_key/timestamp/sign, which are added here.
    pub async fn call_full(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
        token: Option<&str>,
        ts: i64,
    ) -> Resp {
        let ts_s = ts.to_string();
        let mut q: Vec<(&str, &str)> = vec![("app_key", &self.app_key), ("timestamp", &ts_s)];
        q.extend_from_slice(query);
        let body_s = body.map(|b| b.to_string()).unwrap_or_default();
        let sig = sign(&self.secret, path, &q, &body_s, false);
        q.push(("sign", &sig));
        self.send(method, path, &q, body_s, token).await
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        q: &[(&str, &str)],
        body: String,
        token: Option<&str>,
    ) -> Resp {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.url()))
            .query(q);
        if !body.is_empty() {
            req = req.header("content-type", "application/json").body(body);
        }
        if let Some(t) = token {
            req = req.header("x-tts-access-token", t);
        }
        let r = req.send().await.expect("request sent");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Resp {
            status,
            json,
            headers,
        }
    }

    pub async fn call(&self, method: &str, path: &str, query: &[(&str, &str)], body: Option<Value>) -> Resp {
        let token = self.token.clone();
        self.call_full(method, path, query, body, Some(&token), now())
            .await
    }

    /// Call on the local US shop (with its cipher) and assert success; returns `data`.
    pub async fn ok(&self, method: &str, path: &str, query: &[(&str, &str)], body: Option<Value>) -> Value {
        let mut q = vec![("shop_cipher", LOCAL_CIPHER)];
        q.extend_from_slice(query);
        let r = self.call(method, path, &q, body).await;
        assert_eq!((r.status, r.code()), (200, 0), "{method} {path}: {}", r.json);
        r.json["data"].clone()
    }
}

/// (Authorization header, raw body) of each delivery.
pub type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A webhook receiver on 127.0.0.1:0 recording (authorization header, raw body); answers `status`.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    pub got: Received,
    pub status: Arc<Mutex<u16>>,
}

pub async fn receiver() -> Receiver {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, StatusCode};
    let got: Received = Arc::default();
    let status = Arc::new(Mutex::new(200u16));
    let (g, s) = (got.clone(), status.clone());
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |h: HeaderMap, b: Bytes| {
            let (g, s) = (g.clone(), s.clone());
            async move {
                let auth = h
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                g.lock().unwrap().push((auth, b.to_vec()));
                StatusCode::from_u16(*s.lock().unwrap()).unwrap()
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    Receiver { url, got, status }
}

impl Receiver {
    pub fn bodies(&self) -> Vec<Value> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| serde_json::from_slice(b).unwrap())
            .collect()
    }

    /// Waits until `pred` holds for the received bodies (or panics after `secs`).
    pub async fn wait_for(&self, secs: u64, what: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let b = self.bodies();
            if pred(&b) {
                return b;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("timed out waiting for {what}; got {b:#?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
