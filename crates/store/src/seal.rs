//! Sealing of the shop secrets at rest. The associated data binds each sealed value to its row and
//! column (`shop:<app_key>:<shop_id>:<column>`): a value copied to another shop or column fails to open.

use tts_core::{ExposeSecret, KeyRing, Result, SecretString};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Column {
    AccessToken,
    RefreshToken,
    Cipher,
}

impl Column {
    fn name(self) -> &'static str {
        match self {
            Column::AccessToken => "access_token",
            Column::RefreshToken => "refresh_token",
            Column::Cipher => "cipher",
        }
    }
}

/// The associated data of a shop secret.
pub fn shop_secret_aad(app_key: &str, shop_id: &str, column_name: &str) -> String {
    format!("shop:{app_key}:{shop_id}:{column_name}")
}

pub(crate) fn seal_secret(
    ring: &KeyRing,
    app_key: &str,
    shop_id: &str,
    column: Column,
    secret: &SecretString,
) -> String {
    ring.seal_str(
        secret.expose_secret(),
        &shop_secret_aad(app_key, shop_id, column.name()),
    )
}

pub(crate) fn open_secret(
    ring: &KeyRing,
    app_key: &str,
    shop_id: &str,
    column: Column,
    sealed: &str,
) -> Result<SecretString> {
    let opened = ring
        .open_str(sealed, &shop_secret_aad(app_key, shop_id, column.name()))
        .map_err(|e| {
            let message = format!(
                "shops.{}_sealed of shop {shop_id}: {}",
                column.name(),
                e.message()
            );
            tts_core::Error::new(e.code(), message).with_field(format!("shops.{}_sealed", column.name()))
        })?;
    // `opened` is zeroed on drop; the SecretString zeroes its own copy.
    Ok(SecretString::from(opened.as_str().to_owned()))
}
