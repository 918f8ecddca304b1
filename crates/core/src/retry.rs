//! The retry decision shared by every HTTP client of the product, as a pure function of (policy,
//! whether the call may be repeated, attempt, error, how it failed, a random draw).
//!
//! Retried: rate limiting, 5xx, timeouts and connection failures. A call that could act twice is
//! repeated only when the server refused it before acting (429) or the connection was never
//! established; each client decides what "may be repeated" means for its own operations. Delays: the
//! server's `Retry-After` when given (capped: a longer hint gives up instead of stalling a sync), else
//! exponential backoff with full jitter. Attempts are bounded.

use std::time::Duration;

use crate::backoff::full_jitter;
use crate::error::{Error, ErrorCode};

/// Retry settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts including the first (1 = never retry).
    pub max_attempts: u32,
    /// Attempt n waits a random time in [0, min(max_delay, base_delay · 2^(n-1))].
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Longest `Retry-After` honoured.
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
/// `repeatable`: the call has the same effect sent twice. `jitter` is a uniform draw in [0, 1).
pub fn decide(
    policy: &RetryPolicy,
    repeatable: bool,
    attempt: u32,
    error: &Error,
    failure: AttemptFailure,
    jitter: f64,
) -> RetryDecision {
    if attempt >= policy.max_attempts || !is_transient(error.code()) {
        return RetryDecision::GiveUp;
    }
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

    fn err(code: ErrorCode) -> Error {
        Error::new(code, "x")
    }

    #[test]
    fn transient_errors_back_off_with_full_jitter_and_bounded_attempts() {
        let p = RetryPolicy::default();
        for code in [
            ErrorCode::RateLimited,
            ErrorCode::ServiceUnavailable,
            ErrorCode::Timeout,
            ErrorCode::Network,
        ] {
            assert!(matches!(
                decide(&p, true, 1, &err(code), AttemptFailure::Failed, 0.5),
                RetryDecision::RetryAfter(_)
            ));
        }
        let d = |attempt| {
            decide(
                &p,
                true,
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
                true,
                30,
                &err(ErrorCode::Timeout),
                AttemptFailure::Failed,
                1.0
            ),
            RetryDecision::RetryAfter(p.max_delay)
        );
    }

    #[test]
    fn permanent_errors_are_never_retried() {
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
                    &RetryPolicy::default(),
                    true,
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
    fn unrepeatable_calls_retry_only_when_nothing_was_processed() {
        let p = RetryPolicy::default();
        assert_eq!(
            decide(
                &p,
                false,
                1,
                &err(ErrorCode::Timeout),
                AttemptFailure::Failed,
                0.5
            ),
            RetryDecision::GiveUp
        );
        assert_eq!(
            decide(
                &p,
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
                false,
                1,
                &err(ErrorCode::RateLimited),
                AttemptFailure::Failed,
                0.5
            ),
            RetryDecision::RetryAfter(_)
        ));
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let p = RetryPolicy::default();
        let limited = err(ErrorCode::RateLimited).with_retry_after(Duration::from_secs(2));
        assert_eq!(
            decide(&p, true, 1, &limited, AttemptFailure::Failed, 0.1),
            RetryDecision::RetryAfter(Duration::from_secs(2))
        );
        let long = err(ErrorCode::RateLimited).with_retry_after(Duration::from_secs(3600));
        assert_eq!(
            decide(&p, true, 1, &long, AttemptFailure::Failed, 0.1),
            RetryDecision::GiveUp
        );
    }
}
