//! Foundation shared by every crate of TikTok Shop for PlentyONE.
//!
//! - [`backoff`]: exponential backoff with full jitter, for every retry loop;
//! - [`error`]: the one error type, with a stable [`ErrorCode`] string for every failure a caller can act on;
//! - [`progress`]: phase, done/total, rate and ETA of a long pass, reported from deep inside it;
//! - [`retry`]: the retry decision every HTTP client uses (pure);
//! - [`secret`]: secrets that never show up in `Debug`, logs or error messages;
//! - [`seal`]: AES-256-GCM sealing of tokens at rest, with a key ring for rotation.

pub mod backoff;
pub mod error;
pub mod progress;
pub mod retry;
pub mod seal;
pub mod secret;

pub use error::{Error, ErrorCode, Result};
pub use seal::KeyRing;
pub use secret::{ExposeSecret, SecretString};
