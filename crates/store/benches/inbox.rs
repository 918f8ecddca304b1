//! Inbox throughput: insert N webhooks (8 concurrent receivers, one row per call, as deliveries
//! arrive), then drain them with 4 concurrent workers claiming batches of 100 and completing each
//! message. Prints a markdown table.
//!
//! `cargo bench -p tts-store --bench inbox` (set `TIKTOK_SHOP_TEST_POSTGRES_URL` to include
//! PostgreSQL; `TTS_BENCH_ROWS` changes N, default 20000).

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::Connection;
use tts_core::KeyRing;
use tts_store::{NewInboxMessage, Store};

const RECEIVERS: usize = 8;
const WORKERS: usize = 4;
const BATCH: u32 = 100;

struct Row {
    backend: String,
    rows: usize,
    insert: Duration,
    drain: Duration,
    drain_batch: Duration,
}

async fn bench(store: Arc<dyn Store>, label: &str, rows: usize) -> Row {
    let (insert, drain) = round(store.clone(), "single", rows, false).await;
    let (_, drain_batch) = round(store, "batch", rows, true).await;
    Row {
        backend: label.to_string(),
        rows,
        insert,
        drain,
        drain_batch,
    }
}

/// Inserts `rows` messages, then drains them; returns (insert time, drain time).
async fn round(
    store: Arc<dyn Store>,
    prefix: &'static str,
    rows: usize,
    batch_complete: bool,
) -> (Duration, Duration) {
    let payload = br#"{"type":1,"tts_notification_id":"x","shop_id":"7495","timestamp":1700000000,"data":{"order_id":"576461413038785752","order_status":"AWAITING_SHIPMENT","update_time":1700000000}}"#.to_vec();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for r in 0..RECEIVERS {
        let (store, payload) = (store.clone(), payload.clone());
        tasks.push(tokio::spawn(async move {
            for i in (r..rows).step_by(RECEIVERS) {
                let message = NewInboxMessage {
                    notification_id: format!("{prefix}-{i:08}"),
                    shop_id: "7495".into(),
                    event_type: 1,
                    payload: payload.clone(),
                };
                assert!(store.insert_inbox(&message).await.unwrap());
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let insert = started.elapsed();

    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..WORKERS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let owner = format!("bench-worker-{w}");
            let mut done = 0usize;
            loop {
                let batch = store
                    .claim_inbox(&owner, BATCH, Duration::from_secs(60))
                    .await
                    .unwrap();
                if batch.is_empty() {
                    break;
                }
                if batch_complete {
                    let ids: Vec<String> = batch.into_iter().map(|m| m.notification_id).collect();
                    done += store.complete_inbox_batch(&ids, &owner).await.unwrap().len();
                } else {
                    for m in batch {
                        assert!(store.complete_inbox(&m.notification_id, &owner).await.unwrap());
                        done += 1;
                    }
                }
            }
            done
        }));
    }
    let mut done = 0;
    for t in tasks {
        done += t.await.unwrap();
    }
    assert_eq!(done, rows);
    (insert, started.elapsed())
}

fn per_second(rows: usize, d: Duration) -> String {
    format!("{:.0}", rows as f64 / d.as_secs_f64())
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let rows: usize = std::env::var("TTS_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let ring = Arc::new(KeyRing::parse(&KeyRing::generate_key()).unwrap());
    let mut results = Vec::new();

    for sync in ["full", "normal"] {
        let dir = std::env::temp_dir().join(format!("tts_store_bench_{}", rand::random::<u32>()));
        let url = format!("sqlite://{}/store.db?synchronous={sync}", dir.display());
        let store = tts_store::open(&url, ring.clone()).await.unwrap();
        results.push(bench(store.clone(), &format!("SQLite (WAL, synchronous={sync})"), rows).await);
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    match std::env::var("TIKTOK_SHOP_TEST_POSTGRES_URL") {
        Ok(base) if !base.is_empty() => {
            let schema = format!("tts_bench_{}", rand::random::<u32>());
            let mut conn = sqlx::PgConnection::connect(&base).await.unwrap();
            sqlx::query(&format!("CREATE SCHEMA {schema}"))
                .execute(&mut conn)
                .await
                .unwrap();
            let sep = if base.contains('?') { '&' } else { '?' };
            let store = tts_store::open(&format!("{base}{sep}options[search_path]={schema}"), ring.clone())
                .await
                .unwrap();
            results.push(bench(store.clone(), "PostgreSQL (local, pool of 8)", rows).await);
            store.close().await;
            sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                .execute(&mut conn)
                .await
                .unwrap();
        }
        _ => eprintln!("SKIPPED PostgreSQL: TIKTOK_SHOP_TEST_POSTGRES_URL not set"),
    }

    println!(
        "| backend | rows | insert (rows/s, {RECEIVERS} receivers) | claim {BATCH} + complete each (rows/s, {WORKERS} workers) | claim {BATCH} + complete batch (rows/s, {WORKERS} workers) | insert + claim + complete each (rows/s) |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for r in &results {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            r.backend,
            r.rows,
            per_second(r.rows, r.insert),
            per_second(r.rows, r.drain),
            per_second(r.rows, r.drain_batch),
            per_second(r.rows, r.insert + r.drain)
        );
    }
}
