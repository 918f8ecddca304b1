//! The runner's guarantees, on a real SQLite store: one pass per (shop, kind) across workers, a queued
//! run started once, runs left behind by a dead worker closed, every finished run observed and stored
//! with its summary. The pass itself fails fast here (the shop has no settings), which is all these
//! guarantees need; the engines' passes are proved by their own suites and the JS tests.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tts_store::RunStatus;
use tts_sync::runner::{
    Engines, RunEvent, RunOutcome, RunRequest, Runner, RunnerSettings, SyncKind, lease_name,
};

fn engines(store: Arc<dyn tts_store::Store>) -> Engines {
    common::offline_engines(store, "app", "secret")
}

fn request(kind: SyncKind, queued: Option<i64>) -> RunRequest {
    RunRequest {
        shop_id: "shop-1".into(),
        kind,
        queued_run_id: queued,
        full: false,
    }
}

#[tokio::test]
async fn one_pass_per_shop_and_kind_queued_runs_once_and_dead_workers_runs_closed() {
    let (_dir, store) = common::temp_store().await;
    let seen: Arc<Mutex<Vec<RunEvent>>> = Arc::default();
    let observed = seen.clone();
    let runner = Runner::new(
        engines(store.clone()),
        store.clone(),
        "worker-a",
        RunnerSettings {
            heartbeat: Duration::from_millis(10),
            ..Default::default()
        },
        Some(Arc::new(move |e: &RunEvent| {
            observed.lock().unwrap().push(e.clone())
        })),
    );

    // Another worker holds the (shop, returns) lease: the pass is not run, and says who has it.
    let lease = lease_name("shop-1", SyncKind::Returns);
    assert!(
        store
            .acquire_lease(&lease, "worker-b", Duration::from_secs(60))
            .await
            .unwrap()
    );
    match runner.run(request(SyncKind::Returns, None), 0).await.unwrap() {
        RunOutcome::Busy { holder } => assert_eq!(holder, "worker-b"),
        other => panic!("expected busy, got {other:?}"),
    }
    assert!(
        store
            .list_sync_runs("shop-1", Some("returns"), 10)
            .await
            .unwrap()
            .is_empty(),
        "no run recorded"
    );
    store.release_lease(&lease, "worker-b").await.unwrap();

    // A worker died mid-pass (its run still says "running"); the next pass closes it.
    let dead = store
        .start_sync_run("shop-1", "returns", "cancellations")
        .await
        .unwrap();
    let queued = store.start_sync_run("shop-1", "returns", "queued").await.unwrap();
    let finished = match runner
        .run(request(SyncKind::Returns, Some(queued.id)), 0)
        .await
        .unwrap()
    {
        RunOutcome::Finished(e) => e,
        other => panic!("expected finished, got {other:?}"),
    };
    assert_eq!((finished.run_id, finished.state), (queued.id, "failed"));
    let summary = finished.summary.clone().unwrap();
    assert_eq!(summary["report"]["error"]["code"], "TTS_NOT_FOUND", "{summary}");
    assert!(
        summary["report"]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no after-sales settings")
    );
    let stored = store.get_sync_run(queued.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.status, stored.summary.as_ref()),
        (RunStatus::Failed, Some(&summary))
    );
    let closed = store.get_sync_run(dead.id).await.unwrap().unwrap();
    assert_eq!(closed.status, RunStatus::Failed);
    assert!(closed.summary.unwrap()["interrupted"].is_string());

    // The queued run is taken: asking again does nothing; it is not a run of another kind either.
    assert!(matches!(
        runner
            .run(request(SyncKind::Returns, Some(queued.id)), 0)
            .await
            .unwrap(),
        RunOutcome::AlreadyTaken
    ));
    let other = store.start_sync_run("shop-1", "orders", "queued").await.unwrap();
    let e = runner
        .run(request(SyncKind::Returns, Some(other.id)), 0)
        .await
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("runId"));
    assert_eq!(
        store.get_sync_run(other.id).await.unwrap().unwrap().phase,
        "queued",
        "left for its own kind"
    );

    // Every finished pass was observed once; the lease is free again; nothing is left running.
    let finals: Vec<i64> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.state != "running")
        .map(|e| e.run_id)
        .collect();
    assert_eq!(finals, vec![queued.id]);
    assert!(
        store
            .acquire_lease(&lease, "worker-b", Duration::from_secs(1))
            .await
            .unwrap()
    );
    assert!(runner.active().is_empty());
}

#[tokio::test]
async fn two_runs_of_one_kind_at_once_in_one_process_exclude_each_other() {
    let (_dir, store) = common::temp_store().await;
    let runner = Arc::new(Runner::new(
        engines(store.clone()),
        store.clone(),
        "worker-a",
        RunnerSettings::default(),
        None,
    ));
    // The lease is held by a run of this very process (another request in flight).
    let lease = lease_name("shop-1", SyncKind::Orders);
    assert!(
        store
            .acquire_lease(&lease, "worker-a#99", Duration::from_secs(60))
            .await
            .unwrap()
    );
    assert!(matches!(
        runner.run(request(SyncKind::Orders, None), 0).await.unwrap(),
        RunOutcome::Busy { .. }
    ));
    // Another kind of the same shop is not held up.
    assert!(matches!(
        runner.run(request(SyncKind::Products, None), 0).await.unwrap(),
        RunOutcome::Finished(_)
    ));
}
