//! Metrics hooks: what the cache did, for counters and logs.

use crate::error::Error;
use crate::runtime::MaybeSendSync;

/// Something the client did.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Event {
    /// A caller got a cached token without waiting.
    Hit,
    /// A new token arrived.
    Fetched {
        /// Its lifetime in ms.
        lifetime_ms: u64,
        /// Whether it came from the shared store rather than the endpoint.
        from_store: bool,
    },
    /// Refresh-ahead started in the background; callers keep the current token.
    RefreshStarted,
    /// A background refresh failed; the current token is still served.
    RefreshFailed(Error),
    /// A fetch failed and callers without a usable token got this error.
    FetchFailed(Error),
    /// The store failed; the client went on without it.
    StoreFailed(Error),
}

/// Receives [`Event`]s. Implemented for every `Fn(&Event)`. Called outside any
/// lock, on the hot path for [`Event::Hit`]: keep it cheap.
pub trait EventSink: MaybeSendSync {
    /// Handles one event.
    fn on_event(&self, event: &Event);
}

impl<F: Fn(&Event) + MaybeSendSync> EventSink for F {
    fn on_event(&self, event: &Event) {
        self(event)
    }
}
