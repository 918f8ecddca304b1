//! Sealing at rest, read behind the store's back: the SQLite file (and its write-ahead log) and the
//! PostgreSQL rows never hold a token or the cipher in plaintext; tampered or moved sealed values and
//! malformed rows are clean errors naming the column.

use tts_core::ErrorCode;
use tts_store::conformance::sample_shop;
use tts_store::{ProductMapping, ShopKey, Store};

use crate::common::TestDb;

const SECRETS: [&str; 3] = [
    "TTP_access_s1_plaintext",
    "TTP_refresh_s1_plaintext",
    "ROW_cipher_s1_plaintext",
];
/// Stored in clear on purpose: proves the byte search can see what is there.
const VISIBLE: &str = "Grüße aus München";

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn assert_no_secret(bytes: &[u8], what: &str) {
    for secret in SECRETS {
        assert!(
            !contains(bytes, secret),
            "{what} contains the plaintext `{secret}`"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_and_wal_hold_no_plaintext_secret() {
    let db = TestDb::sqlite();
    let store = db.open().await;
    store.upsert_shop(&sample_shop("app", "s1")).await.unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(db.sqlite_path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the database file is private to its owner");
    }
    let wal_path = db.sqlite_path().with_extension("db-wal");
    let wal = std::fs::read(&wal_path).expect("the write-ahead log exists before a checkpoint");
    assert!(contains(&wal, VISIBLE), "the shop row is in the WAL");
    assert_no_secret(&wal, "the -wal file");

    store.checkpoint().await.unwrap();
    let main = std::fs::read(db.sqlite_path()).unwrap();
    assert!(
        contains(&main, VISIBLE),
        "the shop row is in the main file after a checkpoint"
    );
    assert_no_secret(&main, "the database file");
    if let Ok(wal) = std::fs::read(&wal_path) {
        assert_no_secret(&wal, "the -wal file after checkpoint");
    }
    let shop = store.get_shop(&ShopKey::new("app", "s1")).await.unwrap().unwrap();
    assert_eq!(
        tts_core::ExposeSecret::expose_secret(&shop.access_token),
        SECRETS[0]
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_rows_hold_no_plaintext_secret() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let store = db.open().await;
    store.upsert_shop(&sample_shop("app", "s1")).await.unwrap();
    let mut conn = db.raw_pg().await;
    let rows: Vec<(String,)> = sqlx::query_as("SELECT row_to_json(s)::text FROM shops s")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let text = &rows[0].0;
    assert!(text.contains(VISIBLE), "{text}");
    assert!(text.contains("\"access_token_sealed\":\"v1.test."), "{text}");
    assert_no_secret(text.as_bytes(), "the PostgreSQL row");
    store.close().await;
}

/// Corrupts rows with raw SQL (`exec`), then checks the store's answers.
async fn malformed_rows_are_clean_errors(
    store: &dyn Store,
    exec: &mut (dyn FnMut(&'static str) -> futures_util::future::BoxFuture<'static, ()> + Send),
) {
    store.upsert_shop(&sample_shop("app", "s1")).await.unwrap();
    store.upsert_shop(&sample_shop("app", "s2")).await.unwrap();
    store
        .upsert_product_mapping(&ProductMapping::pending("shop", 1, 2))
        .await
        .unwrap();

    // a sealed token copied to another shop's row does not open there (associated data)
    exec("UPDATE shops SET access_token_sealed = (SELECT access_token_sealed FROM shops WHERE shop_id = 's1') WHERE shop_id = 's2'").await;
    let err = store.get_shop(&ShopKey::new("app", "s2")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::SealOpenFailed, "{err}");
    assert_eq!(err.field.as_deref(), Some("shops.access_token_sealed"));
    assert!(!err.to_string().contains("plaintext"));

    // an altered or unsealed value
    exec("UPDATE shops SET refresh_token_sealed = 'TTP_refresh_plain' WHERE shop_id = 's1'").await;
    let err = store.get_shop(&ShopKey::new("app", "s1")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::SealOpenFailed);
    assert_eq!(err.field.as_deref(), Some("shops.refresh_token_sealed"));

    // listing without secrets still works; listing with them names the broken row
    assert_eq!(store.list_shop_summaries(None).await.unwrap().len(), 2);
    assert_eq!(
        store.list_shops(None).await.unwrap_err().code(),
        ErrorCode::SealOpenFailed
    );

    // a malformed JSON column
    exec("UPDATE product_mappings SET audit_reasons = 'not json'").await;
    let err = store.get_product_mapping("shop", 2).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Store);
    assert_eq!(err.field.as_deref(), Some("product_mappings.audit_reasons"));
    assert!(err.message().contains("product_mappings.audit_reasons"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_malformed_rows() {
    let db = TestDb::sqlite();
    let store = db.open().await;
    let conn = std::sync::Arc::new(tokio::sync::Mutex::new(db.raw_sqlite().await));
    let mut exec = move |sql: &'static str| -> futures_util::future::BoxFuture<'static, ()> {
        let conn = conn.clone();
        Box::pin(async move {
            sqlx::query(sql).execute(&mut *conn.lock().await).await.unwrap();
        })
    };
    malformed_rows_are_clean_errors(store.as_ref(), &mut exec).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_malformed_rows() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let store = db.open().await;
    let conn = std::sync::Arc::new(tokio::sync::Mutex::new(db.raw_pg().await));
    let mut exec = move |sql: &'static str| -> futures_util::future::BoxFuture<'static, ()> {
        let conn = conn.clone();
        Box::pin(async move {
            sqlx::query(sql).execute(&mut *conn.lock().await).await.unwrap();
        })
    };
    malformed_rows_are_clean_errors(store.as_ref(), &mut exec).await;
    store.close().await;
}

/// After a key rotation (`new,old`), `reseal_shop_secrets` rewrites what the old key sealed; then the
/// old key can be dropped from the ring.
async fn key_rotation(db: &TestDb) {
    const OLD: &str = "old:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const NEW: &str = "new:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
    let ring = |spec: &str| std::sync::Arc::new(tts_core::KeyRing::parse(spec).unwrap());
    let old = tts_store::open(&db.url(), ring(OLD)).await.unwrap();
    old.upsert_shop(&sample_shop("app", "s1")).await.unwrap();
    old.upsert_shop(&tts_store::Shop {
        cipher: None,
        ..sample_shop("app", "s2")
    })
    .await
    .unwrap();
    old.close().await;

    let rotated = tts_store::open(&db.url(), ring(&format!("{NEW},{OLD}")))
        .await
        .unwrap();
    assert!(
        rotated
            .get_shop(&ShopKey::new("app", "s1"))
            .await
            .unwrap()
            .is_some(),
        "old seals still open"
    );
    assert_eq!(rotated.reseal_shop_secrets().await.unwrap(), 2);
    assert_eq!(
        rotated.reseal_shop_secrets().await.unwrap(),
        0,
        "nothing left to re-seal"
    );
    rotated.close().await;

    let new_only = tts_store::open(&db.url(), ring(NEW)).await.unwrap();
    let shop = new_only
        .get_shop(&ShopKey::new("app", "s1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        tts_core::ExposeSecret::expose_secret(&shop.access_token),
        SECRETS[0]
    );
    assert_eq!(
        tts_core::ExposeSecret::expose_secret(shop.cipher.as_ref().unwrap()),
        SECRETS[2]
    );
    assert!(
        new_only
            .get_shop(&ShopKey::new("app", "s2"))
            .await
            .unwrap()
            .unwrap()
            .cipher
            .is_none()
    );
    new_only.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_key_rotation() {
    key_rotation(&TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_key_rotation() {
    if let Some(db) = TestDb::postgres().await {
        key_rotation(&db).await;
    }
}
