//! `tts-sandbox`: parses flags/env, starts the server, prints ONE JSON line (the contract other test
//! suites read), then logs to stderr only.

use std::io::Write;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{}", tts_sandbox::config::USAGE);
        return;
    }
    let config = match tts_sandbox::Config::from_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tts-sandbox: {e}");
            std::process::exit(2);
        }
    };
    let level = std::env::var("TTS_SANDBOX_LOG")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(tracing::Level::INFO);
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_max_level(level)
        .with_target(false)
        .init();
    let running = match tts_sandbox::start(config).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tts-sandbox: cannot start: {e}");
            std::process::exit(1);
        }
    };
    let line = running.sandbox.info().to_string();
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
    // Never log the secret: only the public parts.
    tracing::info!(base_url = %running.base_url, app_key = %running.sandbox.config.app.app_key, "sandbox listening");
    tokio::select! {
        _ = running.task => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
