//! Request counters per endpoint (total, ok, rate_limited, errors, faults), read by the control API.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde_json::{Value, json};

#[derive(Default)]
struct Counters {
    total: AtomicU64,
    ok: AtomicU64,
    rate_limited: AtomicU64,
    errors: AtomicU64,
    faults: AtomicU64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    RateLimited,
    Error,
    /// An injected fault (a 429 storm counts as rate_limited as well: that is what the client sees).
    Fault,
}

pub struct Stats {
    names: Vec<String>,
    counters: Vec<Counters>,
}

impl Stats {
    /// One slot per name; slot indices are the caller's (operation index, then extras).
    pub fn new(names: Vec<String>) -> Self {
        let counters = names.iter().map(|_| Counters::default()).collect();
        Stats { names, counters }
    }

    pub fn record(&self, slot: usize, outcome: Outcome) {
        let Some(c) = self.counters.get(slot) else { return };
        c.total.fetch_add(1, Relaxed);
        match outcome {
            Outcome::Ok => &c.ok,
            Outcome::RateLimited => &c.rate_limited,
            Outcome::Error => &c.errors,
            Outcome::Fault => &c.faults,
        }
        .fetch_add(1, Relaxed);
    }

    pub fn record_storm(&self, slot: usize) {
        if let Some(c) = self.counters.get(slot) {
            c.rate_limited.fetch_add(1, Relaxed);
        }
    }

    /// Only endpoints that were called, keyed by "METHOD /path/template".
    pub fn to_json(&self) -> Value {
        let mut endpoints = serde_json::Map::new();
        let mut totals = [0u64; 5];
        for (name, c) in self.names.iter().zip(&self.counters) {
            let v = [&c.total, &c.ok, &c.rate_limited, &c.errors, &c.faults].map(|a| a.load(Relaxed));
            if v[0] == 0 {
                continue;
            }
            for i in 0..5 {
                totals[i] += v[i];
            }
            endpoints.insert(
                name.clone(),
                json!({ "total": v[0], "ok": v[1], "rate_limited": v[2], "errors": v[3], "faults": v[4] }),
            );
        }
        json!({
            "endpoints": endpoints,
            "totals": { "total": totals[0], "ok": totals[1], "rate_limited": totals[2], "errors": totals[3], "faults": totals[4] },
        })
    }

    pub fn reset(&self) {
        for c in &self.counters {
            for a in [&c.total, &c.ok, &c.rate_limited, &c.errors, &c.faults] {
                a.store(0, Relaxed);
            }
        }
    }
}
