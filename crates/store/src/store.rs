//! The one storage interface. Every backend implements it and passes the same conformance battery
//! ([`crate::conformance`]). Object-safe: hold it as `Arc<dyn Store>`.

use std::time::Duration;

use async_trait::async_trait;
use futures_util::future::BoxFuture;
use tts_core::{Result, SecretString};

use crate::model::*;

/// The network call a token refresh makes: given the current refresh token, returns the new pair.
pub type RefreshFn = Box<dyn FnOnce(SecretString) -> BoxFuture<'static, Result<NewTokens>> + Send>;

#[async_trait]
pub trait Store: Send + Sync {
    /// `sqlite`, `postgres` or `memory`.
    fn backend(&self) -> &'static str;

    /// False for `memory:`, whose data is gone when the process ends.
    fn durable(&self) -> bool {
        true
    }

    // ---- shops ----------------------------------------------------------------------------------

    /// Inserts or replaces a shop's credentials (keeps `created_at`). Tokens and cipher are sealed.
    async fn upsert_shop(&self, shop: &Shop) -> Result<()>;
    /// The shop with its secrets opened, or `None`.
    async fn get_shop(&self, key: &ShopKey) -> Result<Option<Shop>>;
    /// All shops of an app (all apps when `app_key` is `None`), ordered by app key and shop id.
    async fn list_shops(&self, app_key: Option<&str>) -> Result<Vec<Shop>>;
    /// All shops of an app (all apps when `None`) without their secrets; never fails on a seal.
    async fn list_shop_summaries(&self, app_key: Option<&str>) -> Result<Vec<ShopSummary>>;
    /// Removes a shop's credentials; true if it existed. Mappings stay (they belong to the shop id).
    async fn delete_shop(&self, key: &ShopKey) -> Result<bool>;
    /// Re-seals every shop secret sealed with a key other than the ring's first (after a key
    /// rotation); returns how many shops were rewritten. A shop refreshed meanwhile is left alone (its
    /// new tokens are sealed with the current key anyway).
    async fn reseal_shop_secrets(&self) -> Result<u64>;
    /// Marks the authorization revoked; true if the shop exists.
    async fn mark_shop_deauthorized(&self, key: &ShopKey) -> Result<bool>;
    /// Runs `refresh` only if the access token expires within `margin` of `now`, under a lock that
    /// makes concurrent callers in every process wait and then read the new token instead of
    /// refreshing again. `refresh` must not use this store (it runs while the lock is held).
    async fn refresh_token_exclusive(
        &self,
        key: &ShopKey,
        now: UnixSeconds,
        margin: Duration,
        refresh: RefreshFn,
    ) -> Result<AccessToken>;

    // ---- product mappings -----------------------------------------------------------------------

    /// Inserts or replaces the mapping of (shop, PlentyONE variation).
    async fn upsert_product_mapping(&self, mapping: &ProductMapping) -> Result<()>;
    async fn get_product_mapping(
        &self,
        shop_id: &str,
        plenty_variation_id: i64,
    ) -> Result<Option<ProductMapping>>;
    /// Mappings of one TikTok product (one per SKU).
    async fn find_product_mappings_by_tiktok_product(
        &self,
        shop_id: &str,
        tiktok_product_id: &str,
    ) -> Result<Vec<ProductMapping>>;
    /// One page, ordered by PlentyONE variation id.
    async fn list_product_mappings(&self, query: &ProductMappingQuery) -> Result<Vec<ProductMapping>>;
    /// How many of the shop's product mappings are pending, synced, in error.
    async fn count_product_mappings(&self, shop_id: &str) -> Result<SyncCounts>;
    /// Deletes the shop's mappings whose variation is not in `keep`; returns how many went.
    async fn delete_product_mappings_except(&self, shop_id: &str, keep: &[i64]) -> Result<u64>;

    // ---- order mappings -------------------------------------------------------------------------

    /// Inserts the mapping unless one exists for (shop, TikTok order). True if this call inserted it:
    /// only that caller may create the PlentyONE order.
    async fn insert_order_mapping_if_absent(&self, mapping: &OrderMapping) -> Result<bool>;
    /// Replaces an existing mapping ([`tts_core::ErrorCode::NotFound`] if absent).
    async fn update_order_mapping(&self, mapping: &OrderMapping) -> Result<()>;
    async fn get_order_mapping(&self, shop_id: &str, tiktok_order_id: &str) -> Result<Option<OrderMapping>>;
    /// One page, ordered by TikTok order id (filter by `SyncStatus::Error` for the failures).
    async fn list_order_mappings(&self, query: &OrderMappingQuery) -> Result<Vec<OrderMapping>>;
    /// How many of the shop's order mappings are pending, synced, in error.
    async fn count_order_mappings(&self, shop_id: &str) -> Result<SyncCounts>;

    // ---- webhook inbox --------------------------------------------------------------------------

    /// Stores a webhook unless its notification id is already there; true if new.
    async fn insert_inbox(&self, message: &NewInboxMessage) -> Result<bool>;
    async fn get_inbox(&self, notification_id: &str) -> Result<Option<InboxMessage>>;
    /// Claims up to `limit` claimable messages for `owner` until `lease` from now, oldest first. Each
    /// message is handed to one claimer at a time; if the claimer neither completes nor fails it
    /// before the lease ends, it becomes claimable again.
    async fn claim_inbox(&self, owner: &str, limit: u32, lease: Duration) -> Result<Vec<InboxMessage>>;
    /// Marks a claimed message processed. False if `owner` no longer holds the claim (lease lost).
    async fn complete_inbox(&self, notification_id: &str, owner: &str) -> Result<bool>;
    /// Marks several claimed messages processed in one statement; returns the ids it completed
    /// (those `owner` still held). For workers that finish a whole batch before recording it.
    async fn complete_inbox_batch(&self, notification_ids: &[String], owner: &str) -> Result<Vec<String>>;
    /// Records a failed attempt: with `retry_after`, the message becomes claimable again then;
    /// without, it is given up (marked processed, with the error kept). False if the claim was lost.
    async fn fail_inbox(
        &self,
        notification_id: &str,
        owner: &str,
        error: &str,
        retry_after: Option<Duration>,
    ) -> Result<bool>;
    /// Messages not yet processed (claimed or waiting).
    async fn count_inbox_pending(&self) -> Result<i64>;
    /// One page of messages in a state, ordered by notification id (for an errors view).
    async fn list_inbox(&self, query: &InboxQuery) -> Result<Vec<InboxMessage>>;
    /// Deletes messages processed (done or given up) before `processed_before`; returns how many.
    /// Their notification ids are forgotten, so keep them longer than TikTok retries deliveries.
    async fn purge_inbox(&self, processed_before: UnixSeconds) -> Result<u64>;

    // ---- sync state -----------------------------------------------------------------------------

    async fn get_cursor(&self, shop_id: &str, kind: &str) -> Result<Option<SyncCursor>>;
    async fn set_cursor(&self, shop_id: &str, kind: &str, position: &str) -> Result<()>;
    /// Starts a run in status `running`.
    async fn start_sync_run(&self, shop_id: &str, kind: &str, phase: &str) -> Result<SyncRun>;
    /// Records the progress of a running run ([`tts_core::ErrorCode::NotFound`] if no such run).
    async fn update_sync_run(&self, id: i64, progress: &SyncProgress) -> Result<()>;
    /// Finishes a run with its status and result summary.
    async fn finish_sync_run(&self, id: i64, status: RunStatus, summary: &serde_json::Value) -> Result<()>;
    async fn get_sync_run(&self, id: i64) -> Result<Option<SyncRun>>;
    /// Newest first; optionally only one kind.
    async fn list_sync_runs(&self, shop_id: &str, kind: Option<&str>, limit: u32) -> Result<Vec<SyncRun>>;

    // ---- values last pushed to TikTok ----------------------------------------------------------

    /// What was last sent for these TikTok SKUs of the shop (stock and price push); SKUs never sent
    /// are absent. Any order; at most 1000 ids.
    async fn get_pushed_values(&self, shop_id: &str, tiktok_sku_ids: &[String]) -> Result<Vec<PushedSku>>;
    /// Records what TikTok now holds for several SKUs of the shop, atomically. A `None` inventory or
    /// price keeps the stored one; a SKU listed twice counts once (the last, merged the same way). At
    /// most 1000 SKUs.
    async fn save_pushed_values(&self, shop_id: &str, values: &[PushedSku]) -> Result<()>;

    // ---- order reservations (the oversell guard) ---------------------------------------------

    /// Replaces the units a TikTok order of the shop holds per PlentyONE variation; empty `lines`
    /// release them all (the order is in PlentyONE now, or cancelled). Lines of one variation are
    /// added up; lines with a quantity ≤ 0 are left out.
    async fn set_order_reservations(
        &self,
        shop_id: &str,
        tiktok_order_id: &str,
        lines: &[OrderReservation],
    ) -> Result<()>;
    /// Units held per variation by all the shop's orders, summed; variations holding nothing are
    /// absent. At most 1000 ids.
    async fn reserved_units(
        &self,
        shop_id: &str,
        plenty_variation_ids: &[i64],
    ) -> Result<Vec<OrderReservation>>;

    // ---- OAuth state --------------------------------------------------------------------------------

    /// Remembers an issued OAuth `state` until `expires_at`.
    async fn save_oauth_state(&self, state: &str, expires_at: UnixSeconds) -> Result<()>;
    /// Accepts a `state` once: a second use is `StateReused`, a late one `StateExpired`, an unknown
    /// one `StateInvalid`.
    async fn consume_oauth_state(&self, state: &str, now: UnixSeconds) -> Result<()>;

    // ---- secrets of the integration ---------------------------------------------------------------

    /// Stores a named secret sealed (bound to its name), replacing the previous value; e.g. the
    /// PlentyONE back-office session, so a restart reuses it instead of logging in again.
    async fn save_secret(&self, name: &str, value: &SecretString) -> Result<()>;
    /// The named secret, opened, or `None`.
    async fn load_secret(&self, name: &str) -> Result<Option<SecretString>>;

    // ---- leases ---------------------------------------------------------------------------------

    /// Takes the named lease for `owner` if it is free, expired or already `owner`'s. True if taken.
    async fn acquire_lease(&self, name: &str, owner: &str, ttl: Duration) -> Result<bool>;
    /// Extends a lease `owner` still holds. False if it expired and someone else took it (or it is gone).
    async fn renew_lease(&self, name: &str, owner: &str, ttl: Duration) -> Result<bool>;
    /// Gives a lease up; false if `owner` did not hold it.
    async fn release_lease(&self, name: &str, owner: &str) -> Result<bool>;
    async fn get_lease(&self, name: &str) -> Result<Option<Lease>>;

    // ---- housekeeping ---------------------------------------------------------------------------

    /// Versions of the applied schema migrations, ascending.
    async fn schema_versions(&self) -> Result<Vec<i64>>;
    /// Makes every commit visible in the main database file (SQLite WAL checkpoint; no-op elsewhere).
    async fn checkpoint(&self) -> Result<()>;
    /// Closes the connections; later calls fail.
    async fn close(&self);
}
