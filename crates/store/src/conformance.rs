//! The conformance battery: what every [`Store`] backend must do, run against real databases
//! (after shopify-app-js's session-storage battery). Each case takes a fresh, empty store; run them
//! with one test per case per backend (see `tests/integration/conformance.rs`). Cases panic on failure.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::future::BoxFuture;
use tts_core::{ErrorCode, ExposeSecret, Result, SecretString};

use crate::model::*;
use crate::store::Store;

/// Opens another handle on the same database (a second process, in effect).
pub type Opener = Arc<dyn Fn() -> BoxFuture<'static, Result<Arc<dyn Store>>> + Send + Sync>;

/// What a case gets: a fresh store and a way to open the same database again.
pub struct Ctx {
    pub store: Arc<dyn Store>,
    pub open_again: Opener,
}

/// Every case, by name, in a stable order.
pub const CASES: &[&str] = &[
    "shops_round_trip",
    "refresh_token_exclusive",
    "product_mappings",
    "order_mappings",
    "concurrent_upserts",
    "inbox",
    "inbox_concurrent_claims",
    "sync_state",
    "oauth_state",
    "leases",
    "secrets",
    "pushed_values",
    "order_reservations",
    "input_validation",
    "migrations_twice",
];

/// Runs one case by name.
pub async fn run(case: &str, ctx: &Ctx) {
    match case {
        "shops_round_trip" => shops_round_trip(ctx).await,
        "refresh_token_exclusive" => refresh_token_exclusive(ctx).await,
        "product_mappings" => product_mappings(ctx).await,
        "order_mappings" => order_mappings(ctx).await,
        "concurrent_upserts" => concurrent_upserts(ctx).await,
        "inbox" => inbox(ctx).await,
        "inbox_concurrent_claims" => inbox_concurrent_claims(ctx).await,
        "sync_state" => sync_state(ctx).await,
        "oauth_state" => oauth_state(ctx).await,
        "leases" => leases(ctx).await,
        "secrets" => secrets(ctx).await,
        "pushed_values" => pushed_values(ctx).await,
        "order_reservations" => order_reservations(ctx).await,
        "input_validation" => input_validation(ctx).await,
        "migrations_twice" => migrations_twice(ctx).await,
        other => panic!("unknown conformance case `{other}`"),
    }
}

const UNICODE: &str = "Grüße aus München 🛒 — 深圳小店 ✓";

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_string())
}

/// A shop with every field set (unicode name, cipher, scopes).
pub fn sample_shop(app_key: &str, shop_id: &str) -> Shop {
    let now = now_seconds();
    Shop {
        app_key: app_key.into(),
        shop_id: shop_id.into(),
        region: "DE".into(),
        shop_name: Some(format!("{UNICODE} {shop_id}")),
        seller_type: Some("LOCAL".into()),
        shop_code: Some("DELCXW4ULB".into()),
        cipher: Some(secret(&format!("ROW_cipher_{shop_id}_plaintext"))),
        access_token: secret(&format!("TTP_access_{shop_id}_plaintext")),
        access_token_expires_at: now + 7 * 86_400,
        refresh_token: secret(&format!("TTP_refresh_{shop_id}_plaintext")),
        refresh_token_expires_at: now + 365 * 86_400,
        granted_scopes: vec!["seller.product.basic".into(), "seller.order.info".into()],
        status: ShopStatus::Connected,
        created_at: 0,
        updated_at: 0,
    }
}

fn assert_shop_eq(got: &Shop, want: &Shop) {
    assert_eq!(got.app_key, want.app_key);
    assert_eq!(got.shop_id, want.shop_id);
    assert_eq!(got.region, want.region);
    assert_eq!(got.shop_name, want.shop_name);
    assert_eq!(got.seller_type, want.seller_type);
    assert_eq!(got.shop_code, want.shop_code);
    assert_eq!(
        got.cipher.as_ref().map(|c| c.expose_secret().to_string()),
        want.cipher.as_ref().map(|c| c.expose_secret().to_string())
    );
    assert_eq!(
        got.access_token.expose_secret(),
        want.access_token.expose_secret()
    );
    assert_eq!(got.access_token_expires_at, want.access_token_expires_at);
    assert_eq!(
        got.refresh_token.expose_secret(),
        want.refresh_token.expose_secret()
    );
    assert_eq!(got.refresh_token_expires_at, want.refresh_token_expires_at);
    assert_eq!(got.granted_scopes, want.granted_scopes);
    assert_eq!(got.status, want.status);
}

fn code<T: std::fmt::Debug>(result: Result<T>) -> ErrorCode {
    result.expect_err("expected an error").code()
}

fn field<T: std::fmt::Debug>(result: Result<T>) -> String {
    let err = result.expect_err("expected an error");
    assert_eq!(err.code(), ErrorCode::InvalidArgument, "{err}");
    err.field.clone().unwrap_or_default()
}

pub async fn shops_round_trip(ctx: &Ctx) {
    let s = &ctx.store;
    let full = sample_shop("appA", "7495000000000000001");
    s.upsert_shop(&full).await.unwrap();
    let got = s.get_shop(&full.key()).await.unwrap().expect("stored shop");
    assert_shop_eq(&got, &full);
    assert!(got.created_at > 0 && got.updated_at >= got.created_at);
    assert!(
        !format!("{got:?}").contains("plaintext"),
        "Debug must redact secrets"
    );

    // absent optional fields come back absent
    let minimal = Shop {
        shop_name: None,
        seller_type: None,
        shop_code: None,
        cipher: None,
        granted_scopes: vec![],
        ..sample_shop("appA", "7495000000000000002")
    };
    s.upsert_shop(&minimal).await.unwrap();
    assert_shop_eq(&s.get_shop(&minimal.key()).await.unwrap().unwrap(), &minimal);

    // upsert replaces, keeps created_at
    let updated = Shop {
        access_token: secret("TTP_access_new"),
        shop_name: Some("日本語の店 🎌".into()),
        ..sample_shop("appA", "7495000000000000001")
    };
    s.upsert_shop(&updated).await.unwrap();
    let got2 = s.get_shop(&updated.key()).await.unwrap().unwrap();
    assert_shop_eq(&got2, &updated);
    assert_eq!(got2.created_at, got.created_at);

    // same shop under another app is another row
    s.upsert_shop(&sample_shop("appB", "7495000000000000001"))
        .await
        .unwrap();
    assert_eq!(s.list_shops(Some("appA")).await.unwrap().len(), 2);
    assert_eq!(s.list_shops(None).await.unwrap().len(), 3);
    let ids: Vec<_> = s
        .list_shops(Some("appA"))
        .await
        .unwrap()
        .into_iter()
        .map(|x| x.shop_id)
        .collect();
    assert_eq!(ids, ["7495000000000000001", "7495000000000000002"]);

    let summaries = s.list_shop_summaries(Some("appA")).await.unwrap();
    assert_eq!(summaries.len(), 2);
    assert_eq!(summaries[0].shop_name, updated.shop_name);
    assert!(summaries[0].has_cipher && !summaries[1].has_cipher);
    assert_eq!(summaries[0].granted_scopes, updated.granted_scopes);
    assert_eq!(
        summaries[0].access_token_expires_at,
        updated.access_token_expires_at
    );
    assert_eq!(s.list_shop_summaries(None).await.unwrap().len(), 3);

    assert!(s.mark_shop_deauthorized(&full.key()).await.unwrap());
    assert_eq!(
        s.get_shop(&full.key()).await.unwrap().unwrap().status,
        ShopStatus::Deauthorized
    );
    assert!(
        !s.mark_shop_deauthorized(&ShopKey::new("appA", "nope"))
            .await
            .unwrap()
    );

    assert!(s.delete_shop(&minimal.key()).await.unwrap());
    assert!(!s.delete_shop(&minimal.key()).await.unwrap());
    assert!(s.get_shop(&minimal.key()).await.unwrap().is_none());
}

fn counting_refresh(calls: Arc<AtomicUsize>, new_access: &str, delay: Duration) -> crate::store::RefreshFn {
    let new_access = new_access.to_string();
    Box::new(move |current: SecretString| {
        Box::pin(async move {
            calls.fetch_add(1, Ordering::SeqCst);
            assert!(
                current.expose_secret().starts_with("TTP_refresh"),
                "refresh gets the stored refresh token"
            );
            tokio::time::sleep(delay).await;
            Ok(NewTokens {
                access_token: secret(&new_access),
                access_token_expires_at: now_seconds() + 7 * 86_400,
                refresh_token: secret("TTP_refresh_rotated"),
                refresh_token_expires_at: now_seconds() + 365 * 86_400,
            })
        })
    })
}

pub async fn refresh_token_exclusive(ctx: &Ctx) {
    let s = &ctx.store;
    let margin = Duration::from_secs(300);
    let fresh = sample_shop("app", "fresh");
    s.upsert_shop(&fresh).await.unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let token = s
        .refresh_token_exclusive(
            &fresh.key(),
            now_seconds(),
            margin,
            counting_refresh(calls.clone(), "x", Duration::ZERO),
        )
        .await
        .unwrap();
    assert!(!token.refreshed);
    assert_eq!(
        token.access_token.expose_secret(),
        fresh.access_token.expose_secret()
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0, "a fresh token is not refreshed");

    // expiring: 10 concurrent callers, one refresh, everyone gets the new token
    let expiring = Shop {
        access_token_expires_at: now_seconds() + 60,
        ..sample_shop("app", "expiring")
    };
    s.upsert_shop(&expiring).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (s, calls, key) = (s.clone(), calls.clone(), expiring.key());
        tasks.push(tokio::spawn(async move {
            s.refresh_token_exclusive(
                &key,
                now_seconds(),
                margin,
                counting_refresh(calls, "TTP_access_new", Duration::from_millis(100)),
            )
            .await
            .unwrap()
        }));
    }
    let mut refreshed = 0;
    for task in tasks {
        let token = task.await.unwrap();
        assert_eq!(token.access_token.expose_secret(), "TTP_access_new");
        refreshed += usize::from(token.refreshed);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1, "exactly one refresh");
    assert_eq!(refreshed, 1);
    let stored = s.get_shop(&expiring.key()).await.unwrap().unwrap();
    assert_eq!(stored.access_token.expose_secret(), "TTP_access_new");
    assert_eq!(stored.refresh_token.expose_secret(), "TTP_refresh_rotated");

    // a failing refresh changes nothing and passes its error through
    let failing = Shop {
        access_token_expires_at: now_seconds() - 1,
        ..sample_shop("app", "failing")
    };
    s.upsert_shop(&failing).await.unwrap();
    let err = s
        .refresh_token_exclusive(
            &failing.key(),
            now_seconds(),
            margin,
            Box::new(|_| {
                Box::pin(async {
                    Err(tts_core::Error::new(
                        ErrorCode::ReauthorizationRequired,
                        "revoked",
                    ))
                })
            }),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ReauthorizationRequired);
    assert_shop_eq(&s.get_shop(&failing.key()).await.unwrap().unwrap(), &failing);
    // …and releases the lock: the next refresh goes through
    let token = s
        .refresh_token_exclusive(
            &failing.key(),
            now_seconds(),
            margin,
            counting_refresh(calls.clone(), "after", Duration::ZERO),
        )
        .await
        .unwrap();
    assert!(token.refreshed);

    assert_eq!(
        code(
            s.refresh_token_exclusive(
                &ShopKey::new("app", "absent"),
                0,
                margin,
                counting_refresh(calls.clone(), "x", Duration::ZERO)
            )
            .await
        ),
        ErrorCode::NotFound
    );
    s.mark_shop_deauthorized(&expiring.key()).await.unwrap();
    assert_eq!(
        code(
            s.refresh_token_exclusive(
                &expiring.key(),
                i64::MAX / 4,
                margin,
                counting_refresh(calls.clone(), "x", Duration::ZERO)
            )
            .await
        ),
        ErrorCode::ReauthorizationRequired
    );
}

pub async fn product_mappings(ctx: &Ctx) {
    let s = &ctx.store;
    let full = ProductMapping {
        tiktok_product_id: Some("1729382256910270000".into()),
        tiktok_sku_id: Some("1729382256910270001".into()),
        seller_sku: Some(format!("SKU-{UNICODE}")),
        sync_status: SyncStatus::Error,
        sync_error: Some(format!("{UNICODE} ").repeat(10_240 / UNICODE.len() + 1)),
        last_synced_at: Some(1_700_000_000),
        audit_status: Some("FAILED".into()),
        audit_reasons: vec!["Bild zu klein 📷".into(), "类目错误".into()],
        ..ProductMapping::pending("shop1", 100, 1001)
    };
    assert!(full.sync_error.as_ref().unwrap().len() > 10_000);
    s.upsert_product_mapping(&full).await.unwrap();
    let got = s.get_product_mapping("shop1", 1001).await.unwrap().unwrap();
    assert_eq!(
        ProductMapping {
            created_at: 0,
            updated_at: 0,
            ..got.clone()
        },
        full
    );
    assert!(got.created_at > 0);

    let bare = ProductMapping::pending("shop1", 100, 1002);
    s.upsert_product_mapping(&bare).await.unwrap();
    let got = s.get_product_mapping("shop1", 1002).await.unwrap().unwrap();
    assert_eq!(
        ProductMapping {
            created_at: 0,
            updated_at: 0,
            ..got
        },
        bare
    );
    assert!(s.get_product_mapping("shop1", 9999).await.unwrap().is_none());

    // upsert replaces
    let synced = ProductMapping {
        tiktok_product_id: Some("1729382256910270000".into()),
        tiktok_sku_id: Some("1729382256910270002".into()),
        sync_status: SyncStatus::Synced,
        ..bare.clone()
    };
    s.upsert_product_mapping(&synced).await.unwrap();
    assert_eq!(
        s.get_product_mapping("shop1", 1002)
            .await
            .unwrap()
            .unwrap()
            .sync_status,
        SyncStatus::Synced
    );
    let by_product = s
        .find_product_mappings_by_tiktok_product("shop1", "1729382256910270000")
        .await
        .unwrap();
    assert_eq!(
        by_product
            .iter()
            .map(|m| m.plenty_variation_id)
            .collect::<Vec<_>>(),
        [1001, 1002]
    );

    // pagination and filters; another shop's rows stay separate
    for v in 2000..2025 {
        let status = if v % 5 == 0 {
            SyncStatus::Error
        } else {
            SyncStatus::Pending
        };
        s.upsert_product_mapping(&ProductMapping {
            sync_status: status,
            ..ProductMapping::pending("shop1", 200, v)
        })
        .await
        .unwrap();
        s.upsert_product_mapping(&ProductMapping::pending("shop2", 200, v))
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = s
            .list_product_mappings(&ProductMappingQuery {
                shop_id: "shop1".into(),
                status: None,
                after_variation_id: after,
                limit: 10,
            })
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 10);
        after = page.last().map(|m| m.plenty_variation_id);
        seen.extend(page.into_iter().map(|m| m.plenty_variation_id));
    }
    assert_eq!(seen.len(), 27);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "ordered by variation id");
    let errors = s
        .list_product_mappings(&ProductMappingQuery {
            shop_id: "shop1".into(),
            status: Some(SyncStatus::Error),
            after_variation_id: None,
            limit: 100,
        })
        .await
        .unwrap();
    assert_eq!(
        errors.iter().map(|m| m.plenty_variation_id).collect::<Vec<_>>(),
        [1001, 2000, 2005, 2010, 2015, 2020]
    );

    // delete what is missing from the catalog
    let keep: Vec<i64> = (2000..2010).chain([1001, 424242]).collect();
    assert_eq!(
        s.delete_product_mappings_except("shop1", &keep).await.unwrap(),
        27 - 11
    );
    assert_eq!(s.delete_product_mappings_except("shop1", &keep).await.unwrap(), 0);
    let left = s
        .list_product_mappings(&ProductMappingQuery {
            shop_id: "shop1".into(),
            status: None,
            after_variation_id: None,
            limit: 100,
        })
        .await
        .unwrap();
    assert_eq!(left.len(), 11);
    assert_eq!(
        s.count_product_mappings("shop1").await.unwrap(),
        SyncCounts {
            pending: 8,
            synced: 0,
            error: 3
        }
    );
    assert_eq!(
        s.count_product_mappings("nobody").await.unwrap(),
        SyncCounts::default()
    );
    let shop2 = ProductMappingQuery {
        shop_id: "shop2".into(),
        status: None,
        after_variation_id: None,
        limit: 100,
    };
    assert_eq!(
        s.list_product_mappings(&shop2).await.unwrap().len(),
        25,
        "other shops untouched"
    );
    assert_eq!(
        s.delete_product_mappings_except("shop2", &[]).await.unwrap(),
        25,
        "empty set deletes all"
    );
    assert!(s.list_product_mappings(&shop2).await.unwrap().is_empty());
}

pub async fn order_mappings(ctx: &Ctx) {
    let s = &ctx.store;
    let pending = OrderMapping::pending("shop1", "576461413038785752");
    assert!(s.insert_order_mapping_if_absent(&pending).await.unwrap());
    assert!(
        !s.insert_order_mapping_if_absent(&pending).await.unwrap(),
        "second insert is not new"
    );
    let got = s
        .get_order_mapping("shop1", "576461413038785752")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        OrderMapping {
            created_at: 0,
            updated_at: 0,
            ..got.clone()
        },
        pending
    );

    let done = OrderMapping {
        plenty_order_id: Some(4711),
        tiktok_status: Some("AWAITING_SHIPMENT".into()),
        tiktok_update_time: Some(1_700_000_123),
        sync_status: SyncStatus::Synced,
        last_synced_at: Some(1_700_000_200),
        ..pending.clone()
    };
    s.update_order_mapping(&done).await.unwrap();
    let got2 = s
        .get_order_mapping("shop1", "576461413038785752")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        OrderMapping {
            created_at: 0,
            updated_at: 0,
            ..got2.clone()
        },
        done
    );
    assert_eq!(got2.created_at, got.created_at);

    // a duplicate insert never overwrites
    assert!(!s.insert_order_mapping_if_absent(&pending).await.unwrap());
    assert_eq!(
        s.get_order_mapping("shop1", "576461413038785752")
            .await
            .unwrap()
            .unwrap()
            .plenty_order_id,
        Some(4711)
    );

    assert_eq!(
        code(
            s.update_order_mapping(&OrderMapping::pending("shop1", "nope"))
                .await
        ),
        ErrorCode::NotFound
    );
    assert!(s.get_order_mapping("shop1", "nope").await.unwrap().is_none());

    let long_error = "Fehler: Artikel nicht verfügbar ❌ ".repeat(400);
    for i in 0..12 {
        let m = OrderMapping {
            sync_status: if i % 3 == 0 {
                SyncStatus::Error
            } else {
                SyncStatus::Pending
            },
            sync_error: (i % 3 == 0).then(|| long_error.clone()),
            ..OrderMapping::pending("shop1", format!("58{i:02}"))
        };
        assert!(s.insert_order_mapping_if_absent(&m).await.unwrap());
    }
    let errors = s
        .list_order_mappings(&OrderMappingQuery {
            shop_id: "shop1".into(),
            status: Some(SyncStatus::Error),
            after_tiktok_order_id: None,
            limit: 2,
        })
        .await
        .unwrap();
    assert_eq!(
        errors
            .iter()
            .map(|m| m.tiktok_order_id.as_str())
            .collect::<Vec<_>>(),
        ["5800", "5803"]
    );
    assert_eq!(errors[0].sync_error.as_deref(), Some(long_error.as_str()));
    let next = s
        .list_order_mappings(&OrderMappingQuery {
            shop_id: "shop1".into(),
            status: Some(SyncStatus::Error),
            after_tiktok_order_id: Some("5803".into()),
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(
        next.iter()
            .map(|m| m.tiktok_order_id.as_str())
            .collect::<Vec<_>>(),
        ["5806", "5809"]
    );
    let all = s
        .list_order_mappings(&OrderMappingQuery {
            shop_id: "shop1".into(),
            status: None,
            after_tiktok_order_id: None,
            limit: 100,
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 13);
    assert_eq!(
        s.count_order_mappings("shop1").await.unwrap(),
        SyncCounts {
            pending: 8,
            synced: 1,
            error: 4
        }
    );

    // an error text beyond the limit is cut, not refused
    let huge = OrderMapping {
        sync_error: Some("x".repeat(MAX_ERROR + 100)),
        ..OrderMapping::pending("shop1", "huge")
    };
    assert!(s.insert_order_mapping_if_absent(&huge).await.unwrap());
    let got = s.get_order_mapping("shop1", "huge").await.unwrap().unwrap();
    assert!(got.sync_error.unwrap().len() <= MAX_ERROR + 3);
}

pub async fn concurrent_upserts(ctx: &Ctx) {
    let s = &ctx.store;
    // 50 tasks insert the same order mapping: one row, exactly one "new"
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.insert_order_mapping_if_absent(&OrderMapping::pending("shop1", "577000000000000001"))
                .await
                .unwrap()
        }));
    }
    let mut new = 0;
    for task in tasks {
        new += usize::from(task.await.unwrap());
    }
    assert_eq!(new, 1, "exactly one caller may create the PlentyONE order");
    let all = s
        .list_order_mappings(&OrderMappingQuery {
            shop_id: "shop1".into(),
            status: None,
            after_tiktok_order_id: None,
            limit: 100,
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 1);

    // 50 tasks upsert the same product mapping with different data: one row, one of the writes
    let mut tasks = Vec::new();
    for i in 0..50 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let m = ProductMapping {
                seller_sku: Some(format!("sku-{i}")),
                ..ProductMapping::pending("shop1", 1, 77)
            };
            s.upsert_product_mapping(&m).await.unwrap()
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let rows = s
        .list_product_mappings(&ProductMappingQuery {
            shop_id: "shop1".into(),
            status: None,
            after_variation_id: None,
            limit: 100,
        })
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].seller_sku.as_deref().unwrap().starts_with("sku-"));

    // 50 tasks insert the same webhook: one row, one "new"
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.insert_inbox(&NewInboxMessage {
                notification_id: "n-dup".into(),
                shop_id: "shop1".into(),
                event_type: 1,
                payload: b"{}".to_vec(),
            })
            .await
            .unwrap()
        }));
    }
    let mut new = 0;
    for task in tasks {
        new += usize::from(task.await.unwrap());
    }
    assert_eq!(new, 1);
    assert_eq!(s.count_inbox_pending().await.unwrap(), 1);
}

fn message(id: &str, payload: Vec<u8>) -> NewInboxMessage {
    NewInboxMessage {
        notification_id: id.into(),
        shop_id: "shop1".into(),
        event_type: 1,
        payload,
    }
}

pub async fn inbox(ctx: &Ctx) {
    let s = &ctx.store;
    // 1 MB of arbitrary bytes (not UTF-8, with NULs) comes back byte for byte
    let big: Vec<u8> = (0..1_048_576u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert!(s.insert_inbox(&message("n-big", big.clone())).await.unwrap());
    assert!(
        !s.insert_inbox(&message("n-big", b"other".to_vec()))
            .await
            .unwrap(),
        "duplicate id"
    );
    let got = s.get_inbox("n-big").await.unwrap().unwrap();
    assert_eq!(got.payload, big);
    assert_eq!(
        (
            got.attempts,
            got.processed_at,
            got.last_error.clone(),
            got.lease_owner.clone()
        ),
        (0, None, None, None)
    );
    let unicode = format!(r#"{{"data":{{"note":"{UNICODE}"}}}}"#).into_bytes();
    assert!(s.insert_inbox(&message("n-2", unicode.clone())).await.unwrap());
    assert!(s.get_inbox("absent").await.unwrap().is_none());
    assert_eq!(s.count_inbox_pending().await.unwrap(), 2);

    // claim: each message to one claimer
    let lease = Duration::from_secs(30);
    let a = s.claim_inbox("worker-a", 10, lease).await.unwrap();
    assert_eq!(
        a.iter()
            .map(|m| m.notification_id.as_str())
            .collect::<HashSet<_>>(),
        HashSet::from(["n-big", "n-2"])
    );
    assert!(
        a.iter()
            .all(|m| m.attempts == 1 && m.lease_owner.as_deref() == Some("worker-a"))
    );
    assert_eq!(
        a.iter().find(|m| m.notification_id == "n-2").unwrap().payload,
        unicode
    );
    assert!(
        s.claim_inbox("worker-b", 10, lease).await.unwrap().is_empty(),
        "claimed rows are not handed out twice"
    );

    // complete one; fail the other with a retry, then give it up
    assert!(s.complete_inbox("n-big", "worker-a").await.unwrap());
    assert!(
        !s.complete_inbox("n-big", "worker-a").await.unwrap(),
        "already processed"
    );
    assert!(
        s.get_inbox("n-big")
            .await
            .unwrap()
            .unwrap()
            .processed_at
            .is_some()
    );
    let long_error = format!("{UNICODE} ").repeat(300);
    assert!(
        !s.fail_inbox("n-2", "worker-b", "not mine", Some(Duration::ZERO))
            .await
            .unwrap(),
        "only the owner"
    );
    assert!(
        s.fail_inbox("n-2", "worker-a", &long_error, Some(Duration::from_millis(1000)))
            .await
            .unwrap()
    );
    let failed = s.get_inbox("n-2").await.unwrap().unwrap();
    assert_eq!(failed.last_error.as_deref(), Some(long_error.as_str()));
    assert!(failed.processed_at.is_none());
    assert!(
        s.claim_inbox("worker-b", 10, lease).await.unwrap().is_empty(),
        "backoff holds it back"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let b = s.claim_inbox("worker-b", 10, lease).await.unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].attempts, 2);
    assert!(s.fail_inbox("n-2", "worker-b", "poison", None).await.unwrap());
    let given_up = s.get_inbox("n-2").await.unwrap().unwrap();
    assert!(given_up.processed_at.is_some());
    assert_eq!(given_up.last_error.as_deref(), Some("poison"));
    assert_eq!(given_up.outcome, Some(InboxOutcome::GivenUp));
    assert_eq!(
        s.get_inbox("n-big").await.unwrap().unwrap().outcome,
        Some(InboxOutcome::Done)
    );
    assert_eq!(s.count_inbox_pending().await.unwrap(), 0);
    let list = |state| InboxQuery {
        shop_id: Some("shop1".into()),
        state,
        after_notification_id: None,
        limit: 10,
    };
    let ids = |v: Vec<InboxMessage>| v.into_iter().map(|m| m.notification_id).collect::<Vec<_>>();
    assert_eq!(
        ids(s.list_inbox(&list(InboxState::GivenUp)).await.unwrap()),
        ["n-2"]
    );
    assert_eq!(
        ids(s.list_inbox(&list(InboxState::Done)).await.unwrap()),
        ["n-big"]
    );
    assert!(s.list_inbox(&list(InboxState::Pending)).await.unwrap().is_empty());

    // an expired lease comes back; the old owner can no longer complete
    assert!(s.insert_inbox(&message("n-3", b"{}".to_vec())).await.unwrap());
    assert_eq!(
        s.claim_inbox("worker-a", 10, Duration::from_millis(1000))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(s.claim_inbox("worker-b", 10, lease).await.unwrap().is_empty());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let again = s.claim_inbox("worker-b", 10, lease).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 2);
    assert!(
        s.fail_inbox("n-3", "worker-b", "PlentyONE 503", Some(Duration::ZERO))
            .await
            .unwrap()
    );
    assert_eq!(
        ids(s.list_inbox(&list(InboxState::Failing)).await.unwrap()),
        ["n-3"]
    );
    let again = s.claim_inbox("worker-b", 10, lease).await.unwrap();
    assert_eq!(again[0].attempts, 3);
    assert!(!s.complete_inbox("n-3", "worker-a").await.unwrap(), "lease lost");
    assert!(s.complete_inbox("n-3", "worker-b").await.unwrap());

    // batch size is respected
    for i in 0..25 {
        s.insert_inbox(&message(&format!("batch-{i:02}"), vec![b'x'; 10]))
            .await
            .unwrap();
    }
    assert_eq!(s.claim_inbox("w", 10, lease).await.unwrap().len(), 10);
    assert_eq!(s.claim_inbox("w", 10, lease).await.unwrap().len(), 10);
    let last = s.claim_inbox("w", 10, lease).await.unwrap();
    assert_eq!(last.len(), 5);
    assert_eq!(s.count_inbox_pending().await.unwrap(), 25);
    let page = s
        .list_inbox(&InboxQuery {
            after_notification_id: Some("batch-19".into()),
            ..list(InboxState::Pending)
        })
        .await
        .unwrap();
    assert_eq!(
        ids(page),
        ["batch-20", "batch-21", "batch-22", "batch-23", "batch-24"]
    );

    // batch completion: only the owner's, only once
    let mut to_complete: Vec<String> = last.iter().map(|m| m.notification_id.clone()).collect();
    assert!(
        s.complete_inbox_batch(&to_complete, "intruder")
            .await
            .unwrap()
            .is_empty()
    );
    to_complete.push("unknown-id".into());
    assert_eq!(
        s.complete_inbox_batch(&to_complete, "w").await.unwrap(),
        ["batch-20", "batch-21", "batch-22", "batch-23", "batch-24"]
    );
    assert!(
        s.complete_inbox_batch(&to_complete, "w")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.complete_inbox_batch(&[], "w").await.unwrap().is_empty());
    assert_eq!(
        s.get_inbox("batch-22").await.unwrap().unwrap().outcome,
        Some(InboxOutcome::Done)
    );
    assert_eq!(s.count_inbox_pending().await.unwrap(), 20);

    // purge forgets processed messages only
    assert_eq!(s.purge_inbox(now_seconds() + 1).await.unwrap(), 8);
    assert!(s.get_inbox("n-big").await.unwrap().is_none());
    assert!(s.get_inbox("batch-22").await.unwrap().is_none());
    assert_eq!(s.count_inbox_pending().await.unwrap(), 20);
    assert!(
        s.insert_inbox(&message("n-big", vec![1])).await.unwrap(),
        "a purged id is new again"
    );
}

pub async fn inbox_concurrent_claims(ctx: &Ctx) {
    let s = &ctx.store;
    for i in 0..300 {
        s.insert_inbox(&message(
            &format!("c-{i:04}"),
            format!("{{\"i\":{i}}}").into_bytes(),
        ))
        .await
        .unwrap();
    }
    let mut tasks = Vec::new();
    for w in 0..6 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let owner = format!("task-{w}");
            let mut mine = Vec::new();
            loop {
                let batch = s.claim_inbox(&owner, 7, Duration::from_secs(30)).await.unwrap();
                if batch.is_empty() {
                    break;
                }
                for m in batch {
                    assert!(s.complete_inbox(&m.notification_id, &owner).await.unwrap());
                    mine.push(m.notification_id);
                }
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().cloned().collect();
    assert_eq!(all.len(), 300, "each message processed exactly once");
    assert_eq!(unique.len(), 300);
    assert_eq!(s.count_inbox_pending().await.unwrap(), 0);
}

pub async fn sync_state(ctx: &Ctx) {
    let s = &ctx.store;
    assert!(s.get_cursor("shop1", "orders").await.unwrap().is_none());
    s.set_cursor("shop1", "orders", "update_time>=1700000000")
        .await
        .unwrap();
    s.set_cursor("shop1", "products", UNICODE).await.unwrap();
    s.set_cursor("shop1", "orders", "page_token=b2Zmc2V0PTEwMA==")
        .await
        .unwrap();
    let c = s.get_cursor("shop1", "orders").await.unwrap().unwrap();
    assert_eq!(
        (c.shop_id.as_str(), c.kind.as_str(), c.position.as_str()),
        ("shop1", "orders", "page_token=b2Zmc2V0PTEwMA==")
    );
    assert!(c.updated_at > 0);
    assert_eq!(
        s.get_cursor("shop1", "products").await.unwrap().unwrap().position,
        UNICODE
    );
    assert!(s.get_cursor("shop2", "orders").await.unwrap().is_none());

    let run = s.start_sync_run("shop1", "products", "listing").await.unwrap();
    assert_eq!(
        (
            run.status,
            run.done,
            run.total,
            run.errors,
            run.finished_at,
            run.summary.clone()
        ),
        (RunStatus::Running, 0, None, 0, None, None)
    );
    let progress = SyncProgress {
        phase: "uploading 📦".into(),
        done: 40,
        total: Some(100),
        errors: 2,
    };
    s.update_sync_run(run.id, &progress).await.unwrap();
    let mid = s.get_sync_run(run.id).await.unwrap().unwrap();
    assert_eq!(
        (mid.phase.as_str(), mid.done, mid.total, mid.errors),
        ("uploading 📦", 40, Some(100), 2)
    );
    let summary = serde_json::json!({"created": 38, "failed": [{"variation": 1001, "error": UNICODE}]});
    s.finish_sync_run(run.id, RunStatus::Failed, &summary)
        .await
        .unwrap();
    let done = s.get_sync_run(run.id).await.unwrap().unwrap();
    assert_eq!(done.status, RunStatus::Failed);
    assert_eq!(done.summary, Some(summary));
    assert!(done.finished_at.is_some());

    let second = s.start_sync_run("shop1", "products", "listing").await.unwrap();
    let other_kind = s.start_sync_run("shop1", "orders", "polling").await.unwrap();
    assert!(second.id > run.id && other_kind.id > second.id);
    let runs = s.list_sync_runs("shop1", Some("products"), 10).await.unwrap();
    assert_eq!(
        runs.iter().map(|r| r.id).collect::<Vec<_>>(),
        [second.id, run.id],
        "newest first"
    );
    assert_eq!(s.list_sync_runs("shop1", None, 10).await.unwrap().len(), 3);
    assert_eq!(
        s.list_sync_runs("shop1", None, 1).await.unwrap()[0].id,
        other_kind.id
    );
    assert_eq!(
        code(s.update_sync_run(999_999, &progress).await),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(
            s.finish_sync_run(999_999, RunStatus::Succeeded, &serde_json::json!({}))
                .await
        ),
        ErrorCode::NotFound
    );
    assert!(s.get_sync_run(999_999).await.unwrap().is_none());
}

pub async fn oauth_state(ctx: &Ctx) {
    let s = &ctx.store;
    let now = now_seconds();
    s.save_oauth_state("state-ok", now + 600).await.unwrap();
    s.save_oauth_state("state-late", now - 1).await.unwrap();
    assert_eq!(field(s.save_oauth_state("state-ok", now + 600).await), "state");
    s.consume_oauth_state("state-ok", now).await.unwrap();
    assert_eq!(
        code(s.consume_oauth_state("state-ok", now).await),
        ErrorCode::StateReused
    );
    assert_eq!(
        code(s.consume_oauth_state("state-late", now).await),
        ErrorCode::StateExpired
    );
    assert_eq!(
        code(s.consume_oauth_state("never-issued", now).await),
        ErrorCode::StateInvalid
    );
    assert_eq!(
        code(s.consume_oauth_state("", now).await),
        ErrorCode::StateInvalid
    );

    // many concurrent callbacks with the same state: exactly one accepted
    s.save_oauth_state("state-race", now + 600).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.consume_oauth_state("state-race", now).await.is_ok()
        }));
    }
    let mut ok = 0;
    for task in tasks {
        ok += usize::from(task.await.unwrap());
    }
    assert_eq!(ok, 1);
}

pub async fn secrets(ctx: &Ctx) {
    let s = &ctx.store;
    assert!(s.load_secret("plenty:session").await.unwrap().is_none());
    let value = SecretString::from(r#"{"access_token":"plenty-Größe-🔑","expires":1}"#.to_string());
    s.save_secret("plenty:session", &value).await.unwrap();
    assert_eq!(
        s.load_secret("plenty:session")
            .await
            .unwrap()
            .unwrap()
            .expose_secret(),
        value.expose_secret()
    );
    let newer = SecretString::from("second".to_string());
    s.save_secret("plenty:session", &newer).await.unwrap();
    assert_eq!(
        s.load_secret("plenty:session")
            .await
            .unwrap()
            .unwrap()
            .expose_secret(),
        "second",
        "replaced"
    );
    assert!(s.load_secret("other").await.unwrap().is_none());
    let e = s.save_secret("", &newer).await.unwrap_err();
    assert_eq!(e.field.as_deref(), Some("name"));
    let e = s
        .save_secret("big", &SecretString::from("x".repeat(9000)))
        .await
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("value"));
}

pub async fn pushed_values(ctx: &Ctx) {
    let s = &ctx.store;
    let ids = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let qty = |w: &str, q: i64| PushedQuantity {
        warehouse_id: w.into(),
        quantity: q,
    };
    let sorted = |mut v: Vec<PushedSku>| {
        v.sort_by(|a, b| a.tiktok_sku_id.cmp(&b.tiktok_sku_id));
        v
    };
    assert!(
        s.get_pushed_values("shop1", &ids(&["a"]))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.get_pushed_values("shop1", &[]).await.unwrap().is_empty());
    s.save_pushed_values("shop1", &[]).await.unwrap();

    // A batch: stock and price, stock only, price only.
    let before = now_seconds();
    s.save_pushed_values(
        "shop1",
        &[
            PushedSku::new("a", Some(vec![qty("W1", 5), qty("W2", 0)]), Some("19.90".into())),
            PushedSku::new("b", Some(vec![qty("W1", 99_999)]), None),
            PushedSku::new("c", None, Some("1980".into())),
        ],
    )
    .await
    .unwrap();
    let got = sorted(
        s.get_pushed_values("shop1", &ids(&["a", "b", "c", "zz"]))
            .await
            .unwrap(),
    );
    assert_eq!(got.len(), 3, "unknown SKUs are absent: {got:?}");
    assert_eq!(
        got[0].inventory,
        Some(vec![qty("W1", 5), qty("W2", 0)]),
        "order kept"
    );
    assert_eq!(got[0].price.as_deref(), Some("19.90"));
    assert_eq!(
        (got[1].inventory.clone(), got[1].price.clone()),
        (Some(vec![qty("W1", 99_999)]), None)
    );
    assert_eq!(
        (got[2].inventory.clone(), got[2].price.clone()),
        (None, Some("1980".into()))
    );
    assert!(got.iter().all(|v| v.updated_at >= before));

    // A later save keeps what it does not name; a SKU listed twice merges, the last wins.
    s.save_pushed_values(
        "shop1",
        &[
            PushedSku::new("a", Some(vec![qty("W1", 4)]), None),
            PushedSku::new("c", Some(vec![qty("W1", 1)]), None),
            PushedSku::new("c", Some(vec![qty("W1", 2)]), Some("1990".into())),
            PushedSku::new("b", None, None),
        ],
    )
    .await
    .unwrap();
    let got = sorted(
        s.get_pushed_values("shop1", &ids(&["a", "b", "c"]))
            .await
            .unwrap(),
    );
    assert_eq!(got[0].inventory, Some(vec![qty("W1", 4)]));
    assert_eq!(got[0].price.as_deref(), Some("19.90"), "price kept");
    assert_eq!(
        got[1].inventory,
        Some(vec![qty("W1", 99_999)]),
        "nothing named: kept"
    );
    assert_eq!(got[2].inventory, Some(vec![qty("W1", 2)]));
    assert_eq!(got[2].price.as_deref(), Some("1990"));

    // Per shop, and durable: another handle on the same database reads them.
    assert!(
        s.get_pushed_values("shop2", &ids(&["a"]))
            .await
            .unwrap()
            .is_empty()
    );
    let again = (ctx.open_again)().await.unwrap();
    let got = again.get_pushed_values("shop1", &ids(&["a"])).await.unwrap();
    assert_eq!(got[0].inventory, Some(vec![qty("W1", 4)]));
    again.close().await;

    // A full page in one call; concurrent savers of different SKUs lose nothing.
    let many: Vec<PushedSku> = (0..1000)
        .map(|i| {
            PushedSku::new(
                format!("sku-{i}"),
                Some(vec![qty("W1", i)]),
                Some(format!("{i}.00")),
            )
        })
        .collect();
    s.save_pushed_values("shop3", &many).await.unwrap();
    let all_ids: Vec<String> = many.iter().map(|v| v.tiktok_sku_id.clone()).collect();
    assert_eq!(s.get_pushed_values("shop3", &all_ids).await.unwrap().len(), 1000);
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let s = s.clone();
            tokio::spawn(async move {
                let batch: Vec<PushedSku> = (0..50)
                    .map(|i| PushedSku::new(format!("t{t}-{i}"), None, Some("1.00".into())))
                    .collect();
                s.save_pushed_values("shop4", &batch).await.unwrap();
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let ids4: Vec<String> = (0..8)
        .flat_map(|t| (0..50).map(move |i| format!("t{t}-{i}")))
        .collect();
    assert_eq!(s.get_pushed_values("shop4", &ids4).await.unwrap().len(), 400);

    // Input checks name the field.
    let e = s.get_pushed_values("", &ids(&["a"])).await.unwrap_err();
    assert_eq!(e.field.as_deref(), Some("shop_id"));
    let e = s.get_pushed_values("shop1", &ids(&[""])).await.unwrap_err();
    assert_eq!(e.field.as_deref(), Some("tiktok_sku_ids[]"));
    let too_many: Vec<String> = (0..1001).map(|i| i.to_string()).collect();
    let e = s.get_pushed_values("shop1", &too_many).await.unwrap_err();
    assert_eq!(e.field.as_deref(), Some("tiktok_sku_ids"));
    let e = s
        .save_pushed_values("shop1", &[PushedSku::new(" ", None, None)])
        .await
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("values[].tiktok_sku_id"));
    let e = s
        .save_pushed_values("shop1", &[PushedSku::new("a", Some(vec![qty("", 1)]), None)])
        .await
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("values[].inventory[].warehouse_id"));
}

pub async fn order_reservations(ctx: &Ctx) {
    let s = &ctx.store;
    let line = |v: i64, q: i64| OrderReservation {
        plenty_variation_id: v,
        quantity: q,
    };
    let sums = |mut v: Vec<OrderReservation>| {
        v.sort_by_key(|r| r.plenty_variation_id);
        v.into_iter()
            .map(|r| (r.plenty_variation_id, r.quantity))
            .collect::<Vec<_>>()
    };
    assert!(s.reserved_units("shop1", &[1, 2]).await.unwrap().is_empty());
    assert!(s.reserved_units("shop1", &[]).await.unwrap().is_empty());

    // Two orders; lines of one variation add up, empty and negative lines are left out.
    s.set_order_reservations("shop1", "o1", &[line(1, 2), line(2, 1), line(1, 1), line(3, 0)])
        .await
        .unwrap();
    s.set_order_reservations("shop1", "o2", &[line(1, 4), line(4, -2)])
        .await
        .unwrap();
    s.set_order_reservations("shop2", "o1", &[line(1, 100)])
        .await
        .unwrap();
    assert_eq!(
        sums(s.reserved_units("shop1", &[1, 2, 3, 4, 5]).await.unwrap()),
        [(1, 7), (2, 1)],
        "summed over the shop's orders only"
    );
    assert_eq!(sums(s.reserved_units("shop1", &[2]).await.unwrap()), [(2, 1)]);

    // Replacing an order's lines drops the ones it no longer has; empty lines release it.
    s.set_order_reservations("shop1", "o1", &[line(2, 3)])
        .await
        .unwrap();
    assert_eq!(
        sums(s.reserved_units("shop1", &[1, 2]).await.unwrap()),
        [(1, 4), (2, 3)]
    );
    s.set_order_reservations("shop1", "o2", &[]).await.unwrap();
    s.set_order_reservations("shop1", "never-reserved", &[])
        .await
        .unwrap();
    assert_eq!(sums(s.reserved_units("shop1", &[1, 2]).await.unwrap()), [(2, 3)]);

    // Durable and shared: another handle sees them, and concurrent orders lose nothing.
    let again = (ctx.open_again)().await.unwrap();
    assert_eq!(sums(again.reserved_units("shop1", &[2]).await.unwrap()), [(2, 3)]);
    again.close().await;
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let s = s.clone();
            tokio::spawn(async move {
                for i in 0..5 {
                    s.set_order_reservations("shop3", &format!("t{t}-{i}"), &[line(9, 1), line(10, 2)])
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        sums(s.reserved_units("shop3", &[9, 10]).await.unwrap()),
        [(9, 40), (10, 80)]
    );
    let ids: Vec<i64> = (1..=1000).collect();
    assert_eq!(s.reserved_units("shop3", &ids).await.unwrap().len(), 2);

    // Input checks name the field.
    let e = s.set_order_reservations("", "o", &[]).await.unwrap_err();
    assert_eq!(e.field.as_deref(), Some("shop_id"));
    let e = s.set_order_reservations("shop1", " ", &[]).await.unwrap_err();
    assert_eq!(e.field.as_deref(), Some("tiktok_order_id"));
    let e = s
        .set_order_reservations("shop1", "o", &[line(0, 1)])
        .await
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("lines[].plenty_variation_id"));
    let too_many: Vec<i64> = (1..=1001).collect();
    let e = s.reserved_units("shop1", &too_many).await.unwrap_err();
    assert_eq!(e.field.as_deref(), Some("plenty_variation_ids"));
}

pub async fn leases(ctx: &Ctx) {
    let s = &ctx.store;
    let name = sync_lease_name("shop1", "products");
    let ttl = Duration::from_millis(1000);
    assert!(s.acquire_lease(&name, "a", ttl).await.unwrap());
    assert!(
        s.acquire_lease(&name, "a", ttl).await.unwrap(),
        "re-entrant for the holder"
    );
    assert!(!s.acquire_lease(&name, "b", ttl).await.unwrap(), "held by a");
    assert!(s.renew_lease(&name, "a", ttl).await.unwrap());
    assert!(!s.renew_lease(&name, "b", ttl).await.unwrap());
    assert_eq!(s.get_lease(&name).await.unwrap().unwrap().owner, "a");
    assert!(
        s.acquire_lease(&sync_lease_name("shop1", "orders"), "b", ttl)
            .await
            .unwrap(),
        "other kinds are independent"
    );

    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(
        s.acquire_lease(&name, "b", ttl).await.unwrap(),
        "an expired lease can be taken over"
    );
    assert!(
        !s.renew_lease(&name, "a", ttl).await.unwrap(),
        "the old holder lost it"
    );
    assert!(!s.release_lease(&name, "a").await.unwrap());
    assert!(s.release_lease(&name, "b").await.unwrap());
    assert!(s.get_lease(&name).await.unwrap().is_none());
    assert!(
        s.acquire_lease(&name, "c", ttl).await.unwrap(),
        "a released lease is free"
    );

    // concurrent acquirers: exactly one wins
    let contested = "sync:shop9:orders";
    let mut tasks = Vec::new();
    for i in 0..20 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.acquire_lease(contested, &format!("owner-{i}"), Duration::from_secs(30))
                .await
                .unwrap()
        }));
    }
    let mut won = 0;
    for task in tasks {
        won += usize::from(task.await.unwrap());
    }
    assert_eq!(won, 1);
}

pub async fn input_validation(ctx: &Ctx) {
    let s = &ctx.store;
    let long_id = "9".repeat(MAX_ID + 1);
    assert_eq!(field(s.upsert_shop(&sample_shop("", "1")).await), "app_key");
    assert_eq!(field(s.upsert_shop(&sample_shop("app", " ")).await), "shop_id");
    assert_eq!(
        field(s.upsert_shop(&sample_shop("app", &long_id)).await),
        "shop_id"
    );
    assert_eq!(field(s.upsert_shop(&sample_shop("app:x", "1")).await), "app_key");
    assert_eq!(
        field(
            s.upsert_shop(&Shop {
                access_token: secret(""),
                ..sample_shop("app", "1")
            })
            .await
        ),
        "access_token"
    );
    assert_eq!(
        field(
            s.upsert_shop(&Shop {
                shop_name: Some("x".repeat(MAX_TEXT + 1)),
                ..sample_shop("app", "1")
            })
            .await
        ),
        "shop_name"
    );
    assert_eq!(field(s.get_shop(&ShopKey::new("app", "")).await), "shop_id");
    assert_eq!(
        field(
            s.upsert_product_mapping(&ProductMapping::pending("shop", 0, 1))
                .await
        ),
        "plenty_item_id"
    );
    assert_eq!(
        field(
            s.upsert_product_mapping(&ProductMapping::pending("shop", 1, -5))
                .await
        ),
        "plenty_variation_id"
    );
    assert_eq!(
        field(
            s.upsert_product_mapping(&ProductMapping {
                tiktok_sku_id: Some(String::new()),
                ..ProductMapping::pending("shop", 1, 1)
            })
            .await
        ),
        "tiktok_sku_id"
    );
    assert_eq!(
        field(
            s.insert_order_mapping_if_absent(&OrderMapping::pending("shop", ""))
                .await
        ),
        "tiktok_order_id"
    );
    assert_eq!(
        field(s.insert_inbox(&message("", vec![])).await),
        "notification_id"
    );
    assert_eq!(
        field(s.insert_inbox(&message("n", vec![0; MAX_PAYLOAD + 1])).await),
        "payload"
    );
    assert_eq!(
        field(s.claim_inbox("w", 0, Duration::from_secs(1)).await),
        "limit"
    );
    assert_eq!(field(s.claim_inbox("w", 10, Duration::ZERO).await), "lease");
    assert_eq!(
        field(s.claim_inbox("", 10, Duration::from_secs(1)).await),
        "owner"
    );
    assert_eq!(
        field(
            s.list_product_mappings(&ProductMappingQuery {
                shop_id: "s".into(),
                status: None,
                after_variation_id: None,
                limit: 5000
            })
            .await
        ),
        "limit"
    );
    assert_eq!(
        field(s.set_cursor("shop", "orders", &"x".repeat(MAX_TEXT + 1)).await),
        "position"
    );
    assert_eq!(field(s.acquire_lease("n", "o", Duration::ZERO).await), "ttl");
    assert_eq!(
        field(
            s.finish_sync_run(1, RunStatus::Running, &serde_json::json!({}))
                .await
        ),
        "status"
    );
    // nothing was written by the refused calls
    assert!(s.list_shops(None).await.unwrap().is_empty());
    assert_eq!(s.count_inbox_pending().await.unwrap(), 0);
}

pub async fn migrations_twice(ctx: &Ctx) {
    let versions = ctx.store.schema_versions().await.unwrap();
    assert_eq!(
        versions,
        (1..=crate::migrate::MIGRATIONS.len() as i64).collect::<Vec<_>>()
    );
    ctx.store.upsert_shop(&sample_shop("app", "kept")).await.unwrap();
    // opening again (twice at once, like two processes starting) applies nothing and keeps the data
    let (a, b) = tokio::join!((ctx.open_again)(), (ctx.open_again)());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.schema_versions().await.unwrap(), versions);
    assert_eq!(b.schema_versions().await.unwrap(), versions);
    assert!(b.get_shop(&ShopKey::new("app", "kept")).await.unwrap().is_some());
    a.close().await;
    b.close().await;
}
