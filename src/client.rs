//! `TokenClient`: the cache and single-flight around one client's token.
//!
//! State is one small mutex-guarded struct; the lock is never held across an
//! await. A cache hit is one uncontended lock, two comparisons and an `Arc`
//! clone. Fetches run as spawned tasks shared by every waiter (`Shared`), so a
//! cancelled caller strands nobody and refresh-ahead needs no caller at all.

mod shared;

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard, TryLockError, Weak};

use futures::future::{FutureExt, Shared};

use crate::clock::{Clock, SystemClock};
use crate::config::TokenConfig;
use crate::credential::Snapshot;
#[cfg(not(target_arch = "wasm32"))]
use crate::credential::{CredentialProvider, Found, Rotation};
use crate::discovery::Discovery;
use crate::error::{Error, ErrorKind, Result};
use crate::events::{Event, EventSink, FetchReason};
use crate::expiry::{Backoff, Deadlines};
use crate::fleet::{self, Timings};
use crate::platform::{self, Host, Platform};
use crate::profile::Profile;
use crate::redact::Redactor;
use crate::runtime::{BoxFuture, Published, Spawn};
use crate::secret::Secret;
use crate::status::{Health, Status, StoreHealth};
use crate::store::{CacheKey, Store, StoredToken};
use crate::token::AccessToken;
use crate::transport::Transport;
use crate::{request, response};
use shared::SharedStore;

type Fetch = Shared<BoxFuture<'static, Result<AccessToken>>>;

/// Gets and caches the tokens of one client. Cheap to clone: clones share the
/// cache. Build it with [`TokenClient::new`] or [`TokenClient::builder`].
#[derive(Clone)]
pub struct TokenClient {
    inner: Arc<Inner>,
}

struct Inner {
    /// Shared with other clients whose profile is equal (see [`share`]).
    profile: Arc<Profile>,
    /// The configured name, if any (see [`TokenClient::name`]).
    name: Option<Box<str>>,
    /// The credentials the client was built with (its client id never changes).
    initial: Arc<Snapshot>,
    /// Where a secret that may change comes from (a file, a provider), with
    /// the one in use; `None` when the config's is the only one (always in
    /// WebAssembly: no files there, and a JS provider lives in the JS wrapper).
    #[cfg(not(target_arch = "wasm32"))]
    rotation: Option<Box<Rotation>>,
    transport: Arc<dyn Transport>,
    clock: Arc<dyn Clock>,
    spawner: Arc<dyn Spawn>,
    /// Where the token endpoint comes from when the config names an issuer.
    discovery: Option<Arc<Discovery>>,
    /// The shared store and its protocol state, if any (boxed: most clients
    /// have none, and inline it would be an eighth of every client).
    shared: Option<Box<SharedStore>>,
    /// Fraction of the lifetime by which this process draws its refresh point early.
    refresh_jitter: f64,
    events: Option<Arc<dyn EventSink>>,
    state: Mutex<State>,
    /// `state.current`, published for the hit path to read without the lock
    /// (threads calling at once never wait on each other for a hit). Written
    /// only under the lock, right after `state.current` changes.
    current: Published<Cached>,
}

#[derive(Default)]
struct State {
    current: Option<Cached>,
    /// The fetch in flight, with the spawner generation it was started under.
    inflight: Option<(u64, Fetch)>,
    backoff: Backoff,
    last_error: Option<Error>,
    /// When `last_error` happened, Unix ms.
    last_error_unix_ms: i64,
    /// Numbers the fetches, for the events (and so the bindings' traces).
    fetch_seq: u64,
    /// `invalidate` dropped the token: the next fetch runs `After401`.
    invalidated: bool,
    /// The token last dropped by `invalidate`, never to be adopted from the store.
    revoked: Option<Secret>,
    /// That token's cache entry: served again while usable if the request
    /// budget is spent (a fresh request would not be sent).
    spare: Option<Cached>,
    /// The token requests this process sent in the last hour (the budget's
    /// own count; see [`crate::budget`]).
    requests: crate::budget::Window,
    /// The store removals `invalidate` started, each with the spawner generation it
    /// was started under (`settle` waits for them).
    removals: Vec<(u64, Removal)>,
}

/// A background store removal: its task, driven by the spawner and awaited by
/// `settle`.
type Removal = Shared<BoxFuture<'static, ()>>;

enum Decision {
    Ready(Lease),
    Wait(Fetch),
}

#[derive(Clone)]
struct Cached {
    token: AccessToken,
    deadlines: Deadlines,
}

/// A token plus how long the caller may keep using it without asking again.
///
/// # The memo protocol
///
/// Python, Kotlin and JS skip the foreign call on a cache hit by memoising the
/// lease; the decision stays the core's. Each binding implements the same rule
/// in one private class named `LeaseMemo`, with the same
/// fields (`now`, the clock; `epoch`; `entry`: deadline, token, header) and
/// methods (`hit(now)`, `begin()` → the instant and the epoch, `remember(begun,
/// token, reuse_for_ms)`, `invalidate()`):
///
/// 1. **Reuse counts from before the call.** Read the clock, then ask the core;
///    keep the lease until `read + reuse_for_ms`, never from after the answer.
/// 2. **The memo's clock is the core's clock, or one proven never slower.**
///    With a manual clock, that very clock; otherwise the same monotonic source
///    as the core's (natively `std::time::Instant`: `CLOCK_MONOTONIC` on Linux,
///    read by Python's `time.monotonic` and the JVM's `System.nanoTime`; in wasm
///    `Math.floor(performance.now())`, which JS reads too), so it advances
///    exactly as fast. The core has already taken off its own clock's truncation
///    ([`Clock::truncation_ms`]), so the memo can never outlive the core's
///    answer. A memo on float seconds (Python) shortens each deadline by more
///    than its rounding; a runtime without such a clock (JS without
///    `performance`, where the core falls back to a clamped `Date.now()`)
///    memoises nothing.
/// 3. **`invalidate` bumps an epoch.** A lease asked for in an earlier epoch
///    (before an `invalidate` that raced it) is returned to its caller but not
///    memoised. With threads, the binding bumps it both before and after the
///    core's `invalidate`.
/// 4. **`reuse_for_ms` = 0 is not memoised** (a fetch, refresh-ahead, backoff).
///
/// The vector `memo-never-outlives-the-lease` checks the rule in every language.
#[derive(Clone, Debug)]
pub struct Lease {
    /// The token.
    pub token: AccessToken,
    /// Milliseconds (on the client's clock, from any instant read before the
    /// call) during which asking again would return this same token without side
    /// effects; at most [`MAX_REUSE_MS`]. 0 when the next call must ask.
    pub reuse_for_ms: u64,
}

/// The longest a binding may memoise a lease (a day): keeps deadlines far from
/// overflow in every language's clock arithmetic.
pub const MAX_REUSE_MS: u64 = 24 * 3600 * 1000;

/// Configures a [`TokenClient`] beyond its [`TokenConfig`]: the injectable parts.
pub struct Builder {
    config: TokenConfig,
    transport: Option<Arc<dyn Transport>>,
    clock: Option<Arc<dyn Clock>>,
    spawner: Option<Arc<dyn Spawn>>,
    store: Option<Arc<dyn Store>>,
    events: Option<Arc<dyn EventSink>>,
    #[cfg(not(target_arch = "wasm32"))]
    provider: Option<Arc<dyn CredentialProvider>>,
    /// WebAssembly: the JS wrapper's credential provider gives the secret (or
    /// key), by building another client with it; this one has none.
    #[cfg(target_arch = "wasm32")]
    provider: bool,
}

impl Builder {
    /// Replaces the HTTP transport (default: reqwest natively, `fetch` in wasm).
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Replaces the clock (default: the system's).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Replaces how background fetches are spawned (default: tokio natively,
    /// the JS microtask queue in wasm). `spawn` must not poll the task inline.
    pub fn spawner(mut self, spawner: Arc<dyn Spawn>) -> Self {
        self.spawner = Some(spawner);
        self
    }

    /// Shares tokens through `store` (e.g. one [`crate::MemoryStore`] for many clients).
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// Receives [`Event`]s for metrics.
    pub fn on_event(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.events = Some(sink);
        self
    }

    /// Takes the client secret (with `private_key_jwt`, the private key's
    /// PEM) from `provider` instead of the config: asked once per token fetch,
    /// never on a cache hit. A new secret acts as a new client (the cached
    /// token is dropped; the cache key follows it); a failing provider keeps
    /// the last good secret. Any `Fn() -> Result<Secret>` is a provider.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn credential_provider(mut self, provider: impl CredentialProvider + 'static) -> Self {
        self.provider = Some(Arc::new(provider));
        self
    }

    /// [`Builder::credential_provider`] for a provider already shared.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn credential_provider_arc(mut self, provider: Arc<dyn CredentialProvider>) -> Self {
        self.provider = Some(provider);
        self
    }

    /// A client for the JS wrapper's credential provider before it has
    /// answered: the config gives no secret (nor, with `private_key_jwt`, key),
    /// and the wrapper asks for no token until it builds one that does (see
    /// [`Profile::place_provided`]).
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn provider_in_wrapper(mut self) -> Self {
        self.provider = true;
        self
    }

    /// Validates the config and builds the client.
    // One `Arc` for both targets: single-threaded wasm pays an atomic, not a second code path.
    #[cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]
    pub fn build(self) -> Result<TokenClient> {
        #[cfg(not(target_arch = "wasm32"))]
        let provider = self.provider;
        #[cfg(target_arch = "wasm32")]
        let provider = self.provider.then_some(());
        let (profile, creds, good) = Profile::resolve_with(&self.config, provider.is_some())?;
        let initial = Arc::new(Snapshot::new(creds, good));
        #[cfg(not(target_arch = "wasm32"))]
        let rotation = Rotation::new(&self.config, provider, &initial);
        let transport = match self.transport {
            Some(t) => t,
            #[cfg(target_arch = "wasm32")]
            None if profile.credentials.is_mtls() => return Err(crate::mtls::needs_fetch()),
            None => Host::default_transport(&profile.http)?,
        };
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let spawner = match self.spawner {
            Some(s) => s,
            None => Host::default_spawner()?,
        };
        let options = self.config.store.clone().unwrap_or_default();
        let store = match (self.store, &options.redis_url) {
            // A token minted locally is never shared: each process mints its own.
            _ if profile.mints_locally() => None,
            (Some(store), _) => Some(store),
            (None, Some(url)) => Some(Host::redis_store(&options, url)?),
            (None, None) => None,
        };
        // Jitter spreads a fleet's refreshes; alone, refresh exactly on time.
        let default_jitter = if store.is_some() {
            fleet::DEFAULT_REFRESH_JITTER
        } else {
            0.0
        };
        let refresh_jitter = profile
            .policy
            .refresh_jitter_ratio
            .unwrap_or(default_jitter);
        let shared = store.map(|store| {
            let prefix = fleet::key_prefix(&options);
            Box::new(SharedStore::new(
                store,
                prefix.into(),
                Timings::new(&profile.http, &options),
            ))
        });
        let discovery = profile.issuer.clone().map(|issuer| {
            Arc::new(Discovery::new(
                issuer,
                profile.discovery_ttl_secs,
                profile.credentials,
                transport.clone(),
                clock.clone(),
                spawner.clone(),
            ))
        });
        Ok(TokenClient {
            inner: Arc::new(Inner {
                profile: share(profile),
                name: self.config.name.clone().map(String::into_boxed_str),
                initial,
                #[cfg(not(target_arch = "wasm32"))]
                rotation,
                transport,
                clock,
                spawner,
                discovery,
                shared,
                refresh_jitter,
                events: self.events,
                state: Mutex::new(State::default()),
                current: Published::empty(),
            }),
        })
    }
}

/// The profile of the last client built: the next client with an equal profile
/// shares it (a thousand tenants of one provider differ only in their
/// credentials, and the profile is most of a client's size). Weak: it goes
/// with the last client holding it.
static LAST_PROFILE: Mutex<Option<Weak<Profile>>> = Mutex::new(None);

fn share(profile: Profile) -> Arc<Profile> {
    // Never waits: a lock held elsewhere (or by a thread a fork left behind)
    // costs this client only the sharing.
    let mut last = match LAST_PROFILE.try_lock() {
        Ok(last) => last,
        Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        Err(TryLockError::WouldBlock) => return Arc::new(profile),
    };
    if let Some(shared) = last.as_ref().and_then(Weak::upgrade) {
        if *shared == profile {
            return shared;
        }
    }
    let profile = Arc::new(profile);
    *last = Some(Arc::downgrade(&profile));
    profile
}

// Deadlines and clocks hold anything a server, a store or a clock handed over:
// every integer operation on them is checked or saturating.
#[deny(clippy::arithmetic_side_effects)]
impl TokenClient {
    /// A client with the default transport, clock and spawner.
    pub fn new(config: TokenConfig) -> Result<Self> {
        Self::builder(config).build()
    }

    /// A builder for injecting a transport, clock, spawner, store or event sink.
    pub fn builder(config: TokenConfig) -> Builder {
        Builder {
            config,
            transport: None,
            clock: None,
            spawner: None,
            store: None,
            events: None,
            #[cfg(not(target_arch = "wasm32"))]
            provider: None,
            #[cfg(target_arch = "wasm32")]
            provider: false,
        }
    }

    /// A valid token: the cached one if fresh, else one shared fetch for all
    /// concurrent callers.
    pub async fn token(&self) -> Result<AccessToken> {
        self.lease().await.map(|lease| lease.token)
    }

    /// The `Authorization` header value for a valid token, e.g. `Bearer eyJ…`.
    pub async fn authorization_header(&self) -> Result<String> {
        Ok(self.token().await?.authorization_header().to_owned())
    }

    /// Lends the cached token to `f` if it is fresh, without a lock or a
    /// reference count: threads on many cores never touch a shared cache line.
    /// `None` when [`TokenClient::token`] would fetch or refresh; call that then.
    /// WebAssembly always answers `None` (one thread: `token` never contends).
    ///
    /// ```no_run
    /// # async fn f(client: &tokenwell::TokenClient) -> tokenwell::Result<()> {
    /// let header = match client.peek(|t| t.authorization_header().to_owned()) {
    ///     Some(header) => header,
    ///     None => client.authorization_header().await?,
    /// };
    /// # Ok(()) }
    /// ```
    pub fn peek<R>(&self, f: impl FnOnce(&AccessToken) -> R) -> Option<R> {
        let inner = &self.inner;
        let now = inner.clock.now_ms();
        let current = inner.current.load();
        let fresh = current
            .as_deref()
            .filter(|c| now < c.deadlines.refresh_at)?;
        let answer = f(&fresh.token);
        inner.emit(|| Event::Hit { stale: false });
        Some(answer)
    }

    /// Like [`TokenClient::token`], plus how long the answer stays the same.
    pub async fn lease(&self) -> Result<Lease> {
        match self.decide() {
            Decision::Ready(lease) => Ok(lease),
            Decision::Wait(fetch) => fetch.await.map(|token| Lease {
                token,
                reuse_for_ms: 0,
            }),
        }
    }

    /// The synchronous part of every call: a hit, or the fetch to wait for. The
    /// lock is taken once and released before anything is spawned or awaited.
    fn decide(&self) -> Decision {
        let inner = &self.inner;
        let now = inner.clock.now_ms();
        // A hit reads the published token, lock-free.
        if let Some(lease) = inner
            .current
            .load()
            .as_deref()
            .and_then(|c| inner.hit(c, now))
        {
            inner.emit(|| Event::Hit { stale: false });
            return Decision::Ready(lease);
        }
        let mut st = inner.lock();
        if let Some(c) = &st.current {
            // Fresh after all: published between the read above and the lock.
            if let Some(lease) = inner.hit(c, now) {
                drop(st);
                inner.emit(|| Event::Hit { stale: false });
                return Decision::Ready(lease);
            }
            if now < c.deadlines.usable_until {
                // Refresh ahead: one background fetch, and this caller goes on.
                let token = c.token.clone();
                let start = inner.live_inflight(&mut st).is_none() && st.backoff.allows(now);
                let started = start.then(|| self.begin_fetch(&mut st, FetchReason::Refresh));
                drop(st);
                if let Some((_, driver, fetch_id)) = started {
                    // Announced before the task can end it, on this caller's thread.
                    inner.emit(|| Event::FetchStarted {
                        fetch_id,
                        reason: FetchReason::Refresh,
                    });
                    inner.emit(|| Event::RefreshStarted { fetch_id });
                    inner.spawner.spawn(driver);
                }
                inner.emit(|| Event::Hit { stale: true });
                return Decision::Ready(Lease {
                    token,
                    reuse_for_ms: 0,
                });
            }
        }
        // Nothing usable: join the fetch in flight, or start one.
        if let Some(fetch) = inner.live_inflight(&mut st) {
            let fetch = fetch.clone();
            drop(st);
            inner.emit(|| Event::Miss);
            return Decision::Wait(fetch);
        }
        if let (false, Some(err)) = (st.backoff.allows(now), &st.last_error) {
            // Within the backoff the last error stands; past it, it is forgotten.
            // A spent budget's wait is counted down (it is ours to know).
            let mut err = err.clone();
            if crate::budget::is_spent(&err) {
                err = err.with_retry_after_ms(Some(st.backoff.until().saturating_sub(now).max(1)));
            }
            drop(st);
            inner.emit(|| Event::Miss);
            let ready: BoxFuture<'static, Result<AccessToken>> =
                Box::pin(futures::future::ready(Err(err)));
            return Decision::Wait(ready.shared());
        }
        let reason = if st.invalidated {
            FetchReason::After401
        } else if st.current.is_some() {
            FetchReason::Expired
        } else {
            FetchReason::First
        };
        let (fetch, driver, fetch_id) = self.begin_fetch(&mut st, reason);
        drop(st);
        inner.emit(|| Event::Miss);
        inner.emit(|| Event::FetchStarted { fetch_id, reason });
        inner.spawner.spawn(driver);
        Decision::Wait(fetch)
    }

    /// The client's health, without I/O (see [`Status`]): for readiness
    /// probes, health indicators and dashboards; never for liveness.
    ///
    /// ```no_run
    /// # fn ready(client: &tokenwell::TokenClient) -> (u16, String) {
    /// let status = client.status();
    /// // Unhealthy only without a usable token after a failed fetch.
    /// let code = if status.health.is_healthy() { 200 } else { 503 };
    /// (code, status.health.code().to_owned())
    /// # }
    /// ```
    pub fn status(&self) -> Status {
        let inner = &self.inner;
        let now = inner.clock.now_ms();
        let mut st = inner.lock();
        let held = st.current.as_ref().map(|c| c.deadlines);
        let token_usable = held.is_some_and(|d| now < d.usable_until);
        let last_error = st.last_error.clone().map(|e| (e, st.last_error_unix_ms));
        let backoff_ms = (!st.backoff.allows(now)).then(|| st.backoff.until().saturating_sub(now));
        let fetching = inner.live_inflight(&mut st).is_some();
        drop(st);
        let store = inner.shared.as_ref().map(|shared| {
            let (breaker, open_for_ms) = shared.breaker_state(now);
            StoreHealth {
                breaker,
                open_for_ms,
            }
        });
        Status {
            health: Health::of(token_usable, last_error.is_some()),
            token_usable,
            token_expires_in_ms: held.map(|d| d.expires_at.saturating_sub(now)),
            last_error,
            backoff_ms,
            fetching,
            store,
        }
    }

    /// Drops the cached token if it is still `access_token` (say the API answered
    /// 401 with it). A newer token is kept. Returns whether something was dropped.
    pub fn invalidate(&self, access_token: &str) -> bool {
        let mut st = self.inner.lock();
        let matches = st
            .current
            .as_ref()
            .is_some_and(|c| c.token.secret() == access_token);
        if !matches {
            return false;
        }
        let spare = st.current.take();
        let dropped = spare.as_ref().map(|c| c.token.as_secret().clone());
        st.spare = spare;
        self.inner.current.store(None);
        st.invalidated = true;
        st.revoked = dropped.clone();
        let removal = dropped
            .filter(|_| self.inner.shared.is_some())
            .map(|token| {
                let inner = self.inner.clone();
                let task: BoxFuture<'static, ()> = Box::pin(async move {
                    if let Some(shared) = &inner.shared {
                        // A panicking user store must not reach `settle`'s caller.
                        let remove = inner.remove_shared(shared, token.expose());
                        let _ = AssertUnwindSafe(remove).catch_unwind().await;
                    }
                });
                let removal = task.shared();
                self.inner.prune_removals(&mut st);
                st.removals
                    .push((self.inner.spawner.generation(), removal.clone()));
                removal
            });
        drop(st);
        if let Some(removal) = removal {
            self.inner.spawner.spawn(Box::pin(removal));
        }
        true
    }

    /// Resolves once no fetch is in flight and the store removals of earlier
    /// `invalidate` calls are done (for tests and graceful shutdown).
    pub async fn settle(&self) {
        let (fetch, removals) = {
            let mut st = self.inner.lock();
            let fetch = self.inner.live_inflight(&mut st).cloned();
            self.inner.prune_removals(&mut st);
            let removals: Vec<Removal> = st.removals.iter().map(|(_, r)| r.clone()).collect();
            (fetch, removals)
        };
        if let Some(fetch) = fetch {
            let _ = fetch.await;
        }
        for removal in removals {
            removal.await;
        }
    }

    /// The key this client's token is cached under (it follows a rotated secret).
    pub fn cache_key(&self) -> CacheKey {
        self.inner.key()
    }

    test_hook! {
        /// Test-only: `stat` calls made on `client_secret_file` so far (none on
        /// a cache hit, at most one per fetch).
        fn credential_file_stats(&self) -> u64 {
            #[cfg(not(target_arch = "wasm32"))]
            return self.inner.rotation.as_ref().map_or(0, |r| r.stats());
            #[cfg(target_arch = "wasm32")]
            0
        }
    }

    test_hook! {
        /// Test-only: the resolved profile (token URL, encoding, policy…).
        fn profile(&self) -> &Profile {
            &self.inner.profile
        }
    }

    /// This client's name in metrics, traces and health checks: the config's
    /// `name`, else the provider's.
    pub fn name(&self) -> &str {
        self.inner
            .name
            .as_deref()
            .unwrap_or_else(|| self.inner.profile.provider.name())
    }

    /// The token endpoint's host (`server.address` of the bindings' spans).
    pub fn server_address(&self) -> String {
        Host::parse_url(&self.inner.profile.token_url)
            .map(|url| url.host)
            .unwrap_or_default()
    }

    /// The error of a fetch whose credential provider failed before it ever
    /// gave a secret (or key); `why` says how it failed, without the secret.
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn no_secret_yet(&self, why: &str) -> Error {
        crate::credential::no_secret_yet(&self.inner.initial.creds, why)
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.inner.initial.creds.client_id
    }

    /// One line for `repr` / `toString` / `inspect` in every language: provider,
    /// token URL (or issuer) and client id; the secret is never shown.
    pub fn describe(&self) -> String {
        let url_key = match self.inner.profile.issuer {
            Some(_) => "issuer",
            None => "token_url",
        };
        format!(
            "provider={}, {url_key}={}, client_id={}, client_secret=[redacted]",
            self.inner.profile.provider.name(),
            crate::redact::display_url(&self.inner.profile.token_url),
            self.inner.initial.creds.client_id
        )
    }

    /// The clock this client reads (bindings memoise leases against it).
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// Registers a fetch as in flight; returns it, the task that drives it (to
    /// be spawned once the lock is released) and its id.
    fn begin_fetch(
        &self,
        st: &mut State,
        reason: FetchReason,
    ) -> (Fetch, BoxFuture<'static, ()>, u64) {
        st.fetch_seq = st.fetch_seq.saturating_add(1);
        st.invalidated = false;
        let fetch_id = st.fetch_seq;
        let inner = self.inner.clone();
        let fetch: BoxFuture<'static, Result<AccessToken>> =
            Box::pin(async move { inner.fetch(fetch_id, reason).await });
        let shared = fetch.shared();
        st.inflight = Some((self.inner.spawner.generation(), shared.clone()));
        let driver = shared.clone();
        let task = Box::pin(async move {
            let _ = driver.await;
        });
        (shared, task, fetch_id)
    }
}

#[deny(clippy::arithmetic_side_effects)]
impl Inner {
    /// Scrubs the secret, in every form, from errors before they leave. Built
    /// per failure: it is the largest part of a client (every form and fragment
    /// of the secret) and a client that never fails never needs it.
    fn redactor(&self) -> Redactor {
        let creds = &self.snapshot().creds;
        Redactor::new(&creds.client_id, creds.client_secret.expose())
    }

    /// The secret in use, with its derived keys.
    #[cfg(target_arch = "wasm32")]
    fn snapshot(&self) -> Arc<Snapshot> {
        self.initial.clone()
    }

    /// The secret in use, with its derived keys.
    #[cfg(not(target_arch = "wasm32"))]
    fn snapshot(&self) -> Arc<Snapshot> {
        match &self.rotation {
            Some(rotation) => rotation.current(),
            None => self.initial.clone(),
        }
    }

    /// The key this client's token is cached under.
    fn key(&self) -> CacheKey {
        self.snapshot().key(&self.profile).clone()
    }

    /// The secret for a fetch: the rotating source consulted (`reread`: the
    /// file read even if it looks unchanged), a new secret taken on (the
    /// cached token dropped), a failure warned about and the last good secret
    /// kept, or, with none ever, the fetch's error.
    #[cfg(not(target_arch = "wasm32"))]
    async fn credential(&self, reread: bool) -> Result<Arc<Snapshot>> {
        let current = self.snapshot();
        let Some(rotation) = &self.rotation else {
            return Ok(current);
        };
        match rotation.check(&self.profile, &current, reread).await {
            Found::Same => Ok(current),
            Found::New(creds) => {
                let next = Arc::new(Snapshot::new(creds, true));
                rotation.replace(next.clone());
                self.drop_token();
                Ok(next)
            }
            Found::Failed(failure) => {
                let failure = failure.redacted(&self.redactor());
                if !current.good {
                    return Err(crate::credential::no_secret_yet(&current.creds, failure));
                }
                log::warn!("tokenwell: {failure}; keeping the last good secret");
                Ok(current)
            }
        }
    }

    /// Forgets the cached token (the secret it was fetched with is gone).
    #[cfg(not(target_arch = "wasm32"))]
    fn drop_token(&self) {
        let mut st = self.lock();
        st.current = None;
        self.current.store(None);
    }

    /// The lease for `c` if it is fresh at `now` (before its refresh point).
    fn hit(&self, c: &Cached, now: u64) -> Option<Lease> {
        (now < c.deadlines.refresh_at).then(|| Lease {
            token: c.token.clone(),
            reuse_for_ms: c
                .deadlines
                .refresh_at
                .saturating_sub(now)
                .saturating_sub(self.clock.truncation_ms())
                .min(MAX_REUSE_MS),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent at every await-free step: a poisoned lock
        // (a panicking event sink elsewhere) is safe to keep using.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The fetch in flight, unless it was started before a fork: its task stayed
    /// with the parent's runtime and will never finish here, so it is dropped.
    fn live_inflight<'a>(&self, st: &'a mut State) -> Option<&'a Fetch> {
        if st
            .inflight
            .as_ref()
            .is_some_and(|(generation, _)| *generation != self.spawner.generation())
        {
            st.inflight = None;
        }
        st.inflight.as_ref().map(|(_, fetch)| fetch)
    }

    /// Drops the removals that ended (their driver ran them to the end) and those
    /// started before a fork: their tasks stayed with the parent's runtime.
    fn prune_removals(&self, st: &mut State) {
        let generation = self.spawner.generation();
        st.removals
            .retain(|(g, r)| *g == generation && r.peek().is_none());
    }

    fn emit(&self, event: impl FnOnce() -> Event) {
        if let Some(sink) = &self.events {
            sink.on_event(&event());
        }
    }

    /// One fetch: store first, then the endpoint; records the outcome.
    async fn fetch(&self, fetch_id: u64, reason: FetchReason) -> Result<AccessToken> {
        let began = self.clock.now_ms();
        // A panic (a bug here, or in a user-supplied store or transport) must not
        // leave the fetch in flight forever: it becomes an error for every waiter.
        let result = AssertUnwindSafe(self.fetch_once(fetch_id))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| Err(Error::new(ErrorKind::Internal, "the token fetch panicked")))
            .map_err(|e| e.redacted(&self.redactor()));
        let now = self.clock.now_ms();
        let latency_ms = now.saturating_sub(began);
        let mut st = self.lock();
        st.inflight = None;
        let mut failed_with_delay = None;
        let event = match &result {
            Ok((cached, from_store, status)) => {
                st.current = Some(cached.clone());
                self.current.store(Some(Arc::new(cached.clone())));
                st.backoff.reset();
                st.last_error = None;
                Event::Fetched {
                    fetch_id,
                    reason: if *from_store {
                        FetchReason::Adopted
                    } else {
                        reason
                    },
                    lifetime_ms: cached.deadlines.expires_at.saturating_sub(now),
                    from_store: *from_store,
                    latency_ms,
                    status: *status,
                }
            }
            Err(e) => {
                // Fresh OS randomness: forked workers must not back off in step.
                let random = platform::random_unit();
                let delay = st
                    .backoff
                    .fail(&self.profile.policy, now, e.retry_after_ms(), random);
                st.last_error = Some(e.clone());
                st.last_error_unix_ms = self.clock.unix_ms();
                let usable = st
                    .current
                    .as_ref()
                    .filter(|c| now < c.deadlines.usable_until);
                failed_with_delay = Some(delay);
                match usable {
                    Some(c) if reason == FetchReason::Refresh => Event::RefreshFailed {
                        fetch_id,
                        error: e.clone(),
                        latency_ms,
                        lifetime_ms: c.deadlines.expires_at.saturating_sub(now),
                    },
                    _ => Event::FetchFailed {
                        fetch_id,
                        reason,
                        error: e.clone(),
                        latency_ms,
                    },
                }
            }
        };
        drop(st);
        // Logged after the lock is released: a foreign log handler may itself
        // call this client.
        if let (Some(delay), Err(e)) = (failed_with_delay, &result) {
            log::warn!("tokenwell: token fetch failed ({e}); next attempt in {delay} ms");
        }
        self.emit(|| event);
        result.map(|(cached, _, _)| cached.token)
    }

    /// The token, whether it came from the store, and the endpoint's status.
    async fn fetch_once(&self, fetch_id: u64) -> Result<(Cached, bool, Option<u16>)> {
        #[cfg(not(target_arch = "wasm32"))]
        let snapshot = self.credential(false).await?;
        #[cfg(target_arch = "wasm32")]
        let snapshot = self.initial.clone();
        if let Some(minter) = &snapshot.creds.minter {
            // Minted locally: no request, so nothing spent from the budget.
            return Ok((self.mint(minter), false, None));
        }
        let result = match &self.shared {
            Some(shared) => self.fetch_shared(shared, snapshot, fetch_id).await,
            None => self
                .fetch_endpoint(snapshot)
                .await
                .map(|fetched| (fetched.cached, false, Some(fetched.status))),
        };
        match result {
            Err(e) if crate::budget::is_spent(&e) => {
                self.spare().map(|c| (c, false, None)).ok_or(e)
            }
            other => other,
        }
    }

    /// [`Inner::spend_budget`], boxed behind a call that is never inlined: its
    /// state (a store call) stays out of every fetch's state machine, which
    /// in WebAssembly would carry a copy of it.
    #[inline(never)]
    fn budget_check<'a>(&'a self, snapshot: &'a Snapshot) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.spend_budget(snapshot))
    }

    /// With the request budget spent: the token `invalidate` dropped, if still
    /// usable (better than failing while a token is valid).
    fn spare(&self) -> Option<Cached> {
        let now = self.clock.now_ms();
        self.lock()
            .spare
            .take()
            .filter(|c| now < c.deadlines.usable_until)
    }

    /// The token endpoint asked with `snapshot`'s secret; on `invalid_client`
    /// with a rotating secret, the source is read again and, only if it gives
    /// another secret, asked once more with that one.
    #[cfg(not(target_arch = "wasm32"))]
    async fn fetch_endpoint(&self, mut snapshot: Arc<Snapshot>) -> Result<Fetched> {
        let mut may_retry = self.rotation.is_some();
        loop {
            match self.request_token(snapshot.clone()).await {
                Err(e) if may_retry && e.kind() == ErrorKind::InvalidClient => {
                    may_retry = false;
                    match self.credential(true).await {
                        Ok(next) if !Arc::ptr_eq(&next, &snapshot) => snapshot = next,
                        _ => return Err(e),
                    }
                }
                other => return other,
            }
        }
    }

    /// The token endpoint asked with `snapshot`'s secret (WebAssembly: a
    /// secret that never changes).
    #[cfg(target_arch = "wasm32")]
    async fn fetch_endpoint(&self, snapshot: Arc<Snapshot>) -> Result<Fetched> {
        self.request_token(snapshot).await
    }

    /// One request to the token endpoint: the token's cache entry, the token
    /// as another process would read it, and the HTTP status.
    async fn request_token(&self, snapshot: Arc<Snapshot>) -> Result<Fetched> {
        self.budget_check(&snapshot).await?;
        let sent_at = self.clock.now_ms();
        let sent_unix = self.clock.unix_ms();
        let endpoint = match &self.discovery {
            Some(discovery) => Some(discovery.token_endpoint().await?.to_string()),
            None => None,
        };
        let url = endpoint.as_deref().unwrap_or(&self.profile.token_url);
        let creds = &snapshot.creds;
        let mut req = match &creds.assertion {
            Some(assertion) => {
                // The machine's wall clock, not the injected one: the server
                // checks `iat` and `exp` against real time.
                let signed = assertion
                    .sign(&creds.client_id, &creds.client_secret, url, Host::unix_ms())
                    .await?;
                request::build_signed(&self.profile, creds, &signed)
            }
            None => request::build(&self.profile, creds),
        };
        if let Some(endpoint) = endpoint {
            req.url = endpoint;
        }
        let url = req.url.clone();
        log::debug!(
            "tokenwell: requesting a token from {}",
            crate::redact::display_url(&url)
        );
        let resp = self
            .transport
            .send(req)
            .await
            .map_err(|e| e.hiding_url_query(&url))?;
        let issued = response::parse(&self.profile, &resp, sent_unix)?;
        log::debug!("tokenwell: got a token valid for {} ms", issued.lifetime_ms);
        let stored = StoredToken {
            access_token: issued.access_token,
            token_type: issued.token_type,
            scope: issued.scope,
            issued_unix_ms: sent_unix,
            lifetime_ms: issued.lifetime_ms,
        };
        Ok(Fetched {
            cached: self.cached(stored.clone(), Some(sent_at)),
            stored,
            status: resp.status,
            snapshot,
        })
    }

    /// A token minted here instead of requested: no transport, no store; its
    /// `iat` from the machine's wall clock (the platform checks it against
    /// real time), its schedule from the injected clock.
    fn mint(&self, minter: &crate::doordash::Minter) -> Cached {
        let sent_at = self.clock.now_ms();
        let stored = StoredToken {
            access_token: minter.mint(Host::unix_ms().div_euclid(1000)),
            token_type: "Bearer".into(),
            scope: None,
            issued_unix_ms: self.clock.unix_ms(),
            lifetime_ms: minter.cache_lifetime_ms(),
        };
        log::debug!(
            "tokenwell: minted a token valid for {} ms",
            stored.lifetime_ms
        );
        self.cached(stored, Some(sent_at))
    }

    /// The cache entry of a token: scheduled from `sent_at` on the monotonic
    /// clock when this process requested it, else aged by the wall clock from
    /// when its request was sent; the refresh point drawn with this process's
    /// jitter.
    fn cached(&self, stored: StoredToken, sent_at: Option<u64>) -> Cached {
        let policy = &self.profile.policy;
        let mut deadlines = match sent_at {
            Some(sent_at) => Deadlines::new(policy, sent_at, stored.lifetime_ms),
            None => {
                let now = self.clock.now_ms();
                let age = self.clock.unix_ms().saturating_sub(stored.issued_unix_ms);
                let age = u64::try_from(age).unwrap_or(0);
                Deadlines::aged(policy, now, age, stored.lifetime_ms)
            }
        };
        if self.refresh_jitter > 0.0 {
            let span = stored.lifetime_ms as f64 * self.refresh_jitter;
            let early = (span * platform::random_unit()) as u64;
            deadlines.refresh_earlier(policy, early);
        }
        let expires_unix = stored.expires_unix_ms();
        let token = AccessToken::new(
            stored.access_token,
            stored.token_type,
            stored.scope,
            expires_unix,
        );
        Cached { token, deadlines }
    }
}

/// What one request to the token endpoint brought.
struct Fetched {
    /// The token's cache entry.
    cached: Cached,
    /// The token as another process would read it.
    stored: StoredToken,
    /// The endpoint's HTTP status.
    status: u16,
    /// The secret it was fetched with.
    snapshot: Arc<Snapshot>,
}

impl std::fmt::Debug for TokenClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenClient")
            .field(
                "token_url",
                &crate::redact::display_url(&self.inner.profile.token_url),
            )
            .field("client_id", &self.inner.initial.creds.client_id)
            .field("client_secret", &self.inner.snapshot().creds.client_secret)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_removal_run_to_the_end_by_its_driver_shows_as_ended_to_every_clone() {
        let task: BoxFuture<'static, ()> = Box::pin(async {});
        let removal: Removal = task.shared();
        let kept = removal.clone();
        assert!(kept.peek().is_none());
        futures::executor::block_on(removal); // the spawner's driver
        assert!(kept.peek().is_some(), "prunable without anyone awaiting it");
    }
}
