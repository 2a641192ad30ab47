//! A circuit breaker for the store: after a few failures in a row the client
//! stops asking the store (and paying its time-out) for a while, then lets one
//! call through; a success closes it. Times are the client's monotonic ms.

/// Failures in a row that open the breaker.
pub const THRESHOLD: u32 = 3;
/// The first open period; it doubles on each failed probe, up to [`MAX_OPEN_MS`].
pub const FIRST_OPEN_MS: u64 = 1_000;
/// The longest open period.
pub const MAX_OPEN_MS: u64 = 30_000;

/// The breaker's state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Breaker {
    failures: u32,
    opened: u32,
    open_until: u64,
}

impl Breaker {
    /// Whether a store call may be made at `now`.
    pub fn allows(&self, now: u64) -> bool {
        now >= self.open_until
    }

    /// Its state at `now`, and how long it stays open (0 unless open).
    pub fn state(&self, now: u64) -> (crate::status::BreakerState, u64) {
        use crate::status::BreakerState;
        if !self.allows(now) {
            (BreakerState::Open, self.open_until.saturating_sub(now))
        } else if self.opened > 0 {
            (BreakerState::HalfOpen, 0)
        } else {
            (BreakerState::Closed, 0)
        }
    }

    /// Records a success: closed again.
    pub fn success(&mut self) {
        *self = Breaker::default();
    }

    /// Records a failure at `now`; returns whether the breaker opened.
    pub fn failure(&mut self, now: u64) -> bool {
        self.failures = self.failures.saturating_add(1);
        if self.failures < THRESHOLD {
            return false;
        }
        let open_ms = FIRST_OPEN_MS
            .saturating_mul(1u64 << self.opened.min(16))
            .min(MAX_OPEN_MS);
        self.open_until = now.saturating_add(open_ms);
        self.opened = self.opened.saturating_add(1);
        // Half-open after the period: one more failure opens it again.
        self.failures = THRESHOLD - 1;
        true
    }

    /// Opens it at `now` as [`THRESHOLD`] failures would: the store failed in
    /// a way that will not pass by itself (it refuses what the protocol needs).
    pub fn trip(&mut self, now: u64) {
        self.failures = self.failures.max(THRESHOLD - 1);
        self.failure(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_three_failures_probes_and_closes_on_success() {
        let mut b = Breaker::default();
        assert!(!b.failure(0) && !b.failure(0));
        assert!(b.allows(0));
        assert!(b.failure(0));
        assert!(!b.allows(999));
        assert!(b.allows(1_000));
        // A failed probe opens it for twice as long.
        assert!(b.failure(1_000));
        assert!(!b.allows(2_999));
        assert!(b.allows(3_000));
        for i in 0..20 {
            b.failure(1_000_000 * i);
        }
        assert!(b.allows(1_000_000 * 19 + MAX_OPEN_MS));
        b.success();
        assert_eq!(b, Breaker::default());
        b.trip(5);
        assert!(!b.allows(5) && b.allows(5 + FIRST_OPEN_MS));
    }

    #[test]
    fn its_state_is_closed_open_then_half_open() {
        use crate::status::BreakerState;
        let mut b = Breaker::default();
        assert_eq!(b.state(0), (BreakerState::Closed, 0));
        b.failure(0);
        b.failure(0);
        assert_eq!(b.state(0).0, BreakerState::Closed);
        b.failure(10);
        assert_eq!(b.state(10), (BreakerState::Open, FIRST_OPEN_MS));
        assert_eq!(b.state(10 + FIRST_OPEN_MS), (BreakerState::HalfOpen, 0));
        b.success();
        assert_eq!(b.state(10 + FIRST_OPEN_MS).0, BreakerState::Closed);
    }
}
