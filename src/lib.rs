#![deny(clippy::all)]
//! Node binding of TikTok Shop for PlentyONE. Each module converts JS values to the Rust core's types
//! and back, and maps the core's errors to JS errors with a stable `code`; no logic lives here.

mod client;
mod errors;
mod integration;
mod oauth;
mod protocol;
mod secrets;
mod store;
mod webhook;
