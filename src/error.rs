//! One error type for every failure, with a stable `code` each binding exposes.
//!
//! The facts the languages share about each kind of failure (its code, whether
//! it is a credential error, whether it is retryable) are stated once, in the
//! `error_kinds!` table below, and exported to every binding.

use std::fmt::{self, Write as _};

/// Declares [`ErrorKind`] and its facts from one table, so that a kind cannot
/// exist without a code, a credential flag and a retryable flag.
macro_rules! error_kinds {
    ($(
        $(#[doc = $doc:literal])*
        $kind:ident = $code:literal, credential: $credential:literal, retryable: $retryable:literal;
    )*) => {
        /// The class of a failure. [`ErrorKind::code`] is the stable string every
        /// language exposes (`err.code` in JS and Python, `code` in Kotlin); the
        /// bindings read the codes and flags from the core (`error_kinds()` over
        /// uniffi; in wasm this enum and `errorKindFlags`) rather than restating them.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "ffi", derive(uniffi::Enum))]
        #[cfg_attr(target_arch = "wasm32", wasm_bindgen::prelude::wasm_bindgen)]
        #[non_exhaustive]
        pub enum ErrorKind {
            $($(#[doc = $doc])* $kind,)*
        }

        impl ErrorKind {
            /// Every kind, in declaration order.
            pub const ALL: [ErrorKind; [$($code),*].len()] = [$(ErrorKind::$kind),*];

            /// The stable, snake_case code of this class.
            pub const fn code(self) -> &'static str {
                match self {
                    $(ErrorKind::$kind => $code,)*
                }
            }

            /// Whether the credentials or the request themselves are wrong: retrying
            /// the same request will not help until the configuration changes.
            pub const fn is_credential_error(self) -> bool {
                match self {
                    $(ErrorKind::$kind => $credential,)*
                }
            }

            /// Whether the same request may succeed later (after `retry_after_ms`,
            /// or the client's backoff): the server or the path to it failed.
            pub const fn is_retryable(self) -> bool {
                match self {
                    $(ErrorKind::$kind => $retryable,)*
                }
            }
        }
    };
}

// The one list of error kinds. A kind that is neither a credential error nor
// retryable needs a person: a wrong URL or response mapping, a provider bug, a
// failing store, a bug in tokenwell (see the README's "Errors").
error_kinds! {
    /// RFC 6749 `invalid_client` (or a bare 401): wrong client id or secret.
    InvalidClient = "invalid_client", credential: true, retryable: false;
    /// RFC 6749 `invalid_grant`.
    InvalidGrant = "invalid_grant", credential: true, retryable: false;
    /// RFC 6749 `invalid_scope`.
    InvalidScope = "invalid_scope", credential: true, retryable: false;
    /// RFC 6749 `invalid_request`.
    InvalidRequest = "invalid_request", credential: true, retryable: false;
    /// RFC 6749 `unauthorized_client`.
    UnauthorizedClient = "unauthorized_client", credential: true, retryable: false;
    /// RFC 6749 `unsupported_grant_type`.
    UnsupportedGrantType = "unsupported_grant_type", credential: true, retryable: false;
    /// `access_denied` (Deliverect) or a bare 403.
    AccessDenied = "access_denied", credential: true, retryable: false;
    /// HTTP 429 or `slow_down`; see [`Error::retry_after_ms`].
    RateLimited = "rate_limited", credential: false, retryable: true;
    /// HTTP 5xx.
    ServerError = "server_error", credential: false, retryable: true;
    /// Any other non-success status without a recognised error body (e.g. an HTML 404).
    HttpError = "http_error", credential: false, retryable: false;
    /// The connection failed (DNS, TCP, TLS, reset).
    Network = "network", credential: false, retryable: true;
    /// The token endpoint did not answer within the configured timeout.
    Timeout = "timeout", credential: false, retryable: true;
    /// A success status whose body is not a usable token response.
    MalformedResponse = "malformed_response", credential: false, retryable: false;
    /// The response body exceeded [`crate::MAX_RESPONSE_BYTES`], or its headers
    /// reached 16 KiB.
    ResponseTooLarge = "response_too_large", credential: false, retryable: false;
    /// The configuration is invalid (unknown preset, insecure URL, missing field).
    Config = "config", credential: true, retryable: false;
    /// A token store failed.
    Store = "store", credential: false, retryable: false;
    /// A bug: a fetch panicked (in tokenwell, or in a user-supplied store,
    /// clock or transport). Waiters get this instead of hanging.
    Internal = "internal", credential: false, retryable: false;
}

impl ErrorKind {
    /// The kind for an RFC 6749 `error` code, if it is one we class.
    pub fn from_oauth_code(code: &str) -> Option<ErrorKind> {
        // The kinds whose code is an RFC 6749 error code of the same name.
        const RFC_6749: [ErrorKind; 8] = [
            ErrorKind::InvalidClient,
            ErrorKind::InvalidGrant,
            ErrorKind::InvalidScope,
            ErrorKind::InvalidRequest,
            ErrorKind::UnauthorizedClient,
            ErrorKind::UnsupportedGrantType,
            ErrorKind::AccessDenied,
            ErrorKind::ServerError,
        ];
        match code {
            "slow_down" => Some(ErrorKind::RateLimited),
            "temporarily_unavailable" => Some(ErrorKind::ServerError),
            _ => RFC_6749.into_iter().find(|kind| kind.code() == code),
        }
    }
}

/// A kind serializes as its code (how it reaches JS).
impl serde::Serialize for ErrorKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A failure to get a token. Cheap to clone (every waiter of a shared fetch gets
/// one). Its text never contains the client secret or a token: every error that
/// leaves a client has been redacted (the secret in every form
/// scrubbed, then the detail truncated), and tokens never enter error text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    status: Option<u16>,
    retry_after_ms: Option<u64>,
    detail: String,
}

/// Longest detail kept from a server's `error_description` (in bytes).
pub const MAX_DETAIL: usize = 200;

impl Error {
    /// A new error of `kind` with a human-readable detail. The detail is kept
    /// whole until the client redacts it (scrubs and cuts it).
    ///
    /// Never inlined (nor are `config` and `malformed`): inlined, each of the
    /// core's hundreds of error sites carried its own copy of the detail's
    /// conversion to `String` (about 1.1 KB of the gzipped WebAssembly).
    #[inline(never)]
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        Error {
            kind,
            status: None,
            retry_after_ms: None,
            detail,
        }
    }

    /// Sets the HTTP status the error came with.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Sets how long the server asked us to wait.
    pub fn with_retry_after_ms(mut self, ms: Option<u64>) -> Self {
        self.retry_after_ms = ms;
        self
    }

    /// A configuration error.
    #[inline(never)]
    pub fn config(detail: impl Into<String>) -> Self {
        Error::new(ErrorKind::Config, detail)
    }

    /// A malformed-response error.
    #[inline(never)]
    pub fn malformed(detail: impl Into<String>) -> Self {
        Error::new(ErrorKind::MalformedResponse, detail)
    }

    /// The class of the error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The stable code of the class, e.g. `"invalid_client"`.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// Whether the credentials or the request are wrong (see [`ErrorKind::is_credential_error`]).
    pub fn is_credential_error(&self) -> bool {
        self.kind.is_credential_error()
    }

    /// Whether the same request may succeed later (see [`ErrorKind::is_retryable`]).
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }

    /// The HTTP status, when the token endpoint answered.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// `Retry-After` in milliseconds, when the endpoint sent one.
    pub fn retry_after_ms(&self) -> Option<u64> {
        self.retry_after_ms
    }

    /// What went wrong, without secrets.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The detail, without a copy (for the records that cross into other languages).
    #[cfg(any(feature = "ffi", target_arch = "wasm32"))]
    pub(crate) fn into_detail(self) -> String {
        self.detail
    }

    /// The error with `url`'s query values hidden wherever the detail quotes
    /// it whole (see [`crate::redact::display_url`]).
    pub(crate) fn hiding_url_query(mut self, url: &str) -> Self {
        self.detail = crate::redact::hide_url_query(&self.detail, url);
        self
    }

    /// The error as it may leave the client: every form of the secret scrubbed
    /// from the detail (servers echo requests), *then* the detail cut to
    /// `MAX_DETAIL` (200) bytes, so a cut can never leave a prefix of the secret.
    pub(crate) fn redacted(mut self, redactor: &crate::redact::Redactor) -> Self {
        let mut detail = redactor.scrub(&self.detail);
        truncate(&mut detail, MAX_DETAIL);
        self.detail = detail;
        self
    }
}

/// A name from the user's input, quoted for an error message as `{:?}` quotes
/// it, control characters escaped (`\u{1b}`), without bringing the Unicode
/// printability tables `{:?}` needs into the WebAssembly build (other
/// invisible characters, rare in a config key, are left as they are).
pub struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for c in self.0.chars() {
            match c {
                '"' | '\\' => write!(f, "\\{c}")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                c if c.is_control() => write!(f, "\\u{{{:x}}}", c as u32)?,
                c => f.write_char(c)?,
            }
        }
        f.write_str("\"")
    }
}

fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.code())?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {status})")?;
        }
        if !self.detail.is_empty() {
            f.write_str(": ")?;
            f.write_str(&self.detail)?;
        }
        if let Some(ms) = self.retry_after_ms {
            write!(f, "; retry after {ms} ms")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::Quoted;

    #[test]
    fn quoted_is_debug_but_for_invisible_non_control_characters() {
        let same = [
            "client_secert",
            "",
            "a \"b\" \\c",
            "tab\t\r\n",
            "é\u{1b}\u{7f}\u{85}",
            "日本",
        ];
        for s in same {
            assert_eq!(Quoted(s).to_string(), format!("{s:?}"));
        }
        assert_eq!(Quoted("ke\u{200b}y").to_string(), "\"ke\u{200b}y\"");
    }
}
