//! A user's own store, implemented in Python or Kotlin, as a core [`Store`], so
//! the fleet protocol (sealing, lock, publish, remove-if) applies unchanged.
//!
//! What the user's store sees: keys such as `tokenwell:{<sha-256 hex>}:t` (the
//! configured prefix, then a hash that reveals none of its inputs) and records
//! sealed by the core (AES-GCM; never the token, never the secret).
//!
//! Its methods are plain (blocking) calls, and a hung one must never cost more
//! than the client's time-box: the client stops waiting (a miss) while the call
//! finishes, or not, on a thread of its own. Those threads are never tokio's
//! blocking pool, which resolves host names for the token requests: a store
//! that hangs must not stall a client that has no store at all. So:
//!
//! - Each store has at most [`MAX_CALLS_IN_FLIGHT`] calls in flight, queued
//!   or running (a Python store object, all its clients together; a Kotlin
//!   store, per client: uniffi hands each client its own foreign object).
//!   Past that bound a call is an immediate store failure (a miss), so a hung
//!   store ties up a bounded number of threads and queue entries.
//! - Kotlin's stores ([`ForeignStore`], through uniffi) run on a pool of
//!   [`POOL_THREADS`] threads of their own per process, started on demand.
//! - Python's stores are run by [`POOL_THREADS`] Python threads that take the
//!   calls from a queue ([`next_store_call`]) and hand back the answers
//!   ([`PendingStoreCall::answer`]). A Rust thread never runs Python code: at
//!   interpreter exit, CPython ends any thread that touches the interpreter
//!   (`pthread_exit`), and that forced unwinding through Rust frames aborts
//!   the process. A Python thread ends there with no Rust frame on its stack
//!   (the core's functions have returned before it takes the interpreter back).
//!
//! Both the pool and the queue belong to the process (see
//! [`super::process`]): a forked child builds its own. A call whose client
//! stopped waiting before it started (a `get` or `try_lock`) is not run at all.
//!
//! An error, a foreign exception of any type, an answer of the wrong kind or a
//! panic is a store failure (a miss, a `StoreFailed` event and a warning),
//! never the caller's error.
//!
//! The lock is optional: it is asked for once, when the client is built.
//! Without a lock, clients sharing the store still share tokens, and each
//! process single-flights its own fetches.

use std::collections::HashMap;
use std::collections::VecDeque;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::AtomicU64;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::Duration;

use futures::channel::oneshot;

use super::process::Process;
use crate::error::{Error, ErrorKind, Result};
use crate::records::Redacted;
use crate::secret::Secret;
use crate::store::{record_with_fingerprint, Store};

pub use super::foreign_transport::{
    ForeignRequest, ForeignResponse, ForeignTransport, ForeignTransportError,
};

/// Calls in flight (queued or running) per store at most; past it, a call is
/// an immediate store failure. Room for a process's concurrent cold clients
/// on one store (each makes one call at a time) and for calls still running
/// after their time-box.
pub const MAX_CALLS_IN_FLIGHT: usize = 16;

/// Threads per process that run own-store calls (Kotlin: Rust threads started
/// on demand; Python: Python threads started with the first client that has a
/// store). Twice [`MAX_CALLS_IN_FLIGHT`]: one hung store leaves half of them
/// to the others.
pub const POOL_THREADS: usize = 32;

/// A store written in another language: text records under keys with a
/// time-to-live, and optionally a lock. The wrappers (`tokenwell.Store` in
/// Python, `dev.tokenwell.TokenStore` in Kotlin) implement it; users implement
/// those.
#[uniffi::export(with_foreign)]
pub trait ForeignStore: Send + Sync {
    /// The record under `key`, or none.
    fn get(&self, key: String) -> std::result::Result<Option<String>, ForeignStoreError>;

    /// Stores `record` under `key`, expiring after `ttl_ms`.
    fn put(
        &self,
        key: String,
        record: String,
        ttl_ms: u64,
    ) -> std::result::Result<(), ForeignStoreError>;

    /// Deletes `key` if its record is still `record` (a newer one is kept).
    fn remove_if(&self, key: String, record: String) -> std::result::Result<(), ForeignStoreError>;

    /// Whether [`ForeignStore::try_lock`] and [`ForeignStore::unlock`] work.
    /// Asked once, when a client is built.
    fn has_lock(&self) -> bool;

    /// Takes `lock` for `owner`, expiring after `ttl_ms`, if nobody holds it
    /// (atomically: set-if-absent). Whether it was taken.
    fn try_lock(
        &self,
        lock: String,
        owner: String,
        ttl_ms: u64,
    ) -> std::result::Result<bool, ForeignStoreError>;

    /// Releases `lock` if `owner` still holds it.
    fn unlock(&self, lock: String, owner: String) -> std::result::Result<(), ForeignStoreError>;
}

/// A credential provider written in another language: the client secret (not
/// with `private_key_jwt`, whose key rotates through its file), asked once per token
/// fetch and never on a cache hit. Run like a store's calls: on the pool
/// (Kotlin) or by the Python threads, time-boxed by `http.timeout_ms`, with at
/// most [`MAX_CALLS_IN_FLIGHT`] calls in flight; a failure keeps the last good
/// secret.
#[uniffi::export(with_foreign)]
pub trait ForeignCredentialProvider: Send + Sync {
    /// The current secret.
    fn credential(&self) -> std::result::Result<String, ForeignStoreError>;
}

/// A foreign store's failure. The wrappers report the exception's type only
/// (its message could carry the store's own connection secrets).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Error)]
pub enum ForeignStoreError {
    /// The store raised or threw.
    Failed {
        /// What failed, without secrets (e.g. the exception's class name).
        reason: String,
    },
}

impl fmt::Display for ForeignStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ForeignStoreError::Failed { reason } = self;
        write!(f, "the store failed: {reason}")
    }
}

impl std::error::Error for ForeignStoreError {}

impl From<uniffi::UnexpectedUniFFICallbackError> for ForeignStoreError {
    fn from(_: uniffi::UnexpectedUniFFICallbackError) -> Self {
        // Its `reason` is the foreign exception's text or stack trace: not
        // repeated, it may hold anything.
        ForeignStoreError::Failed {
            reason: "the store raised an unexpected exception".into(),
        }
    }
}

/// One call of an own store, as the Python threads that run them receive it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum StoreCall {
    /// See [`ForeignStore::get`].
    Get {
        /// The record's key.
        key: String,
    },
    /// See [`ForeignStore::put`].
    Put {
        /// The record's key.
        key: String,
        /// The sealed record.
        record: String,
        /// Its time-to-live.
        ttl_ms: u64,
    },
    /// See [`ForeignStore::remove_if`].
    RemoveIf {
        /// The record's key.
        key: String,
        /// The record to remove if it is still there.
        record: String,
    },
    /// See [`ForeignStore::try_lock`].
    TryLock {
        /// The lock's key.
        lock: String,
        /// Who takes it.
        owner: String,
        /// Its time-to-live.
        ttl_ms: u64,
    },
    /// See [`ForeignStore::unlock`].
    Unlock {
        /// The lock's key.
        lock: String,
        /// Who releases it.
        owner: String,
    },
    /// See [`ForeignCredentialProvider::credential`] (the id is the provider's).
    Credential,
    /// See [`ForeignTransport::send`] (the id is the transport's).
    Send {
        /// The request, limits and timeouts included.
        request: ForeignRequest,
    },
}

impl StoreCall {
    /// Whether running the call is pointless once nobody waits for it (a read,
    /// or a lock nobody would use or release).
    fn only_for_its_answer(&self) -> bool {
        matches!(
            self,
            StoreCall::Get { .. }
                | StoreCall::TryLock { .. }
                | StoreCall::Credential
                | StoreCall::Send { .. }
        )
    }

    fn run_on(self, store: &dyn ForeignStore) -> StoreAnswer {
        let answer = match self {
            StoreCall::Get { key } => store.get(key).map(|record| StoreAnswer::Record { record }),
            StoreCall::Put {
                key,
                record,
                ttl_ms,
            } => store.put(key, record, ttl_ms).map(|()| StoreAnswer::Done),
            StoreCall::RemoveIf { key, record } => {
                store.remove_if(key, record).map(|()| StoreAnswer::Done)
            }
            StoreCall::TryLock {
                lock,
                owner,
                ttl_ms,
            } => store
                .try_lock(lock, owner, ttl_ms)
                .map(|taken| StoreAnswer::Taken { taken }),
            StoreCall::Unlock { lock, owner } => {
                store.unlock(lock, owner).map(|()| StoreAnswer::Done)
            }
            StoreCall::Credential | StoreCall::Send { .. } => Ok(StoreAnswer::Failed {
                reason: "a store gives no credential and sends no request".into(),
            }),
        };
        answer.unwrap_or_else(|ForeignStoreError::Failed { reason }| StoreAnswer::Failed { reason })
    }
}

/// An own store's answer to a [`StoreCall`].
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum StoreAnswer {
    /// The answer of a `get`.
    Record {
        /// The record, if there is one.
        record: Option<String>,
    },
    /// The answer of a `try_lock`.
    Taken {
        /// Whether the lock was taken.
        taken: bool,
    },
    /// A `put`, `remove_if` or `unlock` returned.
    Done,
    /// The answer of a credential provider (never shown by `Debug`).
    Secret {
        /// The secret.
        secret: Redacted,
    },
    /// The answer of a transport (see [`ForeignTransport::send`]).
    Response {
        /// The response as read, within the request's limits.
        response: ForeignResponse,
    },
    /// A transport sent nothing or read no complete response.
    Unsent {
        /// Why.
        error: ForeignTransportError,
    },
    /// The store failed; `reason` names what failed, never a secret (e.g. the
    /// exception's class name).
    Failed {
        /// What failed.
        reason: String,
    },
}

/// One slot of a store's [`MAX_CALLS_IN_FLIGHT`], freed when dropped.
struct Permit(Arc<AtomicUsize>);

impl Permit {
    /// A slot of store `store` in this process, if one is free. The counts
    /// belong to the process: calls in flight when it forked never finish in
    /// the child and hold none of its slots.
    fn take(own: &OwnStores, store: u64) -> Option<Permit> {
        let in_flight = {
            let mut counts = lock(&own.in_flight);
            match counts.get(&store).and_then(Weak::upgrade) {
                Some(count) => count,
                // No slot taken (no permit holds the count): a fresh one.
                None => {
                    if counts.len() >= 64 {
                        counts.retain(|_, count| count.strong_count() > 0);
                    }
                    let count = Arc::new(AtomicUsize::new(0));
                    counts.insert(store, Arc::downgrade(&count));
                    count
                }
            }
        };
        in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_CALLS_IN_FLIGHT).then_some(n + 1)
            })
            .ok()
            .map(|_| Permit(in_flight))
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A call on its way to a store, with where its answer goes. Dropped
/// unanswered (a pool that is gone), the client sees a failed call.
struct Job {
    call: StoreCall,
    done: oneshot::Sender<StoreAnswer>,
    _permit: Permit,
}

impl Job {
    /// Whether the client still waits for the answer, or the call has effects
    /// of its own.
    fn worth_running(&self) -> bool {
        !(self.done.is_canceled() && self.call.only_for_its_answer())
    }
}

/// A call a Python thread took from the queue ([`next_store_call`]).
#[derive(uniffi::Object)]
pub struct PendingStoreCall {
    store_id: u64,
    job: Mutex<Option<Job>>,
    call: StoreCall,
}

#[uniffi::export]
impl PendingStoreCall {
    /// Which store: the id the client was built with
    /// ([`super::ffi::CoreClient::with_queued_store`]).
    pub fn store_id(&self) -> u64 {
        self.store_id
    }

    /// What to call.
    pub fn call(&self) -> StoreCall {
        self.call.clone()
    }

    /// Hands the store's answer to the client (once; nothing if it stopped waiting).
    pub fn answer(&self, answer: StoreAnswer) {
        let job = lock(&self.job).take();
        if let Some(job) = job {
            let _ = job.done.send(answer);
        }
    }
}

/// The next call for a Python store, waiting up to `timeout_ms` for one (none
/// if there was none). Calls whose client stopped waiting and that have no
/// effect of their own are skipped.
#[uniffi::export]
pub fn next_store_call(timeout_ms: u64) -> Option<Arc<PendingStoreCall>> {
    let timeout = Duration::from_millis(timeout_ms);
    match Process::current() {
        Ok(process) => process.own_stores().queued.pop(timeout),
        // No runtime, so no client that could queue a call: wait all the same.
        Err(_) => {
            std::thread::sleep(timeout);
            None
        }
    }
}

/// How many Python threads should take calls from [`next_store_call`].
#[uniffi::export]
pub fn store_threads() -> u32 {
    POOL_THREADS as u32
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// A queue that waiting threads take from.
struct Queue<T> {
    items: Mutex<VecDeque<T>>,
    ready: Condvar,
}

impl<T> Default for Queue<T> {
    fn default() -> Self {
        Queue {
            items: Mutex::new(VecDeque::new()),
            ready: Condvar::new(),
        }
    }
}

impl<T> Queue<T> {
    fn push(&self, item: T) {
        lock(&self.items).push_back(item);
        self.ready.notify_one();
    }

    fn pop(&self, timeout: Duration) -> Option<T> {
        let items = lock(&self.items);
        let (mut items, _) = self
            .ready
            .wait_timeout_while(items, timeout, |items| items.is_empty())
            .unwrap_or_else(|e| e.into_inner());
        items.pop_front()
    }
}

/// The own stores' threads, queues and counts of calls in flight, of one process.
#[derive(Default)]
pub struct OwnStores {
    /// Calls for Python stores, taken by Python threads.
    queued: Queue<Arc<PendingStoreCall>>,
    /// Calls for Kotlin stores, and the pool threads that run them.
    pooled: Mutex<Pool>,
    /// Signalled when a call joins [`Self::pooled`].
    pooled_ready: Condvar,
    /// Each store's calls in flight, while it has some.
    in_flight: Mutex<HashMap<u64, Weak<AtomicUsize>>>,
}

#[derive(Default)]
struct Pool {
    calls: VecDeque<(Foreign, Job)>,
    started: usize,
    idle: usize,
}

impl OwnStores {
    fn run_pooled(&'static self, store: Foreign, job: Job) {
        let mut pool = lock(&self.pooled);
        pool.calls.push_back((store, job));
        // One thread per queued call that no idle thread will take, up to the bound.
        if pool.calls.len() > pool.idle && pool.started < POOL_THREADS {
            let spawned = std::thread::Builder::new()
                .name("tokenwell-store".into())
                .spawn(move || self.serve());
            if spawned.is_ok() {
                pool.started += 1;
            }
        }
        drop(pool);
        self.pooled_ready.notify_one();
    }

    fn serve(&self) {
        loop {
            let (store, job) = {
                let mut pool = lock(&self.pooled);
                loop {
                    if let Some(next) = pool.calls.pop_front() {
                        break next;
                    }
                    pool.idle += 1;
                    pool = self
                        .pooled_ready
                        .wait(pool)
                        .unwrap_or_else(|e| e.into_inner());
                    pool.idle -= 1;
                }
            };
            if !job.worth_running() {
                continue;
            }
            let Job {
                call,
                done,
                _permit,
            } = job;
            let answer = catch_unwind(AssertUnwindSafe(|| match &store {
                Foreign::Store(store) => call.run_on(&**store),
                Foreign::Provider(provider) => match provider.credential() {
                    Ok(secret) => StoreAnswer::Secret {
                        secret: Redacted(secret),
                    },
                    Err(ForeignStoreError::Failed { reason }) => StoreAnswer::Failed { reason },
                },
                Foreign::Transport(transport) => match call {
                    StoreCall::Send { request } => match transport.send(request) {
                        Ok(response) => StoreAnswer::Response { response },
                        Err(error) => StoreAnswer::Unsent { error },
                    },
                    _ => StoreAnswer::Failed {
                        reason: "a transport only sends requests".into(),
                    },
                },
            }))
            .unwrap_or_else(|_| StoreAnswer::Failed {
                reason: "the store panicked".into(),
            });
            let _ = done.send(answer);
        }
    }
}

/// A uniffi foreign object (Kotlin) the pool runs calls on.
#[derive(Clone)]
pub(super) enum Foreign {
    Store(Arc<dyn ForeignStore>),
    Provider(Arc<dyn ForeignCredentialProvider>),
    Transport(Arc<dyn ForeignTransport>),
}

/// Where a client's store (or credential provider, or transport) calls go.
pub(super) enum Backend {
    /// A uniffi foreign object (Kotlin), run on the pool.
    Foreign(Foreign),
    /// A Python object, known to the Python threads by this id.
    Queued(u64),
}

impl Backend {
    /// Hands one call to the object's threads and awaits its answer; the
    /// calls in flight counted against `bound_key`.
    pub(super) async fn call(&self, bound_key: u64, call: StoreCall) -> Result<StoreAnswer> {
        let process = Process::current()?;
        let Some(permit) = Permit::take(process.own_stores(), bound_key) else {
            return Err(Error::new(
                ErrorKind::Store,
                format!("the store already has {MAX_CALLS_IN_FLIGHT} calls in flight"),
            ));
        };
        let (done, answer) = oneshot::channel();
        let job = Job {
            call,
            done,
            _permit: permit,
        };
        match self {
            Backend::Foreign(target) => process.own_stores().run_pooled(target.clone(), job),
            Backend::Queued(store_id) => {
                let call = job.call.clone();
                process.own_stores().queued.push(Arc::new(PendingStoreCall {
                    store_id: *store_id,
                    job: Mutex::new(Some(job)),
                    call,
                }))
            }
        }
        match answer.await {
            Ok(StoreAnswer::Failed { reason }) => Err(Error::new(
                ErrorKind::Store,
                ForeignStoreError::Failed { reason }.to_string(),
            )),
            Ok(answer) => Ok(answer),
            Err(_) => Err(Error::new(ErrorKind::Store, "the store call was dropped")),
        }
    }
}

/// A credential provider in Kotlin or Python as a core [`CredentialProvider`].
pub struct ForeignCredentials {
    backend: Backend,
    bound_key: u64,
}

impl ForeignCredentials {
    /// A uniffi provider (Kotlin), run on the pool.
    pub fn new(provider: Arc<dyn ForeignCredentialProvider>) -> Self {
        ForeignCredentials {
            backend: Backend::Foreign(Foreign::Provider(provider)),
            bound_key: NEXT_FOREIGN_KEY.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The Python provider the Python threads know as `provider_id`.
    pub fn queued(provider_id: u64) -> Self {
        ForeignCredentials {
            backend: Backend::Queued(provider_id),
            bound_key: provider_id,
        }
    }
}

#[async_trait::async_trait]
impl crate::credential::CredentialProvider for ForeignCredentials {
    async fn credential(&self) -> Result<Secret> {
        let answer = self.backend.call(self.bound_key, StoreCall::Credential);
        match answer.await {
            Ok(StoreAnswer::Secret { secret }) => Ok(Secret::from(secret.0)),
            Ok(_) => Err(Error::config(
                "the credential provider gave an answer of the wrong kind",
            )),
            // "the store failed: <exception type>": said of the provider.
            Err(e) => Err(Error::new(
                e.kind(),
                e.to_string()
                    .replacen("the store", "the credential provider", 1),
            )),
        }
    }
}

/// A user's own store as a core [`Store`].
pub struct ForeignStoreAdapter {
    backend: Backend,
    has_lock: bool,
    /// Whose [`MAX_CALLS_IN_FLIGHT`] its calls count against: the Python
    /// store's id, or one of this adapter's own for a uniffi store.
    bound_key: u64,
}

/// Keys of uniffi stores' bounds, apart from Python's ids (counted from 1).
pub(super) static NEXT_FOREIGN_KEY: AtomicU64 = AtomicU64::new(1 << 63);

impl fmt::Debug for ForeignStoreAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForeignStoreAdapter")
            .field("has_lock", &self.has_lock)
            .finish_non_exhaustive()
    }
}

impl ForeignStoreAdapter {
    /// Wraps `foreign`, asking once whether it has a lock (a panic: no lock).
    pub fn new(foreign: Arc<dyn ForeignStore>) -> Self {
        let has_lock = catch_unwind(AssertUnwindSafe(|| foreign.has_lock())).unwrap_or(false);
        ForeignStoreAdapter {
            backend: Backend::Foreign(Foreign::Store(foreign)),
            has_lock,
            bound_key: NEXT_FOREIGN_KEY.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The Python store the Python threads know as `store_id` (one id per
    /// store object: clients sharing it share its bound).
    pub fn queued(store_id: u64, has_lock: bool) -> Self {
        ForeignStoreAdapter {
            backend: Backend::Queued(store_id),
            has_lock,
            bound_key: store_id,
        }
    }

    /// Hands one call to the store's threads and awaits its answer.
    async fn call(&self, call: StoreCall) -> Result<StoreAnswer> {
        self.backend.call(self.bound_key, call).await
    }

    async fn call_for_nothing(&self, call: StoreCall) -> Result<()> {
        match self.call(call).await? {
            StoreAnswer::Done => Ok(()),
            _ => Err(wrong_answer()),
        }
    }
}

fn wrong_answer() -> Error {
    Error::new(
        ErrorKind::Store,
        "the store gave an answer of the wrong kind",
    )
}

#[async_trait::async_trait]
impl Store for ForeignStoreAdapter {
    async fn get(&self, key: &str) -> Result<Option<String>> {
        let key = key.to_owned();
        match self.call(StoreCall::Get { key }).await? {
            StoreAnswer::Record { record } => Ok(record),
            _ => Err(wrong_answer()),
        }
    }

    async fn put(&self, key: &str, record: &str, ttl_ms: u64) -> Result<()> {
        let (key, record) = (key.to_owned(), record.to_owned());
        self.call_for_nothing(StoreCall::Put {
            key,
            record,
            ttl_ms,
        })
        .await
    }

    /// Deletes whatever `key` holds now (the own store only offers a
    /// conditional delete).
    async fn delete(&self, key: &str) -> Result<()> {
        if let Some(record) = self.get(key).await? {
            let key = key.to_owned();
            self.call_for_nothing(StoreCall::RemoveIf { key, record })
                .await?;
        }
        Ok(())
    }

    fn has_lock(&self) -> bool {
        self.has_lock
    }

    async fn try_lock(&self, lock: &str, owner: &str, ttl_ms: u64) -> Result<bool> {
        if !self.has_lock {
            return Ok(false);
        }
        let (lock, owner) = (lock.to_owned(), owner.to_owned());
        let call = StoreCall::TryLock {
            lock,
            owner,
            ttl_ms,
        };
        match self.call(call).await? {
            StoreAnswer::Taken { taken } => Ok(taken),
            _ => Err(wrong_answer()),
        }
    }

    async fn unlock(&self, lock: &str, owner: &str) -> Result<()> {
        if !self.has_lock {
            return Ok(());
        }
        let (lock, owner) = (lock.to_owned(), owner.to_owned());
        self.call_for_nothing(StoreCall::Unlock { lock, owner })
            .await
    }

    /// The record is read and its fingerprint checked here; the own store
    /// deletes it only if it still holds exactly that record.
    async fn remove_if(&self, key: &str, fingerprint: &str) -> Result<()> {
        if let Some(record) = record_with_fingerprint(self, key, fingerprint).await? {
            let key = key.to_owned();
            self.call_for_nothing(StoreCall::RemoveIf { key, record })
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Mutex;

    /// A dict-backed store, as a user would write one (no TTL: not needed here).
    #[derive(Default)]
    struct DictStore {
        map: Mutex<HashMap<String, String>>,
        locks: Mutex<HashMap<String, String>>,
        lockable: bool,
    }

    impl ForeignStore for DictStore {
        fn get(&self, key: String) -> std::result::Result<Option<String>, ForeignStoreError> {
            Ok(self.map.lock().unwrap().get(&key).cloned())
        }
        fn put(
            &self,
            key: String,
            record: String,
            _: u64,
        ) -> std::result::Result<(), ForeignStoreError> {
            self.map.lock().unwrap().insert(key, record);
            Ok(())
        }
        fn remove_if(
            &self,
            key: String,
            record: String,
        ) -> std::result::Result<(), ForeignStoreError> {
            let mut map = self.map.lock().unwrap();
            if map.get(&key) == Some(&record) {
                map.remove(&key);
            }
            Ok(())
        }
        fn has_lock(&self) -> bool {
            self.lockable
        }
        fn try_lock(
            &self,
            lock: String,
            owner: String,
            _: u64,
        ) -> std::result::Result<bool, ForeignStoreError> {
            let mut locks = self.locks.lock().unwrap();
            if locks.contains_key(&lock) {
                return Ok(false);
            }
            locks.insert(lock, owner);
            Ok(true)
        }
        fn unlock(
            &self,
            lock: String,
            owner: String,
        ) -> std::result::Result<(), ForeignStoreError> {
            let mut locks = self.locks.lock().unwrap();
            if locks.get(&lock) == Some(&owner) {
                locks.remove(&lock);
            }
            Ok(())
        }
    }

    /// Every call fails or panics.
    struct Broken {
        panic: bool,
    }

    impl Broken {
        fn fail<T>(&self) -> std::result::Result<T, ForeignStoreError> {
            if self.panic {
                panic!("a store bug");
            }
            Err(uniffi::UnexpectedUniFFICallbackError::new("ValueError('tokenwell:{ab}:t')").into())
        }
    }

    impl ForeignStore for Broken {
        fn get(&self, _: String) -> std::result::Result<Option<String>, ForeignStoreError> {
            self.fail()
        }
        fn put(&self, _: String, _: String, _: u64) -> std::result::Result<(), ForeignStoreError> {
            self.fail()
        }
        fn remove_if(&self, _: String, _: String) -> std::result::Result<(), ForeignStoreError> {
            self.fail()
        }
        fn has_lock(&self) -> bool {
            if self.panic {
                panic!("a store bug");
            }
            true
        }
        fn try_lock(
            &self,
            _: String,
            _: String,
            _: u64,
        ) -> std::result::Result<bool, ForeignStoreError> {
            self.fail()
        }
        fn unlock(&self, _: String, _: String) -> std::result::Result<(), ForeignStoreError> {
            self.fail()
        }
    }

    /// `get` blocks until the gate opens; nothing else is called.
    struct Hung {
        open: Mutex<bool>,
        opened: std::sync::Condvar,
    }

    impl ForeignStore for Hung {
        fn get(&self, _: String) -> std::result::Result<Option<String>, ForeignStoreError> {
            let mut open = self.open.lock().unwrap();
            while !*open {
                open = self.opened.wait(open).unwrap();
            }
            Ok(None)
        }
        fn put(&self, _: String, _: String, _: u64) -> std::result::Result<(), ForeignStoreError> {
            Ok(())
        }
        fn remove_if(&self, _: String, _: String) -> std::result::Result<(), ForeignStoreError> {
            Ok(())
        }
        fn has_lock(&self) -> bool {
            false
        }
        fn try_lock(
            &self,
            _: String,
            _: String,
            _: u64,
        ) -> std::result::Result<bool, ForeignStoreError> {
            Ok(false)
        }
        fn unlock(&self, _: String, _: String) -> std::result::Result<(), ForeignStoreError> {
            Ok(())
        }
    }

    #[test]
    fn hung_stores_hold_a_bounded_pool_and_never_the_runtimes_blocking_one() {
        use std::future::Future;
        use std::task::Context;

        let hung = Arc::new(Hung {
            open: Mutex::new(false),
            opened: std::sync::Condvar::new(),
        });
        // More hung calls than tokio's blocking pool has threads (512).
        let stores: Vec<_> = (0..70)
            .map(|_| ForeignStoreAdapter::new(hung.clone()))
            .collect();
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut pending = Vec::new();
        for store in &stores {
            for _ in 0..MAX_CALLS_IN_FLIGHT {
                let mut call = Box::pin(store.get("k"));
                assert!(call.as_mut().poll(&mut cx).is_pending());
                pending.push(call);
            }
            // Past the bound: a failure at once, not a queued call.
            let past = block(store.get("k")).unwrap_err();
            assert_eq!(past.kind(), ErrorKind::Store);
            assert!(past.to_string().contains("in flight"), "{past}");
        }
        let process = Process::current().unwrap();
        let started = process.own_stores().pooled.lock().unwrap().started;
        assert!(started <= POOL_THREADS, "{started} threads");

        // The runtime's blocking pool (host-name lookups) is free.
        let (tx, rx) = std::sync::mpsc::channel();
        drop(
            process
                .runtime()
                .spawn_blocking(move || tx.send(()).unwrap()),
        );
        let waited = rx.recv_timeout(std::time::Duration::from_secs(5));

        *hung.open.lock().unwrap() = true;
        hung.opened.notify_all();
        assert!(
            waited.is_ok(),
            "the blocking pool waited behind hung store calls"
        );
        for call in pending {
            assert_eq!(block(call).unwrap(), None);
        }
        // Every slot is free again.
        assert_eq!(block(stores[0].get("k")).unwrap(), None);
    }

    fn block<T>(f: impl std::future::Future<Output = T>) -> T {
        futures::executor::block_on(f)
    }

    #[test]
    fn records_round_trip_and_the_lock_is_the_foreign_ones() {
        let store = ForeignStoreAdapter::new(Arc::new(DictStore {
            lockable: true,
            ..DictStore::default()
        }));
        assert!(store.has_lock());
        block(async {
            assert_eq!(store.get("k").await.unwrap(), None);
            store.put("k", "r", 1_000).await.unwrap();
            assert_eq!(store.get("k").await.unwrap().as_deref(), Some("r"));
            assert!(store.try_lock("l", "a", 1_000).await.unwrap());
            assert!(!store.try_lock("l", "b", 1_000).await.unwrap());
            store.unlock("l", "b").await.unwrap();
            assert!(!store.try_lock("l", "b", 1_000).await.unwrap());
            store.unlock("l", "a").await.unwrap();
            assert!(store.try_lock("l", "b", 1_000).await.unwrap());
            store.delete("k").await.unwrap();
            assert_eq!(store.get("k").await.unwrap(), None);
        });
    }

    #[test]
    fn without_a_lock_the_adapter_never_asks_for_one() {
        let store = ForeignStoreAdapter::new(Arc::new(DictStore::default()));
        assert!(!store.has_lock());
        assert!(!block(store.try_lock("l", "a", 1_000)).unwrap());
    }

    #[test]
    fn remove_if_deletes_only_the_record_with_that_fingerprint() {
        use crate::fleet::record;
        use crate::secret::Secret;
        use crate::store::{CacheKey, StoredToken};
        let key = CacheKey::for_tests("ab12");
        let secret = Secret::new("s3cret-value".to_owned());
        let stored = StoredToken {
            access_token: Secret::new("tok-one".to_owned()),
            token_type: "Bearer".into(),
            scope: None,
            issued_unix_ms: 1_767_225_600_000,
            lifetime_ms: 3_600_000,
        };
        let sealed = block(record::seal(&secret, &key, &stored)).unwrap();
        let store = ForeignStoreAdapter::new(Arc::new(DictStore::default()));
        block(async {
            store.put("k", &sealed, 1_000).await.unwrap();
            store
                .remove_if("k", &record::fingerprint(&key, "tok-other"))
                .await
                .unwrap();
            assert!(
                store.get("k").await.unwrap().is_some(),
                "another token's fingerprint"
            );
            store
                .remove_if("k", &record::fingerprint(&key, "tok-one"))
                .await
                .unwrap();
            assert_eq!(store.get("k").await.unwrap(), None);
        });
    }

    #[test]
    fn failures_and_panics_are_store_errors_without_the_foreign_text() {
        for panic in [false, true] {
            let store = ForeignStoreAdapter::new(Arc::new(Broken { panic }));
            assert_eq!(store.has_lock(), !panic, "a panicking has_lock: no lock");
            let errors = block(async {
                vec![
                    store.get("k").await.unwrap_err(),
                    store.put("k", "r", 1).await.unwrap_err(),
                    store
                        .publish("k", "r", 1, Some(("l", "o")))
                        .await
                        .unwrap_err(),
                ]
            });
            for e in errors {
                assert_eq!(e.kind(), ErrorKind::Store);
                assert!(!e.to_string().contains("tokenwell:"), "{e}");
            }
        }
    }
}
