//! Helpers shared by the fuzz targets: the fixed keys they verify with, and the TikTok envelope
//! every response model arrives in.

use rust_decimal::Decimal;
use serde_json::value::RawValue;
use tts_tiktok::transport::{Envelope, decode_envelope};

/// App key and secret the webhook targets sign and verify with (any values do; fixed so a corpus
/// entry keeps meaning the same signed body).
pub const APP_KEY: &str = "fuzzappkey";
pub const APP_SECRET: &str = "fuzzappsecret";

/// Decodes `body` as a 200 answer, as the transport does before a model sees `data`.
pub fn envelope(body: &[u8]) -> Option<Envelope> {
    decode_envelope(200, None, body, &[APP_SECRET], 1_764_000_000).ok()
}

/// The `data` of a search answer as the paginator reads it, for `operation_id` (e.g. `orders.search`).
pub fn search_page(operation_id: &str, data: &RawValue) -> Option<tts_tiktok::client::paginate::Page> {
    let operation = tts_tiktok::operations::Operation::find(operation_id).expect("known operation");
    tts_tiktok::client::paginate::page_from(operation, data).ok()
}

/// A decimal from an arbitrary mantissa and scale (scale folded into the 0..=28 that `Decimal` takes).
pub fn decimal((mantissa, scale): (i64, u8)) -> Decimal {
    Decimal::try_new(mantissa, u32::from(scale % 29)).unwrap_or_default()
}
