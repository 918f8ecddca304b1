//! Fixed windows per user and class (reads/writes), short and long, plus per-route windows; the
//! `X-Plenty-*` headers they produce. A window starts with the first request after the previous one
//! ended. Refused requests are not counted.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderName, HeaderValue};

use crate::config::Plan;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    Read,
    Write,
}

impl Class {
    pub fn of(method: &str) -> Class {
        if method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD") {
            Class::Read
        } else {
            Class::Write
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Window {
    started: Option<Instant>,
    count: u32,
}

/// One period's numbers for the headers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Numbers {
    pub limit: u32,
    pub left: u32,
    pub decay: Duration,
}

impl Window {
    fn active(&self, now: Instant, len: Duration) -> bool {
        self.started.is_some_and(|s| now < s + len)
    }

    fn numbers(&self, now: Instant, len: Duration, limit: u32) -> Numbers {
        if self.active(now, len) {
            let started = self.started.expect("active");
            Numbers {
                limit,
                left: limit.saturating_sub(self.count),
                decay: (started + len).saturating_duration_since(now),
            }
        } else {
            Numbers {
                limit,
                left: limit,
                decay: len,
            }
        }
    }

    fn take(&mut self, now: Instant, len: Duration) {
        if !self.active(now, len) {
            self.started = Some(now);
            self.count = 0;
        }
        self.count += 1;
    }
}

/// The headers of one request's periods.
#[derive(Clone, Debug)]
pub struct Verdict {
    pub short: Numbers,
    pub long: Numbers,
    pub route: Option<Numbers>,
    /// Set when refused: how long until the exhausted window resets.
    pub refused_for: Option<Duration>,
}

pub struct Limits {
    pub plan: Plan,
    pub window: Duration,
    pub long_window: Duration,
    pub route_limits: HashMap<String, u32>,
    short: HashMap<Class, Window>,
    long: HashMap<Class, Window>,
    routes: HashMap<String, Window>,
}

impl Limits {
    pub fn new(plan: Plan, window: Duration, long_window: Duration, route_limits: &[(String, u32)]) -> Self {
        Limits {
            plan,
            window,
            long_window,
            route_limits: route_limits.iter().cloned().collect(),
            short: HashMap::new(),
            long: HashMap::new(),
            routes: HashMap::new(),
        }
    }

    /// Forgets every window (after a plan or window change, or a reset).
    pub fn clear_windows(&mut self) {
        self.short.clear();
        self.long.clear();
        self.routes.clear();
    }

    fn limits_of(&self, class: Class) -> (u32, u32) {
        match class {
            Class::Read => (self.plan.reads_per_window, self.plan.reads_per_day),
            Class::Write => (self.plan.writes_per_window, self.plan.writes_per_day),
        }
    }

    /// Counts the request if every period has room; otherwise refuses it (uncounted).
    pub fn admit(&mut self, class: Class, route: &str, now: Instant) -> Verdict {
        let (short_limit, long_limit) = self.limits_of(class);
        let route_limit = self.route_limits.get(route).copied();
        let (w, lw) = (self.window, self.long_window);
        let short = self.short.entry(class).or_default().numbers(now, w, short_limit);
        let long = self.long.entry(class).or_default().numbers(now, lw, long_limit);
        let route_numbers = route_limit.map(|l| {
            self.routes
                .entry(route.to_string())
                .or_default()
                .numbers(now, w, l)
        });
        let mut refused_for: Option<Duration> = None;
        for n in [Some(short), Some(long), route_numbers].into_iter().flatten() {
            if n.left == 0 {
                refused_for = Some(refused_for.map_or(n.decay, |d| d.max(n.decay)));
            }
        }
        if refused_for.is_some() {
            return Verdict {
                short,
                long,
                route: route_numbers,
                refused_for,
            };
        }
        self.short.get_mut(&class).expect("entry").take(now, w);
        self.long.get_mut(&class).expect("entry").take(now, lw);
        if route_limit.is_some() {
            self.routes.get_mut(route).expect("entry").take(now, w);
        }
        Verdict {
            short: self.short[&class].numbers(now, w, short_limit),
            long: self.long[&class].numbers(now, lw, long_limit),
            route: route_limit.map(|l| self.routes[route].numbers(now, w, l)),
            refused_for: None,
        }
    }
}

/// Seconds, rounded up to the millisecond (never early), as `"0.734"` or `"60"`. The real system sends
/// whole seconds; decimals let a window of one second be paced precisely.
pub fn seconds_text(d: Duration) -> String {
    let ms = d.as_nanos().div_ceil(1_000_000);
    if ms.is_multiple_of(1000) {
        format!("{}", ms / 1000)
    } else {
        format!("{}.{:03}", ms / 1000, ms % 1000)
    }
}

fn put(headers: &mut HeaderMap, name: String, value: String) {
    if let (Ok(n), Ok(v)) = (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(&value),
    ) {
        headers.insert(n, v);
    }
}

/// Adds the `X-Plenty-*` headers (and, when refused, `Retry-After` and `*-Calls-Reset`).
pub fn write_headers(headers: &mut HeaderMap, verdict: &Verdict) {
    let periods = [
        ("X-Plenty-Global-Long-Period", Some(verdict.long)),
        ("X-Plenty-Global-Short-Period", Some(verdict.short)),
        ("X-Plenty-Route", verdict.route),
    ];
    for (prefix, numbers) in periods {
        let Some(n) = numbers else { continue };
        put(headers, format!("{prefix}-Limit"), n.limit.to_string());
        put(headers, format!("{prefix}-Calls-Left"), n.left.to_string());
        put(headers, format!("{prefix}-Decay"), seconds_text(n.decay));
        if verdict.refused_for.is_some() && n.left == 0 {
            put(headers, format!("{prefix}-Calls-Reset"), seconds_text(n.decay));
        }
    }
    if let Some(wait) = verdict.refused_for {
        put(headers, "Retry-After".into(), retry_after_secs(wait).to_string());
    }
}

/// `Retry-After` is whole seconds: round up, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_millis().div_ceil(1000).max(1) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_windows_refuse_over_the_limit_and_reset() {
        let plan = Plan {
            name: "t".into(),
            reads_per_window: 2,
            writes_per_window: 1,
            reads_per_day: 100,
            writes_per_day: 100,
        };
        let mut l = Limits::new(
            plan,
            Duration::from_secs(1),
            Duration::from_secs(100),
            &[("POST /rest/orders".into(), 1)],
        );
        let t0 = Instant::now();
        assert_eq!(l.admit(Class::Read, "GET /a", t0).short.left, 1);
        assert_eq!(l.admit(Class::Read, "GET /a", t0).short.left, 0);
        let v = l.admit(Class::Read, "GET /a", t0 + Duration::from_millis(300));
        assert_eq!(v.refused_for, Some(Duration::from_millis(700)));
        // writes have their own budget, the route its own limit
        assert!(
            l.admit(Class::Write, "POST /rest/orders", t0)
                .refused_for
                .is_none()
        );
        let v = l.admit(Class::Write, "POST /rest/orders", t0 + Duration::from_secs(2));
        assert!(v.refused_for.is_none());
        assert_eq!(v.route.unwrap().left, 0);
        assert!(
            l.admit(Class::Read, "GET /a", t0 + Duration::from_secs(1))
                .refused_for
                .is_none()
        );
        assert_eq!(
            l.admit(Class::Read, "GET /a", t0 + Duration::from_secs(1))
                .long
                .left,
            96
        );
    }

    #[test]
    fn seconds_are_rounded_up_to_the_millisecond() {
        assert_eq!(seconds_text(Duration::from_micros(733_001)), "0.734");
        assert_eq!(seconds_text(Duration::from_secs(60)), "60");
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
    }
}
