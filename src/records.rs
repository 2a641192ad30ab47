//! The values that cross into another language: each is one Rust type with the
//! derives of both targets, uniffi (Python, Kotlin) under `feature = "ffi"` and
//! serde (JS, through `wasm::exports`' serializer into plain objects) on wasm32,
//! so a field added here reaches every binding.

use std::fmt;

use crate::client::Lease;
use crate::error::{Error, ErrorKind};

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
