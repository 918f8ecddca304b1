//! TikTok returns and cancellations: Search Returns / Search Cancellations pages, each item read into
//! the model the after-sales engine decides on.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tts_fuzz::{envelope, search_page};
use tts_sync::aftersales::{Cancellation, ReturnRequest};

fuzz_target!(|body: &[u8]| {
    let Some(envelope) = envelope(body) else { return };
    if let Some(page) = search_page("returns.search", &envelope.data) {
        for item in page.decode_items::<serde_json::Value>("returns").unwrap_or_default() {
            if let Some(r) = ReturnRequest::from_json(&item) {
                assert!(!r.id.is_empty() && !r.order_id.is_empty());
            }
        }
    }
    if let Some(page) = search_page("cancellations.search", &envelope.data) {
        for item in page.decode_items::<serde_json::Value>("cancellations").unwrap_or_default() {
            if let Some(c) = Cancellation::from_json(&item) {
                assert!(!c.id.is_empty() && !c.order_id.is_empty());
            }
        }
    }
});
