//! Sync engines of TikTok Shop for PlentyONE.
//!
//! - [`inbox`]: drains the webhook inbox at least once, in order per order/product, with retries and
//!   a give-up for poison messages; handlers decide what an event means for PlentyONE;
//! - [`orders`]: TikTok orders → exactly one PlentyONE order each, statuses followed.
//!
//! The order import, product/stock export, tracking and after-sales engines (issue 7) plug in as
//! [`inbox::EventHandler`]s and scheduled reconciliation passes.

pub mod aftersales;
pub mod fulfillment;
pub mod inbox;
pub mod orders;
pub mod products;
pub mod stock;
