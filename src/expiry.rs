//! The expiry policy: when a token is fresh, when to refresh ahead, when it is
//! no longer usable, and how long to back off after a failure.
//!
//! Every input here may be hostile or absurd (a server's `Retry-After`, a
//! lifetime read from a response or a shared store, a clock far from now), so
//! all time arithmetic saturates and the lint below keeps it that way.
#![deny(clippy::arithmetic_side_effects)]

use crate::config::Policy;

/// The longest lifetime a token is given, whatever the response claims
/// (`expires_in: 999999999999`, `expires_at: 1e300`): ten years of 365 days.
/// Keeps every expiry within what each language's date type holds.
pub const MAX_LIFETIME_MS: u64 = 10 * 365 * 24 * 3600 * 1000;

/// The longest `Retry-After` honoured (an hour); a server asking for more is
/// retried after an hour anyway.
pub const MAX_RETRY_AFTER_MS: u64 = 3600 * 1000;

/// The latest expiry reported, as Unix ms: 9999-12-31T23:59:59.999Z, the end of
/// Python's `datetime` (JS `Date` and Java's `Instant` reach further).
pub const MAX_EXPIRES_UNIX_MS: i64 = 253_402_300_799_999;

/// When a token with `lifetime_ms` whose request was sent at wall time
/// `sent_unix_ms` expires, as Unix ms: never negative and never past
/// [`MAX_EXPIRES_UNIX_MS`], whatever the clock or the lifetime.
pub fn expires_unix_ms(sent_unix_ms: i64, lifetime_ms: u64) -> i64 {
    let lifetime = i64::try_from(lifetime_ms.min(MAX_LIFETIME_MS)).unwrap_or(i64::MAX);
    sent_unix_ms
        .saturating_add(lifetime)
        .clamp(0, MAX_EXPIRES_UNIX_MS)
}

/// `value × ratio`, truncated, for a ratio in `[0, 1]` (a ratio outside it, or
/// NaN, is taken as the nearest bound; NaN as 0): never more than `value`.
fn fraction(value: u64, ratio: f64) -> u64 {
    let ratio = if ratio.is_nan() {
        0.0
    } else {
        ratio.clamp(0.0, 1.0)
    };
    // A float-to-integer `as` saturates; the `min` absorbs rounding up.
    ((value as f64 * ratio) as u64).min(value)
}

/// A token's schedule on the monotonic clock, in ms. Always
/// `refresh_at <= usable_until <= expires_at`.
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
    /// The schedule of a token with `lifetime_ms` (at most [`MAX_LIFETIME_MS`]),
    /// requested at `sent_at`.
    pub fn new(policy: &Policy, sent_at: u64, lifetime_ms: u64) -> Self {
        let lifetime = lifetime_ms.min(MAX_LIFETIME_MS);
        let skew = fraction(lifetime, policy.skew_ratio)
            .min(policy.max_skew_secs.saturating_mul(1000))
            .min(lifetime);
        let expires_at = sent_at.saturating_add(lifetime);
        let usable_until = expires_at.saturating_sub(skew);
        let by_ratio = sent_at.saturating_add(fraction(lifetime, policy.refresh_ratio));
        let refresh_at = match window_start(policy, expires_at) {
            // A token received within its window is the one the server hands
            // out until it renews it: refreshing it ahead would fetch it again
            // (and again), so it is fetched only once no longer usable.
            Some(start) if start <= sent_at => usable_until,
            Some(start) => by_ratio.max(start),
            None => by_ratio,
        }
        .min(usable_until);
        Deadlines {
            refresh_at,
            usable_until,
            expires_at,
        }
    }

    /// Draws the refresh point up to `early_ms` earlier (a fleet's jitter),
    /// never before the refresh window of `policy`.
    pub fn refresh_earlier(&mut self, policy: &Policy, early_ms: u64) {
        let floor = window_start(policy, self.expires_at).unwrap_or(0);
        let earlier = self.refresh_at.saturating_sub(early_ms).max(floor);
        self.refresh_at = earlier.min(self.refresh_at);
    }

    /// The schedule of a token issued `age_ms` before `now` (read from a shared
    /// store), clamped at the clock's origin.
    pub fn aged(policy: &Policy, now: u64, age_ms: u64, lifetime_ms: u64) -> Self {
        let d = Deadlines::new(policy, 0, lifetime_ms);
        let at = |offset: u64| now.saturating_add(offset).saturating_sub(age_ms);
        Deadlines {
            refresh_at: at(d.refresh_at),
            usable_until: at(d.usable_until),
            expires_at: at(d.expires_at),
        }
    }
}

/// Where `policy`'s refresh window begins for a token expiring at `expires_at`.
fn window_start(policy: &Policy, expires_at: u64) -> Option<u64> {
    let window = policy.refresh_window_secs?;
    Some(expires_at.saturating_sub(window.saturating_mul(1000)))
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

    /// The time before which no attempt starts.
    pub fn until(&self) -> u64 {
        self.until
    }

    /// Records a failure at `now`: exponential delay with "equal jitter" (half
    /// fixed, half random, so a fleet spreads out), at least `retry_after_ms`
    /// (itself capped at [`MAX_RETRY_AFTER_MS`]). `random` is uniform in [0, 1).
    /// Returns the delay.
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
        let half = exp / 2;
        // `random` < 1 keeps the jitter within `half`; `fraction` guards the rest.
        let jitter = fraction(half.saturating_add(1), random).min(half);
        let jittered = half.saturating_add(jitter);
        let delay = jittered.max(retry_after_ms.unwrap_or(0).min(MAX_RETRY_AFTER_MS));
        self.failures = self.failures.saturating_add(1);
        self.until = now.saturating_add(delay);
        delay
    }

    /// Forgets failures after a success.
    pub fn reset(&mut self) {
        *self = Backoff::default();
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
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
    fn a_refresh_window_defers_refresh_to_the_last_seconds() {
        let p = Policy {
            refresh_window_secs: Some(60),
            ..Policy::default()
        };
        let day = Deadlines::new(&p, 1_000, 86_400_000);
        assert_eq!(day.refresh_at, 1_000 + 86_400_000 - 60_000);
        assert_eq!(day.usable_until, 1_000 + 86_400_000 - 30_000);
        // Received within its window: no refresh ahead, fetched when unusable.
        let last = Deadlines::new(&p, 5_000, 60_000);
        assert_eq!(last.refresh_at, last.usable_until);
        assert_eq!(last.usable_until, 5_000 + 60_000 - 6_000);
        // A short token whose window starts before the ratio's point keeps the ratio.
        let short = Deadlines::new(&p, 0, 100_000);
        assert_eq!(short.refresh_at, 80_000);
        // Jitter never draws the refresh into the time before the window.
        let mut jittered = day;
        jittered.refresh_earlier(&p, 8_640_000);
        assert_eq!(jittered.refresh_at, day.refresh_at);
        let mut plain = Deadlines::new(&Policy::default(), 0, 86_400_000);
        plain.refresh_earlier(&Policy::default(), 1_000);
        assert_eq!(plain.refresh_at, 69_120_000 - 1_000);
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

    #[test]
    fn a_huge_retry_after_is_capped_and_never_wraps() {
        let p = Policy::default();
        let mut b = Backoff::default();
        let now = 5_000;
        let delay = b.fail(&p, now, Some(u64::MAX), 0.5);
        assert_eq!(delay, MAX_RETRY_AFTER_MS);
        assert!(!b.allows(now + MAX_RETRY_AFTER_MS - 1));
        assert!(b.allows(now + MAX_RETRY_AFTER_MS));
        // At the end of the clock's range it saturates instead of wrapping to the past.
        let mut late = Backoff::default();
        late.fail(&p, u64::MAX - 10, Some(MAX_RETRY_AFTER_MS), 0.0);
        assert_eq!(late.until(), u64::MAX);
        assert!(!late.allows(u64::MAX - 1));
    }

    #[test]
    fn absurd_lifetimes_and_instants_stay_ordered_and_in_range() {
        let p = Policy::default();
        let d = Deadlines::new(&p, u64::MAX - 5, u64::MAX);
        assert!(d.refresh_at <= d.usable_until && d.usable_until <= d.expires_at);
        assert_eq!(d.expires_at, u64::MAX);
        let d = Deadlines::new(&p, 0, u64::MAX);
        assert_eq!(d.expires_at, MAX_LIFETIME_MS);
        let d = Deadlines::aged(&p, u64::MAX, 0, u64::MAX);
        assert!(d.refresh_at <= d.usable_until && d.usable_until <= d.expires_at);
        assert_eq!(expires_unix_ms(i64::MAX, u64::MAX), MAX_EXPIRES_UNIX_MS);
        assert_eq!(expires_unix_ms(i64::MIN, 1_000), 0);
        assert_eq!(
            expires_unix_ms(1_767_225_600_000, u64::MAX),
            1_767_225_600_000 + MAX_LIFETIME_MS as i64
        );
    }

    #[test]
    fn nonsense_ratios_keep_the_order() {
        for ratio in [f64::NAN, -1.0, 2.0, f64::INFINITY, f64::NEG_INFINITY] {
            let p = Policy {
                refresh_ratio: ratio,
                skew_ratio: ratio,
                max_skew_secs: u64::MAX,
                ..Policy::default()
            };
            let d = Deadlines::new(&p, 10, 1_000);
            assert!(d.refresh_at <= d.usable_until && d.usable_until <= d.expires_at);
            assert!(d.refresh_at >= 10);
            let mut b = Backoff::default();
            assert!(b.fail(&p, 0, None, ratio) <= p.backoff_max_ms);
        }
    }
}
