//! Durable store of TikTok Shop for PlentyONE: sealed shop credentials, product and order mappings,
//! the webhook inbox and sync state — in a SQLite file (one instance, the default) or PostgreSQL
//! (several instances coordinating through row locks, `SKIP LOCKED` claims and leases).
//!
//! - [`Store`]: the one interface; [`open`] picks the backend from a URL (`TIKTOK_SHOP_DATABASE_URL`).
//! - [`model`]: the records.
//! - [`conformance`]: the battery every backend passes, runnable against any `Store`.
//!
//! See `README.md` for the schema, coordination semantics and benchmark figures.

mod backend;
pub mod conformance;
mod db;
mod migrate;
pub mod model;
mod seal;
mod sql_store;
mod store;

use std::sync::Arc;

use tts_core::{KeyRing, Result};

pub use backend::{Location, parse_location};
pub use model::*;
pub use seal::shop_secret_aad;
pub use store::{RefreshFn, Store};

/// Connection settings beyond the URL.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Pool size. SQLite writes one at a time whatever the size; readers run alongside (WAL).
    pub max_connections: u32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions { max_connections: 8 }
    }
}

/// Opens the store at `url` (see [`parse_location`]), applies pending migrations, and returns it.
/// `ring` seals and opens the shop secrets.
pub async fn open(url: &str, ring: Arc<KeyRing>) -> Result<Arc<dyn Store>> {
    open_with(&parse_location(url)?, ring, &StoreOptions::default()).await
}

/// Like [`open`], with a parsed location and options.
pub async fn open_with(
    location: &Location,
    ring: Arc<KeyRing>,
    options: &StoreOptions,
) -> Result<Arc<dyn Store>> {
    let db: Box<dyn db::Db> = match location {
        Location::Sqlite {
            path,
            synchronous_full,
        } => Box::new(
            backend::SqliteDb::open(&backend::SqliteSettings {
                path: path.clone(),
                synchronous_full: *synchronous_full,
                max_connections: options.max_connections,
            })
            .await?,
        ),
        Location::Postgres { url } => Box::new(backend::PgDb::open(url, options.max_connections).await?),
        Location::Memory => Box::new(backend::SqliteDb::open_memory().await?),
    };
    migrate::run(db.as_ref()).await?;
    let in_memory = matches!(location, Location::Memory);
    Ok(Arc::new(sql_store::SqlStore::new(db, ring, in_memory)))
}
