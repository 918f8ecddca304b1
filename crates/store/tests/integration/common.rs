//! Test databases: a SQLite file in a fresh temporary folder, or a fresh PostgreSQL schema per test
//! (several test runs may share the database), both removed afterwards.

use std::path::PathBuf;
use std::sync::Arc;

use sqlx::Connection;
use tts_core::KeyRing;
use tts_store::Store;
use tts_store::conformance::{Ctx, Opener};

pub const PG_ENV: &str = "TIKTOK_SHOP_TEST_POSTGRES_URL";
/// A fixed test key (32 bytes, base64).
pub const TEST_KEY: &str = "test:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

pub fn ring() -> Arc<KeyRing> {
    Arc::new(KeyRing::parse(TEST_KEY).unwrap())
}

/// The PostgreSQL base URL, or `None` after printing the loud skip line.
pub fn pg_base_url() -> Option<String> {
    match std::env::var(PG_ENV) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            // Written to the real stderr (not the test harness's captured one) so it shows in every run.
            static ONCE: std::sync::Once = std::sync::Once::new();
            ONCE.call_once(|| {
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED: {PG_ENV} not set (PostgreSQL tests of tts-store pass without running)"
                );
            });
            None
        }
    }
}

fn unique_suffix() -> String {
    format!("{}_{:08x}", tts_store::now_seconds(), rand::random::<u32>())
}

pub enum TestDb {
    Sqlite { dir: PathBuf },
    Postgres { base_url: String, schema: String },
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(format!("tts_store_test_{}", unique_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        TestDb::Sqlite { dir }
    }

    /// A fresh schema; stale test schemas older than an hour (from killed runs) are dropped first.
    pub async fn postgres() -> Option<TestDb> {
        let base_url = pg_base_url()?;
        let schema = format!("tts_test_{}", unique_suffix());
        let mut conn = sqlx::PgConnection::connect(&base_url)
            .await
            .expect("connect to the test PostgreSQL");
        let stale: Vec<(String,)> =
            sqlx::query_as("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'tts\\_test\\_%'")
                .fetch_all(&mut conn)
                .await
                .unwrap();
        let hour_ago = tts_store::now_seconds() - 3600;
        for (name,) in stale {
            let born: i64 = name
                .split('_')
                .nth(2)
                .and_then(|t| t.parse().ok())
                .unwrap_or(i64::MAX);
            if born < hour_ago {
                let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
                    .execute(&mut conn)
                    .await;
            }
        }
        sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.ok();
        Some(TestDb::Postgres { base_url, schema })
    }

    pub fn url(&self) -> String {
        match self {
            TestDb::Sqlite { dir } => format!("sqlite://{}", self.sqlite_path_in(dir).display()),
            TestDb::Postgres { base_url, schema } => {
                let sep = if base_url.contains('?') { '&' } else { '?' };
                format!("{base_url}{sep}options[search_path]={schema}")
            }
        }
    }

    fn sqlite_path_in(&self, dir: &std::path::Path) -> PathBuf {
        dir.join("data").join("store.db")
    }

    pub fn sqlite_path(&self) -> PathBuf {
        match self {
            TestDb::Sqlite { dir } => self.sqlite_path_in(dir),
            TestDb::Postgres { .. } => panic!("not SQLite"),
        }
    }

    pub async fn open(&self) -> Arc<dyn Store> {
        tts_store::open(&self.url(), ring())
            .await
            .expect("open the store")
    }

    pub async fn ctx(&self) -> Ctx {
        let url = self.url();
        let open_again: Opener = Arc::new(move || {
            let url = url.clone();
            Box::pin(async move { tts_store::open(&url, ring()).await })
        });
        Ctx {
            store: self.open().await,
            open_again,
        }
    }

    /// A raw connection for poking at rows behind the store's back.
    pub async fn raw_pg(&self) -> sqlx::PgConnection {
        let TestDb::Postgres { .. } = self else {
            panic!("not PostgreSQL")
        };
        sqlx::PgConnection::connect(&self.url()).await.unwrap()
    }

    pub async fn raw_sqlite(&self) -> sqlx::SqliteConnection {
        sqlx::SqliteConnection::connect(&format!("sqlite://{}", self.sqlite_path().display()))
            .await
            .unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self {
            TestDb::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            TestDb::Postgres { base_url, schema } => {
                // Drop may run inside a runtime (or while unwinding): do it on a thread of its own.
                let (url, schema) = (base_url.clone(), schema.clone());
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async {
                        if let Ok(mut conn) = sqlx::PgConnection::connect(&url).await {
                            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
                                .execute(&mut conn)
                                .await;
                            let _ = conn.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// The helper binary of this crate, with the test key ring in its environment.
pub fn worker() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tts-store-worker"));
    cmd.env("TIKTOK_SHOP_ENCRYPTION_KEY", TEST_KEY)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    cmd
}

/// Runs a worker to the end; panics with its stderr if it fails. Returns its stdout lines.
pub fn run_worker(mut cmd: std::process::Command) -> Vec<String> {
    let output = cmd.output().expect("start tts-store-worker");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "worker failed ({}): {stderr}",
        output.status
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}
