//! Fault injection: rules matched per request (optionally per endpoint), each for a probability
//! and/or a number of requests.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

use rand::Rng;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// HTTP 5xx (default 503) with a TikTok-shaped error body.
    ServerError,
    /// Extra latency, then the request proceeds normally (combines with other faults).
    Latency,
    /// Close the connection without any response (before the request takes effect).
    Drop,
    /// HTTP 429 + 36009002 regardless of the real limiter.
    RateLimit,
    /// HTTP 200 with a truncated JSON body (after the request took effect).
    MalformedJson,
    /// Revoke the caller's access token, then answer 105001.
    RevokeToken,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FaultRule {
    #[serde(default)]
    pub id: u64,
    pub kind: FaultKind,
    /// "POST /order/202309/orders/search", "/order/202309/orders/search" (any method), or a concrete path.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Share of matching requests hit (0..1, default 1).
    #[serde(default)]
    pub probability: Option<f64>,
    /// Number of requests to hit; the rule disappears when used up. None = unlimited.
    #[serde(default)]
    pub count: Option<u64>,
    /// For server_error: the HTTP status (500-599, default 503).
    #[serde(default)]
    pub status: Option<u16>,
    /// For latency.
    #[serde(default)]
    pub latency_ms: Option<u64>,
    /// How many requests this rule has hit so far.
    #[serde(default)]
    pub hits: u64,
}

pub struct Faults {
    rules: Mutex<Vec<FaultRule>>,
    any: AtomicBool,
    next_id: AtomicU64,
}

/// What to do with one request.
#[derive(Debug, Default)]
pub struct Plan {
    pub latency_ms: u64,
    pub terminal: Option<(FaultKind, u16)>,
}

impl Faults {
    pub fn new() -> Self {
        Faults {
            rules: Mutex::new(Vec::new()),
            any: AtomicBool::new(false),
            next_id: AtomicU64::new(1),
        }
    }

    pub fn add(&self, mut rule: FaultRule) -> Result<FaultRule, String> {
        if let Some(p) = rule.probability
            && !(0.0..=1.0).contains(&p)
        {
            return Err("probability must be within 0..1".into());
        }
        if rule.kind == FaultKind::ServerError && rule.status.is_some_and(|s| !(500..=599).contains(&s)) {
            return Err("status must be 500..599".into());
        }
        if rule.kind == FaultKind::Latency && rule.latency_ms.is_none() {
            return Err("latency needs latency_ms".into());
        }
        rule.id = self.next_id.fetch_add(1, Relaxed);
        rule.hits = 0;
        let mut rules = self.rules.lock().expect("faults lock");
        rules.push(rule.clone());
        self.any.store(true, Relaxed);
        Ok(rule)
    }

    pub fn list(&self) -> Vec<FaultRule> {
        self.rules.lock().expect("faults lock").clone()
    }

    pub fn remove(&self, id: Option<u64>) -> usize {
        let mut rules = self.rules.lock().expect("faults lock");
        let before = rules.len();
        match id {
            Some(id) => rules.retain(|r| r.id != id),
            None => rules.clear(),
        }
        self.any.store(!rules.is_empty(), Relaxed);
        before - rules.len()
    }

    /// Rules are tried in order; latency adds up, the first terminal fault wins.
    pub fn plan(&self, method: &str, template: &str, path: &str) -> Plan {
        let mut plan = Plan::default();
        if !self.any.load(Relaxed) {
            return plan;
        }
        let mut rules = self.rules.lock().expect("faults lock");
        let mut rng = rand::rng();
        for r in rules.iter_mut() {
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
                k => plan.terminal = Some((k, r.status.unwrap_or(503))),
            }
        }
        rules.retain(|r| r.count != Some(0));
        self.any.store(!rules.is_empty(), Relaxed);
        plan
    }
}

impl Default for Faults {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(kind: FaultKind) -> FaultRule {
        FaultRule {
            id: 0,
            kind,
            endpoint: None,
            probability: None,
            count: None,
            status: None,
            latency_ms: None,
            hits: 0,
        }
    }

    #[test]
    fn count_is_used_up_and_the_rule_removed() {
        let f = Faults::new();
        f.add(FaultRule {
            count: Some(2),
            ..rule(FaultKind::Drop)
        })
        .unwrap();
        assert!(f.plan("GET", "/a", "/a").terminal.is_some());
        assert!(f.plan("GET", "/a", "/a").terminal.is_some());
        assert!(f.plan("GET", "/a", "/a").terminal.is_none());
        assert!(f.list().is_empty());
    }

    #[test]
    fn endpoint_matching_and_probability_zero() {
        let f = Faults::new();
        f.add(FaultRule {
            endpoint: Some("POST /x/{id}".into()),
            ..rule(FaultKind::ServerError)
        })
        .unwrap();
        f.add(FaultRule {
            probability: Some(0.0),
            ..rule(FaultKind::RateLimit)
        })
        .unwrap();
        assert!(f.plan("GET", "/x/{id}", "/x/1").terminal.is_none());
        assert_eq!(
            f.plan("POST", "/x/{id}", "/x/1").terminal,
            Some((FaultKind::ServerError, 503))
        );
        assert!(
            f.add(FaultRule {
                probability: Some(1.5),
                ..rule(FaultKind::Drop)
            })
            .is_err()
        );
        assert!(
            f.add(rule(FaultKind::Latency)).is_err(),
            "latency needs latency_ms"
        );
    }

    #[test]
    fn latency_adds_up_and_combines_with_a_terminal_fault() {
        let f = Faults::new();
        f.add(FaultRule {
            latency_ms: Some(10),
            ..rule(FaultKind::Latency)
        })
        .unwrap();
        f.add(FaultRule {
            latency_ms: Some(5),
            ..rule(FaultKind::Latency)
        })
        .unwrap();
        f.add(rule(FaultKind::MalformedJson)).unwrap();
        let p = f.plan("GET", "/a", "/a");
        assert_eq!(
            (p.latency_ms, p.terminal.map(|t| t.0)),
            (15, Some(FaultKind::MalformedJson))
        );
    }
}
