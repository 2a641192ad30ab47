//! uniffi exports for the Python and Kotlin packages. Deliberately small: each
//! language wraps these in its own idiomatic, thin layer. Every decision (cache,
//! refresh, backoff) stays in [`TokenClient`]; the exported lease tells a binding
//! for how long it may memoise the answer.

use std::sync::Arc;

use futures::executor::block_on;

use super::events::{EventListener, ListenerSink, Lookups};
use super::foreign::{
    ForeignCredentialProvider, ForeignCredentials, ForeignStore, ForeignStoreAdapter,
};
use super::foreign_transport::{ForeignTransport, ForeignTransportAdapter};
use crate::fleet::Keys;
use crate::store::Store;
use crate::{Error, ManualClock, MemoryStore, TokenClient, TokenConfig};

// The records (lease, error, error table) are shared with the wasm exports.
pub use crate::records::{
    CoreLease, CoreStatus, ErrorKindRecord, EventKindRecord, MetricKindRecord, TokenwellError,
};

/// The core's error table: every kind with its stable code and whether it is a
/// credential error or retryable. Python and Kotlin derive their exception
/// classes' codes and flags from it.
#[uniffi::export]
pub fn error_kinds() -> Vec<ErrorKindRecord> {
    crate::records::error_kinds()
}

/// The core's event table: every event a listener receives (or, for `hit` and
/// `miss`, that the lookup counters count) with its fields.
#[uniffi::export]
pub fn event_kinds() -> Vec<EventKindRecord> {
    crate::records::event_kinds()
}

/// The core's metrics table: each binding builds its instruments from it.
#[uniffi::export]
pub fn metric_kinds() -> Vec<MetricKindRecord> {
    crate::records::metric_kinds()
}

/// Stops delivering events to every listener of this process, for good: a
/// binding calls it when its runtime shuts down (Python's `atexit`), since
/// calling into a finalising interpreter from another thread aborts it.
#[uniffi::export]
pub fn close_event_delivery() {
    super::events::close()
}

/// A clock moved by hand, for deterministic tests in every language.
#[derive(uniffi::Object)]
pub struct CoreClock(Arc<ManualClock>);

#[uniffi::export]
impl CoreClock {
    /// A clock at monotonic 0 and wall time `unix_ms`, else the core's default
    /// ([`ManualClock::DEFAULT_UNIX_MS`]).
    #[uniffi::constructor]
    pub fn new(unix_ms: Option<i64>) -> Arc<Self> {
        let unix_ms = unix_ms.unwrap_or(ManualClock::DEFAULT_UNIX_MS);
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

    /// An empty store whose time-to-live and locks run on a manual clock.
    #[uniffi::constructor]
    pub fn with_clock(clock: Arc<CoreClock>) -> Arc<Self> {
        Arc::new(CoreStore(Arc::new(MemoryStore::with_clock(
            clock.0.clone(),
        ))))
    }

    // The store's side of the fleet protocol, for the conformance vectors to
    // play another process (and an outage) against the clients (the wrappers
    // expose none of it).

    /// While `failing`, every call of the store fails ([`MemoryStore::set_failing`]).
    pub fn set_failing(&self, failing: bool) {
        self.0.set_failing(failing)
    }

    /// Takes `lock` for `owner` for `ttl_ms` if nobody holds it.
    pub fn try_lock(
        &self,
        lock: String,
        owner: String,
        ttl_ms: u64,
    ) -> Result<bool, TokenwellError> {
        Ok(block_on(self.0.try_lock(&lock, &owner, ttl_ms))?)
    }

    /// Releases `lock` if `owner` holds it.
    pub fn unlock(&self, lock: String, owner: String) -> Result<(), TokenwellError> {
        Ok(block_on(self.0.unlock(&lock, &owner))?)
    }

    /// Stores `record` under `key` for `ttl_ms`.
    pub fn put(&self, key: String, record: String, ttl_ms: u64) -> Result<(), TokenwellError> {
        Ok(block_on(self.0.put(&key, &record, ttl_ms))?)
    }
}

/// Where a client keeps its token and its lock in a shared store.
#[derive(uniffi::Record)]
pub struct CoreStoreKeys {
    /// The token record's key.
    pub token: String,
    /// The lock's key.
    pub lock: String,
}

/// The store keys of a client built from `config_json` ([`Keys::for_config`]).
#[uniffi::export]
pub fn store_keys(config_json: String) -> Result<CoreStoreKeys, TokenwellError> {
    let keys = Keys::for_config(&TokenConfig::from_json(&config_json)?)?;
    Ok(CoreStoreKeys {
        token: keys.token,
        lock: keys.lock,
    })
}

/// The first store given, of any kind.
fn any_store(
    store: Option<Arc<CoreStore>>,
    foreign_store: Option<Arc<dyn ForeignStore>>,
    queued_store: Option<QueuedStore>,
) -> Option<Arc<dyn Store>> {
    match (store, foreign_store, queued_store) {
        (Some(s), _, _) => Some(s.0.clone()),
        (None, Some(f), _) => Some(Arc::new(ForeignStoreAdapter::new(f))),
        (None, None, Some(q)) => Some(Arc::new(ForeignStoreAdapter::queued(
            q.store_id, q.has_lock,
        ))),
        (None, None, None) => None,
    }
}

/// A Python store run by Python threads (see [`CoreClient::with_queued_store`]).
#[derive(uniffi::Record)]
pub struct QueuedStore {
    /// How those threads find the store.
    pub store_id: u64,
    /// Whether it has `try_lock` and `unlock`.
    pub has_lock: bool,
}

/// Which transport a client sends with.
enum Transport {
    /// reqwest.
    BuiltIn,
    /// A Kotlin adapter, run on the store pool.
    Foreign(Arc<dyn ForeignTransport>),
    /// A Python adapter, run by the Python threads.
    Queued(u64),
}

/// The core client, as Python and Kotlin see it.
#[derive(uniffi::Object)]
pub struct CoreClient {
    client: TokenClient,
    /// The listener's sink, with the lookup counters.
    events: Option<Arc<ListenerSink>>,
}

impl CoreClient {
    fn build(
        config_json: &[u8],
        clock: Option<Arc<CoreClock>>,
        store: Option<Arc<dyn Store>>,
    ) -> Result<Arc<Self>, TokenwellError> {
        Self::build_with(config_json, clock, store, None, None, Transport::BuiltIn)
    }

    fn build_with(
        config_json: &[u8],
        clock: Option<Arc<CoreClock>>,
        store: Option<Arc<dyn Store>>,
        listener: Option<Arc<dyn EventListener>>,
        provider: Option<ForeignCredentials>,
        transport: Transport,
    ) -> Result<Arc<Self>, TokenwellError> {
        let text = std::str::from_utf8(config_json).map_err(|e| {
            Error::config(format!("config is not UTF-8 (byte {})", e.valid_up_to()))
        })?;
        let config = TokenConfig::from_json(text)?;
        let http = config.http.clone();
        let mut builder = TokenClient::builder(config);
        let clock: Arc<dyn crate::Clock> = match clock {
            Some(clock) => clock.0.clone(),
            None => Arc::new(crate::SystemClock),
        };
        builder = builder.clock(clock.clone());
        if let Some(store) = store {
            builder = builder.store(store);
        }
        if let Some(provider) = provider {
            builder = builder.credential_provider(provider);
        }
        match transport {
            Transport::BuiltIn => {}
            Transport::Foreign(t) => {
                let adapter = ForeignTransportAdapter::new(t, &http);
                builder = builder.transport(Arc::new(adapter));
            }
            Transport::Queued(id) => {
                let adapter = ForeignTransportAdapter::queued(id, &http);
                builder = builder.transport(Arc::new(adapter));
            }
        }
        let events = listener.map(|l| Arc::new(ListenerSink::new(l, clock)));
        if let Some(sink) = &events {
            builder = builder.on_event(sink.clone());
        }
        Ok(Arc::new(CoreClient {
            client: builder.build()?,
            events,
        }))
    }
}

#[uniffi::export]
impl CoreClient {
    /// Builds a client from the JSON config schema, as UTF-8 bytes borrowed for
    /// the call, with an optional manual clock and shared store. Fetches run on
    /// tokenwell's own tokio runtime of the current process (a forked child gets
    /// its own).
    ///
    /// Every constructor takes the config as bytes: a binding lowers them in
    /// place (Python: the `bytes` object's buffer; Kotlin: a direct
    /// `ByteBuffer`), where a string would cost it a second foreign call to
    /// allocate a buffer (on a cold JVM, most of a client's creation). Bytes that
    /// are not UTF-8 are a config error naming only the offset.
    #[uniffi::constructor]
    pub fn new(
        config_json: &[u8],
        clock: Option<Arc<CoreClock>>,
        store: Option<Arc<CoreStore>>,
    ) -> Result<Arc<Self>, TokenwellError> {
        let store = store.map(|s| -> Arc<dyn Store> { s.0.clone() });
        Self::build(config_json, clock, store)
    }

    /// Like [`CoreClient::new`] with neither clock nor store: the common case,
    /// in one foreign call (each optional argument costs the binding a buffer
    /// allocated across the FFI).
    #[uniffi::constructor]
    pub fn from_config(config_json: &[u8]) -> Result<Arc<Self>, TokenwellError> {
        Self::build(config_json, None, None)
    }

    /// Like [`CoreClient::new`], sharing tokens through a store implemented in
    /// Kotlin (see [`ForeignStore`]): it sees only hashed keys and
    /// sealed records, and its failures are cache misses.
    #[uniffi::constructor]
    pub fn with_foreign_store(
        config_json: &[u8],
        clock: Option<Arc<CoreClock>>,
        store: Arc<dyn ForeignStore>,
    ) -> Result<Arc<Self>, TokenwellError> {
        Self::build(
            config_json,
            clock,
            Some(Arc::new(ForeignStoreAdapter::new(store))),
        )
    }

    /// Like [`CoreClient::with_foreign_store`], for a Python store that
    /// Python threads run: they take its calls from
    /// [`super::foreign::next_store_call`] and find the store by `store_id`.
    /// `has_lock`: whether the store has `try_lock` and `unlock`.
    #[uniffi::constructor]
    pub fn with_queued_store(
        config_json: &[u8],
        clock: Option<Arc<CoreClock>>,
        store_id: u64,
        has_lock: bool,
    ) -> Result<Arc<Self>, TokenwellError> {
        Self::build(
            config_json,
            clock,
            Some(Arc::new(ForeignStoreAdapter::queued(store_id, has_lock))),
        )
    }

    /// Like [`CoreClient::new`], with a store of any kind (the first given) and an event
    /// listener (see [`EventListener`]): its events are queued and delivered on
    /// tokenwell's event thread; hits and misses are counted ([`CoreClient::lookups`]).
    #[uniffi::constructor]
    pub fn with_listener(
        config_json: &[u8],
        clock: Option<Arc<CoreClock>>,
        store: Option<Arc<CoreStore>>,
        foreign_store: Option<Arc<dyn ForeignStore>>,
        queued_store: Option<QueuedStore>,
        listener: Arc<dyn EventListener>,
    ) -> Result<Arc<Self>, TokenwellError> {
        let store = any_store(store, foreign_store, queued_store);
        Self::build_with(
            config_json,
            clock,
            store,
            Some(listener),
            None,
            Transport::BuiltIn,
        )
    }

    /// Like [`CoreClient::with_listener`] (the listener optional), with the
    /// application's own callbacks, each optional: a credential provider that
    /// gives the client secret (or private key) instead of the config, and a
    /// transport that sends through the application's HTTP client instead of
    /// the built-in one. Each is either a Kotlin object ([`ForeignCredentialProvider`],
    /// [`ForeignTransport`], run on the store pool) or the id of a Python one
    /// that the Python threads run (see [`super::foreign::next_store_call`]
    /// and [`super::foreign_transport`]).
    #[uniffi::constructor]
    #[allow(clippy::too_many_arguments)]
    pub fn with_callbacks(
        config_json: &[u8],
        clock: Option<Arc<CoreClock>>,
        store: Option<Arc<CoreStore>>,
        foreign_store: Option<Arc<dyn ForeignStore>>,
        queued_store: Option<QueuedStore>,
        listener: Option<Arc<dyn EventListener>>,
        provider: Option<Arc<dyn ForeignCredentialProvider>>,
        queued_provider: Option<u64>,
        transport: Option<Arc<dyn ForeignTransport>>,
        queued_transport: Option<u64>,
    ) -> Result<Arc<Self>, TokenwellError> {
        let store = any_store(store, foreign_store, queued_store);
        let provider = match (provider, queued_provider) {
            (Some(p), _) => Some(ForeignCredentials::new(p)),
            (None, Some(id)) => Some(ForeignCredentials::queued(id)),
            (None, None) => None,
        };
        let transport = match (transport, queued_transport) {
            (Some(t), _) => Transport::Foreign(t),
            (None, Some(id)) => Transport::Queued(id),
            (None, None) => Transport::BuiltIn,
        };
        Self::build_with(config_json, clock, store, listener, provider, transport)
    }

    /// The number its listener's events carry in
    /// [`super::events::next_events`] (0 without a listener).
    pub fn listener_id(&self) -> u64 {
        self.events.as_ref().map_or(0, |sink| sink.id())
    }

    /// The client's name in metrics and traces (config `name`, else the provider).
    pub fn name(&self) -> String {
        self.client.name().to_owned()
    }

    /// The token endpoint's host, for spans.
    pub fn server_address(&self) -> String {
        self.client.server_address()
    }

    /// The client's health, without I/O.
    pub fn status(&self) -> CoreStatus {
        self.client.status().into()
    }

    /// The lookup counters (zero without a listener).
    pub fn lookups(&self) -> Lookups {
        self.events
            .as_ref()
            .map(|sink| sink.lookups())
            .unwrap_or_default()
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

    /// Resolves once no fetch is in flight and earlier invalidations have left the store.
    pub async fn settle(&self) {
        self.client.settle().await
    }

    /// Blocks until no fetch is in flight and earlier invalidations have left the store.
    pub fn settle_blocking(&self) {
        futures::executor::block_on(self.client.settle())
    }

    /// A description without secrets, for `repr` / `toString`.
    pub fn describe(&self) -> String {
        self.client.describe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    const CONFIG: &str = r#"{"provider":"deliveroo","environment":"sandbox","client_id":"id-1","client_secret":"s3cr3t-value"}"#;

    fn kind(e: TokenwellError) -> (ErrorKind, String) {
        let TokenwellError::Failure { kind, summary, .. } = e;
        (kind, summary)
    }

    #[test]
    fn every_constructor_builds_the_same_client_and_refuses_alike() {
        let one = CoreClient::from_config(CONFIG.as_bytes()).unwrap();
        let general = CoreClient::new(CONFIG.as_bytes(), None, None).unwrap();
        assert_eq!(one.describe(), general.describe());
        assert!(one.describe().contains("id-1"));

        let bad = r#"{"provider":"deliveroo","client_id":"id-1","client_secret":"s3cr3t-value","nope":1}"#;
        let (by_one, by_general) = (
            kind(CoreClient::from_config(bad.as_bytes()).err().unwrap()),
            kind(CoreClient::new(bad.as_bytes(), None, None).err().unwrap()),
        );
        assert_eq!(by_one, by_general);
        assert_eq!(by_one.0, ErrorKind::Config);
    }

    #[test]
    fn bytes_that_are_not_utf8_are_a_config_error_without_the_bytes() {
        let mut bytes = CONFIG.as_bytes().to_vec();
        let at = CONFIG.find("s3cr3t").unwrap();
        bytes[at + 2] = 0xff; // inside the secret
        let (kind, summary) = kind(CoreClient::new(&bytes, None, None).err().unwrap());
        assert_eq!(kind, ErrorKind::Config);
        assert!(summary.contains("not UTF-8"), "{summary}");
        assert!(!summary.contains("s3c"), "{summary}");
    }
}
