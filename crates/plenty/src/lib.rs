//! plentymarkets (PlentyONE) back-office REST API.
//!
//! - [`model`]: typed, lenient request and response models (camelCase JSON, unknown fields ignored,
//!   amounts as exact decimals);
//! - [`client`]: the REST client (one shared login, pacing by the `X-Plenty-*` headers, retries,
//!   pagination);
//! - [`api`]: the operations of spec C.3, one module per area.

pub mod api;
pub mod client;
pub mod model;

pub use rust_decimal::Decimal;
