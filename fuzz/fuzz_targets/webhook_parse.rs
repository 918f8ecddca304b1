//! The typed webhook models: a verified body → `Notification` (every topic's `data`, and the Unknown
//! fallback), then back to JSON as the inbox stores it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw_body: &[u8]| {
    if let Ok(notification) = tts_tiktok::webhook::parse(raw_body) {
        assert!(!notification.tts_notification_id.is_empty());
        let json = serde_json::to_vec(&notification).expect("a notification serializes");
        serde_json::from_slice::<serde_json::Value>(&json).expect("its JSON reads back");
    }
});
