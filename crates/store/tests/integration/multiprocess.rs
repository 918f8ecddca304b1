//! Several real OS processes (the `tts-store-worker` binary) on one database, as several middleware
//! instances behind a load balancer (PostgreSQL), or several processes sharing one SQLite file.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tts_core::ExposeSecret;
use tts_store::conformance::sample_shop;
use tts_store::{Shop, ShopKey, now_millis, now_seconds};

use crate::common::{TestDb, run_worker, worker};

/// A stand-in for TikTok's token endpoint: counts requests, answers slowly (so a second refresher
/// would certainly overlap), records the refresh tokens it was sent.
struct CountingAuthServer {
    addr: String,
    requests: Arc<AtomicUsize>,
    bodies: Arc<Mutex<Vec<String>>>,
}

fn start_auth_server() -> CountingAuthServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let requests = Arc::new(AtomicUsize::new(0));
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let (count, seen) = (requests.clone(), bodies.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let (count, seen) = (count.clone(), seen.clone());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).ok();
                count.fetch_add(1, Ordering::SeqCst);
                seen.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&body).into_owned());
                std::thread::sleep(Duration::from_millis(500));
                let json =
                    r#"{"access_token":"TTP_access_from_server","refresh_token":"TTP_refresh_from_server"}"#;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
                    json.len()
                );
            });
        }
    });
    CountingAuthServer {
        addr,
        requests,
        bodies,
    }
}

async fn two_processes_refresh_an_expired_token_once(db: TestDb) {
    let store = db.open().await;
    let shop = Shop {
        access_token_expires_at: now_seconds() - 10,
        ..sample_shop("app", "mp-shop")
    };
    store.upsert_shop(&shop).await.unwrap();
    let server = start_auth_server();

    // Both start their refresh at the same instant.
    let start_at = (now_millis() + 1500).to_string();
    let children: Vec<_> = (0..2)
        .map(|_| {
            let mut cmd = worker();
            cmd.args(["refresh", "--url", &db.url(), "--app", "app", "--shop", "mp-shop"])
                .args(["--endpoint", &server.addr, "--start-at-ms", &start_at]);
            std::thread::spawn(move || run_worker(cmd))
        })
        .collect();
    let outputs: Vec<Vec<String>> = children.into_iter().map(|c| c.join().unwrap()).collect();

    assert_eq!(
        server.requests.load(Ordering::SeqCst),
        1,
        "exactly one refresh reached the auth server"
    );
    assert!(server.bodies.lock().unwrap()[0].contains("TTP_refresh_mp-shop_plaintext"));
    let mut refreshed = 0;
    for lines in &outputs {
        assert!(
            lines.contains(&"token=TTP_access_from_server".to_string()),
            "{lines:?}"
        );
        refreshed += lines.iter().filter(|l| *l == "refreshed=true").count();
    }
    assert_eq!(
        refreshed, 1,
        "one process refreshed, the other read the new token: {outputs:?}"
    );
    let stored = store
        .get_shop(&ShopKey::new("app", "mp-shop"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.access_token.expose_secret(), "TTP_access_from_server");
    assert_eq!(stored.refresh_token.expose_secret(), "TTP_refresh_from_server");
    store.close().await;
}

/// Fills the inbox with `rows` messages in one statement (the drain is what is measured).
async fn fill_inbox(db: &TestDb, rows: i64) {
    const COLUMNS: &str = "webhook_inbox (notification_id, shop_id, event_type, payload, received_at, attempts, available_at_ms)";
    match db {
        TestDb::Postgres { .. } => {
            sqlx::query(&format!(
                "INSERT INTO {COLUMNS}
                 SELECT 'n-' || lpad(g::text, 5, '0'), 'shop', 1, convert_to('{{\"i\":' || g || '}}', 'UTF8'), 0, 0, 0
                 FROM generate_series(1, $1) g"
            ))
            .bind(rows)
            .execute(&mut db.raw_pg().await)
            .await
            .unwrap();
        }
        TestDb::Sqlite { .. } => {
            sqlx::query(&format!(
                "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < $1)
                 INSERT INTO {COLUMNS}
                 SELECT printf('n-%05d', x), 'shop', 1, CAST('{{\"i\":' || x || '}}' AS BLOB), 0, 0, 0 FROM g"
            ))
            .bind(rows)
            .execute(&mut db.raw_sqlite().await)
            .await
            .unwrap();
        }
    }
}

async fn attempts_histogram(db: &TestDb) -> Vec<(i64, i64)> {
    const SQL: &str = "SELECT attempts, COUNT(*) FROM webhook_inbox WHERE processed_at IS NOT NULL GROUP BY attempts ORDER BY attempts";
    match db {
        TestDb::Postgres { .. } => sqlx::query_as(SQL)
            .fetch_all(&mut db.raw_pg().await)
            .await
            .unwrap(),
        TestDb::Sqlite { .. } => sqlx::query_as(SQL)
            .fetch_all(&mut db.raw_sqlite().await)
            .await
            .unwrap(),
    }
}

async fn four_processes_drain_exactly_once(db: TestDb, rows: usize) {
    let store = db.open().await;
    fill_inbox(&db, rows as i64).await;
    let started = Instant::now();
    let children: Vec<_> = (0..4)
        .map(|i| {
            let mut cmd = worker();
            cmd.args([
                "drain",
                "--url",
                &db.url(),
                "--owner",
                &format!("worker-{i}"),
                "--batch",
                "100",
            ]);
            std::thread::spawn(move || run_worker(cmd))
        })
        .collect();
    let outputs: Vec<Vec<String>> = children.into_iter().map(|c| c.join().unwrap()).collect();
    let elapsed = started.elapsed();

    let mut all = Vec::new();
    for lines in &outputs {
        assert!(
            lines.iter().all(|l| l.starts_with("done ")),
            "no claim was lost: {:?}",
            lines.iter().find(|l| !l.starts_with("done "))
        );
        all.extend(lines.iter().map(|l| l["done ".len()..].to_string()));
    }
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "no message processed twice");
    assert_eq!(all.len(), rows, "none missing");
    assert_eq!(store.count_inbox_pending().await.unwrap(), 0);
    assert_eq!(
        attempts_histogram(&db).await,
        [(1, rows as i64)],
        "every message was claimed exactly once"
    );
    let per_worker: Vec<usize> = outputs.iter().map(Vec::len).collect();
    eprintln!("4 processes drained {rows} messages in {elapsed:?}; per worker: {per_worker:?}");
    store.close().await;
}

async fn a_killed_workers_claims_come_back_after_the_lease(db: TestDb) {
    let store = db.open().await;
    fill_inbox(&db, 300).await;

    // Worker A claims 50 with a 2 s lease, then is killed with SIGKILL before completing any.
    let mut a = worker()
        .args([
            "drain",
            "--url",
            &db.url(),
            "--owner",
            "doomed",
            "--batch",
            "50",
            "--lease-ms",
            "2000",
            "--hang-after-claim",
        ])
        .spawn()
        .unwrap();
    let mut claimed = HashSet::new();
    for line in BufReader::new(a.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if line == "hanging" {
            break;
        }
        claimed.insert(line.strip_prefix("claimed ").unwrap().to_string());
    }
    assert_eq!(claimed.len(), 50);
    let killed_at = Instant::now();
    a.kill().unwrap(); // SIGKILL on Unix
    a.wait().unwrap();

    // Worker B drains everything, A's rows once their lease has run out.
    let mut cmd = worker();
    cmd.args([
        "drain",
        "--url",
        &db.url(),
        "--owner",
        "rescuer",
        "--batch",
        "100",
        "--timeout-ms",
        "20000",
    ]);
    let lines = tokio::task::spawn_blocking(move || run_worker(cmd))
        .await
        .unwrap();
    let done: HashSet<String> = lines
        .iter()
        .map(|l| l.strip_prefix("done ").unwrap().to_string())
        .collect();
    assert_eq!(done.len(), 300);
    assert!(
        claimed.is_subset(&done),
        "the killed worker's rows were processed by the other"
    );
    assert!(
        killed_at.elapsed() >= Duration::from_millis(1500),
        "A's rows waited for the lease"
    );
    assert_eq!(attempts_histogram(&db).await, [(1, 250), (2, 50)]);
    for id in claimed.iter().take(5) {
        let m = store.get_inbox(id).await.unwrap().unwrap();
        assert_eq!((m.attempts, m.lease_owner.as_deref()), (2, Some("rescuer")));
    }
    store.close().await;
}

/// Four processes opening a fresh database at once: each succeeds, the migrations are applied once.
async fn four_processes_start_on_a_fresh_database(db: TestDb) {
    let children: Vec<_> = (0..4)
        .map(|i| {
            let mut cmd = worker();
            cmd.args(["drain", "--url", &db.url(), "--owner", &format!("starter-{i}")]);
            std::thread::spawn(move || run_worker(cmd))
        })
        .collect();
    for child in children {
        assert!(child.join().unwrap().is_empty(), "nothing to drain");
    }
    let store = db.open().await;
    assert_eq!(store.schema_versions().await.unwrap(), [1, 2, 3, 4]);
    store.close().await;
}

macro_rules! on_both_backends {
    ($($name:ident => $body:ident;)+) => {
        mod postgres {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = TestDb::postgres().await else { return };
                    super::$body(db).await;
                }
            )+
        }
        mod sqlite {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$body(TestDb::sqlite()).await;
                }
            )+
        }
    };
}

on_both_backends! {
    two_processes_refresh_an_expired_token_once => two_processes_refresh_an_expired_token_once;
    a_killed_workers_claims_come_back_after_the_lease => a_killed_workers_claims_come_back_after_the_lease;
    four_processes_start_on_a_fresh_database => four_processes_start_on_a_fresh_database;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_four_processes_drain_10000_messages_exactly_once() {
    if let Some(db) = TestDb::postgres().await {
        four_processes_drain_exactly_once(db, 10_000).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_four_processes_drain_messages_exactly_once() {
    four_processes_drain_exactly_once(TestDb::sqlite(), 3_000).await;
}
