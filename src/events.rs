//! What the client did, for callbacks, metrics, traces and logs: one event model
//! for every language. The bindings read [`EVENTS`] (through `event_kinds` in
//! uniffi and WebAssembly) instead of repeating the names and fields, and each
//! has a test that fails when its events drift from this table.

use crate::error::Error;
use crate::runtime::MaybeSendSync;

/// Something the client did. Variants and their fields are
/// `#[non_exhaustive]`: match with `..`, new fields may come.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Event {
    /// A caller got a cached token without waiting (on the hot path: the
    /// bindings count these rather than deliver each one).
    #[non_exhaustive]
    Hit {
        /// The token is past its refresh point: served while a refresh runs
        /// (or backs off).
        stale: bool,
    },
    /// A caller found no usable token and waits for a fetch (its own or one
    /// in flight). Counted like hits.
    #[non_exhaustive]
    Miss,
    /// A fetch began (on the thread of the caller that started it, before
    /// anything is awaited; joiners of a fetch in flight start none).
    #[non_exhaustive]
    FetchStarted {
        /// Names this fetch in the events that end it.
        fetch_id: u64,
        /// Why it runs.
        reason: FetchReason,
    },
    /// A new token arrived.
    #[non_exhaustive]
    Fetched {
        /// The fetch ([`Event::FetchStarted`]).
        fetch_id: u64,
        /// Why it ran ([`FetchReason::Adopted`] when the token came from the
        /// shared store).
        reason: FetchReason,
        /// Its lifetime from now, in ms.
        lifetime_ms: u64,
        /// Whether it came from the shared store rather than the endpoint.
        from_store: bool,
        /// How long the fetch took, in ms (store and endpoint).
        latency_ms: u64,
        /// The token endpoint's HTTP status (none when adopted from the store).
        status: Option<u16>,
    },
    /// Refresh-ahead started in the background; callers keep the current token.
    #[non_exhaustive]
    RefreshStarted {
        /// The fetch ([`Event::FetchStarted`]).
        fetch_id: u64,
    },
    /// A background refresh failed; the current token is still served.
    #[non_exhaustive]
    RefreshFailed {
        /// The fetch ([`Event::FetchStarted`]).
        fetch_id: u64,
        /// What went wrong (no secret in it).
        error: Error,
        /// How long the fetch took, in ms.
        latency_ms: u64,
        /// The current token's remaining lifetime, in ms.
        lifetime_ms: u64,
    },
    /// A fetch failed and callers without a usable token got this error.
    #[non_exhaustive]
    FetchFailed {
        /// The fetch ([`Event::FetchStarted`]).
        fetch_id: u64,
        /// Why it ran.
        reason: FetchReason,
        /// What went wrong (no secret in it); its status is the endpoint's.
        error: Error,
        /// How long the fetch took, in ms.
        latency_ms: u64,
    },
    /// The store failed; the client went on without it.
    #[non_exhaustive]
    StoreFailed {
        /// What went wrong (no secret in it).
        error: Error,
    },
    /// How a fetch through the shared store went with the fleet's lock.
    #[non_exhaustive]
    StoreLock {
        /// The fetch ([`Event::FetchStarted`]).
        fetch_id: u64,
        /// What came of it.
        outcome: LockOutcome,
        /// How long this process waited for another's lock, in ms.
        waited_ms: u64,
    },
}

/// Why a fetch ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FetchReason {
    /// The client held no token yet.
    First,
    /// Refresh-ahead: the token is still served meanwhile.
    Refresh,
    /// The token was dropped by `invalidate` (an API answered 401).
    After401,
    /// The token expired (nobody asked in time to refresh it ahead).
    Expired,
    /// Not a reason to start a fetch but how one ended: the token came from
    /// the shared store (another process fetched it).
    Adopted,
}

impl FetchReason {
    /// The stable code, as metrics and every binding name it.
    pub fn code(self) -> &'static str {
        match self {
            FetchReason::First => "first",
            FetchReason::Refresh => "refresh",
            FetchReason::After401 => "after_401",
            FetchReason::Expired => "expired",
            FetchReason::Adopted => "adopted",
        }
    }

    /// Every reason, in the table's order.
    pub const ALL: [FetchReason; 5] = [
        FetchReason::First,
        FetchReason::Refresh,
        FetchReason::After401,
        FetchReason::Expired,
        FetchReason::Adopted,
    ];
}

/// What came of a fetch's turn at the fleet's lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LockOutcome {
    /// This process took the lock at once and fetched for the fleet.
    Won,
    /// It waited for another's lock, then took it (released without a token).
    Waited,
    /// It waited, and adopted the token the holder published.
    Adopted,
    /// Out of patience (`store.lock_wait_ms`) or the store failed: it fetched
    /// for itself, beside the lock.
    GaveUp,
}

impl LockOutcome {
    /// The stable code, as metrics and every binding name it.
    pub fn code(self) -> &'static str {
        match self {
            LockOutcome::Won => "won",
            LockOutcome::Waited => "waited",
            LockOutcome::Adopted => "adopted",
            LockOutcome::GaveUp => "gave_up",
        }
    }

    /// Every outcome, in the table's order.
    pub const ALL: [LockOutcome; 4] = [
        LockOutcome::Won,
        LockOutcome::Waited,
        LockOutcome::Adopted,
        LockOutcome::GaveUp,
    ];
}

/// One row of the event table: an event's stable name and its fields' names
/// (snake_case; each binding spells them its own way).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventKind {
    /// The stable name.
    pub name: &'static str,
    /// The fields, in order.
    pub fields: &'static [&'static str],
}

/// The event table: every event the bindings deliver, with its fields. An
/// error field carries the error's `code`, `status` and `detail`.
pub const EVENTS: [EventKind; 9] = [
    EventKind {
        name: "hit",
        fields: &["stale"],
    },
    EventKind {
        name: "miss",
        fields: &[],
    },
    EventKind {
        name: "fetch_started",
        fields: &["fetch_id", "reason"],
    },
    EventKind {
        name: "fetched",
        fields: &[
            "fetch_id",
            "reason",
            "lifetime_ms",
            "from_store",
            "latency_ms",
            "status",
        ],
    },
    EventKind {
        name: "refresh_started",
        fields: &["fetch_id"],
    },
    EventKind {
        name: "refresh_failed",
        fields: &["fetch_id", "error", "latency_ms", "lifetime_ms"],
    },
    EventKind {
        name: "fetch_failed",
        fields: &["fetch_id", "reason", "error", "latency_ms"],
    },
    EventKind {
        name: "store_failed",
        fields: &["error"],
    },
    EventKind {
        name: "store_lock",
        fields: &["fetch_id", "outcome", "waited_ms"],
    },
];

impl Event {
    /// The event's stable name (its row in [`EVENTS`]).
    pub fn name(&self) -> &'static str {
        match self {
            Event::Hit { .. } => "hit",
            Event::Miss => "miss",
            Event::FetchStarted { .. } => "fetch_started",
            Event::Fetched { .. } => "fetched",
            Event::RefreshStarted { .. } => "refresh_started",
            Event::RefreshFailed { .. } => "refresh_failed",
            Event::FetchFailed { .. } => "fetch_failed",
            Event::StoreFailed { .. } => "store_failed",
            Event::StoreLock { .. } => "store_lock",
        }
    }

    /// The error it carries, if any.
    pub fn error(&self) -> Option<&Error> {
        match self {
            Event::RefreshFailed { error, .. }
            | Event::FetchFailed { error, .. }
            | Event::StoreFailed { error } => Some(error),
            _ => None,
        }
    }
}

/// Receives [`Event`]s. Implemented for every `Fn(&Event)`. Called outside any
/// lock, on the hot path for [`Event::Hit`] and on the calling thread for
/// [`Event::FetchStarted`] and [`Event::RefreshStarted`]: keep it cheap, and
/// hand anything slow to another thread.
pub trait EventSink: MaybeSendSync {
    /// Handles one event.
    fn on_event(&self, event: &Event);
}

impl<F: Fn(&Event) + MaybeSendSync> EventSink for F {
    fn on_event(&self, event: &Event) {
        self(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_has_one_row_in_the_table() {
        let names: Vec<_> = EVENTS.iter().map(|k| k.name).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        let error = Error::new(crate::ErrorKind::Network, "x");
        let events = [
            Event::Hit { stale: false },
            Event::Miss,
            Event::FetchStarted {
                fetch_id: 1,
                reason: FetchReason::First,
            },
            Event::Fetched {
                fetch_id: 1,
                reason: FetchReason::First,
                lifetime_ms: 1,
                from_store: false,
                latency_ms: 1,
                status: Some(200),
            },
            Event::RefreshStarted { fetch_id: 1 },
            Event::RefreshFailed {
                fetch_id: 1,
                error: error.clone(),
                latency_ms: 1,
                lifetime_ms: 1,
            },
            Event::FetchFailed {
                fetch_id: 1,
                reason: FetchReason::First,
                error: error.clone(),
                latency_ms: 1,
            },
            Event::StoreFailed { error },
            Event::StoreLock {
                fetch_id: 1,
                outcome: LockOutcome::Won,
                waited_ms: 0,
            },
        ];
        let emitted: Vec<_> = events.iter().map(Event::name).collect();
        assert_eq!(emitted, names);
    }
}
