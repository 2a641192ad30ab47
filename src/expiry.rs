//! The expiry policy: when a token is fresh, when to refresh ahead, when it is
//! no longer usable, and how long to back off after a failure.

use crate::config::Policy;

/// A token's schedule on the monotonic clock, in ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadlines {
    /// From here the first caller starts one background refresh.
    pub refresh_at: u64,
    /// From here the token is no longer handed out (expiry − skew).
    pub usable_until: u64,
    /// The server's expiry.
    pub expires_at: u64,
}

impl Deadlines {
    /// The schedule of a token with `lifetime_ms`, requested at `sent_at`.
    pub fn new(policy: &Policy, sent_at: u64, lifetime_ms: u64) -> Self {
        let skew =
            ((lifetime_ms as f64 * policy.skew_ratio) as u64).min(policy.max_skew_secs * 1000);
        let usable_until = sent_at + lifetime_ms - skew;
        let refresh_at =
            (sent_at + (lifetime_ms as f64 * policy.refresh_ratio) as u64).min(usable_until);
        Deadlines {
            refresh_at,
            usable_until,
            expires_at: sent_at + lifetime_ms,
        }
    }

    /// The schedule of a token issued `age_ms` before `now` (read from a shared
    /// store), clamped at the clock's origin.
    pub fn aged(policy: &Policy, now: u64, age_ms: u64, lifetime_ms: u64) -> Self {
        let d = Deadlines::new(policy, 0, lifetime_ms);
        let at = |offset: u64| (now + offset).saturating_sub(age_ms);
        Deadlines {
            refresh_at: at(d.refresh_at),
            usable_until: at(d.usable_until),
            expires_at: at(d.expires_at),
        }
    }
}

/// Consecutive failures and the time before which no new attempt is made.
#[derive(Clone, Debug, Default)]
pub struct Backoff {
    failures: u32,
    until: u64,
}

impl Backoff {
    /// Whether an attempt may start at `now`.
    pub fn allows(&self, now: u64) -> bool {
        now >= self.until
    }

    /// Records a failure at `now`: exponential delay with "equal jitter" (half
    /// fixed, half random, so a fleet spreads out), at least `retry_after_ms`.
    /// `random` is uniform in [0, 1).
    pub fn fail(
        &mut self,
        policy: &Policy,
        now: u64,
        retry_after_ms: Option<u64>,
        random: f64,
    ) -> u64 {
        let exp = policy
            .backoff_initial_ms
            .saturating_mul(1u64 << self.failures.min(30))
            .min(policy.backoff_max_ms);
        let jittered = exp / 2 + (random * (exp / 2 + 1) as f64) as u64;
        let delay = jittered.max(retry_after_ms.unwrap_or(0));
        self.failures = self.failures.saturating_add(1);
        self.until = now + delay;
        delay
    }

    /// Forgets failures after a success.
    pub fn reset(&mut self) {
        *self = Backoff::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skew_is_ten_percent_capped_at_thirty_seconds() {
        let p = Policy::default();
        let short = Deadlines::new(&p, 0, 300_000);
        assert_eq!(short.usable_until, 270_000);
        assert_eq!(short.refresh_at, 240_000);
        let long = Deadlines::new(&p, 1_000, 86_400_000);
        assert_eq!(long.usable_until, 1_000 + 86_400_000 - 30_000);
        assert_eq!(long.refresh_at, 1_000 + 69_120_000);
    }

    #[test]
    fn refresh_never_after_usable_until() {
        let p = Policy {
            refresh_ratio: 0.99,
            ..Policy::default()
        };
        let d = Deadlines::new(&p, 0, 10_000);
        assert_eq!(d.refresh_at, d.usable_until);
    }

    #[test]
    fn backoff_doubles_with_jitter_and_honours_retry_after() {
        let p = Policy::default();
        let mut b = Backoff::default();
        assert_eq!(b.fail(&p, 0, None, 0.0), 500);
        assert_eq!(b.fail(&p, 0, None, 0.999_999), 2_000);
        assert!(!b.allows(1_999));
        assert!(b.allows(2_000));
        assert_eq!(b.fail(&p, 0, Some(30_000), 0.0), 30_000);
        for _ in 0..40 {
            assert!(b.fail(&p, 0, None, 0.999_999) <= 60_000);
        }
        b.reset();
        assert!(b.allows(0));
    }
}
