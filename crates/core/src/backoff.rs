//! Exponential backoff with full jitter, shared by every retry loop (HTTP attempts, inbox messages).

use std::time::Duration;

/// The wait before retry number `attempt` (1-based): a uniform share `jitter` ∈ [0, 1] of
/// min(cap, base · 2^(attempt-1)). Full jitter spreads retries of many callers evenly instead of
/// letting them return in waves.
pub fn full_jitter(attempt: u32, base: Duration, cap: Duration, jitter: f64) -> Duration {
    let exp = base.saturating_mul(1u32.checked_shl(attempt.saturating_sub(1)).unwrap_or(u32::MAX));
    exp.min(cap).mul_f64(jitter.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_scales_by_jitter() {
        let (base, cap) = (Duration::from_millis(100), Duration::from_secs(1));
        assert_eq!(full_jitter(1, base, cap, 1.0), Duration::from_millis(100));
        assert_eq!(full_jitter(3, base, cap, 1.0), Duration::from_millis(400));
        assert_eq!(full_jitter(5, base, cap, 1.0), cap);
        assert_eq!(full_jitter(60, base, cap, 0.5), cap / 2);
        assert_eq!(full_jitter(2, base, cap, 0.0), Duration::ZERO);
        assert_eq!(
            full_jitter(0, base, cap, 2.0),
            base,
            "attempt 0 counts as the first; jitter clamped"
        );
    }
}
