//! Time as the core sees it: a monotonic clock for lifetimes and a wall clock
//! only for reading absolute expiry fields. Both are injectable.
#![deny(clippy::arithmetic_side_effects)]

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use crate::platform::{Host, Platform};
use crate::runtime::MaybeSendSync;

/// The two clocks the core reads. Milliseconds throughout: the unit every
/// language's clock offers and the one the conformance vectors speak.
pub trait Clock: MaybeSendSync {
    /// Monotonic milliseconds from an arbitrary origin; never goes backwards.
    fn now_ms(&self) -> u64;
    /// Wall-clock Unix time in milliseconds (used only to interpret absolute
    /// expiry fields and to report `expires_at`).
    fn unix_ms(&self) -> i64;

    /// How far [`Clock::now_ms`] may lag real time: 1 for a clock truncated to
    /// whole milliseconds, 0 for one moved in whole milliseconds by hand. Leases
    /// are shortened by it, so a memo on a finer clock never outlives them.
    fn truncation_ms(&self) -> u64 {
        1
    }
}

/// A clock the caller moves by hand: deterministic tests and the conformance
/// vectors. Monotonic time starts at 0; wall time starts where you set it, or
/// at [`ManualClock::DEFAULT_UNIX_MS`] (the default in every language, so that
/// a test reads the same dates wherever and whenever it runs).
#[derive(Debug)]
pub struct ManualClock {
    mono_ms: AtomicU64,
    unix_offset_ms: AtomicI64,
}

impl Default for ManualClock {
    /// A clock at monotonic 0 and wall time [`ManualClock::DEFAULT_UNIX_MS`].
    fn default() -> Self {
        ManualClock::new(Self::DEFAULT_UNIX_MS)
    }
}

impl ManualClock {
    /// The wall time a clock starts at when none is given:
    /// 2026-01-01T00:00:00Z, the conformance vectors' epoch.
    pub const DEFAULT_UNIX_MS: i64 = 1_767_225_600_000;

    /// A clock at monotonic 0 and wall time `unix_ms`.
    pub fn new(unix_ms: i64) -> Self {
        ManualClock {
            mono_ms: AtomicU64::new(0),
            unix_offset_ms: AtomicI64::new(unix_ms),
        }
    }

    /// Moves both clocks forward by `ms`.
    pub fn advance(&self, ms: u64) {
        self.mono_ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// Moves only the wall clock by `delta_ms` (a local clock that is wrong or
    /// was adjusted), leaving monotonic time alone.
    pub fn shift_wall(&self, delta_ms: i64) {
        self.unix_offset_ms.fetch_add(delta_ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.mono_ms.load(Ordering::SeqCst)
    }

    fn unix_ms(&self) -> i64 {
        let mono = i64::try_from(self.now_ms()).unwrap_or(i64::MAX);
        self.unix_offset_ms
            .load(Ordering::SeqCst)
            .saturating_add(mono)
    }

    fn truncation_ms(&self) -> u64 {
        0
    }
}

/// The machine's real clocks (the platform's monotonic and wall clocks).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        Host::monotonic_ms()
    }

    fn unix_ms(&self) -> i64 {
        Host::unix_ms()
    }
}
