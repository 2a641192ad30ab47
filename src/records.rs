//! The values that cross into another language: each is one Rust type with the
//! derives of both targets, uniffi (Python, Kotlin) under `feature = "ffi"` and
//! serde (JS, through `wasm::exports`' serializer into plain objects) on wasm32,
//! so a field added here reaches every binding.

use std::fmt;

use crate::client::Lease;
use crate::error::{Error, ErrorKind};
#[cfg(feature = "ffi")]
use crate::events::Event;
#[cfg(feature = "ffi")]
use crate::status::Status;

/// A secret on its way to a binding. It crosses uniffi as a string but lands in
/// a foreign class that prints `[redacted]` (see `uniffi.toml`), so generated
/// records never show it in `repr` / `toString`. In JS the wrapper's
/// `AccessToken` keeps it in a private field.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(target_arch = "wasm32", derive(serde::Serialize), serde(transparent))]
pub struct Redacted(pub String);

#[cfg(feature = "ffi")]
uniffi::custom_newtype!(Redacted, String);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A token and how long a binding may reuse it without asking the core again.
/// JS sees the fields in camelCase (`accessToken`, `reuseForMs`…).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
#[cfg_attr(
    target_arch = "wasm32",
    derive(serde::Serialize),
    serde(rename_all = "camelCase")
)]
pub struct CoreLease {
    /// The access token.
    pub access_token: Redacted,
    /// `Bearer` unless the server said otherwise.
    pub token_type: String,
    /// The server's expiry as Unix ms on the local clock.
    pub expires_at_unix_ms: i64,
    /// Granted scope, if reported.
    pub scope: Option<String>,
    /// The `Authorization` header value.
    pub authorization_header: Redacted,
    /// Milliseconds, on the client's clock, during which the answer stays the same.
    pub reuse_for_ms: u64,
}

impl From<Lease> for CoreLease {
    fn from(l: Lease) -> Self {
        CoreLease {
            access_token: Redacted(l.token.secret().to_owned()),
            token_type: l.token.token_type().to_owned(),
            expires_at_unix_ms: l.token.expires_at_unix_ms(),
            scope: l.token.scope().map(str::to_owned),
            authorization_header: Redacted(l.token.authorization_header().to_owned()),
            reuse_for_ms: l.reuse_for_ms,
        }
    }
}

/// Every failure, as it reaches another language. One variant, because uniffi
/// errors are enums: `kind` classifies it (matrix-rust-sdk style), and each
/// binding maps the kind to its own exception class. No field is named
/// `message` (uniffi-rs #1434). JS receives a plain object `{code, status,
/// retryAfterMs, detail, summary}` (`code` being the kind's code).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Error))]
#[cfg_attr(target_arch = "wasm32", derive(serde::Serialize), serde(untagged))]
pub enum TokenwellError {
    /// A failure of the given kind.
    #[cfg_attr(target_arch = "wasm32", serde(rename_all = "camelCase"))]
    Failure {
        /// The class of the failure.
        #[cfg_attr(target_arch = "wasm32", serde(rename = "code"))]
        kind: ErrorKind,
        /// The token endpoint's HTTP status, when it answered.
        status: Option<u16>,
        /// `Retry-After` in milliseconds, when the endpoint sent one.
        retry_after_ms: Option<u64>,
        /// What went wrong, without secrets.
        detail: String,
        /// The whole one-line text (code, status, detail, retry-after): the
        /// exception's message in every language.
        summary: String,
    },
}

impl From<Error> for TokenwellError {
    fn from(e: Error) -> Self {
        let summary = e.to_string();
        let (kind, status, retry_after_ms) = (e.kind(), e.status(), e.retry_after_ms());
        TokenwellError::Failure {
            kind,
            status,
            retry_after_ms,
            detail: e.into_detail(),
            summary,
        }
    }
}

impl fmt::Display for TokenwellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let TokenwellError::Failure { summary, .. } = self;
        f.write_str(summary)
    }
}

impl std::error::Error for TokenwellError {}

/// An error as an event or a status carries it: its code, the endpoint's
/// status and the detail (no secret in any).
#[cfg(feature = "ffi")]
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct CoreErrorInfo {
    /// The stable error code.
    pub code: String,
    /// The token endpoint's HTTP status, when it answered.
    pub status: Option<u16>,
    /// What went wrong, without secrets.
    pub detail: String,
}

#[cfg(feature = "ffi")]
impl From<&Error> for CoreErrorInfo {
    fn from(e: &Error) -> Self {
        CoreErrorInfo {
            code: e.code().to_owned(),
            status: e.status(),
            detail: e.detail().to_owned(),
        }
    }
}

/// An [`Event`] as every binding receives it: its name (a row of
/// [`crate::EVENTS`]) and the fields that event has (the others are none).
/// JS receives its fields as one array, in this order (see `wasm::exports`).
#[cfg(feature = "ffi")]
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct CoreEvent {
    /// The event's stable name.
    pub name: String,
    /// The fetch it belongs to.
    pub fetch_id: Option<u64>,
    /// Why the fetch ran (`first`, `refresh`, `after_401`, `expired`, `adopted`).
    pub reason: Option<String>,
    /// The lock's outcome (`won`, `waited`, `adopted`, `gave_up`).
    pub outcome: Option<String>,
    /// A hit on a token past its refresh point.
    pub stale: Option<bool>,
    /// The token's remaining lifetime, in ms.
    pub lifetime_ms: Option<u64>,
    /// Whether the token came from the shared store.
    pub from_store: Option<bool>,
    /// How long the fetch took, in ms.
    pub latency_ms: Option<u64>,
    /// The token endpoint's HTTP status on `fetched` (a failure's is its
    /// error's).
    pub status: Option<u16>,
    /// The error.
    pub error: Option<CoreErrorInfo>,
    /// How long the process waited for another's lock, in ms.
    pub waited_ms: Option<u64>,
    /// When it happened, Unix ms on the client's clock.
    pub at_unix_ms: i64,
}

#[cfg(feature = "ffi")]
impl CoreEvent {
    /// The record of `event`, which happened at `at_unix_ms`.
    pub fn new(event: &Event, at_unix_ms: i64) -> CoreEvent {
        let mut record = CoreEvent {
            name: event.name().to_owned(),
            fetch_id: None,
            reason: None,
            outcome: None,
            stale: None,
            lifetime_ms: None,
            from_store: None,
            latency_ms: None,
            status: None,
            error: event.error().map(CoreErrorInfo::from),
            waited_ms: None,
            at_unix_ms,
        };
        match *event {
            Event::Hit { stale } => record.stale = Some(stale),
            Event::FetchStarted { fetch_id, reason } => {
                record.fetch_id = Some(fetch_id);
                record.reason = Some(reason.code().to_owned());
            }
            Event::Fetched {
                fetch_id,
                reason,
                lifetime_ms,
                from_store,
                latency_ms,
                status,
            } => {
                record.fetch_id = Some(fetch_id);
                record.reason = Some(reason.code().to_owned());
                record.lifetime_ms = Some(lifetime_ms);
                record.from_store = Some(from_store);
                record.latency_ms = Some(latency_ms);
                record.status = status;
            }
            Event::RefreshStarted { fetch_id } => record.fetch_id = Some(fetch_id),
            Event::RefreshFailed {
                fetch_id,
                latency_ms,
                lifetime_ms,
                ..
            } => {
                record.fetch_id = Some(fetch_id);
                record.latency_ms = Some(latency_ms);
                record.lifetime_ms = Some(lifetime_ms);
            }
            Event::FetchFailed {
                fetch_id,
                reason,
                latency_ms,
                ..
            } => {
                record.fetch_id = Some(fetch_id);
                record.reason = Some(reason.code().to_owned());
                record.latency_ms = Some(latency_ms);
            }
            Event::StoreLock {
                fetch_id,
                outcome,
                waited_ms,
            } => {
                record.fetch_id = Some(fetch_id);
                record.outcome = Some(outcome.code().to_owned());
                record.waited_ms = Some(waited_ms);
            }
            Event::Miss | Event::StoreFailed { .. } => {}
        }
        record
    }
}

/// A [`Status`] as every binding receives it (JS: one array, in this order).
#[cfg(feature = "ffi")]
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct CoreStatus {
    /// `up`, `degraded`, `down` or `idle` (see [`crate::Health`]).
    pub health: String,
    /// Not `down`.
    pub healthy: bool,
    /// Whether a token is held that callers are given now.
    pub token_usable: bool,
    /// The held token's remaining lifetime to its expiry, in ms.
    pub token_expires_in_ms: Option<u64>,
    /// The last fetch's error, if it failed.
    pub last_error: Option<CoreErrorInfo>,
    /// When the last error happened, Unix ms.
    pub last_error_at_unix_ms: Option<i64>,
    /// How long before the next fetch may start, in ms, while backing off.
    pub backoff_ms: Option<u64>,
    /// Whether a fetch is in flight.
    pub fetching: bool,
    /// The store's breaker (`closed`, `open`, `half_open`), with a store.
    pub store_breaker: Option<String>,
    /// While the breaker is open: how long it stays open, in ms.
    pub store_open_for_ms: Option<u64>,
}

#[cfg(feature = "ffi")]
impl From<Status> for CoreStatus {
    fn from(s: Status) -> Self {
        CoreStatus {
            health: s.health.code().to_owned(),
            healthy: s.health.is_healthy(),
            token_usable: s.token_usable,
            token_expires_in_ms: s.token_expires_in_ms,
            last_error: s.last_error.as_ref().map(|(e, _)| CoreErrorInfo::from(e)),
            last_error_at_unix_ms: s.last_error.as_ref().map(|(_, at)| *at),
            backoff_ms: s.backoff_ms,
            fetching: s.fetching,
            store_breaker: s.store.map(|h| h.breaker.code().to_owned()),
            store_open_for_ms: s.store.map(|h| h.open_for_ms),
        }
    }
}

/// One row of the core's event table ([`crate::EVENTS`]), as the bindings
/// read it to check their own event types against it (JS reads the same table
/// from `schema/events.json`, generated from it).
#[cfg(feature = "ffi")]
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct EventKindRecord {
    /// The event's stable name.
    pub name: String,
    /// Its fields (snake_case).
    pub fields: Vec<String>,
}

/// The core's event table.
#[cfg(feature = "ffi")]
pub fn event_kinds() -> Vec<EventKindRecord> {
    crate::events::EVENTS
        .iter()
        .map(|k| EventKindRecord {
            name: k.name.to_owned(),
            fields: k.fields.iter().map(|f| (*f).to_owned()).collect(),
        })
        .collect()
}

/// One row of the core's metrics table ([`crate::metrics::METRICS`]) (JS
/// reads the same table from `schema/metrics.json`, generated from it).
#[cfg(feature = "ffi")]
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct MetricKindRecord {
    /// The metric's name.
    pub name: String,
    /// `counter`, `histogram`, `observable_counter` or `observable_gauge`.
    pub instrument: String,
    /// Its unit (UCUM).
    pub unit: String,
    /// What it measures.
    pub description: String,
    /// Its attributes.
    pub attributes: Vec<String>,
}

/// The core's metrics table.
#[cfg(feature = "ffi")]
pub fn metric_kinds() -> Vec<MetricKindRecord> {
    crate::metrics::METRICS
        .iter()
        .map(|m| MetricKindRecord {
            name: m.name.to_owned(),
            instrument: m.instrument.code().to_owned(),
            unit: m.unit.to_owned(),
            description: m.description.to_owned(),
            attributes: m.attributes.iter().map(|a| (*a).to_owned()).collect(),
        })
        .collect()
}

/// One row of the core's error table, as Python and Kotlin read it to derive
/// their exception classes' codes and flags (JS reads the same table as the
/// `ErrorKind` enum and `errorKindFlags`, which cost the .wasm less).
#[cfg(feature = "ffi")]
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ErrorKindRecord {
    /// The kind.
    pub kind: ErrorKind,
    /// Its stable code.
    pub code: String,
    /// See [`ErrorKind::is_credential_error`].
    pub is_credential_error: bool,
    /// See [`ErrorKind::is_retryable`].
    pub is_retryable: bool,
}

/// The core's error table: every kind with its code and flags.
#[cfg(feature = "ffi")]
pub fn error_kinds() -> Vec<ErrorKindRecord> {
    ErrorKind::ALL
        .iter()
        .map(|&kind| ErrorKindRecord {
            kind,
            code: kind.code().to_owned(),
            is_credential_error: kind.is_credential_error(),
            is_retryable: kind.is_retryable(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_never_prints_its_token() {
        let lease = CoreLease {
            access_token: Redacted("tok-canary".into()),
            token_type: "Bearer".into(),
            expires_at_unix_ms: 0,
            scope: None,
            authorization_header: Redacted("Bearer tok-canary".into()),
            reuse_for_ms: 0,
        };
        assert!(!format!("{lease:?}").contains("tok-canary"));
    }

    #[test]
    fn an_error_keeps_its_fields() {
        let e = Error::new(ErrorKind::RateLimited, "slow down")
            .with_status(429)
            .with_retry_after_ms(Some(7000));
        let TokenwellError::Failure {
            kind,
            status,
            retry_after_ms,
            detail,
            summary,
        } = TokenwellError::from(e.clone());
        assert_eq!(kind, ErrorKind::RateLimited);
        assert_eq!(status, Some(429));
        assert_eq!(retry_after_ms, Some(7000));
        assert_eq!(detail, "slow down");
        assert_eq!(summary, e.to_string());
    }
}
