//! Pacing by plentymarkets' rate-limit headers (spec C.2), as pure bookkeeping.
//!
//! Every response carries, per period, `X-Plenty-Global-Short-Period-{Limit,Calls-Left,Decay}`,
//! `X-Plenty-Global-Long-Period-*` and, for throttled routes, `X-Plenty-Route-*`. Reads (GET) and writes
//! (everything else) are counted apart, so each (period, class) and each route has its own [`Budget`].
//!
//! A budget never lets us exceed the server's count: requests in flight are charged against the last
//! `Calls-Left` seen (they may or may not have been counted yet — assuming "not yet" errs on the safe
//! side), and when nothing is left we wait until the window resets (`Decay`, plus a margin). Responses
//! are attributed to a window by the reset time they imply (between `sent + Decay` and
//! `received + Decay`), so a late answer from the previous window never refills or drains the current
//! one. Before the first answer of a budget we
//! know nothing, so only one request of that budget is in flight.
//!
//! The async waiting around this lives in [`super::pacer`]; everything here takes `now` explicitly.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;

/// Reads (`GET`, `HEAD`) and writes have separate budgets on plentymarkets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    Read,
    Write,
}

impl Class {
    pub fn of(method: &reqwest::Method) -> Class {
        if method == reqwest::Method::GET || method == reqwest::Method::HEAD {
            Class::Read
        } else {
            Class::Write
        }
    }
}

/// Which limit a budget tracks.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `X-Plenty-Global-Short-Period-*` (per user, per minute on the real system).
    ShortPeriod(Class),
    /// `X-Plenty-Global-Long-Period-*` (per system, per day).
    LongPeriod(Class),
    /// `X-Plenty-Route-*` of one route, keyed by `"METHOD /template"`.
    Route(String),
}

impl Scope {
    /// Header prefix of this scope.
    pub fn header_prefix(&self) -> &'static str {
        match self {
            Scope::ShortPeriod(_) => "x-plenty-global-short-period",
            Scope::LongPeriod(_) => "x-plenty-global-long-period",
            Scope::Route(_) => "x-plenty-route",
        }
    }

    /// The scopes a request of `class` on `route` is charged to.
    pub fn for_request(class: Class, route: &str) -> [Scope; 3] {
        [
            Scope::ShortPeriod(class),
            Scope::LongPeriod(class),
            Scope::Route(route.to_string()),
        ]
    }
}

/// One period's numbers from a response.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Observed {
    pub limit: u32,
    pub calls_left: u32,
    /// Time until the window resets.
    pub decay: Duration,
    /// `Decay` came with decimals (the stand-in): no whole-second rounding to cover.
    pub precise: bool,
}

/// Reads `<prefix>-Limit`, `-Calls-Left` and `-Decay` (seconds, whole or decimal). `None` when any is
/// missing or malformed.
pub fn read_period(headers: &HeaderMap, prefix: &str) -> Option<Observed> {
    let get = |suffix: &str| {
        headers
            .get(format!("{prefix}-{suffix}"))
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let limit = get("limit")?.parse::<u32>().ok()?;
    let calls_left = get("calls-left")?.parse::<i64>().ok()?.clamp(0, u32::MAX as i64) as u32;
    let decay_text = get("decay")?;
    let decay = parse_seconds(decay_text)?;
    Some(Observed {
        limit,
        calls_left,
        decay,
        precise: decay_text.contains('.'),
    })
}

/// `Retry-After` as delay-seconds, or the longest `*-Calls-Reset` seconds when `Retry-After` is absent.
pub fn read_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_seconds)
    };
    value("retry-after").or_else(|| {
        [
            "x-plenty-global-short-period-calls-reset",
            "x-plenty-global-long-period-calls-reset",
            "x-plenty-route-calls-reset",
        ]
        .into_iter()
        .filter_map(value)
        .max()
    })
}

/// Seconds as `"12"` or `"0.734"`; negative or non-finite values are rejected.
pub fn parse_seconds(text: &str) -> Option<Duration> {
    let secs: f64 = text.trim().parse().ok()?;
    (secs.is_finite() && (0.0..1e9).contains(&secs)).then(|| Duration::from_secs_f64(secs))
}

/// What a caller may do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reserve {
    /// A slot was reserved in every budget; send the request, then observe or release it.
    Go,
    /// Nothing is free; try again after this long (or earlier, when another answer arrives).
    Wait(Duration),
}

/// The margin once `Decay` is known to come with decimals: only clock granularity is left to cover.
const PRECISE_MARGIN: Duration = Duration::from_millis(25);

/// How long to wait when the answer we need comes from a request in flight, not from a clock.
const AWAIT_ANSWER: Duration = Duration::from_millis(50);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Limit {
    /// No answer seen yet: one request at a time.
    Unknown,
    /// Answers came without this scope's headers (a route without its own limit).
    Unlimited,
    Known(u32),
}

/// Where a window's reset lies: the server computed `Decay` somewhere between sending and receiving,
/// so one answer places the reset in `[sent + decay − margin, received + decay]` (the margin covers
/// whole-second rounding). Answers of one window all contain the true reset, so their intervals
/// overlap; windows are a whole window length apart, so theirs don't.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ResetAt {
    earliest: Instant,
    latest: Instant,
}

impl ResetAt {
    fn overlaps(&self, other: &ResetAt) -> bool {
        self.earliest <= other.latest && other.earliest <= self.latest
    }
}

/// Bookkeeping of one limit.
#[derive(Clone, Debug)]
pub struct Budget {
    limit: Limit,
    /// Absent headers after the first answer mean "no limit here" (routes) rather than "unknown".
    absent_means_unlimited: bool,
    /// The current window's reset; `None` once it passed (until an answer of the next one arrives).
    window: Option<ResetAt>,
    /// The window before, to recognise late answers from it.
    previous: Option<ResetAt>,
    /// Lowest `Calls-Left` seen in the current window.
    left: u32,
    in_flight: u32,
    /// Set by a 429's `Retry-After`.
    blocked_until: Option<Instant>,
    /// `Decay` values carry decimals: the configured margin (for whole seconds) can shrink.
    precise_decay: bool,
}

impl Budget {
    /// A global period budget: unknown until its headers are seen.
    pub fn global() -> Self {
        Self::with_absent_rule(false)
    }

    /// A route budget: becomes unlimited when the route's answers carry no route headers.
    pub fn route() -> Self {
        Self::with_absent_rule(true)
    }

    fn with_absent_rule(absent_means_unlimited: bool) -> Self {
        Budget {
            limit: Limit::Unknown,
            absent_means_unlimited,
            window: None,
            previous: None,
            left: 0,
            in_flight: 0,
            blocked_until: None,
            precise_decay: false,
        }
    }

    /// The margin actually applied: the configured one covers whole-second `Decay` rounding.
    fn margin(&self, configured: Duration) -> Duration {
        if self.precise_decay {
            configured.min(PRECISE_MARGIN)
        } else {
            configured
        }
    }

    pub fn in_flight(&self) -> u32 {
        self.in_flight
    }

    /// The limit per window, once known.
    pub fn limit(&self) -> Option<u32> {
        match self.limit {
            Limit::Known(n) => Some(n),
            _ => None,
        }
    }

    /// Starts a fresh window once the current one has surely passed (latest reset + margin).
    fn roll(&mut self, now: Instant, margin: Duration) {
        let margin = self.margin(margin);
        if let (Some(w), Limit::Known(limit)) = (self.window, self.limit)
            && now >= w.latest + margin
        {
            self.previous = Some(w);
            self.window = None;
            self.left = limit;
        }
    }

    /// Whether one more request fits now; does not reserve.
    pub fn check(&mut self, now: Instant, margin: Duration) -> Reserve {
        let margin = self.margin(margin);
        if let Some(until) = self.blocked_until {
            if now < until {
                return Reserve::Wait(until - now);
            }
            self.blocked_until = None;
        }
        self.roll(now, margin);
        match self.limit {
            Limit::Unlimited => Reserve::Go,
            Limit::Unknown if self.in_flight == 0 => Reserve::Go,
            Limit::Unknown => Reserve::Wait(AWAIT_ANSWER),
            Limit::Known(_) if self.left > self.in_flight => Reserve::Go,
            Limit::Known(_) => match self.window {
                Some(w) => Reserve::Wait(
                    (w.latest + margin)
                        .saturating_duration_since(now)
                        .max(Duration::from_millis(1)),
                ),
                // The window has passed but the slots are held by requests in flight.
                None => Reserve::Wait(AWAIT_ANSWER),
            },
        }
    }

    pub fn reserve(&mut self) {
        self.in_flight += 1;
    }

    /// Settles one reserved request, sent at `sent` and answered at `now`, with what its response
    /// said (`None`: no headers for this scope, or no response at all).
    pub fn observe(&mut self, seen: Option<Observed>, sent: Instant, now: Instant, margin: Duration) {
        match seen {
            Some(o) => self.observe_numbers(o, sent, now, margin),
            None => self.observe_absent(true),
        }
    }

    /// Settles one reserved request whose answer said nothing about this scope. `counted`: the server
    /// did count the request (its global headers were there), so a route without route headers has
    /// no route limit; otherwise (no answer, a 401 before counting) nothing is learnt.
    pub fn observe_absent(&mut self, counted: bool) {
        self.in_flight = self.in_flight.saturating_sub(1);
        match self.limit {
            Limit::Unknown if counted && self.absent_means_unlimited => self.limit = Limit::Unlimited,
            // The request may have been counted without us seeing the new number.
            Limit::Known(_) => self.left = self.left.saturating_sub(1),
            _ => {}
        }
    }

    fn observe_numbers(&mut self, o: Observed, sent: Instant, now: Instant, margin: Duration) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.precise_decay |= o.precise;
        let margin = self.margin(margin);
        self.limit = Limit::Known(o.limit);
        let reset = ResetAt {
            earliest: (sent + o.decay)
                .checked_sub(margin)
                .unwrap_or(sent)
                .min(now + o.decay),
            latest: now + o.decay,
        };
        match self.window {
            Some(current) if reset.overlaps(&current) => {
                self.left = self.left.min(o.calls_left);
                // Narrow to what every answer agrees on; the latest bound stays at or after the truth.
                let earliest = current.earliest.max(reset.earliest);
                let latest = current.latest.min(reset.latest);
                self.window = Some(ResetAt {
                    earliest: earliest.min(latest),
                    latest,
                });
            }
            Some(current) if reset.latest < current.earliest => {} // late answer from an older window
            Some(current) => {
                // The server already started the next window.
                self.previous = Some(current);
                self.window = Some(reset);
                self.left = o.calls_left;
            }
            None => {
                if self
                    .previous
                    .is_some_and(|p| p.overlaps(&reset) || reset.latest < p.earliest)
                {
                    return; // late answer from a window that has passed
                }
                self.window = Some(reset);
                self.left = o.calls_left;
            }
        }
    }

    /// The server refused with 429: nothing goes out before `until`.
    pub fn block_until(&mut self, until: Instant) {
        self.blocked_until = Some(self.blocked_until.map_or(until, |b| b.max(until)));
    }
}

/// All budgets of one client (one plentymarkets user).
#[derive(Debug, Default)]
pub struct Budgets {
    budgets: HashMap<Scope, Budget>,
}

impl Budgets {
    fn budget(&mut self, scope: &Scope) -> &mut Budget {
        self.budgets.entry(scope.clone()).or_insert_with(|| match scope {
            Scope::Route(_) => Budget::route(),
            _ => Budget::global(),
        })
    }

    /// Reserves a slot in every scope, or none: the wait is the longest any scope asks for.
    pub fn try_reserve(&mut self, scopes: &[Scope], now: Instant, margin: Duration) -> Reserve {
        let mut wait = Duration::ZERO;
        for scope in scopes {
            if let Reserve::Wait(d) = self.budget(scope).check(now, margin) {
                wait = wait.max(d);
            }
        }
        if wait > Duration::ZERO {
            return Reserve::Wait(wait);
        }
        for scope in scopes {
            self.budget(scope).reserve();
        }
        Reserve::Go
    }

    /// Settles a reservation made at `sent` with the response's headers (`None`: no response).
    pub fn observe(
        &mut self,
        scopes: &[Scope],
        headers: Option<&HeaderMap>,
        sent: Instant,
        now: Instant,
        margin: Duration,
    ) {
        // Global headers on the answer mean the server counted the request.
        let counted = headers
            .is_some_and(|h| read_period(h, Scope::ShortPeriod(Class::Read).header_prefix()).is_some());
        for scope in scopes {
            match headers.and_then(|h| read_period(h, scope.header_prefix())) {
                Some(o) => self.budget(scope).observe_numbers(o, sent, now, margin),
                None => self.budget(scope).observe_absent(counted),
            }
        }
    }

    /// After a 429: block the request's scopes until `until`.
    pub fn block(&mut self, scopes: &[Scope], until: Instant) {
        for scope in scopes {
            self.budget(scope).block_until(until);
        }
    }

    pub fn get(&self, scope: &Scope) -> Option<&Budget> {
        self.budgets.get(scope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    const MARGIN: Duration = Duration::from_millis(10);

    fn seen(limit: u32, left: u32, decay_ms: u64) -> Option<Observed> {
        Some(Observed {
            limit,
            calls_left: left,
            decay: Duration::from_millis(decay_ms),
            precise: false,
        })
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn reads_headers_whole_and_decimal_seconds() {
        let mut h = HeaderMap::new();
        h.insert(
            "X-Plenty-Global-Short-Period-Limit",
            HeaderValue::from_static("80"),
        );
        h.insert(
            "X-Plenty-Global-Short-Period-Calls-Left",
            HeaderValue::from_static("79"),
        );
        h.insert(
            "X-Plenty-Global-Short-Period-Decay",
            HeaderValue::from_static("0.734"),
        );
        h.insert(
            "X-Plenty-Global-Long-Period-Limit",
            HeaderValue::from_static("59760"),
        );
        h.insert(
            "X-Plenty-Global-Long-Period-Calls-Left",
            HeaderValue::from_static("-3"),
        );
        h.insert(
            "X-Plenty-Global-Long-Period-Decay",
            HeaderValue::from_static("86399"),
        );
        assert_eq!(
            read_period(&h, "x-plenty-global-short-period"),
            Some(Observed {
                precise: true,
                ..seen(80, 79, 734).unwrap()
            })
        );
        assert_eq!(
            read_period(&h, "x-plenty-global-long-period"),
            Some(Observed {
                limit: 59760,
                calls_left: 0,
                decay: Duration::from_secs(86399),
                precise: false,
            })
        );
        assert_eq!(read_period(&h, "x-plenty-route"), None);
        h.insert("Retry-After", HeaderValue::from_static("2"));
        assert_eq!(read_retry_after(&h), Some(Duration::from_secs(2)));
        assert_eq!(parse_seconds("-1"), None);
        assert_eq!(parse_seconds("NaN"), None);
    }

    #[test]
    fn first_call_goes_alone_until_the_headers_are_known() {
        let t0 = Instant::now();
        let mut b = Budget::global();
        assert_eq!(b.check(t0, MARGIN), Reserve::Go);
        b.reserve();
        assert!(matches!(b.check(t0, MARGIN), Reserve::Wait(_)));
        b.observe(seen(80, 79, 1000), t0, t0 + ms(5), MARGIN);
        for _ in 0..79 {
            assert_eq!(b.check(t0 + ms(6), MARGIN), Reserve::Go);
            b.reserve();
        }
        // 1 counted + 79 in flight = the whole window; wait for the latest possible reset + margin
        assert_eq!(b.check(t0 + ms(6), MARGIN), Reserve::Wait(ms(1005 + 10 - 6)));
    }

    #[test]
    fn in_flight_requests_count_against_calls_left_even_when_already_counted() {
        let t0 = Instant::now();
        let mut b = Budget::global();
        b.reserve();
        b.observe(seen(10, 9, 1000), t0, t0, MARGIN);
        for _ in 0..9 {
            assert_eq!(b.check(t0, MARGIN), Reserve::Go);
            b.reserve();
        }
        // the server counted 5 of them; the other 4 are still in flight: still nothing free
        b.observe(seen(10, 4, 990), t0, t0 + ms(10), MARGIN);
        assert!(matches!(b.check(t0 + ms(10), MARGIN), Reserve::Wait(_)));
        for (i, left) in [4, 3, 2, 1, 0, 0, 0, 0].into_iter().enumerate() {
            b.observe(seen(10, left, 980), t0, t0 + ms(20), MARGIN);
            assert!(
                matches!(b.check(t0 + ms(20), MARGIN), Reserve::Wait(_)),
                "after {i}"
            );
        }
        assert_eq!(b.in_flight(), 0);
        // after the window: a fresh one
        assert_eq!(b.check(t0 + ms(1000 + 10), MARGIN), Reserve::Go);
    }

    #[test]
    fn a_slow_answer_with_an_old_count_does_not_refill_the_window() {
        let t0 = Instant::now();
        let mut b = Budget::global();
        b.reserve();
        b.observe(seen(10, 9, 1000), t0, t0 + ms(1), MARGIN);
        for _ in 0..9 {
            b.reserve();
        }
        // fast answers: everything is used
        for _ in 0..8 {
            b.observe(seen(10, 0, 990), t0 + ms(2), t0 + ms(12), MARGIN);
        }
        // the first request of the window answers last (processing took 300 ms), with its early count
        b.observe(seen(10, 8, 998), t0 + ms(2), t0 + ms(300), MARGIN);
        assert!(matches!(b.check(t0 + ms(300), MARGIN), Reserve::Wait(_)));
    }

    #[test]
    fn late_answers_from_the_previous_window_neither_refill_nor_drain_the_new_one() {
        let t0 = Instant::now();
        let mut b = Budget::global();
        b.reserve();
        b.observe(seen(4, 3, 1000), t0, t0, MARGIN);
        for _ in 0..3 {
            b.reserve();
        }
        // window passes; answers of the old window are still outstanding
        let t1 = t0 + ms(1020);
        assert_eq!(b.check(t1, MARGIN), Reserve::Go);
        b.reserve();
        // old window said 0 left (computed at t0+995): must not apply to the new window
        b.observe(seen(4, 0, 5), t0 + ms(990), t1, MARGIN);
        assert_eq!(b.check(t1, MARGIN), Reserve::Go);
        b.reserve();
        // 2 old still in flight + 2 new in flight = 4 = limit
        assert!(matches!(b.check(t1, MARGIN), Reserve::Wait(_)));
        // an answer of the new window
        b.observe(seen(4, 2, 995), t1, t1 + ms(5), MARGIN);
        b.observe(seen(4, 0, 2), t0 + ms(995), t1 + ms(5), MARGIN); // the other old ones
        b.observe(seen(4, 0, 1), t0 + ms(996), t1 + ms(6), MARGIN);
        // new window: 2 left per the server, 1 (new) still in flight
        assert_eq!(b.check(t1 + ms(7), MARGIN), Reserve::Go);
        b.reserve();
        // a request that failed without an answer may have been counted
        b.observe(None, t1 + ms(7), t1 + ms(8), MARGIN);
        assert!(matches!(b.check(t1 + ms(8), MARGIN), Reserve::Wait(_)));
    }

    #[test]
    fn an_answer_from_a_newer_window_is_adopted_before_our_estimate_passes() {
        let t0 = Instant::now();
        let mut b = Budget::global();
        b.reserve();
        b.observe(seen(4, 0, 1000), t0, t0, MARGIN);
        assert!(matches!(b.check(t0 + ms(500), MARGIN), Reserve::Wait(_)));
        b.reserve();
        b.observe(seen(4, 3, 1000), t0 + ms(1001), t0 + ms(1001), MARGIN);
        assert_eq!(b.check(t0 + ms(1002), MARGIN), Reserve::Go);
    }

    #[test]
    fn routes_without_headers_become_unlimited_globals_stay_careful() {
        let t0 = Instant::now();
        let mut r = Budget::route();
        r.reserve();
        r.observe(None, t0, t0, MARGIN);
        for _ in 0..1000 {
            assert_eq!(r.check(t0, MARGIN), Reserve::Go);
            r.reserve();
        }
        // an answer the server did not count (401 before the limits) teaches nothing
        let mut r = Budget::route();
        r.reserve();
        r.observe_absent(false);
        r.reserve();
        assert!(matches!(r.check(t0, MARGIN), Reserve::Wait(_)));
        let mut g = Budget::global();
        g.reserve();
        g.observe(None, t0, t0, MARGIN);
        g.reserve();
        assert!(matches!(g.check(t0, MARGIN), Reserve::Wait(_)));
    }

    #[test]
    fn decimal_decay_shrinks_the_whole_second_margin() {
        let t0 = Instant::now();
        let second = Duration::from_secs(1);
        let mut b = Budget::global();
        b.reserve();
        b.observe(seen(1, 0, 500), t0, t0, second);
        assert_eq!(b.check(t0, second), Reserve::Wait(ms(1500)));
        let mut p = Budget::global();
        p.reserve();
        let precise = Observed {
            precise: true,
            ..seen(1, 0, 500).unwrap()
        };
        p.observe(Some(precise), t0, t0, second);
        assert_eq!(p.check(t0, second), Reserve::Wait(ms(525)));
    }

    #[test]
    fn retry_after_blocks_the_budget() {
        let t0 = Instant::now();
        let mut b = Budget::global();
        b.reserve();
        b.observe(seen(80, 50, 30_000), t0, t0, MARGIN);
        b.block_until(t0 + ms(2000));
        assert_eq!(b.check(t0 + ms(500), MARGIN), Reserve::Wait(ms(1500)));
        assert_eq!(b.check(t0 + ms(2000), MARGIN), Reserve::Go);
    }

    #[test]
    fn budgets_reserve_all_scopes_or_none() {
        let t0 = Instant::now();
        let mut all = Budgets::default();
        let reads = Scope::for_request(Class::Read, "GET /rest/orders");
        let writes = Scope::for_request(Class::Write, "POST /rest/orders");
        assert_eq!(all.try_reserve(&reads, t0, MARGIN), Reserve::Go);
        // reads and writes are separate: a write may go while the first read is out
        assert_eq!(all.try_reserve(&writes, t0, MARGIN), Reserve::Go);
        assert!(matches!(all.try_reserve(&reads, t0, MARGIN), Reserve::Wait(_)));
        let mut h = HeaderMap::new();
        for (p, l, left) in [
            ("x-plenty-global-short-period", "80", "79"),
            ("x-plenty-global-long-period", "59760", "59000"),
            ("x-plenty-route", "2", "1"),
        ] {
            h.insert(HeaderName(p, "limit").name(), HeaderValue::from_str(l).unwrap());
            h.insert(
                HeaderName(p, "calls-left").name(),
                HeaderValue::from_str(left).unwrap(),
            );
            h.insert(HeaderName(p, "decay").name(), HeaderValue::from_static("1"));
        }
        all.observe(&reads, Some(&h), t0, t0, MARGIN);
        assert_eq!(all.try_reserve(&reads, t0, MARGIN), Reserve::Go);
        // the route's 2 per window are used up (1 counted, 1 in flight) although the globals have room
        assert!(matches!(all.try_reserve(&reads, t0, MARGIN), Reserve::Wait(_)));
        assert_eq!(all.get(&Scope::ShortPeriod(Class::Read)).unwrap().in_flight(), 1);
    }

    /// A simulated server with fixed, lazily started windows, and 24 workers with random network and
    /// processing delays (answers overtake each other and cross window changes). The budget must never
    /// let the server refuse, and should use most of the limit.
    #[test]
    fn simulation_never_exceeds_and_uses_the_window() {
        for (seed, max_network, max_processing) in
            [(1, 40, 300), (2, 5, 20), (3, 100, 600), (4, 0, 0), (5, 40, 900)]
        {
            let (refused, admitted) = simulate(seed, max_network, max_processing);
            assert_eq!(refused, 0, "seed {seed}: the server refused requests");
            // 20 windows at 10 calls: at least 80 % used despite the delays
            assert!(
                admitted >= 160,
                "seed {seed}: only {admitted} calls in 20 windows"
            );
        }
    }

    fn simulate(seed: u64, max_network: u64, max_processing: u64) -> (u32, u32) {
        const LIMIT: u32 = 10;
        let window = ms(1000);
        let t0 = Instant::now();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15 ^ seed;
        let mut random = |max: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % (max + 1)
        };
        let mut budget = Budget::global();
        // server: (window start, count)
        let mut server: (Option<Instant>, u32) = (None, 0);
        let mut refused = 0;
        let mut admitted = 0u32;
        // in flight: (arrives at server, answered at, sent at, observed numbers once admitted)
        let mut flying: Vec<(Instant, Instant, Instant, Option<Observed>)> = Vec::new();
        let workers = 24;
        let end = t0 + ms(20_000);
        let mut now = t0;
        while now < end {
            // server admits arrivals in order
            flying.sort_by_key(|f| f.0);
            for f in flying.iter_mut().filter(|f| f.0 <= now && f.3.is_none()) {
                if server.0.is_none_or(|s| f.0 >= s + window) {
                    server = (Some(f.0), 0);
                }
                if server.1 >= LIMIT {
                    refused += 1;
                }
                server.1 += 1;
                admitted += 1;
                f.3 = Some(Observed {
                    limit: LIMIT,
                    calls_left: LIMIT.saturating_sub(server.1),
                    decay: (server.0.unwrap() + window).saturating_duration_since(f.0),
                    precise: false,
                });
            }
            // answers
            let (done, rest): (Vec<_>, Vec<_>) =
                flying.into_iter().partition(|f| f.1 <= now && f.3.is_some());
            flying = rest;
            for f in done {
                budget.observe(f.3, f.2, now, MARGIN);
            }
            // idle workers try to send
            while flying.len() < workers {
                match budget.try_reserve_one(now) {
                    true => {
                        let arrives = now + ms(random(max_network));
                        let answered = arrives + ms(random(max_processing));
                        flying.push((arrives, answered, now, None));
                    }
                    false => break,
                }
            }
            now += ms(1);
        }
        (refused, admitted)
    }

    impl Budget {
        fn try_reserve_one(&mut self, now: Instant) -> bool {
            let go = self.check(now, MARGIN) == Reserve::Go;
            if go {
                self.reserve();
            }
            go
        }
    }

    struct HeaderName(&'static str, &'static str);
    impl HeaderName {
        fn name(&self) -> reqwest::header::HeaderName {
            reqwest::header::HeaderName::from_bytes(format!("{}-{}", self.0, self.1).as_bytes()).unwrap()
        }
    }
}
