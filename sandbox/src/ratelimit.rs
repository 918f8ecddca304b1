//! Per-endpoint, per-(app, shop) rate limiting with governor's GCRA (TikTok: 50 QPS per API per app+shop).
//! Changeable at run time (control API) and removable for benchmarks.

use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// (app_key, shop id or seller open_id, operation index)
pub type Key = (String, String, usize);

#[derive(Clone)]
struct Active {
    per_second: u32,
    burst: u32,
    limiter: Arc<DefaultKeyedRateLimiter<Key>>,
}

pub struct RateLimit {
    active: RwLock<Option<Active>>,
    clock: DefaultClock,
}

impl RateLimit {
    pub fn new(per_second: Option<u32>, burst: Option<u32>) -> Self {
        let rl = RateLimit {
            active: RwLock::new(None),
            clock: DefaultClock::default(),
        };
        rl.set(per_second, burst);
        rl
    }

    /// `None` lifts the limit. A new setting starts with fresh (full) buckets.
    pub fn set(&self, per_second: Option<u32>, burst: Option<u32>) {
        let active = per_second.and_then(NonZeroU32::new).map(|rate| {
            // Default burst: a tenth of a second of quota (≥1), enough to absorb network jitter while keeping
            // any 1-second window within +10 % of the rate.
            let burst = burst
                .and_then(NonZeroU32::new)
                .unwrap_or(NonZeroU32::new((rate.get() / 10).max(1)).expect("≥1"));
            Active {
                per_second: rate.get(),
                burst: burst.get(),
                limiter: Arc::new(RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))),
            }
        });
        *self.active.write().expect("rate limit lock") = active;
    }

    /// (per_second, burst) or None when unlimited.
    pub fn current(&self) -> Option<(u32, u32)> {
        self.active
            .read()
            .expect("rate limit lock")
            .as_ref()
            .map(|a| (a.per_second, a.burst))
    }

    /// Ok, or Err(time until the next request would be accepted).
    pub fn check(&self, key: Key) -> Result<(), Duration> {
        let limiter = match &*self.active.read().expect("rate limit lock") {
            Some(a) => a.limiter.clone(),
            None => return Ok(()),
        };
        limiter
            .check_key(&key)
            .map_err(|nu| nu.wait_time_from(self.clock.now()))
    }
}
