//! Sync engines of TikTok Shop for PlentyONE.
//!
//! - [`inbox`]: drains the webhook inbox at least once, in order per order/product, with retries and
//!   a give-up for poison messages; handlers decide what an event means for PlentyONE;
//! - [`orders`]: TikTok orders → exactly one PlentyONE order each, statuses followed.
//! - [`fulfillment`]: PlentyONE shipments (7.x) → TikTok tracking, once per package;
//! - [`aftersales`]: buyer cancellations and returns decided by rules and sent back with idempotency
//!   keys, return orders created once, PlentyONE cancellations (8.x) cancelled on TikTok.
//!
//! - [`products`] and [`stock`]: PlentyONE variations → TikTok products, stock and prices;
//! - [`runner`]: one pass of a kind for a shop, once at a time across processes, with progress;
//! - [`control`]: the process's one control plane: webhooks received into the inbox, the one inbox
//!   consumer, the scheduler.

pub mod aftersales;
pub mod control;
pub mod fulfillment;
pub mod inbox;
pub mod orders;
pub mod plenty_session;
pub mod products;
pub mod runner;
pub mod settings;
pub mod setup;
pub mod stock;
