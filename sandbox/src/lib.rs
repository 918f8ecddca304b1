//! tts-sandbox: a local TikTok Shop stand-in (stripe-mock, plus state, webhooks and fault injection).
//! See `sandbox/README.md` for the contract (first stdout line, control API).

pub mod app;
pub mod auth;
pub mod clock;
pub mod config;
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
    let seed = config.seed.clone();
    let initial_orders = config.initial_orders;
    let sandbox = Sandbox::new(config, base_url.clone());
    if let Some(seed) = seed {
        sandbox
            .with_state(|s| control::apply_seed(s, seed))
            .map_err(|e| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("seed: {}", e.message))
            })?;
    }
    if initial_orders > 0 {
        sandbox
            .with_state(|s| {
                let shops: Vec<String> = s.shops.keys().cloned().collect();
                let list: Vec<_> = shops
                    .iter()
                    .map(|id| serde_json::json!({ "shop_id": id, "count": initial_orders }))
                    .collect();
                control::apply_seed(s, serde_json::json!({ "random_orders": list }))
            })
            .map_err(|e| std::io::Error::other(e.message))?;
    }
    let router = app::router(sandbox.clone());
    let task = tokio::spawn(server::serve(listener, router));
    Ok(Running {
        base_url,
        sandbox,
        task,
    })
}
