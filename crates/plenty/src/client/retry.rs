//! Retrying PlentyONE calls: the shared decision of [`tts_core::retry`], with PlentyONE's rule for
//! what may be repeated. Reads always; writes only when repeating has the same effect (a status update
//! sets the same value twice). Creating an order is not: a repeat after a 5xx could create a second
//! order, so the caller's `externalOrderId` lookup decides instead.

use std::time::Duration;

use tts_core::Error;
pub use tts_core::retry::{AttemptFailure, RetryDecision, is_transient};

/// Whether an operation may be sent twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repeat {
    /// Reads, and writes whose repetition has the same effect as one call.
    Safe,
    /// Writes that could act twice (creating an order, a payment, a contact).
    Unsafe,
}

/// Retry settings (PlentyONE's `Retry-After` after a used-up window can be long: up to 2 min honoured).
pub type RetryPolicy = tts_core::retry::RetryPolicy;

/// The default policy for PlentyONE calls.
pub fn default_policy() -> RetryPolicy {
    RetryPolicy {
        max_retry_after: Duration::from_secs(120),
        ..RetryPolicy::default()
    }
}

/// [`tts_core::retry::decide`] for a PlentyONE call.
pub fn decide(
    policy: &RetryPolicy,
    repeat: Repeat,
    attempt: u32,
    error: &Error,
    failure: AttemptFailure,
    jitter: f64,
) -> RetryDecision {
    tts_core::retry::decide(policy, repeat == Repeat::Safe, attempt, error, failure, jitter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tts_core::ErrorCode;

    #[test]
    fn creating_is_never_repeated_after_a_failure_that_may_have_acted() {
        let p = default_policy();
        let e = |code| Error::new(code, "x");
        assert_eq!(
            decide(
                &p,
                Repeat::Unsafe,
                1,
                &e(ErrorCode::ServiceUnavailable),
                AttemptFailure::Failed,
                0.5
            ),
            RetryDecision::GiveUp
        );
        assert_eq!(
            decide(
                &p,
                Repeat::Unsafe,
                1,
                &e(ErrorCode::Timeout),
                AttemptFailure::Failed,
                0.5
            ),
            RetryDecision::GiveUp
        );
        assert!(matches!(
            decide(
                &p,
                Repeat::Unsafe,
                1,
                &e(ErrorCode::RateLimited),
                AttemptFailure::Failed,
                0.5
            ),
            RetryDecision::RetryAfter(_)
        ));
        assert!(matches!(
            decide(
                &p,
                Repeat::Safe,
                1,
                &e(ErrorCode::Timeout),
                AttemptFailure::Failed,
                0.5
            ),
            RetryDecision::RetryAfter(_)
        ));
    }

    #[test]
    fn a_window_reset_up_to_two_minutes_away_is_waited_for() {
        let limited = Error::new(ErrorCode::RateLimited, "x").with_retry_after(Duration::from_secs(90));
        assert_eq!(
            decide(
                &default_policy(),
                Repeat::Safe,
                1,
                &limited,
                AttemptFailure::Failed,
                0.5
            ),
            RetryDecision::RetryAfter(Duration::from_secs(90))
        );
        let too_long = Error::new(ErrorCode::RateLimited, "x").with_retry_after(Duration::from_secs(121));
        assert_eq!(
            decide(
                &default_policy(),
                Repeat::Safe,
                1,
                &too_long,
                AttemptFailure::Failed,
                0.5
            ),
            RetryDecision::GiveUp
        );
    }
}
