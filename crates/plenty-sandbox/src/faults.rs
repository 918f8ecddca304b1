//! Fault injection: rules matched per request (optionally per route), each for a share and/or a number
//! of requests — like the TikTok stand-in's.

use std::sync::Mutex;

use rand::Rng;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// HTTP 5xx (default 503) before the request takes effect.
    ServerError,
    /// Extra latency, then the request proceeds (combines with other faults).
    Latency,
    /// Close the connection without any answer (before the request takes effect).
    Drop,
    /// HTTP 429 with `Retry-After`, regardless of the real limits (a "429 storm").
    RateLimit,
    /// End the caller's session, then answer 401 (token invalidated server-side).
    Unauthorized,
    /// The request takes effect, then the connection closes without an answer, after `latency_ms`
    /// if given (a client timeout or reset after the server did the work: the hard case for
    /// retrying writes).
    LostAnswer,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FaultRule {
    #[serde(default)]
    pub id: u64,
    pub kind: FaultKind,
    /// `"POST /rest/orders"`, `"/rest/orders"` (any method), or a concrete path.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Share of matching requests hit (0..1, default 1).
    #[serde(default)]
    pub probability: Option<f64>,
    /// Number of requests to hit; the rule disappears when used up. None = unlimited.
    #[serde(default)]
    pub count: Option<u64>,
    /// server_error: the HTTP status (500..=599, default 503).
    #[serde(default)]
    pub status: Option<u16>,
    /// latency: milliseconds; lost_answer: how long after the effect the connection closes.
    #[serde(default)]
    pub latency_ms: Option<u64>,
    /// rate_limit: the `Retry-After` seconds (default 1).
    #[serde(default)]
    pub retry_after_secs: Option<u64>,
    #[serde(default)]
    pub hits: u64,
}

/// What to do with one request.
#[derive(Debug, Default)]
pub struct Plan {
    pub latency_ms: u64,
    pub terminal: Option<FaultRule>,
}

#[derive(Default)]
pub struct Faults {
    rules: Mutex<(Vec<FaultRule>, u64)>,
}

impl Faults {
    pub fn add(&self, mut rule: FaultRule) -> Result<FaultRule, String> {
        if rule.probability.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
            return Err("probability must be within 0..1".into());
        }
        if rule.kind == FaultKind::ServerError && rule.status.is_some_and(|s| !(500..=599).contains(&s)) {
            return Err("status must be 500..599".into());
        }
        if rule.kind == FaultKind::Latency && rule.latency_ms.is_none() {
            return Err("latency needs latency_ms".into());
        }
        let mut g = self.rules.lock().expect("faults");
        g.1 += 1;
        rule.id = g.1;
        rule.hits = 0;
        g.0.push(rule.clone());
        Ok(rule)
    }

    pub fn list(&self) -> Vec<FaultRule> {
        self.rules.lock().expect("faults").0.clone()
    }

    pub fn remove(&self, id: Option<u64>) -> usize {
        let mut g = self.rules.lock().expect("faults");
        let before = g.0.len();
        match id {
            Some(id) => g.0.retain(|r| r.id != id),
            None => g.0.clear(),
        }
        before - g.0.len()
    }

    /// Rules are tried in order; latency adds up, the first terminal fault wins.
    pub fn plan(&self, method: &str, template: &str, path: &str) -> Plan {
        let mut plan = Plan::default();
        let mut g = self.rules.lock().expect("faults");
        if g.0.is_empty() {
            return plan;
        }
        let mut rng = rand::rng();
        for r in g.0.iter_mut() {
            if plan.terminal.is_some() && r.kind != FaultKind::Latency {
                continue;
            }
            let matches = match &r.endpoint {
                None => true,
                Some(e) => match e.split_once(' ') {
                    Some((m, p)) => m.eq_ignore_ascii_case(method) && (p == template || p == path),
                    None => e == template || e == path,
                },
            };
            if !matches || r.count == Some(0) {
                continue;
            }
            if let Some(p) = r.probability
                && !rng.random_bool(p.clamp(0.0, 1.0))
            {
                continue;
            }
            r.hits += 1;
            if let Some(c) = r.count.as_mut() {
                *c -= 1;
            }
            match r.kind {
                FaultKind::Latency => plan.latency_ms += r.latency_ms.unwrap_or(0),
                _ => plan.terminal = Some(r.clone()),
            }
        }
        g.0.retain(|r| r.count != Some(0));
        plan
    }
}
