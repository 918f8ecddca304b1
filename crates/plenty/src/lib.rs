//! plentymarkets (PlentyONE) back-office REST API.
//!
//! - [`model`]: typed, lenient request and response models (camelCase JSON, unknown fields ignored,
//!   amounts as exact decimals).
//!
//! The HTTP client (login, pacing by the `X-Plenty-*` headers, pagination) comes in a later step.

pub mod model;

pub use rust_decimal::Decimal;
