//! [`Store`] written once over the [`Db`] executor; SQLite and PostgreSQL differ only in the clauses
//! chosen by [`Dialect`] (row locks, `SKIP LOCKED`, JSON set expansion) and in how transactions lock.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tts_core::{Error, ErrorCode, ExposeSecret, KeyRing, Result, SecretString};

use crate::db::{Begin, Db, DbRow, Dialect, Query, RowReader, malformed};
use crate::model::*;
use crate::seal::{Column, open_secret, seal_secret};
use crate::store::{RefreshFn, Store};

pub(crate) struct SqlStore {
    db: Box<dyn Db>,
    ring: Arc<KeyRing>,
    /// An in-memory SQLite database (`memory:`): nothing outlives the process.
    in_memory: bool,
}

impl SqlStore {
    pub(crate) fn new(db: Box<dyn Db>, ring: Arc<KeyRing>, in_memory: bool) -> Self {
        SqlStore { db, ring, in_memory }
    }

    fn pg(&self) -> bool {
        self.db.dialect() == Dialect::Postgres
    }

    /// Expands a JSON array parameter into a one-column set of integers.
    fn json_int_set(&self, placeholder: &str) -> String {
        match self.db.dialect() {
            Dialect::Sqlite => format!("SELECT value FROM json_each({placeholder})"),
            Dialect::Postgres => format!("SELECT jsonb_array_elements_text({placeholder}::jsonb)::bigint"),
        }
    }

    /// Expands a JSON array parameter into a one-column set of texts.
    fn json_text_set(&self, placeholder: &str) -> String {
        match self.db.dialect() {
            Dialect::Sqlite => format!("SELECT value FROM json_each({placeholder})"),
            Dialect::Postgres => format!("SELECT jsonb_array_elements_text({placeholder}::jsonb)"),
        }
    }

    async fn count_by_status(&self, table: &'static str, shop_id: &str) -> Result<SyncCounts> {
        check_id("shop_id", shop_id)?;
        let rows = self
            .db
            .fetch_all(
                Query::new(
                    "count mappings by status",
                    format!("SELECT sync_status, COUNT(*) AS n FROM {table} WHERE shop_id = $1 GROUP BY sync_status"),
                )
                .bind(shop_id),
            )
            .await?;
        let mut counts = SyncCounts::default();
        for row in rows {
            let r = RowReader::new(row, table);
            let n = r.int("n")?;
            match sync_status(&r)? {
                SyncStatus::Pending => counts.pending = n,
                SyncStatus::Synced => counts.synced = n,
                SyncStatus::Error => counts.error = n,
            }
        }
        Ok(counts)
    }

    fn decode_shop(&self, row: Box<dyn DbRow>) -> Result<Shop> {
        let r = RowReader::new(row, "shops");
        let app_key = r.text("app_key")?;
        let shop_id = r.text("shop_id")?;
        let (status, granted_scopes) = shop_status_and_scopes(&r)?;
        let open =
            |column: Column, sealed: String| open_secret(&self.ring, &app_key, &shop_id, column, &sealed);
        let cipher = match r.opt_text("cipher_sealed")? {
            Some(sealed) => Some(open(Column::Cipher, sealed)?),
            None => None,
        };
        Ok(Shop {
            access_token: open(Column::AccessToken, r.text("access_token_sealed")?)?,
            refresh_token: open(Column::RefreshToken, r.text("refresh_token_sealed")?)?,
            cipher,
            region: r.text("region")?,
            shop_name: r.opt_text("shop_name")?,
            seller_type: r.opt_text("seller_type")?,
            shop_code: r.opt_text("shop_code")?,
            access_token_expires_at: r.int("access_token_expires_at")?,
            refresh_token_expires_at: r.int("refresh_token_expires_at")?,
            granted_scopes,
            status,
            created_at: r.int("created_at")?,
            updated_at: r.int("updated_at")?,
            app_key,
            shop_id,
        })
    }
}

const SHOP_COLUMNS: &str = "app_key, shop_id, region, shop_name, seller_type, shop_code, cipher_sealed, \
    access_token_sealed, access_token_expires_at, refresh_token_sealed, refresh_token_expires_at, \
    granted_scopes, status, created_at, updated_at";

const PRODUCT_COLUMNS: &str = "shop_id, plenty_item_id, plenty_variation_id, tiktok_product_id, tiktok_sku_id, \
    seller_sku, sync_status, sync_error, last_synced_at, audit_status, audit_reasons, created_at, updated_at";

const ORDER_COLUMNS: &str = "shop_id, tiktok_order_id, plenty_order_id, tiktok_status, tiktok_update_time, \
    sync_status, sync_error, last_synced_at, created_at, updated_at";

const INBOX_COLUMNS: &str = "notification_id, shop_id, event_type, payload, received_at, processed_at, outcome, attempts, \
    last_error, lease_owner, available_at_ms";

const RUN_COLUMNS: &str =
    "id, shop_id, kind, status, phase, done, total, errors, started_at, finished_at, summary";

fn shop_status_and_scopes(r: &RowReader) -> Result<(ShopStatus, Vec<String>)> {
    let status_text = r.text("status")?;
    let status = ShopStatus::parse(&status_text)
        .ok_or_else(|| r.malformed("status", format_args!("has unknown value `{status_text}`")))?;
    let scopes_text = r.text("granted_scopes")?;
    let scopes = serde_json::from_str(&scopes_text).map_err(|e| {
        r.malformed(
            "granted_scopes",
            format_args!("is not a JSON array of strings: {e}"),
        )
    })?;
    Ok((status, scopes))
}

fn sync_status(r: &RowReader) -> Result<SyncStatus> {
    let text = r.text("sync_status")?;
    SyncStatus::parse(&text)
        .ok_or_else(|| r.malformed("sync_status", format_args!("has unknown value `{text}`")))
}

fn decode_product(row: Box<dyn DbRow>) -> Result<ProductMapping> {
    let r = RowReader::new(row, "product_mappings");
    let reasons_text = r.text("audit_reasons")?;
    let audit_reasons = serde_json::from_str(&reasons_text).map_err(|e| {
        r.malformed(
            "audit_reasons",
            format_args!("is not a JSON array of strings: {e}"),
        )
    })?;
    Ok(ProductMapping {
        shop_id: r.text("shop_id")?,
        plenty_item_id: r.int("plenty_item_id")?,
        plenty_variation_id: r.int("plenty_variation_id")?,
        tiktok_product_id: r.opt_text("tiktok_product_id")?,
        tiktok_sku_id: r.opt_text("tiktok_sku_id")?,
        seller_sku: r.opt_text("seller_sku")?,
        sync_status: sync_status(&r)?,
        sync_error: r.opt_text("sync_error")?,
        last_synced_at: r.opt_int("last_synced_at")?,
        audit_status: r.opt_text("audit_status")?,
        audit_reasons,
        created_at: r.int("created_at")?,
        updated_at: r.int("updated_at")?,
    })
}

fn decode_order(row: Box<dyn DbRow>) -> Result<OrderMapping> {
    let r = RowReader::new(row, "order_mappings");
    Ok(OrderMapping {
        shop_id: r.text("shop_id")?,
        tiktok_order_id: r.text("tiktok_order_id")?,
        plenty_order_id: r.opt_int("plenty_order_id")?,
        tiktok_status: r.opt_text("tiktok_status")?,
        tiktok_update_time: r.opt_int("tiktok_update_time")?,
        sync_status: sync_status(&r)?,
        sync_error: r.opt_text("sync_error")?,
        last_synced_at: r.opt_int("last_synced_at")?,
        created_at: r.int("created_at")?,
        updated_at: r.int("updated_at")?,
    })
}

fn decode_inbox(row: Box<dyn DbRow>) -> Result<InboxMessage> {
    let r = RowReader::new(row, "webhook_inbox");
    Ok(InboxMessage {
        notification_id: r.text("notification_id")?,
        shop_id: r.text("shop_id")?,
        event_type: r.int("event_type")?,
        payload: r.bytes("payload")?,
        received_at: r.int("received_at")?,
        processed_at: r.opt_int("processed_at")?,
        outcome: match r.opt_text("outcome")? {
            Some(text) => Some(
                InboxOutcome::parse(&text)
                    .ok_or_else(|| r.malformed("outcome", format_args!("has unknown value `{text}`")))?,
            ),
            None => None,
        },
        attempts: r.int("attempts")?,
        last_error: r.opt_text("last_error")?,
        lease_owner: r.opt_text("lease_owner")?,
        available_at_ms: r.int("available_at_ms")?,
    })
}

fn decode_run(row: Box<dyn DbRow>) -> Result<SyncRun> {
    let r = RowReader::new(row, "sync_runs");
    let status_text = r.text("status")?;
    let status = RunStatus::parse(&status_text)
        .ok_or_else(|| r.malformed("status", format_args!("has unknown value `{status_text}`")))?;
    let summary = match r.opt_text("summary")? {
        Some(text) => Some(
            serde_json::from_str(&text)
                .map_err(|e| r.malformed("summary", format_args!("is not JSON: {e}")))?,
        ),
        None => None,
    };
    Ok(SyncRun {
        id: r.int("id")?,
        shop_id: r.text("shop_id")?,
        kind: r.text("kind")?,
        status,
        phase: r.text("phase")?,
        done: r.int("done")?,
        total: r.opt_int("total")?,
        errors: r.int("errors")?,
        started_at: r.int("started_at")?,
        finished_at: r.opt_int("finished_at")?,
        summary,
    })
}

fn first<T>(
    rows: Vec<Box<dyn DbRow>>,
    decode: impl FnOnce(Box<dyn DbRow>) -> Result<T>,
) -> Result<Option<T>> {
    rows.into_iter().next().map(decode).transpose()
}

/// At most [`MAX_LIMIT`] SKUs per pushed-values call.
fn check_pushed_count(field: &str, n: usize) -> Result<()> {
    if n > MAX_LIMIT as usize {
        return Err(Error::invalid_argument(
            field,
            format_args!("has more than {MAX_LIMIT} entries"),
        ));
    }
    Ok(())
}

fn json_strings(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".to_string())
}

fn check_shop_key(key: &ShopKey) -> Result<()> {
    check_id("app_key", &key.app_key)?;
    check_id("shop_id", &key.shop_id)?;
    // `:` separates the parts of the sealing associated data; ids with it could make two rows' data equal.
    for (field, value) in [("app_key", &key.app_key), ("shop_id", &key.shop_id)] {
        if value.contains(':') {
            return Err(Error::invalid_argument(field, "must not contain `:`"));
        }
    }
    Ok(())
}

fn check_product(m: &ProductMapping) -> Result<()> {
    check_id("shop_id", &m.shop_id)?;
    check_positive("plenty_item_id", m.plenty_item_id)?;
    check_positive("plenty_variation_id", m.plenty_variation_id)?;
    check_opt_id("tiktok_product_id", &m.tiktok_product_id)?;
    check_opt_id("tiktok_sku_id", &m.tiktok_sku_id)?;
    check_opt_text("seller_sku", &m.seller_sku)?;
    check_opt_text("audit_status", &m.audit_status)?;
    for reason in &m.audit_reasons {
        check_text("audit_reasons[]", reason)?;
    }
    if m.audit_reasons.len() > 1000 {
        return Err(Error::invalid_argument(
            "audit_reasons",
            "has more than 1000 entries",
        ));
    }
    Ok(())
}

fn check_order(m: &OrderMapping) -> Result<()> {
    check_id("shop_id", &m.shop_id)?;
    check_id("tiktok_order_id", &m.tiktok_order_id)?;
    if let Some(id) = m.plenty_order_id {
        check_positive("plenty_order_id", id)?;
    }
    check_opt_text("tiktok_status", &m.tiktok_status)
}

fn order_params(q: Query, m: &OrderMapping, now: UnixSeconds) -> Query {
    q.bind(&m.shop_id)
        .bind(&m.tiktok_order_id)
        .bind(m.plenty_order_id)
        .bind(&m.tiktok_status)
        .bind(m.tiktok_update_time)
        .bind(m.sync_status.as_str())
        .bind(clip_opt_error(&m.sync_error))
        .bind(m.last_synced_at)
        .bind(now)
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> &'static str {
        match self.db.dialect() {
            Dialect::Sqlite if self.in_memory => "memory",
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }

    fn durable(&self) -> bool {
        !self.in_memory
    }

    // ---- shops ----------------------------------------------------------------------------------

    async fn upsert_shop(&self, shop: &Shop) -> Result<()> {
        let key = shop.key();
        check_shop_key(&key)?;
        check_id("region", &shop.region)?;
        check_opt_text("shop_name", &shop.shop_name)?;
        check_opt_text("seller_type", &shop.seller_type)?;
        check_opt_text("shop_code", &shop.shop_code)?;
        check_secret("access_token", shop.access_token.expose_secret())?;
        check_secret("refresh_token", shop.refresh_token.expose_secret())?;
        if let Some(cipher) = &shop.cipher {
            check_secret("cipher", cipher.expose_secret())?;
        }
        for scope in &shop.granted_scopes {
            check_id("granted_scopes[]", scope)?;
        }
        let seal = |column, secret: &SecretString| {
            seal_secret(&self.ring, &key.app_key, &key.shop_id, column, secret)
        };
        let now = now_seconds();
        let query = Query::new(
            "store a shop",
            format!(
                "INSERT INTO shops ({SHOP_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)
                 ON CONFLICT (app_key, shop_id) DO UPDATE SET
                   region = excluded.region, shop_name = excluded.shop_name, seller_type = excluded.seller_type,
                   shop_code = excluded.shop_code, cipher_sealed = excluded.cipher_sealed,
                   access_token_sealed = excluded.access_token_sealed,
                   access_token_expires_at = excluded.access_token_expires_at,
                   refresh_token_sealed = excluded.refresh_token_sealed,
                   refresh_token_expires_at = excluded.refresh_token_expires_at,
                   granted_scopes = excluded.granted_scopes, status = excluded.status,
                   updated_at = excluded.updated_at"
            ),
        )
        .bind(&key.app_key)
        .bind(&key.shop_id)
        .bind(&shop.region)
        .bind(&shop.shop_name)
        .bind(&shop.seller_type)
        .bind(&shop.shop_code)
        .bind(shop.cipher.as_ref().map(|c| seal(Column::Cipher, c)))
        .bind(seal(Column::AccessToken, &shop.access_token))
        .bind(shop.access_token_expires_at)
        .bind(seal(Column::RefreshToken, &shop.refresh_token))
        .bind(shop.refresh_token_expires_at)
        .bind(json_strings(&shop.granted_scopes))
        .bind(shop.status.as_str())
        .bind(now);
        self.db.execute(query).await.map(|_| ())
    }

    async fn get_shop(&self, key: &ShopKey) -> Result<Option<Shop>> {
        check_shop_key(key)?;
        let rows = self
            .db
            .fetch_all(
                Query::new(
                    "read a shop",
                    format!("SELECT {SHOP_COLUMNS} FROM shops WHERE app_key = $1 AND shop_id = $2"),
                )
                .bind(&key.app_key)
                .bind(&key.shop_id),
            )
            .await?;
        first(rows, |row| self.decode_shop(row))
    }

    async fn list_shops(&self, app_key: Option<&str>) -> Result<Vec<Shop>> {
        let mut query = Query::new("list shops", format!("SELECT {SHOP_COLUMNS} FROM shops"));
        if let Some(app_key) = app_key {
            check_id("app_key", app_key)?;
            let p = query.push_param(app_key);
            query.sql.push_str(&format!(" WHERE app_key = {p}"));
        }
        query.sql.push_str(" ORDER BY app_key, shop_id");
        self.db
            .fetch_all(query)
            .await?
            .into_iter()
            .map(|row| self.decode_shop(row))
            .collect()
    }

    async fn list_shop_summaries(&self, app_key: Option<&str>) -> Result<Vec<ShopSummary>> {
        let mut query = Query::new("list shops", format!("SELECT {SHOP_COLUMNS} FROM shops"));
        if let Some(app_key) = app_key {
            check_id("app_key", app_key)?;
            let p = query.push_param(app_key);
            query.sql.push_str(&format!(" WHERE app_key = {p}"));
        }
        query.sql.push_str(" ORDER BY app_key, shop_id");
        let rows = self.db.fetch_all(query).await?;
        rows.into_iter()
            .map(|row| {
                let r = RowReader::new(row, "shops");
                let (status, granted_scopes) = shop_status_and_scopes(&r)?;
                Ok(ShopSummary {
                    app_key: r.text("app_key")?,
                    shop_id: r.text("shop_id")?,
                    region: r.text("region")?,
                    shop_name: r.opt_text("shop_name")?,
                    seller_type: r.opt_text("seller_type")?,
                    shop_code: r.opt_text("shop_code")?,
                    has_cipher: r.opt_text("cipher_sealed")?.is_some(),
                    access_token_expires_at: r.int("access_token_expires_at")?,
                    refresh_token_expires_at: r.int("refresh_token_expires_at")?,
                    granted_scopes,
                    status,
                    created_at: r.int("created_at")?,
                    updated_at: r.int("updated_at")?,
                })
            })
            .collect()
    }

    async fn delete_shop(&self, key: &ShopKey) -> Result<bool> {
        check_shop_key(key)?;
        let n = self
            .db
            .execute(
                Query::new(
                    "delete a shop",
                    "DELETE FROM shops WHERE app_key = $1 AND shop_id = $2",
                )
                .bind(&key.app_key)
                .bind(&key.shop_id),
            )
            .await?;
        Ok(n > 0)
    }

    async fn reseal_shop_secrets(&self) -> Result<u64> {
        let rows = self
            .db
            .fetch_all(Query::new(
                "read sealed shop secrets",
                "SELECT app_key, shop_id, cipher_sealed, access_token_sealed, refresh_token_sealed FROM shops",
            ))
            .await?;
        let mut rewritten = 0;
        for row in rows {
            let r = RowReader::new(row, "shops");
            let (app_key, shop_id) = (r.text("app_key")?, r.text("shop_id")?);
            let cipher = r.opt_text("cipher_sealed")?;
            let access = r.text("access_token_sealed")?;
            let refresh = r.text("refresh_token_sealed")?;
            let stale = [Some(&access), Some(&refresh), cipher.as_ref()]
                .into_iter()
                .flatten()
                .any(|sealed| self.ring.needs_reseal(sealed));
            if !stale {
                continue;
            }
            let reseal = |column: Column, sealed: &str| -> Result<String> {
                let secret = open_secret(&self.ring, &app_key, &shop_id, column, sealed)?;
                Ok(seal_secret(&self.ring, &app_key, &shop_id, column, &secret))
            };
            let new_cipher = cipher.as_deref().map(|c| reseal(Column::Cipher, c)).transpose()?;
            let query = Query::new(
                "re-seal shop secrets",
                // Only if unchanged since read: every write seals the access token anew (random nonce).
                "UPDATE shops SET cipher_sealed = $3, access_token_sealed = $4, refresh_token_sealed = $5
                 WHERE app_key = $1 AND shop_id = $2 AND access_token_sealed = $6",
            )
            .bind(&app_key)
            .bind(&shop_id)
            .bind(new_cipher)
            .bind(reseal(Column::AccessToken, &access)?)
            .bind(reseal(Column::RefreshToken, &refresh)?)
            .bind(&access);
            rewritten += self.db.execute(query).await?;
        }
        Ok(rewritten)
    }

    async fn mark_shop_deauthorized(&self, key: &ShopKey) -> Result<bool> {
        check_shop_key(key)?;
        let n = self
            .db
            .execute(
                Query::new(
                    "mark a shop deauthorized",
                    "UPDATE shops SET status = 'deauthorized', updated_at = $3 WHERE app_key = $1 AND shop_id = $2",
                )
                .bind(&key.app_key)
                .bind(&key.shop_id)
                .bind(now_seconds()),
            )
            .await?;
        Ok(n > 0)
    }

    async fn refresh_token_exclusive(
        &self,
        key: &ShopKey,
        now: UnixSeconds,
        margin: Duration,
        refresh: RefreshFn,
    ) -> Result<AccessToken> {
        check_shop_key(key)?;
        let margin = i64::try_from(margin.as_secs()).unwrap_or(i64::MAX / 2);
        // Fast path without a lock: a fresh token needs no coordination.
        if let Some(shop) = self.get_shop(key).await?
            && shop.status == ShopStatus::Connected
            && shop.access_token_expires_at > now.saturating_add(margin)
        {
            return Ok(AccessToken {
                access_token: shop.access_token,
                expires_at: shop.access_token_expires_at,
                refreshed: false,
            });
        }
        // PostgreSQL: the row lock (FOR UPDATE) queues other refreshers of this shop only. SQLite:
        // BEGIN IMMEDIATE holds the database's write lock, so other writers wait for the refresh.
        let mut tx = self.db.begin(Begin::Immediate).await?;
        let lock = if self.pg() { " FOR UPDATE" } else { "" };
        let rows = tx
            .fetch_all(
                Query::new(
                    "lock a shop for a token refresh",
                    format!("SELECT {SHOP_COLUMNS} FROM shops WHERE app_key = $1 AND shop_id = $2{lock}"),
                )
                .bind(&key.app_key)
                .bind(&key.shop_id),
            )
            .await?;
        let shop = first(rows, |row| self.decode_shop(row))?.ok_or_else(|| {
            Error::new(
                ErrorCode::NotFound,
                format!("shop {} of app {} is not stored", key.shop_id, key.app_key),
            )
        })?;
        if shop.status == ShopStatus::Deauthorized {
            return Err(Error::new(
                ErrorCode::ReauthorizationRequired,
                format!(
                    "shop {} revoked the authorization; the seller must connect it again",
                    key.shop_id
                ),
            ));
        }
        if shop.access_token_expires_at > now.saturating_add(margin) {
            // Still fresh: possibly refreshed by another process while we waited for the lock.
            return Ok(AccessToken {
                access_token: shop.access_token,
                expires_at: shop.access_token_expires_at,
                refreshed: false,
            });
        }
        // On error the transaction is dropped (rolled back) and the lock released.
        let tokens = refresh(shop.refresh_token.clone()).await?;
        check_secret("access_token", tokens.access_token.expose_secret())?;
        check_secret("refresh_token", tokens.refresh_token.expose_secret())?;
        let seal = |column, secret: &SecretString| {
            seal_secret(&self.ring, &key.app_key, &key.shop_id, column, secret)
        };
        tx.execute(
            Query::new(
                "store refreshed tokens",
                "UPDATE shops SET access_token_sealed = $3, access_token_expires_at = $4, refresh_token_sealed = $5,
                   refresh_token_expires_at = $6, updated_at = $7 WHERE app_key = $1 AND shop_id = $2",
            )
            .bind(&key.app_key)
            .bind(&key.shop_id)
            .bind(seal(Column::AccessToken, &tokens.access_token))
            .bind(tokens.access_token_expires_at)
            .bind(seal(Column::RefreshToken, &tokens.refresh_token))
            .bind(tokens.refresh_token_expires_at)
            .bind(now_seconds()),
        )
        .await?;
        tx.commit().await?;
        Ok(AccessToken {
            access_token: tokens.access_token,
            expires_at: tokens.access_token_expires_at,
            refreshed: true,
        })
    }

    // ---- product mappings -----------------------------------------------------------------------

    async fn upsert_product_mapping(&self, m: &ProductMapping) -> Result<()> {
        check_product(m)?;
        let now = now_seconds();
        let query = Query::new(
            "store a product mapping",
            format!(
                "INSERT INTO product_mappings ({PRODUCT_COLUMNS})
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
                 ON CONFLICT (shop_id, plenty_variation_id) DO UPDATE SET
                   plenty_item_id = excluded.plenty_item_id, tiktok_product_id = excluded.tiktok_product_id,
                   tiktok_sku_id = excluded.tiktok_sku_id, seller_sku = excluded.seller_sku,
                   sync_status = excluded.sync_status, sync_error = excluded.sync_error,
                   last_synced_at = excluded.last_synced_at, audit_status = excluded.audit_status,
                   audit_reasons = excluded.audit_reasons, updated_at = excluded.updated_at"
            ),
        )
        .bind(&m.shop_id)
        .bind(m.plenty_item_id)
        .bind(m.plenty_variation_id)
        .bind(&m.tiktok_product_id)
        .bind(&m.tiktok_sku_id)
        .bind(&m.seller_sku)
        .bind(m.sync_status.as_str())
        .bind(clip_opt_error(&m.sync_error))
        .bind(m.last_synced_at)
        .bind(&m.audit_status)
        .bind(json_strings(&m.audit_reasons))
        .bind(now);
        self.db.execute(query).await.map(|_| ())
    }

    async fn get_product_mapping(
        &self,
        shop_id: &str,
        plenty_variation_id: i64,
    ) -> Result<Option<ProductMapping>> {
        check_id("shop_id", shop_id)?;
        check_positive("plenty_variation_id", plenty_variation_id)?;
        let rows = self
            .db
            .fetch_all(
                Query::new(
                    "read a product mapping",
                    format!("SELECT {PRODUCT_COLUMNS} FROM product_mappings WHERE shop_id = $1 AND plenty_variation_id = $2"),
                )
                .bind(shop_id)
                .bind(plenty_variation_id),
            )
            .await?;
        first(rows, decode_product)
    }

    async fn find_product_mappings_by_tiktok_product(
        &self,
        shop_id: &str,
        tiktok_product_id: &str,
    ) -> Result<Vec<ProductMapping>> {
        check_id("shop_id", shop_id)?;
        check_id("tiktok_product_id", tiktok_product_id)?;
        let rows = self
            .db
            .fetch_all(
                Query::new(
                    "find product mappings by TikTok product",
                    format!(
                        "SELECT {PRODUCT_COLUMNS} FROM product_mappings WHERE shop_id = $1 AND tiktok_product_id = $2
                         ORDER BY plenty_variation_id"
                    ),
                )
                .bind(shop_id)
                .bind(tiktok_product_id),
            )
            .await?;
        rows.into_iter().map(decode_product).collect()
    }

    async fn list_product_mappings(&self, q: &ProductMappingQuery) -> Result<Vec<ProductMapping>> {
        check_id("shop_id", &q.shop_id)?;
        let limit = check_limit("limit", q.limit)?;
        let mut query = Query::new("list product mappings", String::new());
        let shop = query.push_param(&q.shop_id);
        let mut sql = format!("SELECT {PRODUCT_COLUMNS} FROM product_mappings WHERE shop_id = {shop}");
        if let Some(status) = q.status {
            sql += &format!(" AND sync_status = {}", query.push_param(status.as_str()));
        }
        if let Some(after) = q.after_variation_id {
            sql += &format!(" AND plenty_variation_id > {}", query.push_param(after));
        }
        sql += &format!(" ORDER BY plenty_variation_id LIMIT {}", query.push_param(limit));
        query.sql = sql;
        self.db
            .fetch_all(query)
            .await?
            .into_iter()
            .map(decode_product)
            .collect()
    }

    async fn count_product_mappings(&self, shop_id: &str) -> Result<SyncCounts> {
        self.count_by_status("product_mappings", shop_id).await
    }

    async fn delete_product_mappings_except(&self, shop_id: &str, keep: &[i64]) -> Result<u64> {
        check_id("shop_id", shop_id)?;
        let keep_json =
            serde_json::to_string(keep).map_err(|e| Error::internal(format!("encode keep set: {e}")))?;
        let set = self.json_int_set("$2");
        self.db
            .execute(
                Query::new(
                    "delete product mappings missing from the catalog",
                    format!("DELETE FROM product_mappings WHERE shop_id = $1 AND plenty_variation_id NOT IN ({set})"),
                )
                .bind(shop_id)
                .bind(keep_json),
            )
            .await
    }

    // ---- order mappings -------------------------------------------------------------------------

    async fn insert_order_mapping_if_absent(&self, m: &OrderMapping) -> Result<bool> {
        check_order(m)?;
        let query = order_params(
            Query::new(
                "insert an order mapping",
                format!(
                    "INSERT INTO order_mappings ({ORDER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
                     ON CONFLICT (shop_id, tiktok_order_id) DO NOTHING"
                ),
            ),
            m,
            now_seconds(),
        );
        Ok(self.db.execute(query).await? == 1)
    }

    async fn update_order_mapping(&self, m: &OrderMapping) -> Result<()> {
        check_order(m)?;
        let query = order_params(
            Query::new(
                "update an order mapping",
                "UPDATE order_mappings SET plenty_order_id = $3, tiktok_status = $4, tiktok_update_time = $5,
                   sync_status = $6, sync_error = $7, last_synced_at = $8, updated_at = $9
                 WHERE shop_id = $1 AND tiktok_order_id = $2",
            ),
            m,
            now_seconds(),
        );
        match self.db.execute(query).await? {
            0 => Err(Error::new(
                ErrorCode::NotFound,
                format!(
                    "no order mapping for TikTok order {} of shop {}",
                    m.tiktok_order_id, m.shop_id
                ),
            )),
            _ => Ok(()),
        }
    }

    async fn get_order_mapping(&self, shop_id: &str, tiktok_order_id: &str) -> Result<Option<OrderMapping>> {
        check_id("shop_id", shop_id)?;
        check_id("tiktok_order_id", tiktok_order_id)?;
        let rows = self
            .db
            .fetch_all(
                Query::new(
                    "read an order mapping",
                    format!("SELECT {ORDER_COLUMNS} FROM order_mappings WHERE shop_id = $1 AND tiktok_order_id = $2"),
                )
                .bind(shop_id)
                .bind(tiktok_order_id),
            )
            .await?;
        first(rows, decode_order)
    }

    async fn list_order_mappings(&self, q: &OrderMappingQuery) -> Result<Vec<OrderMapping>> {
        check_id("shop_id", &q.shop_id)?;
        let limit = check_limit("limit", q.limit)?;
        let mut query = Query::new("list order mappings", String::new());
        let shop = query.push_param(&q.shop_id);
        let mut sql = format!("SELECT {ORDER_COLUMNS} FROM order_mappings WHERE shop_id = {shop}");
        if let Some(status) = q.status {
            sql += &format!(" AND sync_status = {}", query.push_param(status.as_str()));
        }
        if let Some(after) = &q.after_tiktok_order_id {
            sql += &format!(" AND tiktok_order_id > {}", query.push_param(after));
        }
        sql += &format!(" ORDER BY tiktok_order_id LIMIT {}", query.push_param(limit));
        query.sql = sql;
        self.db
            .fetch_all(query)
            .await?
            .into_iter()
            .map(decode_order)
            .collect()
    }

    async fn count_order_mappings(&self, shop_id: &str) -> Result<SyncCounts> {
        self.count_by_status("order_mappings", shop_id).await
    }

    // ---- webhook inbox --------------------------------------------------------------------------

    async fn insert_inbox(&self, m: &NewInboxMessage) -> Result<bool> {
        check_id("notification_id", &m.notification_id)?;
        check_id("shop_id", &m.shop_id)?;
        if m.payload.len() > MAX_PAYLOAD {
            return Err(Error::invalid_argument(
                "payload",
                format_args!("is larger than {MAX_PAYLOAD} bytes"),
            ));
        }
        let now_ms = now_millis();
        let n = self
            .db
            .execute(
                Query::new(
                    "store a webhook in the inbox",
                    "INSERT INTO webhook_inbox (notification_id, shop_id, event_type, payload, received_at, attempts, available_at_ms)
                     VALUES ($1, $2, $3, $4, $5, 0, $6) ON CONFLICT (notification_id) DO NOTHING",
                )
                .bind(&m.notification_id)
                .bind(&m.shop_id)
                .bind(m.event_type)
                .bind(m.payload.as_slice())
                .bind(now_ms / 1000)
                .bind(now_ms),
            )
            .await?;
        Ok(n == 1)
    }

    async fn get_inbox(&self, notification_id: &str) -> Result<Option<InboxMessage>> {
        check_id("notification_id", notification_id)?;
        let rows = self
            .db
            .fetch_all(
                Query::new(
                    "read an inbox message",
                    format!("SELECT {INBOX_COLUMNS} FROM webhook_inbox WHERE notification_id = $1"),
                )
                .bind(notification_id),
            )
            .await?;
        first(rows, decode_inbox)
    }

    async fn claim_inbox(&self, owner: &str, limit: u32, lease: Duration) -> Result<Vec<InboxMessage>> {
        check_id("owner", owner)?;
        let limit = check_limit("limit", limit)?;
        let lease_ms = check_duration("lease", lease)?;
        let now_ms = now_millis();
        let sql = match self.db.dialect() {
            // SKIP LOCKED: concurrent claimers pass over each other's rows instead of waiting for them.
            Dialect::Postgres => format!(
                "WITH picked AS (
                   SELECT notification_id FROM webhook_inbox
                   WHERE processed_at IS NULL AND available_at_ms <= $3
                   ORDER BY available_at_ms, notification_id LIMIT $4
                   FOR UPDATE SKIP LOCKED)
                 UPDATE webhook_inbox AS w SET lease_owner = $1, available_at_ms = $2, attempts = w.attempts + 1
                 FROM picked WHERE w.notification_id = picked.notification_id
                 RETURNING {}",
                INBOX_COLUMNS.split(", ").map(|c| format!("w.{}", c.trim())).collect::<Vec<_>>().join(", ")
            ),
            // SQLite runs one writer at a time, so a single UPDATE … RETURNING is already atomic.
            Dialect::Sqlite => format!(
                "UPDATE webhook_inbox SET lease_owner = $1, available_at_ms = $2, attempts = attempts + 1
                 WHERE notification_id IN (
                   SELECT notification_id FROM webhook_inbox
                   WHERE processed_at IS NULL AND available_at_ms <= $3
                   ORDER BY available_at_ms, notification_id LIMIT $4)
                 RETURNING {INBOX_COLUMNS}"
            ),
        };
        let rows = self
            .db
            .fetch_all(
                Query::new("claim inbox messages", sql)
                    .bind(owner)
                    .bind(now_ms.saturating_add(lease_ms))
                    .bind(now_ms)
                    .bind(limit),
            )
            .await?;
        let mut claimed = rows.into_iter().map(decode_inbox).collect::<Result<Vec<_>>>()?;
        claimed.sort_by(|a, b| (a.received_at, &a.notification_id).cmp(&(b.received_at, &b.notification_id)));
        Ok(claimed)
    }

    async fn complete_inbox(&self, notification_id: &str, owner: &str) -> Result<bool> {
        check_id("notification_id", notification_id)?;
        check_id("owner", owner)?;
        let n = self
            .db
            .execute(
                Query::new(
                    "complete an inbox message",
                    "UPDATE webhook_inbox SET processed_at = $3, outcome = 'done'
                     WHERE notification_id = $1 AND lease_owner = $2 AND processed_at IS NULL",
                )
                .bind(notification_id)
                .bind(owner)
                .bind(now_seconds()),
            )
            .await?;
        Ok(n == 1)
    }

    async fn complete_inbox_batch(&self, notification_ids: &[String], owner: &str) -> Result<Vec<String>> {
        check_id("owner", owner)?;
        if notification_ids.len() > MAX_LIMIT as usize {
            return Err(Error::invalid_argument(
                "notification_ids",
                format_args!("has more than {MAX_LIMIT} ids"),
            ));
        }
        for id in notification_ids {
            check_id("notification_ids[]", id)?;
        }
        if notification_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids_json = serde_json::to_string(notification_ids)
            .map_err(|e| Error::internal(format!("encode ids: {e}")))?;
        let set = self.json_text_set("$3");
        let rows = self
            .db
            .fetch_all(
                Query::new(
                    "complete inbox messages",
                    format!(
                        "UPDATE webhook_inbox SET processed_at = $2, outcome = 'done'
                         WHERE lease_owner = $1 AND processed_at IS NULL AND notification_id IN ({set})
                         RETURNING notification_id"
                    ),
                )
                .bind(owner)
                .bind(now_seconds())
                .bind(ids_json),
            )
            .await?;
        let mut done = rows
            .into_iter()
            .map(|row| RowReader::new(row, "webhook_inbox").text("notification_id"))
            .collect::<Result<Vec<_>>>()?;
        done.sort();
        Ok(done)
    }

    async fn fail_inbox(
        &self,
        notification_id: &str,
        owner: &str,
        error: &str,
        retry_after: Option<Duration>,
    ) -> Result<bool> {
        check_id("notification_id", notification_id)?;
        check_id("owner", owner)?;
        let now_ms = now_millis();
        let query = match retry_after {
            Some(delay) => {
                let delay_ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2);
                Query::new(
                    "record a failed inbox attempt",
                    "UPDATE webhook_inbox SET last_error = $3, available_at_ms = $4, lease_owner = NULL
                     WHERE notification_id = $1 AND lease_owner = $2 AND processed_at IS NULL",
                )
                .bind(notification_id)
                .bind(owner)
                .bind(clip_error(error))
                .bind(now_ms.saturating_add(delay_ms))
            }
            None => Query::new(
                "give up an inbox message",
                "UPDATE webhook_inbox SET last_error = $3, processed_at = $4, outcome = 'given_up'
                 WHERE notification_id = $1 AND lease_owner = $2 AND processed_at IS NULL",
            )
            .bind(notification_id)
            .bind(owner)
            .bind(clip_error(error))
            .bind(now_ms / 1000),
        };
        Ok(self.db.execute(query).await? == 1)
    }

    async fn count_inbox_pending(&self) -> Result<i64> {
        let rows = self
            .db
            .fetch_all(Query::new(
                "count pending inbox messages",
                "SELECT COUNT(*) AS pending FROM webhook_inbox WHERE processed_at IS NULL",
            ))
            .await?;
        match rows.into_iter().next() {
            Some(row) => RowReader::new(row, "webhook_inbox").int("pending"),
            None => Err(malformed("webhook_inbox", "pending", "count returned no row")),
        }
    }

    async fn list_inbox(&self, q: &InboxQuery) -> Result<Vec<InboxMessage>> {
        let limit = check_limit("limit", q.limit)?;
        let mut query = Query::new("list inbox messages", String::new());
        let mut sql = format!(
            "SELECT {INBOX_COLUMNS} FROM webhook_inbox WHERE {}",
            match q.state {
                InboxState::Pending => "processed_at IS NULL",
                InboxState::Failing => "processed_at IS NULL AND last_error IS NOT NULL",
                InboxState::Done => "outcome = 'done'",
                InboxState::GivenUp => "outcome = 'given_up'",
            }
        );
        if let Some(shop_id) = &q.shop_id {
            check_id("shop_id", shop_id)?;
            sql += &format!(" AND shop_id = {}", query.push_param(shop_id));
        }
        if let Some(after) = &q.after_notification_id {
            sql += &format!(" AND notification_id > {}", query.push_param(after));
        }
        sql += &format!(" ORDER BY notification_id LIMIT {}", query.push_param(limit));
        query.sql = sql;
        self.db
            .fetch_all(query)
            .await?
            .into_iter()
            .map(decode_inbox)
            .collect()
    }

    async fn purge_inbox(&self, processed_before: UnixSeconds) -> Result<u64> {
        self.db
            .execute(
                Query::new(
                    "purge processed inbox messages",
                    "DELETE FROM webhook_inbox WHERE processed_at IS NOT NULL AND processed_at < $1",
                )
                .bind(processed_before),
            )
            .await
    }

    // ---- sync state -----------------------------------------------------------------------------

    async fn get_cursor(&self, shop_id: &str, kind: &str) -> Result<Option<SyncCursor>> {
        check_id("shop_id", shop_id)?;
        check_id("kind", kind)?;
        let rows = self
            .db
            .fetch_all(
                Query::new(
                    "read a sync cursor",
                    "SELECT shop_id, kind, position, updated_at FROM sync_cursors WHERE shop_id = $1 AND kind = $2",
                )
                .bind(shop_id)
                .bind(kind),
            )
            .await?;
        first(rows, |row| {
            let r = RowReader::new(row, "sync_cursors");
            Ok(SyncCursor {
                shop_id: r.text("shop_id")?,
                kind: r.text("kind")?,
                position: r.text("position")?,
                updated_at: r.int("updated_at")?,
            })
        })
    }

    async fn set_cursor(&self, shop_id: &str, kind: &str, position: &str) -> Result<()> {
        check_id("shop_id", shop_id)?;
        check_id("kind", kind)?;
        check_text("position", position)?;
        self.db
            .execute(
                Query::new(
                    "store a sync cursor",
                    "INSERT INTO sync_cursors (shop_id, kind, position, updated_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (shop_id, kind) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at",
                )
                .bind(shop_id)
                .bind(kind)
                .bind(position)
                .bind(now_seconds()),
            )
            .await
            .map(|_| ())
    }

    async fn start_sync_run(&self, shop_id: &str, kind: &str, phase: &str) -> Result<SyncRun> {
        check_id("shop_id", shop_id)?;
        check_id("kind", kind)?;
        check_text("phase", phase)?;
        let rows = self
            .db
            .fetch_all(
                Query::new(
                    "start a sync run",
                    format!(
                        "INSERT INTO sync_runs (shop_id, kind, status, phase, done, errors, started_at)
                         VALUES ($1, $2, 'running', $3, 0, 0, $4) RETURNING {RUN_COLUMNS}"
                    ),
                )
                .bind(shop_id)
                .bind(kind)
                .bind(phase)
                .bind(now_seconds()),
            )
            .await?;
        first(rows, decode_run)?.ok_or_else(|| malformed("sync_runs", "id", "insert returned no row"))
    }

    async fn update_sync_run(&self, id: i64, p: &SyncProgress) -> Result<()> {
        check_positive("id", id)?;
        check_text("phase", &p.phase)?;
        if p.done < 0 || p.errors < 0 || p.total.is_some_and(|t| t < 0) {
            return Err(Error::invalid_argument("progress", "counts must not be negative"));
        }
        let n = self
            .db
            .execute(
                Query::new(
                    "record sync progress",
                    "UPDATE sync_runs SET phase = $2, done = $3, total = $4, errors = $5 WHERE id = $1",
                )
                .bind(id)
                .bind(&p.phase)
                .bind(p.done)
                .bind(p.total)
                .bind(p.errors),
            )
            .await?;
        if n == 0 {
            return Err(Error::new(ErrorCode::NotFound, format!("no sync run {id}")));
        }
        Ok(())
    }

    async fn finish_sync_run(&self, id: i64, status: RunStatus, summary: &serde_json::Value) -> Result<()> {
        check_positive("id", id)?;
        if status == RunStatus::Running {
            return Err(Error::invalid_argument(
                "status",
                "a finished run is `succeeded` or `failed`",
            ));
        }
        let summary = summary.to_string();
        if summary.len() > MAX_ERROR {
            return Err(Error::invalid_argument(
                "summary",
                format_args!("is larger than {MAX_ERROR} bytes"),
            ));
        }
        let n = self
            .db
            .execute(
                Query::new(
                    "finish a sync run",
                    "UPDATE sync_runs SET status = $2, summary = $3, finished_at = $4 WHERE id = $1",
                )
                .bind(id)
                .bind(status.as_str())
                .bind(summary)
                .bind(now_seconds()),
            )
            .await?;
        if n == 0 {
            return Err(Error::new(ErrorCode::NotFound, format!("no sync run {id}")));
        }
        Ok(())
    }

    async fn get_sync_run(&self, id: i64) -> Result<Option<SyncRun>> {
        let rows = self
            .db
            .fetch_all(
                Query::new(
                    "read a sync run",
                    format!("SELECT {RUN_COLUMNS} FROM sync_runs WHERE id = $1"),
                )
                .bind(id),
            )
            .await?;
        first(rows, decode_run)
    }

    async fn list_sync_runs(&self, shop_id: &str, kind: Option<&str>, limit: u32) -> Result<Vec<SyncRun>> {
        check_id("shop_id", shop_id)?;
        let limit = check_limit("limit", limit)?;
        let mut query = Query::new("list sync runs", String::new());
        let shop = query.push_param(shop_id);
        let mut sql = format!("SELECT {RUN_COLUMNS} FROM sync_runs WHERE shop_id = {shop}");
        if let Some(kind) = kind {
            check_id("kind", kind)?;
            sql += &format!(" AND kind = {}", query.push_param(kind));
        }
        sql += &format!(" ORDER BY id DESC LIMIT {}", query.push_param(limit));
        query.sql = sql;
        self.db
            .fetch_all(query)
            .await?
            .into_iter()
            .map(decode_run)
            .collect()
    }

    // ---- OAuth state ----------------------------------------------------------------------------

    async fn get_pushed_values(&self, shop_id: &str, tiktok_sku_ids: &[String]) -> Result<Vec<PushedSku>> {
        check_id("shop_id", shop_id)?;
        check_pushed_count("tiktok_sku_ids", tiktok_sku_ids.len())?;
        for id in tiktok_sku_ids {
            check_id("tiktok_sku_ids[]", id)?;
        }
        if tiktok_sku_ids.is_empty() {
            return Ok(Vec::new());
        }
        let set = self.json_text_set("$2");
        let rows = self
            .db
            .fetch_all(
                Query::new(
                    "read pushed values",
                    format!(
                        "SELECT tiktok_sku_id, inventory, price, updated_at FROM pushed_values
                         WHERE shop_id = $1 AND tiktok_sku_id IN ({set})"
                    ),
                )
                .bind(shop_id)
                .bind(json_strings(tiktok_sku_ids)),
            )
            .await?;
        rows.into_iter()
            .map(|row| {
                let r = RowReader::new(row, "pushed_values");
                let inventory = match r.opt_text("inventory")? {
                    Some(text) => Some(
                        serde_json::from_str::<Vec<PushedQuantity>>(&text)
                            .map_err(|e| r.malformed("inventory", e))?,
                    ),
                    None => None,
                };
                Ok(PushedSku {
                    tiktok_sku_id: r.text("tiktok_sku_id")?,
                    inventory,
                    price: r.opt_text("price")?,
                    updated_at: r.int("updated_at")?,
                })
            })
            .collect()
    }

    async fn save_pushed_values(&self, shop_id: &str, values: &[PushedSku]) -> Result<()> {
        check_id("shop_id", shop_id)?;
        check_pushed_count("values", values.len())?;
        // One row per SKU (a statement may not touch a row twice), later entries merged over earlier.
        let mut merged: Vec<PushedSku> = Vec::with_capacity(values.len());
        for v in values {
            check_id("values[].tiktok_sku_id", &v.tiktok_sku_id)?;
            check_opt_id("values[].price", &v.price)?;
            for q in v.inventory.iter().flatten() {
                check_id("values[].inventory[].warehouse_id", &q.warehouse_id)?;
            }
            match merged.iter_mut().find(|m| m.tiktok_sku_id == v.tiktok_sku_id) {
                Some(m) => {
                    if v.inventory.is_some() {
                        m.inventory = v.inventory.clone();
                    }
                    if v.price.is_some() {
                        m.price = v.price.clone();
                    }
                }
                None => merged.push(v.clone()),
            }
        }
        if merged.is_empty() {
            return Ok(());
        }
        let now = now_seconds();
        let mut query = Query::new("store pushed values", String::new());
        let shop = query.push_param(shop_id);
        let updated = query.push_param(now);
        let mut rows = Vec::with_capacity(merged.len());
        for v in &merged {
            let inventory = match &v.inventory {
                Some(list) => Some(
                    serde_json::to_string(list)
                        .map_err(|e| Error::internal(format!("encode inventory: {e}")))?,
                ),
                None => None,
            };
            let sku = query.push_param(v.tiktok_sku_id.as_str());
            let inventory = query.push_param(inventory);
            let price = query.push_param(&v.price);
            rows.push(format!("({shop}, {sku}, {inventory}, {price}, {updated})"));
        }
        query.sql = format!(
            "INSERT INTO pushed_values (shop_id, tiktok_sku_id, inventory, price, updated_at) VALUES {}
             ON CONFLICT (shop_id, tiktok_sku_id) DO UPDATE SET
               inventory = COALESCE(excluded.inventory, pushed_values.inventory),
               price = COALESCE(excluded.price, pushed_values.price),
               updated_at = excluded.updated_at",
            rows.join(", ")
        );
        self.db.execute(query).await.map(|_| ())
    }

    async fn set_order_reservations(
        &self,
        shop_id: &str,
        tiktok_order_id: &str,
        lines: &[OrderReservation],
    ) -> Result<()> {
        check_id("shop_id", shop_id)?;
        check_id("tiktok_order_id", tiktok_order_id)?;
        check_pushed_count("lines", lines.len())?;
        let mut units: Vec<(i64, i64)> = Vec::with_capacity(lines.len());
        for line in lines {
            check_positive("lines[].plenty_variation_id", line.plenty_variation_id)?;
            if line.quantity <= 0 {
                continue;
            }
            match units.iter_mut().find(|(v, _)| *v == line.plenty_variation_id) {
                Some((_, q)) => *q = q.saturating_add(line.quantity),
                None => units.push((line.plenty_variation_id, line.quantity)),
            }
        }
        let mut tx = self.db.begin(Begin::Immediate).await?;
        tx.execute(
            Query::new(
                "release an order's reservations",
                "DELETE FROM order_reservations WHERE shop_id = $1 AND tiktok_order_id = $2",
            )
            .bind(shop_id)
            .bind(tiktok_order_id),
        )
        .await?;
        if !units.is_empty() {
            let mut query = Query::new("reserve an order's units", String::new());
            let shop = query.push_param(shop_id);
            let order = query.push_param(tiktok_order_id);
            let now = query.push_param(now_seconds());
            let mut rows = Vec::with_capacity(units.len());
            for (variation, quantity) in units {
                let v = query.push_param(variation);
                let q = query.push_param(quantity);
                rows.push(format!("({shop}, {order}, {v}, {q}, {now})"));
            }
            // ON CONFLICT: a concurrent writer of the same order (PostgreSQL does not see its
            // uncommitted delete) ends with one set of rows, not an error.
            query.sql = format!(
                "INSERT INTO order_reservations (shop_id, tiktok_order_id, plenty_variation_id, quantity, updated_at)
                 VALUES {}
                 ON CONFLICT (shop_id, tiktok_order_id, plenty_variation_id) DO UPDATE SET
                   quantity = excluded.quantity, updated_at = excluded.updated_at",
                rows.join(", ")
            );
            tx.execute(query).await?;
        }
        tx.commit().await
    }

    async fn reserved_units(
        &self,
        shop_id: &str,
        plenty_variation_ids: &[i64],
    ) -> Result<Vec<OrderReservation>> {
        check_id("shop_id", shop_id)?;
        check_pushed_count("plenty_variation_ids", plenty_variation_ids.len())?;
        if plenty_variation_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = serde_json::to_string(plenty_variation_ids)
            .map_err(|e| Error::internal(format!("encode ids: {e}")))?;
        let set = self.json_int_set("$2");
        let rows = self
            .db
            .fetch_all(
                Query::new(
                    "sum reserved units",
                    format!(
                        "SELECT plenty_variation_id, CAST(SUM(quantity) AS BIGINT) AS units FROM order_reservations
                         WHERE shop_id = $1 AND plenty_variation_id IN ({set})
                         GROUP BY plenty_variation_id"
                    ),
                )
                .bind(shop_id)
                .bind(ids),
            )
            .await?;
        rows.into_iter()
            .map(|row| {
                let r = RowReader::new(row, "order_reservations");
                Ok(OrderReservation {
                    plenty_variation_id: r.int("plenty_variation_id")?,
                    quantity: r.int("units")?,
                })
            })
            .collect::<Result<Vec<_>>>()
            .map(|v| v.into_iter().filter(|r| r.quantity > 0).collect())
    }

    async fn save_oauth_state(&self, state: &str, expires_at: UnixSeconds) -> Result<()> {
        check_id("state", state)?;
        let now = now_seconds();
        // Housekeeping: states a day past their expiry can only ever be answered "invalid" anyway.
        self.db
            .execute(
                Query::new(
                    "purge old OAuth states",
                    "DELETE FROM oauth_states WHERE expires_at < $1",
                )
                .bind(now - 86_400),
            )
            .await?;
        let n = self
            .db
            .execute(
                Query::new(
                    "store an OAuth state",
                    "INSERT INTO oauth_states (state, expires_at) VALUES ($1, $2) ON CONFLICT (state) DO NOTHING",
                )
                .bind(state)
                .bind(expires_at),
            )
            .await?;
        if n == 0 {
            return Err(Error::invalid_argument(
                "state",
                "was already issued; generate a fresh one",
            ));
        }
        Ok(())
    }

    async fn consume_oauth_state(&self, state: &str, now: UnixSeconds) -> Result<()> {
        if state.is_empty() || state.len() > MAX_ID {
            return Err(Error::new(
                ErrorCode::StateInvalid,
                "the OAuth state is missing or malformed",
            ));
        }
        let n = self
            .db
            .execute(
                Query::new(
                    "consume an OAuth state",
                    "UPDATE oauth_states SET consumed_at = $2 WHERE state = $1 AND consumed_at IS NULL AND expires_at > $2",
                )
                .bind(state)
                .bind(now),
            )
            .await?;
        if n == 1 {
            return Ok(());
        }
        let rows = self
            .db
            .fetch_all(
                Query::new(
                    "read an OAuth state",
                    "SELECT expires_at, consumed_at FROM oauth_states WHERE state = $1",
                )
                .bind(state),
            )
            .await?;
        let Some(row) = rows.into_iter().next() else {
            return Err(Error::new(
                ErrorCode::StateInvalid,
                "the OAuth state was not issued by this app (or is long gone)",
            ));
        };
        let r = RowReader::new(row, "oauth_states");
        if r.opt_int("consumed_at")?.is_some() {
            Err(Error::new(
                ErrorCode::StateReused,
                "the OAuth state was already used; restart the connection",
            ))
        } else {
            Err(Error::new(
                ErrorCode::StateExpired,
                "the OAuth state expired; restart the connection",
            ))
        }
    }

    // ---- leases ---------------------------------------------------------------------------------

    async fn save_secret(&self, name: &str, value: &SecretString) -> Result<()> {
        check_id("name", name)?;
        if value.expose_secret().len() > MAX_SECRET {
            return Err(Error::invalid_argument(
                "value",
                format_args!("is longer than {MAX_SECRET} bytes"),
            ));
        }
        let sealed = self
            .ring
            .seal_str(value.expose_secret(), &format!("secret:{name}"));
        self.db
            .execute(
                Query::new(
                    "store a secret",
                    "INSERT INTO secrets (name, sealed, updated_at) VALUES ($1, $2, $3)
                     ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at",
                )
                .bind(name)
                .bind(sealed.as_str())
                .bind(now_seconds()),
            )
            .await
            .map(|_| ())
    }

    async fn load_secret(&self, name: &str) -> Result<Option<SecretString>> {
        check_id("name", name)?;
        let rows = self
            .db
            .fetch_all(Query::new("read a secret", "SELECT sealed FROM secrets WHERE name = $1").bind(name))
            .await?;
        first(rows, |row| {
            let sealed = RowReader::new(row, "secrets").text("sealed")?;
            let opened = self
                .ring
                .open_str(&sealed, &format!("secret:{name}"))
                .map_err(|e| {
                    Error::new(e.code(), format!("secrets.sealed of {name}: {}", e.message()))
                        .with_field("secrets.sealed")
                })?;
            Ok(SecretString::from(opened.as_str().to_owned()))
        })
    }

    async fn acquire_lease(&self, name: &str, owner: &str, ttl: Duration) -> Result<bool> {
        check_id("name", name)?;
        check_id("owner", owner)?;
        let ttl_ms = check_duration("ttl", ttl)?;
        let now_ms = now_millis();
        let n = self
            .db
            .execute(
                Query::new(
                    "acquire a lease",
                    "INSERT INTO leases (name, owner, expires_at_ms) VALUES ($1, $2, $3)
                     ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at_ms = excluded.expires_at_ms
                     WHERE leases.expires_at_ms <= $4 OR leases.owner = excluded.owner",
                )
                .bind(name)
                .bind(owner)
                .bind(now_ms.saturating_add(ttl_ms))
                .bind(now_ms),
            )
            .await?;
        Ok(n == 1)
    }

    async fn renew_lease(&self, name: &str, owner: &str, ttl: Duration) -> Result<bool> {
        check_id("name", name)?;
        check_id("owner", owner)?;
        let ttl_ms = check_duration("ttl", ttl)?;
        let now_ms = now_millis();
        // An expired lease still held by `owner` may be renewed: nobody else took it meanwhile.
        let n = self
            .db
            .execute(
                Query::new(
                    "renew a lease",
                    "UPDATE leases SET expires_at_ms = $3 WHERE name = $1 AND owner = $2",
                )
                .bind(name)
                .bind(owner)
                .bind(now_ms.saturating_add(ttl_ms)),
            )
            .await?;
        Ok(n == 1)
    }

    async fn release_lease(&self, name: &str, owner: &str) -> Result<bool> {
        check_id("name", name)?;
        check_id("owner", owner)?;
        let n = self
            .db
            .execute(
                Query::new(
                    "release a lease",
                    "DELETE FROM leases WHERE name = $1 AND owner = $2",
                )
                .bind(name)
                .bind(owner),
            )
            .await?;
        Ok(n == 1)
    }

    async fn get_lease(&self, name: &str) -> Result<Option<Lease>> {
        check_id("name", name)?;
        let rows = self
            .db
            .fetch_all(
                Query::new(
                    "read a lease",
                    "SELECT name, owner, expires_at_ms FROM leases WHERE name = $1",
                )
                .bind(name),
            )
            .await?;
        first(rows, |row| {
            let r = RowReader::new(row, "leases");
            Ok(Lease {
                name: r.text("name")?,
                owner: r.text("owner")?,
                expires_at_ms: r.int("expires_at_ms")?,
            })
        })
    }

    // ---- housekeeping ---------------------------------------------------------------------------

    async fn schema_versions(&self) -> Result<Vec<i64>> {
        let rows = self
            .db
            .fetch_all(Query::new(
                "read schema versions",
                "SELECT version FROM tts_store_migrations ORDER BY version",
            ))
            .await?;
        rows.into_iter()
            .map(|row| RowReader::new(row, "tts_store_migrations").int("version"))
            .collect()
    }

    async fn checkpoint(&self) -> Result<()> {
        self.db.checkpoint().await
    }

    async fn close(&self) {
        self.db.close().await;
    }
}
