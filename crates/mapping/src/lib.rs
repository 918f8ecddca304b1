//! PlentyONE ↔ TikTok Shop mappers: pure functions, no I/O.
//!
//! - [`product`]: PlentyONE item (variations + texts, images, prices, barcodes, attributes, weight,
//!   dimensions) → TikTok Create/Edit Product body, with a deterministic idempotency key;
//! - [`validate`]: pre-flight validation returning *all* problems with their field paths;
//! - [`category`]: PlentyONE category → TikTok leaf category;
//! - [`inventory`]: PlentyONE net stock per warehouse → TikTok warehouse quantities;
//! - [`order`]: TikTok order → PlentyONE contact, address and order create body, amounts exact;
//! - [`status`]: TikTok status ↔ legacy code ↔ PlentyONE status, and the import decision;
//! - [`address`]: street / house-number split, country ids, masked values;
//! - [`region`]: per-region limits;
//! - [`problem`]: the problem list every mapper and validator returns.

pub mod address;
pub mod category;
pub mod inventory;
pub mod order;
pub mod problem;
pub mod product;
pub mod region;
pub mod status;
pub mod validate;

pub use problem::{Problem, Severity};
