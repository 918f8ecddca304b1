//! Secrets (app secret, access and refresh tokens, auth codes, sealing keys) are held as
//! [`SecretString`]: `Debug` prints `[REDACTED]`, the memory is zeroed on drop, and reading the value
//! takes an explicit `expose_secret()`, which makes every use easy to find in review.

pub use secrecy::{ExposeSecret, SecretString};

/// Builds a [`SecretString`] from anything string-like.
pub fn secret(value: impl Into<String>) -> SecretString {
    SecretString::from(value.into())
}
