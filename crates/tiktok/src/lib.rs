//! TikTok Shop Open API (202309+, and legacy signing): the protocol, as pure functions where possible.
//!
//! - [`sign`]: request signatures (pure);
//! - [`operations`]: the operation table, the single source of truth for every call;
//! - [`request`]: turns an operation + inputs + `now` into the signed URL, headers and body (pure);
//! - [`oauth`]: authorize URL, CSRF-proof `state`, token exchange and refresh, authorized shops;
//! - [`webhook`]: raw bytes + `Authorization` → verified, typed notification;
//! - [`error`]: TikTok's answers → the product's error codes (pure);
//! - [`transport`]: sends a built request and decodes the envelope;
//! - [`client`]: the API client: throttled, retried, paginated, refreshing its own tokens;
//! - [`model`]: typed request/response models.

pub mod client;
pub mod error;
pub mod model;
pub mod oauth;
pub mod operations;
pub mod request;
pub mod sign;
pub mod transport;
pub mod webhook;
