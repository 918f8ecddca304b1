//! The retry decision, as a pure function of (policy, operation, attempt, outcome, random draw).
//!
//! What may be retried: rate limiting (429 / 36009002), 5xx, timeouts and connection failures; for
//! writes only where the operation table says a repeat cannot act twice, or the call carries an
//! idempotency key. A connection that was never established sent nothing, so it is retried for any
//! operation. Delays: the server's `Retry-After` when given (capped), else exponential backoff with
//! full jitter. Attempts are bounded.

use std::time::Duration;

use tts_core::backoff::full_jitter;
use tts_core::{Error, ErrorCode};

use crate::operations::{Operation, RetrySafety};

/// Retry settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts including the first (1 = never retry).
    pub max_attempts: u32,
    /// Backoff base: attempt n waits a random time in [0, min(cap, base · 2^(n-1))].
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Longest `Retry-After` honoured; longer hints give up instead of stalling a sync.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// How an attempt ended, as far as retrying is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptFailure {
    /// The connection was never established: nothing reached the server.
    NotSent,
    /// The request may or may not have been processed (timeout, reset, 5xx, 429...).
    Failed,
}

/// What to do after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryDecision {
    RetryAfter(Duration),
    GiveUp,
}

/// Whether an error's code is transient.
pub fn is_transient(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::RateLimited | ErrorCode::ServiceUnavailable | ErrorCode::Timeout | ErrorCode::Network
    )
}

/// Decides whether attempt number `attempt` (1-based, the one that just failed) is retried.
/// `jitter` is a uniform draw in [0, 1).
pub fn decide(
    policy: &RetryPolicy,
    operation: &Operation,
    has_idempotency_key: bool,
    attempt: u32,
    error: &Error,
    failure: AttemptFailure,
    jitter: f64,
) -> RetryDecision {
    if attempt >= policy.max_attempts || !is_transient(error.code()) {
        return RetryDecision::GiveUp;
    }
    let repeatable = match operation.retry {
        RetrySafety::Safe => true,
        RetrySafety::WithIdempotencyKey(_) => has_idempotency_key,
        RetrySafety::Unsafe => false,
    };
    // A 429 means the server refused to process the request, so even an unsafe write can go again.
    let refused = error.code() == ErrorCode::RateLimited;
    if !(repeatable || refused || failure == AttemptFailure::NotSent) {
        return RetryDecision::GiveUp;
    }
    if let Some(after) = error.retry_after {
        if after > policy.max_retry_after {
            return RetryDecision::GiveUp;
        }
        return RetryDecision::RetryAfter(after);
    }
    RetryDecision::RetryAfter(full_jitter(attempt, policy.base_delay, policy.max_delay, jitter))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(id: &str) -> &'static Operation {
        Operation::find(id).unwrap()
    }

    fn err(code: ErrorCode) -> Error {
        Error::new(code, "x")
    }

    #[test]
    fn transient_errors_on_safe_operations_back_off_with_full_jitter() {
        let p = RetryPolicy::default();
        let search = op("orders.search");
        for code in [
            ErrorCode::RateLimited,
            ErrorCode::ServiceUnavailable,
            ErrorCode::Timeout,
            ErrorCode::Network,
        ] {
            assert!(matches!(
                decide(&p, search, false, 1, &err(code), AttemptFailure::Failed, 0.5),
                RetryDecision::RetryAfter(_)
            ));
        }
        // ceilings double: 200 ms, 400 ms, 800 ms ...; jitter 0.999 sits just under the ceiling
        let d = |attempt| {
            decide(
                &p,
                search,
                false,
                attempt,
                &err(ErrorCode::ServiceUnavailable),
                AttemptFailure::Failed,
                0.999,
            )
        };
        assert_eq!(
            d(1),
            RetryDecision::RetryAfter(Duration::from_millis(200).mul_f64(0.999))
        );
        assert_eq!(
            d(3),
            RetryDecision::RetryAfter(Duration::from_millis(800).mul_f64(0.999))
        );
        assert_eq!(d(5), RetryDecision::GiveUp, "bounded attempts");
        let capped = RetryPolicy {
            max_attempts: 40,
            ..p
        };
        assert_eq!(
            decide(
                &capped,
                search,
                false,
                30,
                &err(ErrorCode::Timeout),
                AttemptFailure::Failed,
                1.0
            ),
            RetryDecision::RetryAfter(p.max_delay)
        );
        assert_eq!(
            decide(
                &p,
                search,
                false,
                1,
                &err(ErrorCode::Timeout),
                AttemptFailure::Failed,
                0.0
            ),
            RetryDecision::RetryAfter(Duration::ZERO)
        );
    }

    #[test]
    fn permanent_errors_are_never_retried() {
        let p = RetryPolicy::default();
        for code in [
            ErrorCode::SignatureInvalid,
            ErrorCode::PermissionDenied,
            ErrorCode::ReauthorizationRequired,
            ErrorCode::TokenExpired,
            ErrorCode::RequestRejected,
            ErrorCode::ApiError,
            ErrorCode::InvalidResponse,
        ] {
            assert_eq!(
                decide(
                    &p,
                    op("orders.search"),
                    false,
                    1,
                    &err(code),
                    AttemptFailure::Failed,
                    0.5
                ),
                RetryDecision::GiveUp,
                "{code}"
            );
        }
    }

    #[test]
    fn unsafe_writes_retry_only_when_nothing_was_processed() {
        let p = RetryPolicy::default();
        let ship = op("packages.ship");
        let timeout = err(ErrorCode::Timeout);
        assert_eq!(
            decide(&p, ship, false, 1, &timeout, AttemptFailure::Failed, 0.5),
            RetryDecision::GiveUp
        );
        assert_eq!(
            decide(
                &p,
                ship,
                false,
                1,
                &err(ErrorCode::ServiceUnavailable),
                AttemptFailure::Failed,
                0.5
            ),
            RetryDecision::GiveUp
        );
        assert!(matches!(
            decide(
                &p,
                ship,
                false,
                1,
                &err(ErrorCode::Network),
                AttemptFailure::NotSent,
                0.5
            ),
            RetryDecision::RetryAfter(_)
        ));
        assert!(matches!(
            decide(
                &p,
                ship,
                false,
                1,
                &err(ErrorCode::RateLimited),
                AttemptFailure::Failed,
                0.5
            ),
            RetryDecision::RetryAfter(_)
        ));
        // idempotency key makes a write repeatable
        let approve = op("returns.approve");
        assert_eq!(
            decide(&p, approve, false, 1, &timeout, AttemptFailure::Failed, 0.5),
            RetryDecision::GiveUp
        );
        assert!(matches!(
            decide(&p, approve, true, 1, &timeout, AttemptFailure::Failed, 0.5),
            RetryDecision::RetryAfter(_)
        ));
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let p = RetryPolicy::default();
        let limited = err(ErrorCode::RateLimited).with_retry_after(Duration::from_secs(2));
        assert_eq!(
            decide(
                &p,
                op("orders.search"),
                false,
                1,
                &limited,
                AttemptFailure::Failed,
                0.1
            ),
            RetryDecision::RetryAfter(Duration::from_secs(2))
        );
        let long = err(ErrorCode::RateLimited).with_retry_after(Duration::from_secs(3600));
        assert_eq!(
            decide(
                &p,
                op("orders.search"),
                false,
                1,
                &long,
                AttemptFailure::Failed,
                0.1
            ),
            RetryDecision::GiveUp
        );
    }
}
