//! Settings of the stand-in: the user, the plan's limits, the window lengths, the session cap.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Read/write limits of a plentymarkets plan (spec C.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub name: String,
    /// Reading calls per user per short window (a minute on the real system).
    pub reads_per_window: u32,
    pub writes_per_window: u32,
    /// Reading calls per system per long window (a day on the real system).
    pub reads_per_day: u32,
    pub writes_per_day: u32,
}

impl Plan {
    pub fn named(name: &str) -> Option<Plan> {
        let (r, w, rd, wd) = match name.to_ascii_lowercase().as_str() {
            "basic" => (80, 40, 59_760, 17_280),
            "classic" => (200, 80, 166_000, 48_000),
            "flex" => (240, 100, 282_000, 72_000),
            "plus" => (280, 120, 282_000, 72_000),
            _ => return None,
        };
        Some(Plan {
            name: name.to_ascii_lowercase(),
            reads_per_window: r,
            writes_per_window: w,
            reads_per_day: rd,
            writes_per_day: wd,
        })
    }

    pub fn basic() -> Plan {
        Plan::named("basic").expect("known plan")
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    /// 0 = pick a free port.
    pub port: u16,
    pub username: String,
    pub password: String,
    pub plan: Plan,
    /// Length of the short (per-minute) window; shorten it so tests run the same rules in seconds.
    pub window: Duration,
    /// Length of the long (per-day) window.
    pub long_window: Duration,
    /// Per-route limits per short window, keyed `"METHOD /rest/template"`.
    pub route_limits: Vec<(String, u32)>,
    /// Concurrently valid sessions per user (the real default is 3).
    pub session_cap: usize,
    /// Access token lifetime (`expires_in`).
    pub token_ttl: Duration,
    /// Items generated on top of the fixed seed catalogue.
    pub extra_items: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 0,
            username: "rest-user".into(),
            password: "sandbox-password".into(),
            plan: Plan::basic(),
            window: Duration::from_secs(60),
            long_window: Duration::from_secs(86_400),
            route_limits: default_route_limits(),
            session_cap: 3,
            token_ttl: Duration::from_secs(86_400),
            extra_items: 0,
        }
    }
}

/// The orders route is throttled on its own (the docs flag per-route limits as "THROTTLING").
pub fn default_route_limits() -> Vec<(String, u32)> {
    vec![("POST /rest/orders".into(), 30), ("GET /rest/orders".into(), 60)]
}

pub const USAGE: &str = "\
plenty-sandbox — a local plentymarkets (PlentyONE) REST stand-in

USAGE: plenty-sandbox [OPTIONS]

  --port N                 port on 127.0.0.1 (0 = pick a free one; default 0)
  --username NAME          back-end user (default rest-user)
  --password PW            its password (default sandbox-password)
  --plan NAME              basic | classic | flex | plus (default basic: 80 reads, 40 writes per window)
  --window-secs S          short window length in seconds, decimals allowed (default 60)
  --long-window-secs S     long window length (default 86400)
  --session-cap N          concurrently valid sessions per user (default 3)
  --token-ttl-secs S       access token lifetime (default 86400)
  --items N                generate N more catalogue items (default 0)
  --no-route-limits        no per-route limits (default: POST /rest/orders 30, GET /rest/orders 60 per window)

Prints ONE JSON line on stdout: {\"base_url\",\"username\",\"password\", ...}; logs go to stderr.
Control API: /_plenty/ (see README).
";

impl Config {
    pub fn from_args(args: &[String]) -> Result<Config, String> {
        let mut c = Config::default();
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let mut value = |name: &str| it.next().cloned().ok_or_else(|| format!("{name} needs a value"));
            let secs = |name: &str, v: String| -> Result<Duration, String> {
                let s: f64 = v.parse().map_err(|_| format!("{name}: not a number: {v}"))?;
                if !(s.is_finite() && s > 0.0) {
                    return Err(format!("{name}: must be > 0"));
                }
                Ok(Duration::from_secs_f64(s))
            };
            match flag.as_str() {
                "--port" => c.port = value("--port")?.parse().map_err(|_| "--port: not a port")?,
                "--username" => c.username = value("--username")?,
                "--password" => c.password = value("--password")?,
                "--plan" => {
                    let name = value("--plan")?;
                    c.plan = Plan::named(&name).ok_or_else(|| format!("--plan: unknown plan {name}"))?
                }
                "--window-secs" => c.window = secs("--window-secs", value("--window-secs")?)?,
                "--long-window-secs" => {
                    c.long_window = secs("--long-window-secs", value("--long-window-secs")?)?
                }
                "--session-cap" => {
                    c.session_cap = value("--session-cap")?
                        .parse()
                        .map_err(|_| "--session-cap: not a number")?
                }
                "--token-ttl-secs" => c.token_ttl = secs("--token-ttl-secs", value("--token-ttl-secs")?)?,
                "--items" => {
                    c.extra_items = value("--items")?.parse().map_err(|_| "--items: not a number")?
                }
                "--no-route-limits" => c.route_limits.clear(),
                other => return Err(format!("unknown option {other} (try --help)")),
            }
        }
        if c.username.is_empty() || c.password.is_empty() {
            return Err("--username and --password must not be empty".into());
        }
        Ok(c)
    }
}
