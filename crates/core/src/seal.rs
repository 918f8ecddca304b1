//! Sealing secrets at rest: AES-256-GCM with a random 96-bit nonce per value, a versioned text
//! format that names the key, and a key ring so keys can rotate without a flag day.
//!
//! Sealed text: `v1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`. The caller passes associated data
//! (e.g. `shop:7495…:access_token`) that is authenticated but not stored, so a sealed value copied to
//! another row or column fails to open instead of silently becoming someone else's token.
//!
//! Key ring text (what `TIKTOK_SHOP_ENCRYPTION_KEY` holds): one or more comma-separated entries, each
//! `<id>:<key>` or just `<key>`, where `<key>` is 32 random bytes in base64 (standard or URL-safe,
//! padding optional) or 64 hex digits. The first entry seals; every entry opens. Without an id, the id is
//! `k` + the first 8 hex digits of SHA-256(key). Generate a key with [`KeyRing::generate_key`]
//! (`openssl rand -base64 32` gives the same).

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, ErrorCode, Result};

const FORMAT_VERSION: &str = "v1";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

struct SealKey {
    id: String,
    cipher: Aes256Gcm,
}

/// The keys that seal and open secrets. `Debug` shows key ids only.
pub struct KeyRing {
    keys: Vec<SealKey>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("key_ids", &self.key_ids())
            .finish()
    }
}

impl KeyRing {
    /// Parses key ring text (see the module docs). Errors name the entry, never its value.
    pub fn parse(spec: &str) -> Result<KeyRing> {
        let mut keys: Vec<SealKey> = Vec::new();
        for (index, entry) in spec.split(',').map(str::trim).enumerate() {
            let position = index + 1;
            if entry.is_empty() {
                return Err(key_error(format!("entry {position} is empty")));
            }
            let (id, encoded) = match entry.split_once(':') {
                Some((id, key)) => (Some(id.trim()), key.trim()),
                None => (None, entry),
            };
            let bytes = decode_key(encoded)
                .ok_or_else(|| key_error(format!("entry {position} is not base64 or hex")))?;
            if bytes.len() != 32 {
                return Err(key_error(format!(
                    "entry {position} decodes to {} bytes; a key is exactly 32 random bytes",
                    bytes.len()
                )));
            }
            let id = match id {
                Some(id) => {
                    let valid = !id.is_empty()
                        && id.len() <= 32
                        && id
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                    if !valid {
                        return Err(key_error(format!(
                            "entry {position} has an invalid key id; use 1-32 of [A-Za-z0-9_-]"
                        )));
                    }
                    id.to_string()
                }
                None => format!("k{}", &hex::encode(Sha256::digest(&bytes[..]))[..8]),
            };
            if keys.iter().any(|k| k.id == id) {
                return Err(key_error(format!("entry {position} repeats key id `{id}`")));
            }
            let cipher = Aes256Gcm::new_from_slice(&bytes).map_err(|_| key_error("bad key length"))?;
            keys.push(SealKey { id, cipher });
        }
        Ok(KeyRing { keys })
    }

    /// A fresh random key, base64 (standard alphabet, padded), ready for `TIKTOK_SHOP_ENCRYPTION_KEY`.
    pub fn generate_key() -> String {
        let mut key = Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(&mut key[..]);
        STANDARD.encode(&key[..])
    }

    /// Ids of the keys, the sealing key first.
    pub fn key_ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.id.as_str()).collect()
    }

    /// Seals `plaintext` with the first key, binding `aad` (not stored; needed again to open).
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> String {
        let key = &self.keys[0];
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = key
            .cipher
            .encrypt(&Nonce::from(nonce), Payload { msg: plaintext, aad })
            .expect("AES-GCM encryption cannot fail for inputs under 64 GiB");
        let mut blob = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&ciphertext);
        format!("{FORMAT_VERSION}.{}.{}", key.id, URL_SAFE_NO_PAD.encode(blob))
    }

    /// Seals a UTF-8 secret.
    pub fn seal_str(&self, plaintext: &str, aad: &str) -> String {
        self.seal(plaintext.as_bytes(), aad.as_bytes())
    }

    /// Opens sealed text with whichever key sealed it. A wrong key, a missing key, other `aad` or any
    /// altered character is [`ErrorCode::SealOpenFailed`].
    pub fn open(&self, sealed: &str, aad: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(version), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(open_error("not sealed text (expected `v1.<key id>.<data>`)"));
        };
        if version != FORMAT_VERSION {
            return Err(open_error(format!("unknown sealed format `{version}`")));
        }
        let key = self.keys.iter().find(|k| k.id == key_id).ok_or_else(|| {
            open_error(format!(
                "sealed with key `{key_id}`, which is not in TIKTOK_SHOP_ENCRYPTION_KEY (have: {})",
                self.key_ids().join(", ")
            ))
        })?;
        let blob = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| open_error("sealed data is not base64url"))?;
        if blob.len() < NONCE_LEN + TAG_LEN {
            return Err(open_error("sealed data is truncated"));
        }
        let (nonce, ciphertext) = blob.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).map_err(|_| open_error("bad nonce"))?;
        key.cipher
            .decrypt(&nonce, Payload { msg: ciphertext, aad })
            .map(Zeroizing::new)
            .map_err(|_| {
                open_error(format!(
                    "authentication failed with key `{key_id}`: the text was altered or belongs to another record"
                ))
            })
    }

    /// Opens a sealed UTF-8 secret.
    pub fn open_str(&self, sealed: &str, aad: &str) -> Result<Zeroizing<String>> {
        let bytes = self.open(sealed, aad.as_bytes())?;
        String::from_utf8(bytes.to_vec())
            .map(Zeroizing::new)
            .map_err(|_| open_error("sealed value is not UTF-8"))
    }

    /// True when `sealed` was sealed by a key other than the current sealing key (re-seal it).
    pub fn needs_reseal(&self, sealed: &str) -> bool {
        sealed.split('.').nth(1) != Some(self.keys[0].id.as_str())
    }
}

fn decode_key(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return hex::decode(text).ok().map(Zeroizing::new);
    }
    [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
        .map(Zeroizing::new)
}

fn key_error(message: impl fmt::Display) -> Error {
    Error::new(
        ErrorCode::SealKeyInvalid,
        format!("TIKTOK_SHOP_ENCRYPTION_KEY: {message}"),
    )
    .with_field("TIKTOK_SHOP_ENCRYPTION_KEY")
}

fn open_error(message: impl fmt::Display) -> Error {
    Error::new(
        ErrorCode::SealOpenFailed,
        format!("cannot open sealed secret: {message}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ring(spec: &str) -> KeyRing {
        KeyRing::parse(spec).unwrap()
    }

    const K1: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="; // bytes 0..32
    const K2: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="; // bytes 32..64

    #[test]
    fn round_trip_and_format() {
        let r = ring(&format!("main:{K1}"));
        let sealed = r.seal_str("TTP_access_token", "shop:1:access");
        assert!(sealed.starts_with("v1.main."), "{sealed}");
        assert!(!sealed.contains("TTP_access_token"));
        assert_eq!(
            &*r.open_str(&sealed, "shop:1:access").unwrap(),
            "TTP_access_token"
        );
        // a random nonce: sealing twice never gives the same text
        assert_ne!(sealed, r.seal_str("TTP_access_token", "shop:1:access"));
    }

    #[test]
    fn other_aad_wrong_key_and_tampering_fail_clearly() {
        let r = ring(&format!("a:{K1}"));
        let sealed = r.seal_str("secret", "shop:1:access");
        let err = r.open_str(&sealed, "shop:2:access").unwrap_err();
        assert_eq!(err.code(), ErrorCode::SealOpenFailed);

        let other = ring(&format!("a:{K2}"));
        assert_eq!(
            other.open_str(&sealed, "shop:1:access").unwrap_err().code(),
            ErrorCode::SealOpenFailed
        );

        let missing = ring(&format!("b:{K2}"));
        let err = missing.open_str(&sealed, "shop:1:access").unwrap_err();
        assert!(err.message().contains("key `a`"), "{err}");

        let mut chars: Vec<char> = sealed.chars().collect();
        let last = chars.len() - 3;
        chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
        let tampered: String = chars.into_iter().collect();
        assert_eq!(
            r.open_str(&tampered, "shop:1:access").unwrap_err().code(),
            ErrorCode::SealOpenFailed
        );
        assert_eq!(
            r.open_str("plaintext", "x").unwrap_err().code(),
            ErrorCode::SealOpenFailed
        );
    }

    #[test]
    fn rotation_seals_with_first_and_opens_with_any() {
        let old = ring(&format!("old:{K1}"));
        let sealed_old = old.seal_str("v", "aad");
        let rotated = ring(&format!("new:{K2},old:{K1}"));
        assert_eq!(&*rotated.open_str(&sealed_old, "aad").unwrap(), "v");
        assert!(rotated.needs_reseal(&sealed_old));
        let sealed_new = rotated.seal_str("v", "aad");
        assert!(sealed_new.starts_with("v1.new."));
        assert!(!rotated.needs_reseal(&sealed_new));
    }

    #[test]
    fn key_text_forms_and_errors() {
        let hex_key = hex::encode((0u8..32).collect::<Vec<_>>());
        let a = ring(K1);
        let b = ring(&hex_key);
        assert_eq!(a.key_ids(), b.key_ids(), "same key, same derived id");
        assert!(a.key_ids()[0].starts_with('k'));
        let generated = KeyRing::generate_key();
        assert_eq!(STANDARD.decode(&generated).unwrap().len(), 32);
        ring(&generated);

        for (spec, needle) in [
            ("", "entry 1 is empty"),
            ("c2hvcnQ=", "decodes to 5 bytes"),
            ("not base64 !!", "not base64"),
            (&format!("x:{K1},x:{K2}"), "repeats key id"),
            (&format!("bad id:{K1}"), "invalid key id"),
        ] {
            let err = KeyRing::parse(spec).unwrap_err();
            assert_eq!(err.code(), ErrorCode::SealKeyInvalid);
            assert!(err.message().contains(needle), "{spec}: {err}");
            assert!(!err.message().contains(K1));
        }
        assert!(!format!("{:?}", ring(K1)).contains(K1));
    }

    proptest! {
        #[test]
        fn any_bytes_round_trip(data in proptest::collection::vec(any::<u8>(), 0..512), aad in ".{0,40}") {
            let r = ring(K1);
            let sealed = r.seal(&data, aad.as_bytes());
            prop_assert_eq!(&r.open(&sealed, aad.as_bytes()).unwrap()[..], &data[..]);
        }
    }
}
