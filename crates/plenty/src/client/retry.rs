//! The retry decision, as a pure function of (policy, repeat safety, attempt, error, random draw).
//!
//! Retried: 429, 5xx, timeouts and connection failures — for reads always; for writes only when the
//! operation is safe to repeat (a status update sets the same value twice). Creating an order is not:
//! a repeat after a 5xx could create a second order, so the caller's `externalOrderId` lookup decides
//! instead. Two failures are retried for any operation because the server did not act on them: a 429
//! (refused before processing) and a connection that was never established. Delays: `Retry-After`
//! when given (capped), else exponential backoff with full jitter. Attempts are bounded.

use std::time::Duration;

use tts_core::{Error, ErrorCode};

/// Whether an operation may be sent twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repeat {
    /// Reads, and writes whose repetition has the same effect as one call.
    Safe,
    /// Writes that could act twice (creating an order, a payment, a contact).
    Unsafe,
}

/// Retry settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts including the first (1 = never retry).
    pub max_attempts: u32,
    /// Attempt n waits a random time in [0, min(max_delay, base_delay · 2^(n-1))].
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
            max_retry_after: Duration::from_secs(120),
        }
    }
}

/// How an attempt ended, as far as retrying is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptFailure {
    /// The connection was never established: nothing reached the server.
    NotSent,
    /// The request may or may not have been processed.
    Failed,
}

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

/// Decides whether attempt `attempt` (1-based, the one that just failed) is retried. `jitter` is a
/// uniform draw in [0, 1).
pub fn decide(
    policy: &RetryPolicy,
    repeat: Repeat,
    attempt: u32,
    error: &Error,
    failure: AttemptFailure,
    jitter: f64,
) -> RetryDecision {
    if attempt >= policy.max_attempts || !is_transient(error.code()) {
        return RetryDecision::GiveUp;
    }
    let refused = error.code() == ErrorCode::RateLimited;
    if !(repeat == Repeat::Safe || refused || failure == AttemptFailure::NotSent) {
        return RetryDecision::GiveUp;
    }
    if let Some(after) = error.retry_after {
        if after > policy.max_retry_after {
            return RetryDecision::GiveUp;
        }
        return RetryDecision::RetryAfter(after);
    }
    let ceiling = policy
        .base_delay
        .saturating_mul(1u32.checked_shl(attempt - 1).unwrap_or(u32::MAX))
        .min(policy.max_delay);
    RetryDecision::RetryAfter(ceiling.mul_f64(jitter.clamp(0.0, 1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: ErrorCode) -> Error {
        Error::new(code, "x")
    }

    #[test]
    fn transient_errors_of_reads_back_off_with_full_jitter_and_bounded_attempts() {
        let p = RetryPolicy::default();
        for code in [
            ErrorCode::RateLimited,
            ErrorCode::ServiceUnavailable,
            ErrorCode::Timeout,
            ErrorCode::Network,
        ] {
            assert!(matches!(
                decide(&p, Repeat::Safe, 1, &err(code), AttemptFailure::Failed, 0.5),
                RetryDecision::RetryAfter(_)
            ));
        }
        let d = |attempt, jitter| {
            decide(
                &p,
                Repeat::Safe,
                attempt,
                &err(ErrorCode::ServiceUnavailable),
                AttemptFailure::Failed,
                jitter,
            )
        };
        assert_eq!(d(1, 0.5), RetryDecision::RetryAfter(Duration::from_millis(100)));
        assert_eq!(d(3, 0.5), RetryDecision::RetryAfter(Duration::from_millis(400)));
        assert_eq!(d(2, 0.0), RetryDecision::RetryAfter(Duration::ZERO));
        assert_eq!(d(5, 0.5), RetryDecision::GiveUp);
        let long = RetryPolicy {
            max_attempts: 50,
            ..p
        };
        assert_eq!(
            decide(
                &long,
                Repeat::Safe,
                40,
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
            ErrorCode::InvalidArgument,
            ErrorCode::NotFound,
            ErrorCode::InvalidResponse,
            ErrorCode::ConfigInvalid,
            ErrorCode::PermissionDenied,
            ErrorCode::RequestRejected,
        ] {
            assert_eq!(
                decide(
                    &RetryPolicy::default(),
                    Repeat::Safe,
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
    fn unsafe_writes_retry_only_what_the_server_did_not_process() {
        let p = RetryPolicy::default();
        for code in [
            ErrorCode::ServiceUnavailable,
            ErrorCode::Timeout,
            ErrorCode::Network,
        ] {
            assert_eq!(
                decide(&p, Repeat::Unsafe, 1, &err(code), AttemptFailure::Failed, 0.5),
                RetryDecision::GiveUp,
                "{code}"
            );
        }
        assert!(matches!(
            decide(
                &p,
                Repeat::Unsafe,
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
                Repeat::Unsafe,
                1,
                &err(ErrorCode::RateLimited),
                AttemptFailure::Failed,
                0.5
            ),
            RetryDecision::RetryAfter(_)
        ));
        // an idempotent write (status update) is retried like a read
        assert!(matches!(
            decide(
                &p,
                Repeat::Safe,
                1,
                &err(ErrorCode::ServiceUnavailable),
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
            decide(&p, Repeat::Unsafe, 1, &limited, AttemptFailure::Failed, 0.1),
            RetryDecision::RetryAfter(Duration::from_secs(2))
        );
        let too_long = err(ErrorCode::RateLimited).with_retry_after(Duration::from_secs(3600));
        assert_eq!(
            decide(&p, Repeat::Safe, 1, &too_long, AttemptFailure::Failed, 0.1),
            RetryDecision::GiveUp
        );
    }
}
