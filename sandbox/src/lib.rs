//! tts-sandbox: a local TikTok Shop stand-in (stripe-mock, plus state, webhooks and fault injection).
//! See `sandbox/README.md` for the contract (first stdout line, control API).

pub mod app;
pub mod auth;
pub mod clock;
pub mod config;
pub mod contract;
pub mod control;
pub mod envelope;
pub mod faults;
pub mod ratelimit;
pub mod routes;
pub mod server;
pub mod signature;
pub mod state;
pub mod stats;
pub mod webhooks;

use std::sync::Arc;

pub use app::Sandbox;
pub use config::Config;

/// A started sandbox.
pub struct Running {
    pub base_url: String,
    pub sandbox: Arc<Sandbox>,
    pub task: tokio::task::JoinHandle<()>,
}

/// Binds 127.0.0.1:`config.port`, seeds state, and serves on the current tokio runtime.
pub async fn start(config: Config) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port)).await?;
    let addr = listener.local_addr()?;
    let base_url = format!("http://{addr}");
    let sandbox = Sandbox::new(config, base_url.clone());
    let c = sandbox.config.clone();
    sandbox
        .with_state(|s| control::apply_initial(s, &c))
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("seed: {}", e.message)))?;
    let router = app::router(sandbox.clone());
    let task = tokio::spawn(server::serve(listener, router));
    Ok(Running {
        base_url,
        sandbox,
        task,
    })
}
