//! TikTok order answers: the envelope, Get Order Detail (`data.orders`) and a Search Orders page, each
//! order decoded into the typed model the importer maps.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tts_fuzz::{envelope, search_page};
use tts_tiktok::model::order::{Order, OrderDetailResponse, OrderStatus};

fuzz_target!(|body: &[u8]| {
    let Some(envelope) = envelope(body) else { return };
    if let Ok(detail) = envelope.decode::<OrderDetailResponse>("order detail") {
        for order in &detail.orders {
            OrderStatus::parse(order.status.as_str());
            serde_json::to_vec(order).expect("an order serializes");
        }
    }
    if let Some(page) = search_page("orders.search", &envelope.data) {
        let _ = page.decode_items::<Order>("orders");
    }
});
