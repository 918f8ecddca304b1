//! The thin async layer around [`Budgets`]: callers wait for a slot, and every settled request wakes
//! the waiters (an answer may have freed a slot or revealed the limits).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use tokio::sync::Notify;

use super::limits::{Budgets, Reserve, Scope};

pub struct Pacer {
    budgets: Mutex<Budgets>,
    changed: Notify,
    /// Added to every reset time: covers clock skew and whole-second `Decay` rounding.
    margin: Duration,
    /// Longer waits are refused (see `ClientOptions::max_pacing_wait`).
    max_wait: Duration,
}

/// A reserved slot. Settle it with [`Permit::observe`]; dropping it unsettled (a cancelled call)
/// releases it as "no answer seen".
pub struct Permit<'a> {
    pacer: &'a Pacer,
    scopes: Vec<Scope>,
    /// When the slot was granted (no later than the request left).
    sent: Instant,
    settled: bool,
}

impl Pacer {
    pub fn new(margin: Duration, max_wait: Duration) -> Self {
        Pacer {
            budgets: Mutex::new(Budgets::default()),
            changed: Notify::new(),
            margin,
            max_wait,
        }
    }

    /// Waits until every scope has a free slot and reserves it; `Err(wait)` when the wait would be
    /// longer than the maximum.
    pub async fn acquire(&self, scopes: Vec<Scope>) -> Result<Permit<'_>, Duration> {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            // Register before checking, so an answer between the check and the wait still wakes us.
            changed.as_mut().enable();
            let decision =
                self.budgets
                    .lock()
                    .expect("pacer lock")
                    .try_reserve(&scopes, Instant::now(), self.margin);
            match decision {
                Reserve::Go => {
                    return Ok(Permit {
                        pacer: self,
                        scopes,
                        sent: Instant::now(),
                        settled: false,
                    });
                }
                Reserve::Wait(d) if d > self.max_wait => return Err(d),
                Reserve::Wait(d) => {
                    tokio::select! {
                        _ = tokio::time::sleep(d) => {}
                        _ = &mut changed => {}
                    }
                }
            }
        }
    }

    /// After a 429: nothing of these scopes goes out for `after`.
    pub fn block(&self, scopes: &[Scope], after: Duration) {
        self.budgets
            .lock()
            .expect("pacer lock")
            .block(scopes, Instant::now() + after);
    }

    fn settle(&self, scopes: &[Scope], headers: Option<&HeaderMap>, sent: Instant) {
        self.budgets
            .lock()
            .expect("pacer lock")
            .observe(scopes, headers, sent, Instant::now(), self.margin);
        self.changed.notify_waiters();
    }
}

impl Permit<'_> {
    /// Settles the slot with the response's headers (`None`: the request got no response).
    pub fn observe(mut self, headers: Option<&HeaderMap>) {
        self.settled = true;
        self.pacer.settle(&self.scopes, headers, self.sent);
    }

    pub fn scopes(&self) -> &[Scope] {
        &self.scopes
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.pacer.settle(&self.scopes, None, self.sent);
        }
    }
}
