//! The control plane on a real SQLite store: a webhook verified, stored and its consumer woken in one
//! call; one consumer dispatching to every handler, retrying the message whole when one fails; the
//! scheduler queueing a run per (shop, kind) each interval (a full inventory pass first) and starting
//! them; triggers deduplicated. The engines are attached but talk to nothing (no shop settings: a
//! started run fails at once, with the reason), which is all the scheduling guarantees need.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tts_core::secret::secret;
use tts_core::{Error, ErrorCode, Result};
use tts_store::RunStatus;
use tts_sync::control::{ControlPlane, ControlSettings, is_queued};
use tts_sync::inbox::EventHandler;
use tts_sync::runner::{Runner, RunnerSettings, SyncKind};
use tts_tiktok::webhook::{Notification, sign};

const APP_KEY: &str = "app-key";
const APP_SECRET: &str = "app-secret";

fn settings(sync_interval: Duration) -> ControlSettings {
    let mut s = ControlSettings::new(APP_KEY, vec![secret(APP_SECRET)]);
    s.sync_interval = sync_interval;
    s.stock_interval = sync_interval;
    s.busy_retry = Duration::from_millis(50);
    // An hour: anything handled in this suite was woken, not polled.
    s.inbox.idle_poll = Duration::from_secs(3600);
    s.inbox.retry_base = Duration::from_millis(20);
    s.inbox.retry_cap = Duration::from_millis(50);
    s
}

fn runner(store: Arc<dyn tts_store::Store>) -> Arc<Runner> {
    let engines = common::offline_engines(store.clone(), APP_KEY, APP_SECRET);
    Arc::new(Runner::new(
        engines,
        store,
        "test",
        RunnerSettings::default(),
        None,
    ))
}

/// Records what it was handed; fails the first `fail` times.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<String>>,
    fail: Mutex<u32>,
}

#[async_trait]
impl EventHandler for Recorder {
    async fn handle(&self, n: &Notification) -> Result<()> {
        self.seen.lock().unwrap().push(n.tts_notification_id.clone());
        let mut fail = self.fail.lock().unwrap();
        if *fail > 0 {
            *fail -= 1;
            return Err(Error::new(ErrorCode::ServiceUnavailable, "the ERP answered 503"));
        }
        Ok(())
    }
}

fn body(id: &str, shop: &str) -> Vec<u8> {
    // Topic 99 is one no engine knows: the engines' handler ignores it, the added ones get it.
    format!(
        r#"{{"type":99,"tts_notification_id":"{id}","shop_id":"{shop}","timestamp":1718305585,"data":{{}}}}"#
    )
    .into_bytes()
}

async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..500 {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_is_verified_stored_and_handled_at_once_by_every_handler_of_the_one_consumer() {
    let (_dir, store) = common::temp_store().await;
    let control = ControlPlane::new(store.clone(), settings(Duration::from_secs(3600)));
    control.attach_engines(runner(store.clone()), rust_decimal::Decimal::ONE);
    let (first, second) = (Arc::new(Recorder::default()), Arc::new(Recorder::default()));
    *second.fail.lock().unwrap() = 1;
    control.add_handler(first.clone());
    control.add_handler(second.clone());
    control.start();

    // Refused before anything is stored: a forged signature, a signed body that is no notification.
    let forged = control
        .receive_webhook(&body("1", "s1"), &"0".repeat(64))
        .await
        .unwrap_err();
    assert_eq!(forged.code(), ErrorCode::SignatureInvalid);
    let junk = b"[1,2]";
    let bad = control
        .receive_webhook(junk, &sign(APP_KEY, APP_SECRET, junk))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), ErrorCode::WebhookPayloadInvalid);
    assert_eq!(store.count_inbox_pending().await.unwrap(), 0);

    let raw = body("9200000000000000001", "s1");
    let receipt = control
        .receive_webhook(&raw, &sign(APP_KEY, APP_SECRET, &raw))
        .await
        .unwrap();
    assert!(receipt.inserted);
    assert_eq!(receipt.notification.shop_id, "s1");
    let again = control
        .receive_webhook(&raw, &sign(APP_KEY, APP_SECRET, &raw))
        .await
        .unwrap();
    assert!(!again.inserted, "TikTok's second delivery is a duplicate");

    // Woken, not polled (the idle poll is an hour). The second handler fails once: the message is
    // retried whole, so the first handler sees it twice (handlers are idempotent), then it is done.
    let done = eventually("the message to be done", async || {
        let m = store.get_inbox("9200000000000000001").await.unwrap().unwrap();
        m.processed_at.is_some().then_some(m)
    })
    .await;
    assert_eq!(done.attempts, 2);
    assert_eq!(first.seen.lock().unwrap().len(), 2);
    assert_eq!(second.seen.lock().unwrap().len(), 2);

    let status = control.status().await.unwrap();
    let w = status.webhooks;
    assert_eq!((w.received, w.accepted, w.duplicates, w.rejected), (4, 1, 1, 2));
    assert_eq!(status.inbox_pending, 0);
    control.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_handler_webhooks_wait_in_the_inbox_and_are_handled_once_one_is_added() {
    let (_dir, store) = common::temp_store().await;
    let control = ControlPlane::new(store.clone(), settings(Duration::from_secs(3600)));
    control.start();
    let raw = body("9200000000000000002", "s1");
    assert!(
        control
            .receive_webhook(&raw, &sign(APP_KEY, APP_SECRET, &raw))
            .await
            .unwrap()
            .inserted
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        store.count_inbox_pending().await.unwrap(),
        1,
        "nobody consumes it: it waits"
    );
    assert!(control.kinds().is_empty());

    let late = Arc::new(Recorder::default());
    control.add_handler(late.clone());
    eventually("the waiting message to be handled", async || {
        (store.count_inbox_pending().await.unwrap() == 0).then_some(())
    })
    .await;
    assert_eq!(
        *late.seen.lock().unwrap(),
        vec!["9200000000000000002".to_string()]
    );
    control.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_queues_every_kind_per_connected_shop_and_starts_each_run_once() {
    let (_dir, store) = common::temp_store().await;
    store
        .upsert_shop(&tts_store::conformance::sample_shop(APP_KEY, "shop-1"))
        .await
        .unwrap();
    let mut other_app = tts_store::conformance::sample_shop("another-app", "shop-2");
    other_app.status = tts_store::ShopStatus::Connected;
    store.upsert_shop(&other_app).await.unwrap();

    let control = ControlPlane::new(store.clone(), settings(Duration::from_millis(150)));
    // Before the engines attach nothing is queued by the schedule, and a trigger waits.
    assert!(control.queue_reconciliation(None, 0).await.unwrap().is_empty());
    let unknown = control.trigger(Some("nope"), None, false).await.unwrap_err();
    assert_eq!(
        (unknown.code(), unknown.field.as_deref()),
        (ErrorCode::NotFound, Some("shopId"))
    );
    let triggered = control
        .trigger(Some("shop-1"), Some(SyncKind::Inventory), true)
        .await
        .unwrap();
    assert_eq!(triggered[0].phase, "queued:full");
    let same = control
        .trigger(None, Some(SyncKind::Inventory), false)
        .await
        .unwrap();
    assert_eq!(same.len(), 1, "only shops of this app");
    assert_eq!(
        same[0].id, triggered[0].id,
        "a waiting full run covers a changed-only one"
    );

    control.attach_engines(runner(store.clone()), rust_decimal::Decimal::ONE);
    control.start();
    // Every interval each kind of shop-1 is queued and started; the shop has no settings, so each
    // run ends at once, failed with the reason, and the next interval queues it again.
    let runs = eventually("two runs of every kind", async || {
        let runs = store.list_sync_runs("shop-1", None, 200).await.unwrap();
        SyncKind::ALL
            .iter()
            .all(|k| {
                runs.iter()
                    .filter(|r| r.kind == k.as_str() && !is_queued(r))
                    .count()
                    >= 2
            })
            .then_some(runs)
    })
    .await;
    control.stop().await;
    for run in runs.iter().filter(|r| !is_queued(r)) {
        assert_eq!(run.status, RunStatus::Failed, "{run:?}");
        let error = &run.summary.as_ref().unwrap()["error"];
        assert_eq!(error["code"], "TTS_CONFIG_INVALID");
        assert_eq!(error["message"], "the shop has no sync settings");
    }
    assert!(store.list_sync_runs("shop-2", None, 10).await.unwrap().is_empty());
    let status = control.status().await.unwrap();
    assert_eq!(status.kinds.len(), 5);
    assert_eq!(status.shops.len(), 1);
}
