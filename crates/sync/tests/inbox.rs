//! The inbox processor against a real SQLite store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tts_core::{Error, ErrorCode, KeyRing, Result};
use tts_store::{InboxQuery, InboxState, NewInboxMessage, Store};
use tts_sync::inbox::{EventHandler, InboxProcessor, InboxSettings, ordering_key};
use tts_tiktok::webhook::Notification;

async fn store(dir: &tempfile::TempDir) -> Arc<dyn Store> {
    let ring = Arc::new(KeyRing::parse(&KeyRing::generate_key()).unwrap());
    tts_store::open(
        &format!("sqlite://{}", dir.path().join("inbox.db").display()),
        ring,
    )
    .await
    .unwrap()
}

fn order_event(id: &str, order: &str, status: &str, update_time: i64) -> NewInboxMessage {
    let body = format!(
        r#"{{"type":1,"tts_notification_id":"{id}","shop_id":"shop-1","timestamp":{update_time},"data":{{"order_id":"{order}","order_status":"{status}","update_time":{update_time}}}}}"#
    );
    NewInboxMessage {
        notification_id: id.into(),
        shop_id: "shop-1".into(),
        event_type: 1,
        payload: body.into_bytes(),
    }
}

fn settings(owner: &str) -> InboxSettings {
    InboxSettings {
        owner: owner.into(),
        retry_base: Duration::from_millis(1),
        retry_cap: Duration::from_millis(5),
        max_attempts: 3,
        idle_poll: Duration::from_millis(10),
        ..Default::default()
    }
}

/// Records what it handled; fails the notifications listed in `fail` with the given code.
#[derive(Default)]
struct Recorder {
    handled: Mutex<Vec<(String, String)>>,
    fail: Mutex<HashMap<String, (ErrorCode, u32)>>,
}

#[async_trait]
impl EventHandler for Recorder {
    async fn handle(&self, n: &Notification) -> Result<()> {
        if let Some((code, left)) = self.fail.lock().unwrap().get_mut(&n.tts_notification_id)
            && *left > 0
        {
            *left -= 1;
            return Err(Error::new(*code, "PlentyONE said no"));
        }
        self.handled
            .lock()
            .unwrap()
            .push((ordering_key(n), n.tts_notification_id.clone()));
        Ok(())
    }
}

#[tokio::test]
async fn out_of_order_and_duplicate_webhooks_are_handled_once_each_in_event_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    // delivered newest first, one of them twice
    for m in [
        order_event("n3", "o1", "IN_TRANSIT", 300),
        order_event("n1", "o1", "AWAITING_SHIPMENT", 100),
        order_event("n9", "o2", "AWAITING_SHIPMENT", 150),
        order_event("n2", "o1", "AWAITING_COLLECTION", 200),
        order_event("n1", "o1", "AWAITING_SHIPMENT", 100),
    ] {
        store.insert_inbox(&m).await.unwrap();
    }
    let recorder = Arc::new(Recorder::default());
    let processor = InboxProcessor::new(store.clone(), recorder.clone(), settings("w1"));
    let report = processor.run_once().await.unwrap();
    assert_eq!((report.claimed, report.done), (4, 4));
    let handled = recorder.handled.lock().unwrap().clone();
    let o1: Vec<&str> = handled
        .iter()
        .filter(|(k, _)| k.ends_with(":order:o1"))
        .map(|(_, id)| id.as_str())
        .collect();
    assert_eq!(o1, ["n1", "n2", "n3"], "oldest event first within an order");
    assert_eq!(handled.len(), 4);
    assert_eq!(processor.run_once().await.unwrap().claimed, 0, "nothing left");
}

#[tokio::test]
async fn failures_back_off_then_succeed_or_are_given_up_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    for m in [
        order_event("flaky", "o1", "AWAITING_SHIPMENT", 1),
        order_event("broken", "o2", "AWAITING_SHIPMENT", 1),
    ] {
        store.insert_inbox(&m).await.unwrap();
    }
    let bad = br#"{"type":1,"shop_id":"shop-1"}"#.to_vec();
    store
        .insert_inbox(&NewInboxMessage {
            notification_id: "poison".into(),
            shop_id: "shop-1".into(),
            event_type: 1,
            payload: bad,
        })
        .await
        .unwrap();
    let recorder = Arc::new(Recorder::default());
    recorder
        .fail
        .lock()
        .unwrap()
        .insert("flaky".into(), (ErrorCode::ServiceUnavailable, 1));
    recorder
        .fail
        .lock()
        .unwrap()
        .insert("broken".into(), (ErrorCode::RequestRejected, u32::MAX));
    let processor = InboxProcessor::new(store.clone(), recorder.clone(), settings("w1"));

    let first = processor.run_once().await.unwrap();
    assert_eq!(
        (first.claimed, first.retried, first.given_up),
        (3, 2, 1),
        "poison given up at once"
    );
    let mut total_done = 0;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        total_done += processor.run_once().await.unwrap().done;
    }
    assert_eq!(total_done, 1, "the flaky one succeeded on a later attempt");
    let flaky = store.get_inbox("flaky").await.unwrap().unwrap();
    assert_eq!(flaky.attempts, 2);

    let given_up = store
        .list_inbox(&InboxQuery {
            shop_id: None,
            state: InboxState::GivenUp,
            after_notification_id: None,
            limit: 10,
        })
        .await
        .unwrap();
    let reasons: HashMap<_, _> = given_up
        .iter()
        .map(|m| (m.notification_id.as_str(), m.last_error.clone().unwrap()))
        .collect();
    assert!(reasons["poison"].contains("unreadable payload"), "{reasons:?}");
    assert!(reasons["broken"].contains("PlentyONE said no"), "{reasons:?}");
    assert_eq!(
        store.get_inbox("broken").await.unwrap().unwrap().attempts,
        3,
        "max_attempts attempts"
    );
}

#[tokio::test]
async fn two_workers_handle_each_message_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    for i in 0..300 {
        store
            .insert_inbox(&order_event(
                &format!("n{i:04}"),
                &format!("o{}", i % 37),
                "AWAITING_SHIPMENT",
                i,
            ))
            .await
            .unwrap();
    }
    let recorder = Arc::new(Recorder::default());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|owner| {
            let processor = InboxProcessor::new(
                store.clone(),
                recorder.clone(),
                InboxSettings {
                    batch_size: 25,
                    ..settings(owner)
                },
            );
            let stopped = stopped.clone();
            tokio::spawn(async move { processor.run(stopped).await })
        })
        .collect();
    for _ in 0..500 {
        if store.count_inbox_pending().await.unwrap() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.send(true).unwrap();
    for w in workers {
        tokio::time::timeout(Duration::from_secs(5), w)
            .await
            .expect("workers stop on shutdown")
            .unwrap();
    }
    let handled = recorder.handled.lock().unwrap().clone();
    let mut ids: Vec<&str> = handled.iter().map(|(_, id)| id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((handled.len(), ids.len()), (300, 300));
}
