//! How long to wait before trying a failed call again.

use std::time::Duration;

use crate::providers::{ProviderError, RetryPolicy};

/// What to do after attempt number `failed_attempt` (from 1) failed with `error`, having
/// already waited `waited` in this call: `Some(delay)` to try again, `None` to give up.
///
/// The delay is the provider's `Retry-After` when it sent one (waiting less would only be
/// refused again), otherwise `base_delay × 2^(failed_attempt-1)` scaled by `jitter` into its
/// upper half, so clients that failed together do not retry together. A delay that would take
/// the call past `max_total_delay` gives up instead: the caller learns of the failure while
/// its Lambda still has time to record it.
pub(super) fn next_delay(
    policy: &RetryPolicy,
    error: &ProviderError,
    failed_attempt: u32,
    waited: Duration,
    jitter: f64,
) -> Option<Duration> {
    if !error.is_retryable() || failed_attempt >= policy.max_attempts {
        return None;
    }
    let delay = match error {
        ProviderError::RateLimited {
            retry_after: Some(retry_after),
        } => *retry_after,
        _ => exponential(policy.base_delay, failed_attempt)
            .mul_f64(0.5 + jitter.clamp(0.0, 1.0) / 2.0),
    };
    (waited.saturating_add(delay) <= policy.max_total_delay).then_some(delay)
}

fn exponential(base: Duration, failed_attempt: u32) -> Duration {
    let factor = 2u32.saturating_pow(failed_attempt.saturating_sub(1));
    base.saturating_mul(factor)
}

/// A uniform draw from [0, 1]; the middle when the system has no randomness to give, which
/// only costs the spreading of retries.
pub(super) fn jitter() -> f64 {
    getrandom::u32()
        .map(|value| f64::from(value) / f64::from(u32::MAX))
        .unwrap_or(0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_secs(1),
            max_total_delay: Duration::from_secs(20),
        }
    }

    const OUTAGE: ProviderError = ProviderError::Unavailable { status: Some(503) };

    #[test]
    fn delays_double_with_jitter_in_their_upper_half() {
        let at = |attempt, jitter| next_delay(&policy(), &OUTAGE, attempt, Duration::ZERO, jitter);
        assert_eq!(at(1, 0.0), Some(Duration::from_millis(500)));
        assert_eq!(at(1, 1.0), Some(Duration::from_secs(1)));
        assert_eq!(at(2, 1.0), Some(Duration::from_secs(2)));
        assert_eq!(at(3, 0.5), Some(Duration::from_secs(3)));
    }

    #[test]
    fn gives_up_after_the_last_attempt_and_on_permanent_errors() {
        assert_eq!(next_delay(&policy(), &OUTAGE, 4, Duration::ZERO, 0.5), None);
        let rejected = ProviderError::ContentRejected {
            code: "moderation_blocked".into(),
            message: String::new(),
        };
        assert_eq!(
            next_delay(&policy(), &rejected, 1, Duration::ZERO, 0.5),
            None
        );
    }

    #[test]
    fn retry_after_is_honoured_within_the_budget() {
        let limited = |seconds| ProviderError::RateLimited {
            retry_after: Some(Duration::from_secs(seconds)),
        };
        assert_eq!(
            next_delay(&policy(), &limited(7), 1, Duration::ZERO, 0.0),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            next_delay(&policy(), &limited(21), 1, Duration::ZERO, 0.0),
            None
        );
        assert_eq!(
            next_delay(&policy(), &limited(7), 2, Duration::from_secs(14), 0.0),
            None
        );
    }

    #[test]
    fn a_zero_base_never_waits() {
        let policy = RetryPolicy {
            base_delay: Duration::ZERO,
            ..policy()
        };
        assert_eq!(
            next_delay(&policy, &OUTAGE, 3, Duration::ZERO, 1.0),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn jitter_stays_in_range() {
        for _ in 0..100 {
            assert!((0.0..=1.0).contains(&jitter()));
        }
    }
}
