//! Request counters per route (`"METHOD /rest/template"`): total, ok, rate_limited, errors, faults.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    RateLimited,
    Error,
    Fault,
}

#[derive(Default, Clone, Copy)]
struct Counters {
    total: u64,
    ok: u64,
    rate_limited: u64,
    errors: u64,
    faults: u64,
}

#[derive(Default)]
pub struct Stats {
    routes: Mutex<BTreeMap<String, Counters>>,
}

impl Stats {
    pub fn record(&self, route: &str, outcome: Outcome) {
        let mut g = self.routes.lock().expect("stats");
        let c = g.entry(route.to_string()).or_default();
        c.total += 1;
        match outcome {
            Outcome::Ok => c.ok += 1,
            Outcome::RateLimited => c.rate_limited += 1,
            Outcome::Error => c.errors += 1,
            Outcome::Fault => c.faults += 1,
        }
    }

    /// A fault that the client sees as 429 counts as rate limited too.
    pub fn record_storm(&self, route: &str) {
        self.routes
            .lock()
            .expect("stats")
            .entry(route.to_string())
            .or_default()
            .rate_limited += 1;
    }

    pub fn to_json(&self) -> Value {
        let g = self.routes.lock().expect("stats");
        let mut routes = serde_json::Map::new();
        let mut t = Counters::default();
        for (name, c) in g.iter() {
            t.total += c.total;
            t.ok += c.ok;
            t.rate_limited += c.rate_limited;
            t.errors += c.errors;
            t.faults += c.faults;
            routes.insert(name.clone(), counters_json(c));
        }
        json!({ "routes": routes, "totals": counters_json(&t) })
    }

    pub fn reset(&self) {
        self.routes.lock().expect("stats").clear();
    }
}

fn counters_json(c: &Counters) -> Value {
    json!({ "total": c.total, "ok": c.ok, "rate_limited": c.rate_limited, "errors": c.errors, "faults": c.faults })
}
