//! Versioned schema migrations, run when a store opens.
//!
//! Each migration is a script per dialect (`migrations/<dialect>/NNN_name.sql`), applied at most once
//! and recorded in `tts_store_migrations` with a checksum. The whole run happens in one transaction
//! under a lock (SQLite `BEGIN IMMEDIATE`, PostgreSQL an advisory lock), so two processes starting at
//! once apply it once: the second waits, then finds everything recorded. An applied migration whose
//! script changed since is refused rather than silently skipped.

use sha2::{Digest, Sha256};
use tts_core::{Error, ErrorCode, Result};

use crate::db::{Begin, Db, Dialect, Query, RowReader};

pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sqlite: include_str!("../migrations/sqlite/001_initial.sql"),
        postgres: include_str!("../migrations/postgres/001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "secrets",
        sqlite: include_str!("../migrations/sqlite/002_secrets.sql"),
        postgres: include_str!("../migrations/postgres/002_secrets.sql"),
    },
    Migration {
        version: 3,
        name: "pushed_values",
        sqlite: include_str!("../migrations/sqlite/003_pushed_values.sql"),
        postgres: include_str!("../migrations/postgres/003_pushed_values.sql"),
    },
    Migration {
        version: 4,
        name: "order_reservations",
        sqlite: include_str!("../migrations/sqlite/004_order_reservations.sql"),
        postgres: include_str!("../migrations/postgres/004_order_reservations.sql"),
    },
];

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS tts_store_migrations (
    version    BIGINT NOT NULL PRIMARY KEY,
    name       TEXT   NOT NULL,
    checksum   TEXT   NOT NULL,
    applied_at BIGINT NOT NULL
)";

/// Applies the pending migrations; returns the versions it applied (empty when up to date).
pub(crate) async fn run(db: &dyn Db) -> Result<Vec<i64>> {
    let mut tx = db.begin(Begin::Migrate).await?;
    tx.execute_script("create the migrations table", CREATE_TABLE)
        .await?;
    let rows = tx
        .fetch_all(Query::new(
            "read applied migrations",
            "SELECT version, checksum FROM tts_store_migrations",
        ))
        .await?;
    let mut applied = Vec::new();
    for row in rows {
        let row = RowReader::new(row, "tts_store_migrations");
        applied.push((row.int("version")?, row.text("checksum")?));
    }
    if let Some((newest, _)) = applied.iter().max_by_key(|(v, _)| *v) {
        let known = MIGRATIONS.last().map_or(0, |m| m.version);
        if *newest > known {
            return Err(Error::new(
                ErrorCode::Store,
                format!(
                    "the database schema is at version {newest}, newer than this build knows ({known}); \
                     upgrade the software instead of downgrading the database"
                ),
            ));
        }
    }
    let mut done = Vec::new();
    for migration in MIGRATIONS {
        let script = match db.dialect() {
            Dialect::Sqlite => migration.sqlite,
            Dialect::Postgres => migration.postgres,
        };
        let checksum = hex::encode(Sha256::digest(script.as_bytes()));
        if let Some((_, recorded)) = applied.iter().find(|(v, _)| *v == migration.version) {
            if *recorded != checksum {
                return Err(Error::new(
                    ErrorCode::Store,
                    format!(
                        "migration {} ({}) was changed after it was applied; add a new migration instead",
                        migration.version, migration.name
                    ),
                ));
            }
            continue;
        }
        tx.execute_script("apply a schema migration", script).await?;
        tx.execute(
            Query::new(
                "record a schema migration",
                "INSERT INTO tts_store_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(migration.version)
            .bind(migration.name)
            .bind(checksum)
            .bind(crate::model::now_seconds()),
        )
        .await?;
        done.push(migration.version);
    }
    tx.commit().await?;
    Ok(done)
}
