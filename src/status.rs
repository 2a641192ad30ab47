//! A client's health, read without I/O: what a readiness probe, a health
//! indicator or a dashboard asks. Never a liveness signal: a client that cannot
//! get a token needs a working endpoint, not a restart.

use crate::error::Error;

/// What [`crate::TokenClient::status`] reports.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Status {
    /// The verdict, from the fields below.
    pub health: Health,
    /// Whether a token is held that callers are given now (before its expiry
    /// minus the skew).
    pub token_usable: bool,
    /// The held token's remaining lifetime to the server's expiry, in ms (0
    /// once expired; none without a token).
    pub token_expires_in_ms: Option<u64>,
    /// The last fetch's error, if the last fetch failed, and when (Unix ms).
    pub last_error: Option<(Error, i64)>,
    /// How long before the next fetch may start, in ms, while backing off.
    pub backoff_ms: Option<u64>,
    /// Whether a fetch is in flight.
    pub fetching: bool,
    /// The shared store's breaker, with a store.
    pub store: Option<StoreHealth>,
}

/// The verdict of a [`Status`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Health {
    /// A usable token is held and the last fetch succeeded.
    Up,
    /// A usable token is held but the last fetch failed (refresh ahead keeps
    /// failing): a warning, not an outage, until the token runs out.
    Degraded,
    /// No usable token, and the last fetch failed: callers get errors.
    Down,
    /// No usable token yet and no failure: never asked, a first fetch in
    /// flight, or a token that expired unused (the next call fetches).
    Idle,
}

impl Health {
    /// The stable code (`up`, `degraded`, `down`, `idle`).
    pub fn code(self) -> &'static str {
        match self {
            Health::Up => "up",
            Health::Degraded => "degraded",
            Health::Down => "down",
            Health::Idle => "idle",
        }
    }

    /// Healthy unless [`Health::Down`]: only a client without a usable token
    /// that failed to get one is unhealthy.
    pub fn is_healthy(self) -> bool {
        self != Health::Down
    }

    /// The verdict for a client that does or does not hold a usable token and
    /// whose last fetch did or did not fail.
    pub(crate) fn of(token_usable: bool, failing: bool) -> Health {
        match (token_usable, failing) {
            (true, false) => Health::Up,
            (true, true) => Health::Degraded,
            (false, true) => Health::Down,
            (false, false) => Health::Idle,
        }
    }
}

/// The shared store's circuit breaker, as a [`Status`] shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreHealth {
    /// Its state.
    pub breaker: BreakerState,
    /// While open: how long before it lets a call through, in ms.
    pub open_for_ms: u64,
}

/// A circuit breaker's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls are skipped (a miss each) after failures in a row.
    Open,
    /// The open period ended: the next call is a probe, and one more failure
    /// opens it again.
    HalfOpen,
}

impl BreakerState {
    /// The stable code (`closed`, `open`, `half_open`).
    pub fn code(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_client_without_a_token_that_failed_is_unhealthy() {
        assert_eq!(Health::of(true, false), Health::Up);
        assert_eq!(Health::of(true, true), Health::Degraded);
        assert_eq!(Health::of(false, true), Health::Down);
        assert_eq!(Health::of(false, false), Health::Idle);
        let healthy: Vec<_> = [Health::Up, Health::Degraded, Health::Down, Health::Idle]
            .iter()
            .map(|h| h.is_healthy())
            .collect();
        assert_eq!(healthy, [true, true, false, true]);
    }
}
