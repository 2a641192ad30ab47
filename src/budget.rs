//! The request budget: at most `policy.max_requests_per_hour` token requests
//! (else the preset's documented limit) in any sliding hour, as data and
//! decisions, without I/O.
//!
//! Every request the client is about to send asks first. With a shared store
//! the store decides for the whole fleet ([`crate::Store::spend`], one counter
//! per credential under [`key`]); without one, when the store cannot count, or
//! while it fails, this process's own [`Window`] decides (a restart resets it).
//! The window records every request this process sent, whoever decided, so
//! while the store is down the process still counts what it sent itself
//! (what others sent it cannot know).
//!
//! A spent budget sends nothing: the client keeps serving a token it still
//! holds (refresh ahead fails quietly, a token dropped by `invalidate` is
//! served again while usable), and otherwise fails fast with `rate_limited`
//! and a locally computed `retry_after_ms` ([`spent`]).
#![deny(clippy::arithmetic_side_effects)]

use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind, Result};

/// The budget's window: one hour, sliding.
pub const WINDOW_MS: u64 = 3_600_000;

/// What a shared store answered when asked to count a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spend {
    /// Counted: the request may go.
    Granted,
    /// The fleet's budget is spent; the next request is allowed in this many ms.
    Refused {
        /// Until the oldest counted request leaves the window.
        retry_after_ms: u64,
    },
    /// The store keeps no counters: this process decides alone.
    Unsupported,
}

/// The instants (on the client's monotonic clock) of the requests this process
/// sent in the last hour, oldest first.
#[derive(Debug, Default)]
pub struct Window {
    /// A `Vec`, not a `VecDeque`: it holds at most `limit` instants, and the
    /// WebAssembly build carries no second collection for it.
    sent: Vec<u64>,
    /// Until when the fleet's counter refuses (it only fills before then):
    /// neither the store nor the lock is asked again meanwhile.
    refused_until: u64,
}

impl Window {
    /// Drops the requests that left the window at `now`.
    fn slide(&mut self, now: u64) {
        self.sent.retain(|&t| now.saturating_sub(t) < WINDOW_MS);
    }

    /// Counts a request at `now` if fewer than `limit` were sent in the hour
    /// before it; else `Err` with the ms until one leaves the window.
    pub fn spend(&mut self, limit: u32, now: u64) -> std::result::Result<(), u64> {
        self.slide(now);
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        match self.sent.first() {
            Some(&oldest) if self.sent.len() >= limit => {
                Err(oldest.saturating_add(WINDOW_MS).saturating_sub(now).max(1))
            }
            _ => {
                self.sent.push(now);
                Ok(())
            }
        }
    }

    /// Remembers that the fleet's counter refused at `now` for `retry_after_ms`.
    pub fn refuse(&mut self, now: u64, retry_after_ms: u64) {
        self.refused_until = self.refused_until.max(now.saturating_add(retry_after_ms));
    }

    /// The wait left at `now` after the fleet's counter refused, if any.
    pub fn refused(&self, now: u64) -> Option<u64> {
        (now < self.refused_until).then(|| self.refused_until.saturating_sub(now))
    }

    /// Counts a request at `now` that the fleet's counter allowed.
    pub fn record(&mut self, now: u64) {
        self.slide(now);
        self.sent.push(now);
    }
}

/// The store key of one credential's counter: `<prefix>:{<hex>}:b`, a SHA-256
/// over the token URL and the client id only. Platforms count requests per
/// client, whatever the secret (a rotated secret keeps the same budget, and
/// tenants of one client id that differ in scope or audience share it), so
/// the secret's fingerprint is deliberately not part of it. Its own hash tag:
/// the counter's script touches this one key, which works on Redis Cluster.
pub fn key(prefix: &str, token_url: &str, client_id: &str) -> String {
    let mut h = Sha256::new();
    for part in [
        &b"tokenwell-budget-1"[..],
        token_url.as_bytes(),
        client_id.as_bytes(),
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}:{{{hex}}}:b")
}

/// The error of a spent budget: `rate_limited`, with no HTTP status (no request
/// was sent) and the wait computed here.
pub fn spent(limit: u32, retry_after_ms: u64, fleet: bool) -> Error {
    let scope = if fleet {
        "fleet-wide"
    } else {
        "in this process"
    };
    Error::new(
        ErrorKind::RateLimited,
        format!(
            "tokenwell's own request budget ({limit} token requests per hour, from \
             policy.max_requests_per_hour or the preset's documented limit) is spent {scope}: \
             no request was sent"
        ),
    )
    .with_retry_after_ms(Some(retry_after_ms))
}

/// Whether `e` is [`spent`]'s error (a server's `rate_limited` has a status).
pub fn is_spent(e: &Error) -> bool {
    e.kind() == ErrorKind::RateLimited && e.status().is_none()
}

/// `policy.max_requests_per_hour` is a whole number from 1 to 2^32 - 1, checked
/// on the config as given so the message names the key whatever the reader.
pub fn check_config(value: &serde_json::Value) -> Result<()> {
    let budget = value.get("policy").and_then(|policy| {
        ["max_requests_per_hour", "maxRequestsPerHour"]
            .iter()
            .find_map(|k| policy.get(*k))
    });
    match budget {
        None | Some(serde_json::Value::Null) => Ok(()),
        Some(v) if v.as_u64().is_some_and(|n| n >= 1 && n <= u64::from(u32::MAX)) => Ok(()),
        Some(_) => Err(Error::config(
            "invalid config: policy.max_requests_per_hour must be a whole number of requests, at least 1",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_allows_limit_requests_in_any_sliding_hour() {
        let mut w = Window::default();
        assert_eq!(w.spend(2, 1_000), Ok(()));
        assert_eq!(w.spend(2, 5_000), Ok(()));
        assert_eq!(w.spend(2, 6_000), Err(WINDOW_MS - 5_000));
        // The first leaves the window exactly an hour after it was sent.
        assert_eq!(w.spend(2, 1_000 + WINDOW_MS - 1), Err(1));
        assert_eq!(w.spend(2, 1_000 + WINDOW_MS), Ok(()));
        assert_eq!(w.spend(2, 1_000 + WINDOW_MS), Err(4_000));
        w.record(5_000 + WINDOW_MS);
        assert_eq!(w.sent.len(), 2);
    }

    #[test]
    fn the_key_names_the_credential_not_the_secret() {
        let a = key("tw", "https://a/t", "id");
        assert!(a.starts_with("tw:{") && a.ends_with("}:b"), "{a}");
        assert_ne!(a, key("tw", "https://a/t", "id2"));
        assert_ne!(a, key("tw", "https://b/t", "id"));
        // Length-prefixed: moving a byte between the parts changes the key.
        assert_ne!(key("tw", "https://a/ti", "d"), a);
        assert!(!a.contains("id") || !a.contains("https"));
    }

    #[test]
    fn bad_budgets_are_config_errors_naming_the_key() {
        for bad in [
            serde_json::json!(0),
            serde_json::json!(-1),
            serde_json::json!(1.5),
            serde_json::json!("2"),
            serde_json::json!(5_000_000_000u64),
        ] {
            for k in ["max_requests_per_hour", "maxRequestsPerHour"] {
                let e = check_config(&serde_json::json!({"policy": {k: bad}})).unwrap_err();
                assert_eq!(e.kind(), ErrorKind::Config);
                assert!(e.detail().contains("policy.max_requests_per_hour"), "{e}");
            }
        }
        for good in [
            serde_json::json!(1),
            serde_json::json!(100),
            serde_json::json!(null),
        ] {
            check_config(&serde_json::json!({"policy": {"max_requests_per_hour": good}})).unwrap();
        }
    }
}
