//! The conformance battery, one test per case per backend.

use crate::common::TestDb;

async fn run_sqlite(case: &str) {
    let db = TestDb::sqlite();
    let ctx = db.ctx().await;
    tts_store::conformance::run(case, &ctx).await;
    ctx.store.close().await;
}

async fn run_postgres(case: &str) {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let ctx = db.ctx().await;
    tts_store::conformance::run(case, &ctx).await;
    ctx.store.close().await;
}

macro_rules! conformance_tests {
    ($($case:ident),+ $(,)?) => {
        const LISTED: &[&str] = &[$(stringify!($case)),+];

        #[test]
        fn every_case_is_listed() {
            assert_eq!(LISTED, tts_store::conformance::CASES);
        }

        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::run_sqlite(stringify!($case)).await;
                }
            )+
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::run_postgres(stringify!($case)).await;
                }
            )+
        }
    };
}

conformance_tests!(
    shops_round_trip,
    refresh_token_exclusive,
    product_mappings,
    order_mappings,
    concurrent_upserts,
    inbox,
    inbox_concurrent_claims,
    sync_state,
    oauth_state,
    leases,
    secrets,
    pushed_values,
    order_reservations,
    input_validation,
    migrations_twice,
);

/// Two stores opening a fresh database at the same moment: the migrations are applied once.
async fn fresh_concurrent_migrations(db: TestDb) {
    let url = db.url();
    let (a, b) = tokio::join!(
        tts_store::open(&url, crate::common::ring()),
        tts_store::open(&url, crate::common::ring())
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let expected: Vec<i64> = vec![1, 2, 3, 4];
    assert_eq!(a.schema_versions().await.unwrap(), expected);
    assert_eq!(b.schema_versions().await.unwrap(), expected);
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_fresh_concurrent_migrations() {
    fresh_concurrent_migrations(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_fresh_concurrent_migrations() {
    if let Some(db) = TestDb::postgres().await {
        fresh_concurrent_migrations(db).await;
    }
}
