//! The operations of spec C.3, one module per area, as methods on [`crate::client::Client`].
//!
//! Typed with [`crate::model`] where a model exists; new response shapes are defined in the area's
//! module (lenient like the models: defaults everywhere, unknown fields ignored). Lists that
//! plentymarkets paginates are returned as lazy streams.

// `tts_core::Error` is large by design (code, message, status, hints); boxing it is the core's call.

pub mod contacts;
pub mod orders;
pub mod packages;
pub mod payments;
pub mod referrers;
pub mod returns;
pub mod skus;
pub mod stock;
pub mod variations;

/// A `from,to` time window as plentymarkets filters take it (W3C/ISO 8601 or unix seconds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeWindow {
    pub from: String,
    pub to: String,
}

impl TimeWindow {
    pub fn new(from: impl Into<String>, to: impl Into<String>) -> Self {
        TimeWindow {
            from: from.into(),
            to: to.into(),
        }
    }

    /// `from,to`, the form of `updatedAt`, `stockUpdatedAt` and `updatedBetween`.
    pub fn joined(&self) -> String {
        format!("{},{}", self.from, self.to)
    }
}

/// Validates an id argument (> 0), naming the field.
pub(crate) fn positive(field: &str, id: i64) -> tts_core::Result<i64> {
    if id > 0 {
        Ok(id)
    } else {
        Err(tts_core::Error::invalid_argument(field, "must be a positive id"))
    }
}

/// Checks `itemsPerPage` against the route's maximum.
pub(crate) fn per_page(field: &str, n: u32, max: u32) -> tts_core::Result<u32> {
    if (1..=max).contains(&n) {
        Ok(n)
    } else {
        Err(tts_core::Error::invalid_argument(
            field,
            format!("must be within 1..={max}"),
        ))
    }
}
