//! 50 requests/s per endpoint per (app, shop), within ±10 %.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_is_enforced_within_ten_percent_at_50_per_second() {
    let sb = Arc::new(start().await);
    // Default burst is rate/10 = 5; measure in steady state after the bucket drained.
    let stop = Arc::new(AtomicBool::new(false));
    let counting = Arc::new(AtomicBool::new(false));
    let (ok, limited, other) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (sb, stop, counting, ok, limited, other) = (
            sb.clone(),
            stop.clone(),
            counting.clone(),
            ok.clone(),
            limited.clone(),
            other.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while !stop.load(Relaxed) {
                let r = sb
                    .call(
                        "GET",
                        "/logistics/202309/warehouses",
                        &[("shop_cipher", LOCAL_CIPHER)],
                        None,
                    )
                    .await;
                if !counting.load(Relaxed) {
                    continue;
                }
                match (r.status, r.code()) {
                    (200, 0) => ok.fetch_add(1, Relaxed),
                    (429, 36009002) => limited.fetch_add(1, Relaxed),
                    _ => other.fetch_add(1, Relaxed),
                };
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    counting.store(true, Relaxed);
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(2)).await;
    counting.store(false, Relaxed);
    let elapsed = t0.elapsed().as_secs_f64();
    stop.store(true, Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let (ok, limited, other) = (ok.load(Relaxed), limited.load(Relaxed), other.load(Relaxed));
    let expected = 50.0 * elapsed;
    eprintln!(
        "accepted {ok} in {elapsed:.3}s (expected {expected:.1}), rate-limited {limited}, other {other}"
    );
    assert_eq!(other, 0);
    assert!(
        limited as f64 > expected,
        "the load must be well above the limit (limited {limited})"
    );
    assert!(
        (ok as f64 - expected).abs() <= 0.10 * expected,
        "accepted {ok}, expected {expected:.1} ± 10 %"
    );

    // The counters saw the same thing, and another endpoint has its own budget.
    let c = sb.control("GET", "/counters", json!(null)).await;
    let e = &c["endpoints"]["GET /logistics/202309/warehouses"];
    assert!(e["rate_limited"].as_u64().unwrap() >= limited);
    let r = sb.call("GET", "/seller/202309/shops", &[], None).await;
    assert_eq!(r.code(), 0);
}

#[tokio::test]
async fn limit_is_configurable_and_can_be_lifted_and_retry_after_is_optional() {
    let sb = start().await;
    sb.control("PUT", "/rate_limit", json!({ "per_second": 2, "burst": 2 }))
        .await;
    let mut codes = Vec::new();
    for _ in 0..4 {
        let r = sb.call("GET", "/seller/202309/shops", &[], None).await;
        codes.push(r.code());
        if r.code() == 36009002 {
            assert_eq!(r.status, 429);
            assert!(
                r.headers.get("retry-after").is_none(),
                "Retry-After is off by default"
            );
        }
    }
    assert_eq!(codes, vec![0, 0, 36009002, 36009002]);
    sb.control(
        "PUT",
        "/rate_limit",
        json!({ "per_second": 1, "burst": 1, "retry_after": true }),
    )
    .await;
    sb.call("GET", "/seller/202309/shops", &[], None).await;
    let r = sb.call("GET", "/seller/202309/shops", &[], None).await;
    assert_eq!(r.headers["retry-after"], "1");
    sb.control("PUT", "/rate_limit", json!({ "per_second": null }))
        .await;
    for _ in 0..100 {
        assert_eq!(sb.call("GET", "/seller/202309/shops", &[], None).await.code(), 0);
    }
}
