//! Order import: a TikTok order becomes exactly one PlentyONE order, and later TikTok status changes
//! move the PlentyONE status along (cancellation cancels it).
//!
//! Exactly once, across workers and crashes:
//! - a lease per (shop, order) in the store serializes everything done for one order, whichever
//!   worker and whichever event (webhook or reconciliation) triggered it; a busy lease is a transient
//!   error, so the inbox retries the event a little later;
//! - the order mapping is inserted (pending) before anything is created in PlentyONE, and an order is
//!   always looked up by its external order id (`<shop>_<order>`, property 7) before it is created, so a
//!   crash between "created in PlentyONE" and "mapping updated" adopts the existing order next time;
//! - status updates compare TikTok's `update_time` with the one last applied: older events are stale
//!   and ignored; the order detail fetched from TikTok is the current state anyway.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rust_decimal::Decimal;
use tts_core::{Error, ErrorCode, Result};
use tts_mapping::order::{OrderMappingConfig, map_order};
use tts_mapping::problem::has_errors;
use tts_mapping::status::{ImportDecision, plenty_status, should_import};
use tts_plenty::api::payments::{PaymentCreate, payment_status};
use tts_plenty::client::Client as PlentyClient;
use tts_store::{OrderMapping, Store, SyncStatus, now_seconds};
use tts_tiktok::client::Client as TikTokClient;
use tts_tiktok::model::order::{Order, OrderStatus};

/// What happened to one order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportOutcome {
    /// A PlentyONE order was created (or an existing one with the same external id adopted).
    Created { plenty_order_id: i64, adopted: bool },
    /// The PlentyONE status was moved to follow TikTok.
    StatusUpdated { plenty_order_id: i64, status: String },
    /// Nothing to do (already up to date, or an older event).
    Unchanged,
    /// Not imported (yet): the import rules say so.
    NotImported { reason: String },
    /// The order cannot be imported as it is; the reason is on the order mapping.
    Rejected { reason: String },
}

/// Imports TikTok orders into PlentyONE.
pub struct OrderImporter {
    store: Arc<dyn Store>,
    tiktok: TikTokClient,
    plenty: PlentyClient,
    /// Per shop: how its orders map (shop id, plenty id, referrer, statuses, payment method...).
    configs: HashMap<String, OrderMappingConfig>,
    /// Names this worker's leases.
    owner: String,
    lease: Duration,
}

impl OrderImporter {
    pub fn new(
        store: Arc<dyn Store>,
        tiktok: TikTokClient,
        plenty: PlentyClient,
        configs: HashMap<String, OrderMappingConfig>,
        owner: impl Into<String>,
    ) -> Self {
        OrderImporter {
            store,
            tiktok,
            plenty,
            configs,
            owner: owner.into(),
            lease: Duration::from_secs(120),
        }
    }

    fn config(&self, shop_id: &str) -> Result<&OrderMappingConfig> {
        self.configs.get(shop_id).ok_or_else(|| {
            Error::new(
                ErrorCode::NotFound,
                format!("no order import settings for shop {shop_id}"),
            )
            .with_field("shopId")
        })
    }

    /// Brings one order up to date. `event_time` is the `update_time` of the event that triggered
    /// this (0 for a reconciliation pass).
    pub async fn sync_order(&self, shop_id: &str, order_id: &str, event_time: i64) -> Result<ImportOutcome> {
        let lease = format!("order:{shop_id}:{order_id}");
        // Unique per call: concurrent workers of one process must exclude each other too.
        let holder = format!("{}:{:016x}", self.owner, rand::random::<u64>());
        if !self.store.acquire_lease(&lease, &holder, self.lease).await? {
            return Err(Error::new(
                ErrorCode::RateLimited,
                format!("order {order_id} is being synced by another worker"),
            )
            .with_retry_after(Duration::from_secs(2)));
        }
        let result = self.sync_order_locked(shop_id, order_id, event_time).await;
        // A release that fails only means the lease runs out by itself.
        let _ = self.store.release_lease(&lease, &holder).await;
        result
    }

    async fn sync_order_locked(
        &self,
        shop_id: &str,
        order_id: &str,
        event_time: i64,
    ) -> Result<ImportOutcome> {
        let config = self.config(shop_id)?;
        let mapping = self.store.get_order_mapping(shop_id, order_id).await?;
        if let Some(m) = &mapping {
            let applied = m.tiktok_update_time.unwrap_or(0);
            if m.plenty_order_id.is_some() && event_time > 0 && event_time <= applied {
                return Ok(ImportOutcome::Unchanged); // a stale or duplicate event
            }
        }
        let order = self.fetch_order(shop_id, order_id).await?;
        match mapping {
            Some(m) if m.plenty_order_id.is_some() => self.follow_status(config, m, &order).await,
            _ => self.import(config, shop_id, &order).await,
        }
    }

    async fn fetch_order(&self, shop_id: &str, order_id: &str) -> Result<Order> {
        let shop = self.tiktok.shop(shop_id)?;
        shop.get_orders(&[order_id.to_string()])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::NotFound,
                    format!("TikTok has no order {order_id} in shop {shop_id}"),
                )
            })
    }

    async fn follow_status(
        &self,
        config: &OrderMappingConfig,
        mut m: OrderMapping,
        order: &Order,
    ) -> Result<ImportOutcome> {
        let plenty_order_id = m.plenty_order_id.expect("checked by the caller");
        let status = order.status.as_str().to_string();
        if m.tiktok_status.as_deref() == Some(status.as_str()) {
            m.tiktok_update_time = Some(order.update_time.max(m.tiktok_update_time.unwrap_or(0)));
            self.store.update_order_mapping(&m).await?;
            return Ok(ImportOutcome::Unchanged);
        }
        if order.status == OrderStatus::Cancelled {
            self.plenty.cancel_order(plenty_order_id).await?;
        } else if let Some(target) = plenty_status(&order.status, &config.status) {
            self.plenty.update_order_status(plenty_order_id, target).await?;
        }
        m.tiktok_status = Some(status.clone());
        m.tiktok_update_time = Some(order.update_time);
        m.sync_status = SyncStatus::Synced;
        m.sync_error = None;
        m.last_synced_at = Some(now_seconds());
        self.store.update_order_mapping(&m).await?;
        Ok(ImportOutcome::StatusUpdated {
            plenty_order_id,
            status,
        })
    }

    async fn import(
        &self,
        config: &OrderMappingConfig,
        shop_id: &str,
        order: &Order,
    ) -> Result<ImportOutcome> {
        match should_import(&order.status, order.create_time, now_seconds(), &config.status) {
            ImportDecision::Import => {}
            // A later status change (webhook or reconciliation) brings the order back.
            ImportDecision::Wait { reason, .. } | ImportDecision::Skip { reason } => {
                return Ok(ImportOutcome::NotImported { reason });
            }
        }
        let mut mapping = OrderMapping::pending(shop_id, order.id.clone());
        mapping.tiktok_status = Some(order.status.as_str().to_string());
        mapping.tiktok_update_time = Some(order.update_time);
        self.store.insert_order_mapping_if_absent(&mapping).await?;

        let skus = self.sku_lookup(shop_id, order).await?;
        let mapped = map_order(order, config, &|seller_sku: &str, sku_id: &str| {
            skus.get(sku_id).or_else(|| skus.get(seller_sku)).copied()
        });

        // Crash recovery: the order may exist from an attempt that died before recording it.
        let (plenty_order_id, adopted) = match self
            .plenty
            .find_order_by_external_id(&mapped.external_order_id)
            .await?
        {
            Some(existing) => (existing.id, true),
            None => {
                if has_errors(&mapped.problems) {
                    let reason = mapped
                        .problems
                        .iter()
                        .filter(|p| p.is_error())
                        .map(|p| format!("{}: {}", p.path, p.message))
                        .collect::<Vec<_>>()
                        .join("; ");
                    mapping.sync_status = SyncStatus::Error;
                    mapping.sync_error = Some(reason.clone());
                    self.store.update_order_mapping(&mapping).await?;
                    return Ok(ImportOutcome::Rejected { reason });
                }
                (self.create_in_plenty(&mapped).await?, false)
            }
        };
        mapping.plenty_order_id = Some(plenty_order_id);
        mapping.sync_status = SyncStatus::Synced;
        mapping.sync_error = None;
        mapping.last_synced_at = Some(now_seconds());
        self.store.update_order_mapping(&mapping).await?;
        Ok(ImportOutcome::Created {
            plenty_order_id,
            adopted,
        })
    }

    /// TikTok SKU id and seller SKU → PlentyONE variation id, from the product mappings of the
    /// products in the order.
    async fn sku_lookup(&self, shop_id: &str, order: &Order) -> Result<HashMap<String, i64>> {
        let mut skus = HashMap::new();
        let mut products: Vec<&str> = order.line_items.iter().map(|l| l.product_id.as_str()).collect();
        products.sort_unstable();
        products.dedup();
        for product_id in products.into_iter().filter(|p| !p.is_empty()) {
            for m in self
                .store
                .find_product_mappings_by_tiktok_product(shop_id, product_id)
                .await?
            {
                if let Some(sku) = m.tiktok_sku_id {
                    skus.insert(sku, m.plenty_variation_id);
                }
                if let Some(sku) = m.seller_sku {
                    skus.insert(sku, m.plenty_variation_id);
                }
            }
        }
        Ok(skus)
    }

    async fn create_in_plenty(&self, mapped: &tts_mapping::order::MappedOrder) -> Result<i64> {
        let contact = self.plenty.create_contact(&mapped.contact).await?;
        let contact_id = contact.id.ok_or_else(|| missing_id("contact"))?;
        let address = self
            .plenty
            .create_contact_address(contact_id, &mapped.address)
            .await?;
        let address_id = address.id.ok_or_else(|| missing_id("address"))?;
        let order = self
            .plenty
            .create_order(&mapped.linked_order(contact_id, address_id, address_id))
            .await?;
        if let Some(payment) = &mapped.payment {
            if let Some(mop_id) = payment.mop_id {
                let created = self
                    .plenty
                    .create_payment(&PaymentCreate {
                        amount: payment.amount,
                        currency: payment.currency.clone(),
                        exchange_ratio: Decimal::ONE,
                        mop_id,
                        status: payment_status::APPROVED,
                        transaction_type: 1,
                        kind: "credit".into(),
                        properties: Vec::new(),
                    })
                    .await?;
                self.plenty.link_payment_to_order(created.id, order.id).await?;
            }
        }
        Ok(order.id)
    }
}

fn missing_id(what: &str) -> Error {
    Error::new(
        ErrorCode::InvalidResponse,
        format!("PlentyONE created the {what} but answered without its id"),
    )
}

/// Handles order webhooks from the inbox: status changes, address updates and cancellation requests
/// all bring the order up to date.
pub struct OrderEvents(pub Arc<OrderImporter>);

#[async_trait::async_trait]
impl crate::inbox::EventHandler for OrderEvents {
    async fn handle(&self, notification: &tts_tiktok::webhook::Notification) -> Result<()> {
        use tts_tiktok::webhook::Event;
        let order_id = match &notification.event {
            Event::OrderStatusChange(e) => &e.order_id,
            Event::RecipientAddressUpdate(e) => &e.order_id,
            Event::CancellationStatusChange(e) => &e.order_id,
            _ => return Ok(()),
        };
        let outcome = self
            .0
            .sync_order(
                &notification.shop_id,
                order_id,
                crate::inbox::event_time(notification),
            )
            .await?;
        tracing::debug!(shop = %notification.shop_id, order = %order_id, ?outcome, "order synced");
        Ok(())
    }
}
