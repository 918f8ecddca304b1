//! `plenty-sandbox`: parses flags, starts the stand-in, prints ONE JSON line on stdout (the contract
//! test suites read: `{"base_url","username","password",...}`), then stays quiet on stdout.

use std::io::Write;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{}", tts_plenty_sandbox::config::USAGE);
        return;
    }
    let config = match tts_plenty_sandbox::Config::from_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("plenty-sandbox: {e}");
            std::process::exit(2);
        }
    };
    let running = match tts_plenty_sandbox::start(config).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("plenty-sandbox: cannot start: {e}");
            std::process::exit(1);
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", running.sandbox.info());
        let _ = out.flush();
    }
    eprintln!("plenty-sandbox listening on {}", running.base_url);
    let _ = tokio::signal::ctrl_c().await;
}
