//! Progress of a long pass: phase, done/total, errors, rate and ETA.
//!
//! A runner puts a [`Progress`] around a pass with [`Progress::scope`]; the engine and the API
//! paginators deep inside it report through free functions ([`advance`], [`add_total`],
//! [`set_phase`], [`error`]) that find it in a task-local. Code run without one reports into
//! nothing. This keeps every engine and client signature free of a progress handle that most
//! callers (tests, single-order syncs) would pass as a dummy.
//!
//! Totals come from the APIs where they announce them (TikTok `total_count`, PlentyONE
//! `totalsCount`), but only for streams an engine marks with [`counted`]: a lookup made while
//! handling one item must not grow the pass's total.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_core::Stream;
use serde::Serialize;

tokio::task_local! {
    static CURRENT: Progress;
    static COUNTING: bool;
}

/// A pass's progress, shared by the pass (which reports) and whoever watches it.
#[derive(Clone, Debug)]
pub struct Progress(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    started: Instant,
    phase: Mutex<String>,
    done: AtomicU64,
    total: AtomicU64,
    total_known: AtomicBool,
    errors: AtomicU64,
}

/// What a watcher sees. `total` is `None` until some source announced one.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Snapshot {
    pub phase: String,
    pub done: u64,
    pub total: Option<u64>,
    pub errors: u64,
    pub elapsed_ms: u64,
    /// Items per second since the start.
    pub rate_per_sec: f64,
    /// Seconds left at the rate so far; `None` without a total or before the first item.
    pub eta_seconds: Option<f64>,
}

impl Progress {
    pub fn new(phase: &str) -> Self {
        Progress(Arc::new(Inner {
            started: Instant::now(),
            phase: Mutex::new(phase.to_string()),
            done: AtomicU64::new(0),
            total: AtomicU64::new(0),
            total_known: AtomicBool::new(false),
            errors: AtomicU64::new(0),
        }))
    }

    /// Runs `f` with this progress as the one its reports go to.
    pub async fn scope<F: Future>(&self, f: F) -> F::Output {
        CURRENT.scope(self.clone(), COUNTING.scope(false, f)).await
    }

    pub fn snapshot(&self) -> Snapshot {
        let i = &self.0;
        let done = i.done.load(Relaxed);
        let total = i.total_known.load(Relaxed).then(|| i.total.load(Relaxed));
        let elapsed = i.started.elapsed();
        let (rate_per_sec, eta_seconds) = estimate(done, total, elapsed);
        Snapshot {
            phase: i.phase.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            done,
            total,
            errors: i.errors.load(Relaxed),
            elapsed_ms: elapsed.as_millis() as u64,
            rate_per_sec,
            eta_seconds,
        }
    }

    fn add_total(&self, n: u64) {
        self.0.total.fetch_add(n, Relaxed);
        self.0.total_known.store(true, Relaxed);
    }
}

/// Rate so far and time left at that rate. Pure.
pub fn estimate(done: u64, total: Option<u64>, elapsed: Duration) -> (f64, Option<f64>) {
    let secs = elapsed.as_secs_f64();
    if done == 0 || secs <= 0.0 {
        return (0.0, None);
    }
    let rate = done as f64 / secs;
    let eta = total.map(|t| t.saturating_sub(done) as f64 / rate);
    (rate, eta)
}

fn with_current(f: impl FnOnce(&Progress)) {
    let _ = CURRENT.try_with(f);
}

/// `n` more items handled.
pub fn advance(n: u64) {
    with_current(|p| {
        p.0.done.fetch_add(n, Relaxed);
    });
}

/// `n` more items to handle (a list the engine collected itself).
pub fn add_total(n: u64) {
    with_current(|p| p.add_total(n));
}

/// One more item failed (it still counts as handled when the engine [`advance`]s past it).
pub fn error() {
    with_current(|p| {
        p.0.errors.fetch_add(1, Relaxed);
    });
}

pub fn set_phase(phase: &str) {
    with_current(|p| *p.0.phase.lock().unwrap_or_else(|e| e.into_inner()) = phase.to_string());
}

/// Called by paginators with the total a list announces on its first page; counts only inside a
/// [`counted`] stream.
pub fn report_list_total(n: u64) {
    if COUNTING.try_with(|c| *c).unwrap_or(false) {
        add_total(n);
    }
}

/// Marks the stream whose announced total is the pass's total.
pub fn counted<S: Stream + Unpin>(inner: S) -> Counted<S> {
    Counted(inner)
}

pub struct Counted<S>(S);

impl<S: Stream + Unpin> Stream for Counted<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        // Only set while this stream is polled: lookups made between items are not counted.
        COUNTING.sync_scope(true, || Pin::new(&mut self.0).poll_next(cx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::{StreamExt, stream};

    #[test]
    fn estimate_needs_items_and_a_total() {
        assert_eq!(estimate(0, Some(10), Duration::from_secs(1)), (0.0, None));
        assert_eq!(estimate(5, None, Duration::from_secs(1)), (5.0, None));
        assert_eq!(estimate(5, Some(20), Duration::from_secs(1)), (5.0, Some(3.0)));
        assert_eq!(estimate(30, Some(20), Duration::from_secs(3)), (10.0, Some(0.0)));
    }

    #[tokio::test]
    async fn reports_reach_the_scoped_progress_and_only_counted_streams_add_totals() {
        let progress = Progress::new("start");
        progress
            .scope(async {
                set_phase("window");
                let mut listed = counted(stream::iter([1, 2, 3]).inspect(|_| report_list_total(3)).take(1));
                while listed.next().await.is_some() {
                    advance(1);
                    // A lookup made for the item: its list total is not the pass's.
                    report_list_total(100);
                }
                add_total(2);
                advance(2);
                error();
            })
            .await;
        let s = progress.snapshot();
        assert_eq!(
            (s.phase.as_str(), s.done, s.total, s.errors),
            ("window", 3, Some(5), 1)
        );
        // Outside any scope, reports go nowhere (and do not panic).
        advance(7);
        assert_eq!(progress.snapshot().done, 3);
    }
}
