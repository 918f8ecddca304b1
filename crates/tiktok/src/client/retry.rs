//! Retrying TikTok calls: the shared decision of [`tts_core::retry`], with TikTok's rule for what may
//! be repeated — the operation table says so (reads and absolute updates), or the call carries an
//! idempotency key where the operation takes one.

use tts_core::Error;
pub use tts_core::retry::{AttemptFailure, RetryDecision, RetryPolicy, is_transient};

use crate::operations::{Operation, RetrySafety};

/// True when sending the call twice has the effect of sending it once.
pub fn repeatable(operation: &Operation, has_idempotency_key: bool) -> bool {
    match operation.retry {
        RetrySafety::Safe => true,
        RetrySafety::WithIdempotencyKey(_) => has_idempotency_key,
        RetrySafety::Unsafe => false,
    }
}

/// [`tts_core::retry::decide`] for a TikTok operation.
pub fn decide(
    policy: &RetryPolicy,
    operation: &Operation,
    has_idempotency_key: bool,
    attempt: u32,
    error: &Error,
    failure: AttemptFailure,
    jitter: f64,
) -> RetryDecision {
    tts_core::retry::decide(
        policy,
        repeatable(operation, has_idempotency_key),
        attempt,
        error,
        failure,
        jitter,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tts_core::ErrorCode;

    fn op(id: &str) -> &'static Operation {
        Operation::find(id).unwrap()
    }

    #[test]
    fn the_operation_table_decides_what_may_be_repeated() {
        assert!(repeatable(op("orders.search"), false));
        assert!(repeatable(op("inventory.update"), false), "absolute update");
        assert!(!repeatable(op("packages.ship"), false));
        assert!(
            !repeatable(op("packages.ship"), true),
            "a key does not make an unsafe write safe"
        );
        assert!(!repeatable(op("returns.approve"), false));
        assert!(repeatable(op("returns.approve"), true));
        assert!(repeatable(op("products.create"), true));
        let timeout = Error::new(ErrorCode::Timeout, "x");
        let p = RetryPolicy::default();
        assert_eq!(
            decide(
                &p,
                op("orders.mark_shipped"),
                false,
                1,
                &timeout,
                AttemptFailure::Failed,
                0.5
            ),
            RetryDecision::GiveUp
        );
        assert!(matches!(
            decide(
                &p,
                op("orders.get"),
                false,
                1,
                &timeout,
                AttemptFailure::Failed,
                0.5
            ),
            RetryDecision::RetryAfter(_)
        ));
    }
}
