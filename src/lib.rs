#![deny(clippy::all)]
//! Node binding. Converts JS values to Rust and back and maps errors to stable codes; no logic lives here.

use napi_derive::napi;

/// A fresh random 32-byte key in base64, for `TIKTOK_SHOP_ENCRYPTION_KEY`.
#[napi]
pub fn generate_encryption_key() -> String {
    tts_core::KeyRing::generate_key()
}
