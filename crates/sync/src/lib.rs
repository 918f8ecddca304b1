//! Sync engines of TikTok Shop for PlentyONE.
//!
//! - [`inbox`]: drains the webhook inbox at least once, in order per order/product, with retries and
//!   a give-up for poison messages; handlers decide what an event means for PlentyONE;
//! - [`orders`]: TikTok orders → exactly one PlentyONE order each, statuses followed.
//! - [`fulfillment`]: PlentyONE shipments (7.x) → TikTok tracking, once per package;
//! - [`aftersales`]: buyer cancellations and returns decided by rules and sent back with idempotency
//!   keys, return orders created once, PlentyONE cancellations (8.x) cancelled on TikTok.
//!
//! The order import, product/stock export, tracking and after-sales engines (issue 7) plug in as
//! [`inbox::EventHandler`]s and scheduled reconciliation passes.

pub mod aftersales;
pub mod fulfillment;
pub mod inbox;
pub mod orders;
pub mod plenty_session;
pub mod products;
pub mod settings;
pub mod stock;
