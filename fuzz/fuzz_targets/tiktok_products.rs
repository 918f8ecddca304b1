//! TikTok product answers: create/edit response, category attributes, a Search Products page.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tts_fuzz::{envelope, search_page};
use tts_tiktok::model::product::{CategoryAttributes, ProductWriteResponse};

fuzz_target!(|body: &[u8]| {
    let Some(envelope) = envelope(body) else { return };
    if let Ok(written) = envelope.decode::<ProductWriteResponse>("product write") {
        serde_json::to_vec(&written).expect("serializes");
    }
    if let Ok(attributes) = envelope.decode::<CategoryAttributes>("category attributes") {
        for attribute in &attributes.attributes {
            attribute.required();
        }
    }
    if let Some(page) = search_page("products.search", &envelope.data) {
        let _ = page.decode_items::<serde_json::Value>("products");
    }
});
