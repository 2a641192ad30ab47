//! One error type for every failure, with a stable `code` each binding exposes.

use std::fmt;

/// The class of a failure. [`ErrorKind::code`] is the stable string every language
/// exposes (`err.code` in JS and Python, `code` in Kotlin).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// RFC 6749 `invalid_client` (or a bare 401): wrong client id or secret.
    InvalidClient,
    /// RFC 6749 `invalid_grant`.
    InvalidGrant,
    /// RFC 6749 `invalid_scope`.
    InvalidScope,
    /// RFC 6749 `invalid_request`.
    InvalidRequest,
    /// RFC 6749 `unauthorized_client`.
    UnauthorizedClient,
    /// RFC 6749 `unsupported_grant_type`.
    UnsupportedGrantType,
    /// `access_denied` (Deliverect) or a bare 403.
    AccessDenied,
    /// HTTP 429 or `slow_down`; see [`Error::retry_after_ms`].
    RateLimited,
    /// HTTP 5xx.
    ServerError,
    /// Any other non-success status without a recognised error body (e.g. an HTML 404).
    HttpError,
    /// The connection failed (DNS, TCP, TLS, reset).
    Network,
    /// The token endpoint did not answer within the configured timeout.
    Timeout,
    /// A success status whose body is not a usable token response.
    MalformedResponse,
    /// The response body exceeded [`crate::MAX_RESPONSE_BYTES`].
    ResponseTooLarge,
    /// The configuration is invalid (unknown preset, insecure URL, missing field).
    Config,
    /// A token store failed.
    Store,
    /// A bug: a fetch panicked (in tokenwell, or in a user-supplied store,
    /// clock or transport). Waiters get this instead of hanging.
    Internal,
}

impl ErrorKind {
    /// The stable, snake_case code of this class.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidClient => "invalid_client",
            ErrorKind::InvalidGrant => "invalid_grant",
            ErrorKind::InvalidScope => "invalid_scope",
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::UnauthorizedClient => "unauthorized_client",
            ErrorKind::UnsupportedGrantType => "unsupported_grant_type",
            ErrorKind::AccessDenied => "access_denied",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::ServerError => "server_error",
            ErrorKind::HttpError => "http_error",
            ErrorKind::Network => "network",
            ErrorKind::Timeout => "timeout",
            ErrorKind::MalformedResponse => "malformed_response",
            ErrorKind::ResponseTooLarge => "response_too_large",
            ErrorKind::Config => "config",
            ErrorKind::Store => "store",
            ErrorKind::Internal => "internal",
        }
    }

    /// Every kind, for bindings that map codes to exception classes.
    pub const ALL: [ErrorKind; 17] = [
        ErrorKind::InvalidClient,
        ErrorKind::InvalidGrant,
        ErrorKind::InvalidScope,
        ErrorKind::InvalidRequest,
        ErrorKind::UnauthorizedClient,
        ErrorKind::UnsupportedGrantType,
        ErrorKind::AccessDenied,
        ErrorKind::RateLimited,
        ErrorKind::ServerError,
        ErrorKind::HttpError,
        ErrorKind::Network,
        ErrorKind::Timeout,
        ErrorKind::MalformedResponse,
        ErrorKind::ResponseTooLarge,
        ErrorKind::Config,
        ErrorKind::Store,
        ErrorKind::Internal,
    ];

    /// The kind for an RFC 6749 `error` code, if it is one we class.
    pub fn from_oauth_code(code: &str) -> Option<ErrorKind> {
        Some(match code {
            "invalid_client" => ErrorKind::InvalidClient,
            "invalid_grant" => ErrorKind::InvalidGrant,
            "invalid_scope" => ErrorKind::InvalidScope,
            "invalid_request" => ErrorKind::InvalidRequest,
            "unauthorized_client" => ErrorKind::UnauthorizedClient,
            "unsupported_grant_type" => ErrorKind::UnsupportedGrantType,
            "access_denied" => ErrorKind::AccessDenied,
            "slow_down" => ErrorKind::RateLimited,
            "server_error" | "temporarily_unavailable" => ErrorKind::ServerError,
            _ => return None,
        })
    }

    /// Whether the credentials or the request themselves are wrong: retrying the
    /// same request will not help until the configuration changes.
    pub fn is_credential_error(self) -> bool {
        matches!(
            self,
            ErrorKind::InvalidClient
                | ErrorKind::InvalidGrant
                | ErrorKind::InvalidScope
                | ErrorKind::InvalidRequest
                | ErrorKind::UnauthorizedClient
                | ErrorKind::UnsupportedGrantType
                | ErrorKind::AccessDenied
                | ErrorKind::Config
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A failure to get a token. Cheap to clone (every waiter of a shared fetch gets
/// one). Its text never contains the client secret or a token: every error that
/// leaves a client has passed [`Error::redacted`] (the secret in every form
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
    /// whole until [`Error::redacted`] scrubs and cuts it.
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
    pub fn config(detail: impl Into<String>) -> Self {
        Error::new(ErrorKind::Config, detail)
    }

    /// A malformed-response error.
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

    /// The error as it may leave the client: every form of the secret scrubbed
    /// from the detail (servers echo requests), *then* the detail cut to
    /// [`MAX_DETAIL`] bytes, so a cut can never leave a prefix of the secret.
    pub fn redacted(mut self, redactor: &crate::redact::Redactor) -> Self {
        let mut detail = redactor.scrub(&self.detail);
        truncate(&mut detail, MAX_DETAIL);
        self.detail = detail;
        self
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
        write!(f, "{}", self.kind.code())?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {status})")?;
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
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
