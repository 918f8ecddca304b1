//! Sealing secrets at rest (`TIKTOK_SHOP_ENCRYPTION_KEY`).

use napi::Env;
use napi_derive::napi;
use tts_core::KeyRing;

use crate::errors::check;

/// A fresh random 32-byte key in base64, for `TIKTOK_SHOP_ENCRYPTION_KEY`.
#[napi]
pub fn generate_encryption_key() -> String {
    KeyRing::generate_key()
}

/// AES-256-GCM sealing with a key ring: the first key seals, every key opens.
#[napi]
pub struct Sealer {
    ring: KeyRing,
}

#[napi]
impl Sealer {
    /// `keys`: the value of `TIKTOK_SHOP_ENCRYPTION_KEY`: `[id:]base64key[,[id:]base64key...]`.
    #[napi(constructor)]
    pub fn new(env: Env, keys: String) -> napi::Result<Self> {
        Ok(Sealer {
            ring: check(&env, KeyRing::parse(&keys))?,
        })
    }

    /// Ids of the keys; the sealing key first.
    #[napi(getter)]
    pub fn key_ids(&self) -> Vec<String> {
        self.ring.key_ids().into_iter().map(str::to_string).collect()
    }

    /// Seals `plaintext`, binding `associatedData` (needed again to open; e.g. `shop:123:access_token`).
    #[napi]
    pub fn seal(&self, plaintext: String, associated_data: String) -> String {
        self.ring.seal_str(&plaintext, &associated_data)
    }

    /// Opens sealed text; throws `TTS_SEAL_OPEN_FAILED` for a wrong key, other associated data or
    /// altered text.
    #[napi]
    pub fn open(&self, env: Env, sealed: String, associated_data: String) -> napi::Result<String> {
        let opened = check(&env, self.ring.open_str(&sealed, &associated_data))?;
        Ok(opened.to_string())
    }

    /// True when `sealed` was sealed with a key other than the current sealing key.
    #[napi]
    pub fn needs_reseal(&self, sealed: String) -> bool {
        self.ring.needs_reseal(&sealed)
    }
}
