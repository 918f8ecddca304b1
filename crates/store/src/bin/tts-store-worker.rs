//! A helper process for the store's multi-process tests (and a manual tool): several of these run at
//! once against the same database, as several middleware instances would.
//!
//! ```text
//! tts-store-worker refresh --url URL --app APP --shop SHOP --endpoint HOST:PORT [--start-at-ms T]
//! tts-store-worker drain   --url URL --owner NAME [--batch N] [--lease-ms MS] [--hang-after-claim] [--timeout-ms MS]
//! tts-store-worker burst   --url URL --count N
//! ```
//! The key ring comes from `TIKTOK_SHOP_ENCRYPTION_KEY`. Output is line-oriented on stdout.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tts_core::{Error, ErrorCode, ExposeSecret, KeyRing, Result, SecretString};
use tts_store::{NewTokens, OrderMapping, ShopKey, Store, now_millis, now_seconds};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    if let Err(err) = runtime.block_on(run(args)) {
        eprintln!("tts-store-worker: {err}");
        std::process::exit(1);
    }
}

struct Args {
    command: String,
    options: HashMap<String, String>,
}

impl Args {
    fn parse(args: Vec<String>) -> Result<Args> {
        let mut iter = args.into_iter();
        let command = iter
            .next()
            .ok_or_else(|| Error::invalid_argument("command", "refresh, drain or burst"))?;
        let mut options = HashMap::new();
        while let Some(flag) = iter.next() {
            let name = flag
                .strip_prefix("--")
                .ok_or_else(|| Error::invalid_argument(&flag, "expected --name"))?;
            if name == "hang-after-claim" {
                options.insert(name.to_string(), "true".to_string());
                continue;
            }
            let value = iter
                .next()
                .ok_or_else(|| Error::invalid_argument(name, "needs a value"))?;
            options.insert(name.to_string(), value);
        }
        Ok(Args { command, options })
    }

    fn get(&self, name: &str) -> Result<&str> {
        self.options
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| Error::invalid_argument(name, "is required"))
    }

    fn number(&self, name: &str, default: i64) -> Result<i64> {
        match self.options.get(name) {
            Some(v) => v
                .parse()
                .map_err(|_| Error::invalid_argument(name, "must be a number")),
            None => Ok(default),
        }
    }
}

async fn run(args: Vec<String>) -> Result<()> {
    let args = Args::parse(args)?;
    let key = std::env::var("TIKTOK_SHOP_ENCRYPTION_KEY")
        .map_err(|_| Error::config("TIKTOK_SHOP_ENCRYPTION_KEY", "is not set"))?;
    let ring = Arc::new(KeyRing::parse(&key)?);
    let store = tts_store::open(args.get("url")?, ring).await?;
    match args.command.as_str() {
        "refresh" => refresh(&args, store).await,
        "drain" => drain(&args, store).await,
        "burst" => burst(&args, store).await,
        other => Err(Error::invalid_argument(
            "command",
            format_args!("unknown command `{other}`"),
        )),
    }
}

/// Refreshes a shop's token through the store's exclusive refresh, calling a local HTTP server.
async fn refresh(args: &Args, store: Arc<dyn Store>) -> Result<()> {
    let key = ShopKey::new(args.get("app")?, args.get("shop")?);
    let endpoint = args.get("endpoint")?.to_string();
    let start_at = args.number("start-at-ms", 0)?;
    let wait = start_at - now_millis();
    if wait > 0 {
        tokio::time::sleep(Duration::from_millis(wait as u64)).await;
    }
    let token = store
        .refresh_token_exclusive(
            &key,
            now_seconds(),
            Duration::from_secs(300),
            Box::new(move |refresh_token| Box::pin(call_refresh_endpoint(endpoint, refresh_token))),
        )
        .await?;
    println!("refreshed={}", token.refreshed);
    println!("token={}", token.access_token.expose_secret());
    Ok(())
}

/// A minimal HTTP/1.1 POST (the test server speaks just enough HTTP); answers `{"access_token":…}`.
async fn call_refresh_endpoint(endpoint: String, refresh_token: SecretString) -> Result<NewTokens> {
    tokio::task::spawn_blocking(move || {
        let io = |e: std::io::Error| Error::new(ErrorCode::Network, format!("refresh endpoint: {e}"));
        let mut stream = std::net::TcpStream::connect(&endpoint).map_err(io)?;
        let body = format!("{{\"grant_type\":\"refresh_token\",\"refresh_token\":\"{}\"}}", refresh_token.expose_secret());
        write!(
            stream,
            "POST /api/v2/token/refresh HTTP/1.1\r\nHost: {endpoint}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .map_err(io)?;
        let mut response = String::new();
        stream.read_to_string(&mut response).map_err(io)?;
        let json = response.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
        let value: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| Error::new(ErrorCode::InvalidResponse, format!("refresh response: {e}")))?;
        let field = |name: &str| {
            value[name]
                .as_str()
                .map(|s| SecretString::from(s.to_string()))
                .ok_or_else(|| Error::new(ErrorCode::InvalidResponse, format!("refresh response lacks `{name}`")))
        };
        Ok(NewTokens {
            access_token: field("access_token")?,
            access_token_expires_at: now_seconds() + 7 * 86_400,
            refresh_token: field("refresh_token")?,
            refresh_token_expires_at: now_seconds() + 365 * 86_400,
        })
    })
    .await
    .map_err(|e| Error::internal(format!("refresh task: {e}")))?
}

/// Claims and completes inbox messages until none is pending (or the timeout), printing
/// `done <id>` per completed message. With `--hang-after-claim` it claims one batch, prints
/// `claimed <id>` per message and then sleeps forever (to be killed).
async fn drain(args: &Args, store: Arc<dyn Store>) -> Result<()> {
    let owner = args.get("owner")?.to_string();
    let batch = args.number("batch", 100)? as u32;
    let lease = Duration::from_millis(args.number("lease-ms", 30_000)? as u64);
    let deadline = Instant::now() + Duration::from_millis(args.number("timeout-ms", 60_000)? as u64);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.options.contains_key("hang-after-claim") {
        let claimed = store.claim_inbox(&owner, batch, lease).await?;
        for m in &claimed {
            writeln!(out, "claimed {}", m.notification_id).ok();
        }
        writeln!(out, "hanging").ok();
        out.flush().ok();
        loop {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    }
    loop {
        let claimed = store.claim_inbox(&owner, batch, lease).await?;
        if claimed.is_empty() {
            if store.count_inbox_pending().await? == 0 {
                break;
            }
            if Instant::now() > deadline {
                return Err(Error::new(
                    ErrorCode::Timeout,
                    "messages still pending at the deadline",
                ));
            }
            // The rest is leased by others (or waiting out a dead worker's lease).
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        for m in claimed {
            if store.complete_inbox(&m.notification_id, &owner).await? {
                writeln!(out, "done {}", m.notification_id).ok();
            } else {
                writeln!(out, "lost {}", m.notification_id).ok();
            }
        }
    }
    out.flush().ok();
    Ok(())
}

/// Writes order mappings one by one, printing each id once its commit returned.
async fn burst(args: &Args, store: Arc<dyn Store>) -> Result<()> {
    let count = args.number("count", 1_000_000)?;
    let filler = "Bestellung übernommen ✓ ".repeat(40);
    let mut stdout = std::io::stdout().lock();
    for i in 0..count {
        let mapping = OrderMapping {
            sync_error: Some(filler.clone()),
            ..OrderMapping::pending("crash-shop", format!("o-{i}"))
        };
        store.insert_order_mapping_if_absent(&mapping).await?;
        writeln!(stdout, "{i}").ok();
        stdout.flush().ok();
    }
    Ok(())
}
