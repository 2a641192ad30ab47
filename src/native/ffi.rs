//! uniffi exports for the Python and Kotlin packages. Deliberately small: each
//! language wraps these in its own idiomatic, thin layer. Every decision (cache,
//! refresh, backoff) stays in [`TokenClient`]; the exported lease tells a binding
//! for how long it may memoise the answer.

use std::sync::Arc;

use crate::{Error, ErrorKind, ManualClock, MemoryStore, TokenClient, TokenConfig};

/// Every failure, one variant per [`ErrorKind`] (the variant name is the code in
/// UpperCamelCase). The field is `detail`, never `message` (uniffi-rs #1434).
#[derive(Debug, uniffi::Error)]
#[allow(missing_docs)]
pub enum TokenwellError {
    InvalidClient {
        status: Option<u16>,
        retry_after_ms: Option<u64>,
        detail: String,
    },
    InvalidGrant {
        status: Option<u16>,
        retry_after_ms: Option<u64>,
        detail: String,
    },
    InvalidScope {
        status: Option<u16>,
        retry_after_ms: Option<u64>,
        detail: String,
    },
    InvalidRequest {
        status: Option<u16>,
        retry_after_ms: Option<u64>,
        detail: String,
    },
    UnauthorizedClient {
        status: Option<u16>,
        retry_after_ms: Option<u64>,
        detail: String,
    },
    UnsupportedGrantType {
        status: Option<u16>,
        retry_after_ms: Option<u64>,
        detail: String,
    },
    AccessDenied {
        status: Option<u16>,
        retry_after_ms: Option<u64>,
        detail: String,
    },
    RateLimited {
        status: Option<u16>,
        retry_after_ms: Option<u64>,
        detail: String,
    },
    ServerError {
        status: Option<u16>,
        retry_after_ms: Option<u64>,
        detail: String,
    },
    HttpError {
        status: Option<u16>,
        retry_after_ms: Option<u64>,
        detail: String,
    },
    Network {
        status: Option<u16>,
        retry_after_ms: Option<u64>,
        detail: String,
    },
    Timeout {
        status: Option<u16>,
        retry_after_ms: Option<u64>,
        detail: String,
    },
    MalformedResponse {
        status: Option<u16>,
        retry_after_ms: Option<u64>,
        detail: String,
    },
    ResponseTooLarge {
        status: Option<u16>,
        retry_after_ms: Option<u64>,
        detail: String,
    },
    Config {
        status: Option<u16>,
        retry_after_ms: Option<u64>,
        detail: String,
    },
    Store {
        status: Option<u16>,
        retry_after_ms: Option<u64>,
        detail: String,
    },
    Internal {
        status: Option<u16>,
        retry_after_ms: Option<u64>,
        detail: String,
    },
}

impl From<Error> for TokenwellError {
    fn from(e: Error) -> Self {
        let (status, retry_after_ms) = (e.status(), e.retry_after_ms());
        let detail = e.to_string();
        macro_rules! map {
            ($($kind:ident),*) => {
                match e.kind() {
                    $(ErrorKind::$kind => TokenwellError::$kind { status, retry_after_ms, detail },)*
                }
            };
        }
        map!(
            InvalidClient,
            InvalidGrant,
            InvalidScope,
            InvalidRequest,
            UnauthorizedClient,
            UnsupportedGrantType,
            AccessDenied,
            RateLimited,
            ServerError,
            HttpError,
            Network,
            Timeout,
            MalformedResponse,
            ResponseTooLarge,
            Config,
            Store,
            Internal
        )
    }
}

impl std::fmt::Display for TokenwellError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use TokenwellError::*;
        match self {
            InvalidClient { detail, .. }
            | InvalidGrant { detail, .. }
            | InvalidScope { detail, .. }
            | InvalidRequest { detail, .. }
            | UnauthorizedClient { detail, .. }
            | UnsupportedGrantType { detail, .. }
            | AccessDenied { detail, .. }
            | RateLimited { detail, .. }
            | ServerError { detail, .. }
            | HttpError { detail, .. }
            | Network { detail, .. }
            | Timeout { detail, .. }
            | MalformedResponse { detail, .. }
            | ResponseTooLarge { detail, .. }
            | Config { detail, .. }
            | Store { detail, .. }
            | Internal { detail, .. } => f.write_str(detail),
        }
    }
}

impl std::error::Error for TokenwellError {}

/// A secret on its way to a binding. It crosses the FFI as a string but lands
/// in a foreign class that prints `[redacted]` (see `uniffi.toml`), so the
/// generated records never show it in `repr` / `toString`.
#[derive(Clone, PartialEq, Eq)]
pub struct Redacted(pub String);
uniffi::custom_newtype!(Redacted, String);

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A token and how long a binding may reuse it without asking the core again.
#[derive(Debug, Clone, uniffi::Record)]
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

impl From<crate::Lease> for CoreLease {
    fn from(l: crate::Lease) -> Self {
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

/// A clock moved by hand, for deterministic tests in every language.
#[derive(uniffi::Object)]
pub struct CoreClock(Arc<ManualClock>);

#[uniffi::export]
impl CoreClock {
    /// A clock at monotonic 0 and wall time `unix_ms`.
    #[uniffi::constructor]
    pub fn new(unix_ms: i64) -> Arc<Self> {
        Arc::new(CoreClock(Arc::new(ManualClock::new(unix_ms))))
    }
    /// Moves both clocks forward.
    pub fn advance(&self, ms: u64) {
        self.0.advance(ms)
    }
    /// Moves only the wall clock.
    pub fn shift_wall(&self, delta_ms: i64) {
        self.0.shift_wall(delta_ms)
    }
    /// Monotonic ms.
    pub fn now_ms(&self) -> u64 {
        crate::Clock::now_ms(&*self.0)
    }
    /// Wall-clock Unix ms.
    pub fn unix_ms(&self) -> i64 {
        crate::Clock::unix_ms(&*self.0)
    }
}

/// An in-process token store to share between clients.
#[derive(uniffi::Object)]
pub struct CoreStore(Arc<MemoryStore>);

#[uniffi::export]
impl CoreStore {
    /// An empty store.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(CoreStore(Arc::new(MemoryStore::new())))
    }
}

/// The core client, as Python and Kotlin see it.
#[derive(uniffi::Object)]
pub struct CoreClient {
    client: TokenClient,
}

#[uniffi::export]
impl CoreClient {
    /// Builds a client from the JSON config schema, with an optional manual clock
    /// and shared store. Fetches run on tokenwell's own tokio runtime of the
    /// current process (a forked child gets its own).
    #[uniffi::constructor]
    pub fn new(
        config_json: String,
        clock: Option<Arc<CoreClock>>,
        store: Option<Arc<CoreStore>>,
    ) -> Result<Arc<Self>, TokenwellError> {
        let config = TokenConfig::from_json(&config_json)?;
        let mut builder = TokenClient::builder(config);
        if let Some(clock) = clock {
            builder = builder.clock(clock.0.clone());
        }
        if let Some(store) = store {
            builder = builder.store(store.0.clone());
        }
        Ok(Arc::new(CoreClient {
            client: builder.build()?,
        }))
    }

    /// A valid token (async: a Python coroutine, a Kotlin suspend function).
    pub async fn lease(&self) -> Result<CoreLease, TokenwellError> {
        Ok(self.client.lease().await?.into())
    }

    /// A valid token, blocking the calling thread until it is there. A cache hit
    /// is ready at the first poll, so it returns without parking.
    pub fn lease_blocking(&self) -> Result<CoreLease, TokenwellError> {
        Ok(futures::executor::block_on(self.client.lease())?.into())
    }

    /// Drops the cached token if it is still `access_token`.
    pub fn invalidate(&self, access_token: String) -> bool {
        self.client.invalidate(&access_token)
    }

    /// Resolves once no fetch is in flight.
    pub async fn settle(&self) {
        self.client.settle().await
    }

    /// Blocks until no fetch is in flight.
    pub fn settle_blocking(&self) {
        futures::executor::block_on(self.client.settle())
    }

    /// A description without secrets, for `repr` / `toString`.
    pub fn describe(&self) -> String {
        self.client.describe()
    }
}
