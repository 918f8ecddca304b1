//! tts-plenty-sandbox: a local plentymarkets (PlentyONE) REST stand-in — back-end login with a session
//! cap, the `X-Plenty-*` rate-limit headers and a plan's read/write limits (window length
//! configurable), a seeded catalogue, an orders store, a control API and fault injection. See
//! `crates/plenty-sandbox/README.md`.
//!
//! [`router`] is the whole stand-in as an axum `Router` (so another server can mount it under its own
//! origin); [`start`] serves it on 127.0.0.1 for tests and the binary.

pub mod app;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod control;
pub mod faults;
pub mod limits;
pub mod rest;
pub mod server;
pub mod sessions;
pub mod stats;
pub mod store;

use std::sync::Arc;

pub use app::{PlentySandbox, router};
pub use config::{Config, Plan};
pub use server::DropConnection;

/// A started stand-in.
pub struct Running {
    pub base_url: String,
    pub sandbox: Arc<PlentySandbox>,
    pub task: tokio::task::JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds 127.0.0.1:`config.port` (0 = pick) and serves on the current tokio runtime.
pub async fn start(config: Config) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port)).await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let sandbox = PlentySandbox::new(config, base_url.clone());
    let task = tokio::spawn(server::serve(listener, router(sandbox.clone())));
    Ok(Running {
        base_url,
        sandbox,
        task,
    })
}
