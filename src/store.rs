//! Where tokens live beyond one client: a small async interface so a process-wide
//! map, Redis, or a user's own store can share tokens between clients and
//! processes. The client's own slot is always consulted first; a store is read
//! only when that slot has nothing fresh, and written after every fetch. The
//! protocol a store executes is [`crate::fleet`]'s.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use crate::budget::Spend;
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, ErrorKind, Result};
use crate::profile::{Credentials, Profile};
use crate::runtime::MaybeSendSync;
use crate::secret::Secret;

/// Identifies the token of one client at one endpoint with one set of parameters:
/// a SHA-256 over the token URL, the client id, a fingerprint of the secret
/// (of the private key with `private_key_jwt`),
/// the grant type and every body parameter. Two tenants never share a key, and a
/// rotated secret gets a new one. The key reveals none of its inputs.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CacheKey(String);

impl CacheKey {
    test_hook! {
        /// Test-only: the key for a resolved profile and credentials.
        fn new(profile: &Profile, creds: &Credentials) -> Self {
            let mut h = Sha256::new();
            let mut part = |label: &str, value: &[u8]| {
                // Length-prefixed, so ("ab","c") and ("a","bc") differ.
                for bytes in [label.as_bytes(), value] {
                    h.update((bytes.len() as u64).to_be_bytes());
                    h.update(bytes);
                }
            };
            part("v", b"tokenwell-key-1");
            part("url", profile.token_url.as_bytes());
            part("client_id", creds.client_id.as_bytes());
            part(
                "secret",
                &Sha256::digest(creds.key_material().expose().as_bytes()),
            );
            if let Some((name, value)) = &profile.grant_type {
                part(name, value.as_bytes());
            }
            for (name, value) in &profile.params {
                part(name, &serde_json::to_vec(value).unwrap_or_default());
            }
            // The request's headers too (one may pick the tenant), but for the Accept
            // every profile sends by default: a key without them is the key it was.
            for (name, value) in &profile.headers {
                if (name.as_str(), value.as_str()) != crate::profile::DEFAULT_ACCEPT {
                    part(&format!("header:{name}"), value.as_bytes());
                }
            }
            let digest = h.finalize();
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            CacheKey(format!("tokenwell:{hex}"))
        }
    }

    /// The key as text (for a store's own keyspace).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    #[cfg(test)]
    pub(crate) fn for_tests(hex: &str) -> Self {
        CacheKey(format!("tokenwell:{hex}"))
    }

    /// The key's hex digest alone.
    pub fn hex(&self) -> &str {
        self.0.rsplit(':').next().unwrap_or(&self.0)
    }
}

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CacheKey({})", self.0)
    }
}

/// A token as stored: wall-clock times, so another process can read it.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredToken {
    /// The access token.
    pub access_token: Secret,
    /// Its type.
    pub token_type: String,
    /// Its scope.
    pub scope: Option<String>,
    /// When its request was sent, Unix ms.
    pub issued_unix_ms: i64,
    /// Lifetime from `issued_unix_ms`, in ms.
    pub lifetime_ms: u64,
}

impl StoredToken {
    /// The server's expiry, Unix ms.
    pub fn expires_unix_ms(&self) -> i64 {
        // Never negative, never past what every language's date type holds.
        crate::expiry::expires_unix_ms(self.issued_unix_ms, self.lifetime_ms)
    }
}

/// A shared store: text records under keys, with time-to-live, and optionally a
/// lock. It only executes: the keys, the records (sealed with the client's
/// secret) and every decision are the core's. The client
/// time-boxes each call, and a failure is a cache miss, never a caller's error.
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait Store: MaybeSendSync {
    /// The record under `key`, if any.
    async fn get(&self, key: &str) -> Result<Option<String>>;

    /// Stores `record` under `key` for `ttl_ms`.
    async fn put(&self, key: &str, record: &str, ttl_ms: u64) -> Result<()>;

    /// Deletes `key`.
    async fn delete(&self, key: &str) -> Result<()>;

    /// Whether [`Store::try_lock`] works. Without a lock, processes sharing
    /// the store still share tokens, but each may fetch on a cold cache.
    fn has_lock(&self) -> bool {
        false
    }

    /// Takes `lock` for `owner` for `ttl_ms` if nobody holds it.
    async fn try_lock(&self, _lock: &str, _owner: &str, _ttl_ms: u64) -> Result<bool> {
        Ok(false)
    }

    /// Releases `lock` if `owner` still holds it.
    async fn unlock(&self, _lock: &str, _owner: &str) -> Result<()> {
        Ok(())
    }

    /// Whether the store found that its server refuses to run the core's
    /// scripts (a Redis ACL without scripting), so it can neither publish nor
    /// release a lock atomically. Asked after a failed call: the client then
    /// opens its breaker at once (each process fetches its own, nobody waits
    /// on a lock) and warns once, naming the ACL rules the store needs. A
    /// store that learns this releases its own lock without a script.
    fn refuses_scripts(&self) -> bool {
        false
    }

    /// Writes `record` under `key` for `ttl_ms` unless the stored record
    /// expires later (a paused old writer must not replace a newer token), then
    /// releases `release` = (lock, owner) if that owner still holds it. Stores
    /// that can make this atomic override it (Redis: one script).
    async fn publish(
        &self,
        key: &str,
        record: &str,
        ttl_ms: u64,
        release: Option<(&str, &str)>,
    ) -> Result<()> {
        publish_in_steps(self, key, record, ttl_ms, release).await
    }

    /// Counts one token request under `key` (the credential's budget counter,
    /// derived from the token URL and client id) if fewer than `limit` were counted in the
    /// `window_ms` before `now_unix_ms`, atomically, touching no other key.
    /// Stores that cannot do it atomically keep the default, `Unsupported`:
    /// each process then keeps its own budget.
    async fn spend(
        &self,
        _key: &str,
        _limit: u32,
        _window_ms: u64,
        _now_unix_ms: i64,
    ) -> Result<Spend> {
        Ok(Spend::Unsupported)
    }

    /// Deletes the record under `key` only if its fingerprint is `fingerprint`
    /// (a 401 on an old token must not discard a newer one).
    async fn remove_if(&self, key: &str, fingerprint: &str) -> Result<()> {
        if record_with_fingerprint(self, key, fingerprint)
            .await?
            .is_some()
        {
            self.delete(key).await?;
        }
        Ok(())
    }
}

/// The record under `key` if its fingerprint is `fingerprint`: what
/// [`Store::remove_if`] removes. Stores that can only delete a key if it still
/// holds a given record (user stores) read it with this first.
pub async fn record_with_fingerprint<S: Store + ?Sized>(
    store: &S,
    key: &str,
    fingerprint: &str,
) -> Result<Option<String>> {
    let stored = store.get(key).await?;
    Ok(stored.filter(|record| {
        crate::fleet::record::header(record).is_some_and(|h| h.fingerprint == fingerprint)
    }))
}

/// [`Store::publish`] in separate calls (get, put if [`later`], unlock), for
/// stores that cannot make it atomic, and for overrides that fall back to it.
pub async fn publish_in_steps<S: Store + ?Sized>(
    store: &S,
    key: &str,
    record: &str,
    ttl_ms: u64,
    release: Option<(&str, &str)>,
) -> Result<()> {
    let newer = match store.get(key).await? {
        Some(stored) => later(&stored, record),
        None => true,
    };
    if newer {
        store.put(key, record, ttl_ms).await?;
    }
    if let Some((lock, owner)) = release {
        store.unlock(lock, owner).await?;
    }
    Ok(())
}

/// Whether `record` should replace `stored`: it expires no earlier (or the
/// stored value is not a record at all).
pub fn later(stored: &str, record: &str) -> bool {
    use crate::fleet::record::header;
    match (header(stored), header(record)) {
        (Some(old), Some(new)) => new.expires_unix_ms >= old.expires_unix_ms,
        (None, _) => true,
        (Some(_), None) => false,
    }
}

/// An in-process store shared by every client given the same instance (and
/// the reference implementation of the store protocol, lock included).
pub struct MemoryStore {
    clock: Arc<dyn Clock>,
    entries: Mutex<Entries>,
    failing: AtomicBool,
}

#[derive(Default)]
struct Entries {
    /// key → (record, deadline on the store's clock)
    records: HashMap<String, (String, u64)>,
    /// lock → (owner, deadline)
    locks: HashMap<String, (String, u64)>,
    /// budget counter → the Unix ms of the requests it counted
    budgets: HashMap<String, Vec<i64>>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::with_clock(Arc::new(SystemClock))
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MemoryStore")
    }
}

impl MemoryStore {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store whose time-to-live and locks run on `clock` (simulations).
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        MemoryStore {
            clock,
            entries: Mutex::new(Entries::default()),
            failing: AtomicBool::new(false),
        }
    }

    test_hook! {
        /// Test-only: simulates an outage. While `failing`, every call fails (a
        /// store error) and nothing stored changes; the entries are kept for when
        /// it ends. Tests of the rule that a store failure is a miss, in every language.
        fn set_failing(&self, failing: bool) {
            self.failing.store(failing, Ordering::SeqCst);
        }
    }

    fn up(&self) -> Result<()> {
        if self.failing.load(Ordering::SeqCst) {
            Err(Error::new(
                ErrorKind::Store,
                "the memory store is set to fail",
            ))
        } else {
            Ok(())
        }
    }

    fn entries(&self) -> (std::sync::MutexGuard<'_, Entries>, u64) {
        let now = self.clock.now_ms();
        let mut e = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        e.records.retain(|_, (_, until)| *until > now);
        e.locks.retain(|_, (_, until)| *until > now);
        (e, now)
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl Store for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<String>> {
        self.up()?;
        Ok(self.entries().0.records.get(key).map(|(r, _)| r.clone()))
    }

    async fn put(&self, key: &str, record: &str, ttl_ms: u64) -> Result<()> {
        self.up()?;
        let (mut e, now) = self.entries();
        e.records.insert(
            key.to_owned(),
            (record.to_owned(), now.saturating_add(ttl_ms)),
        );
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.up()?;
        self.entries().0.records.remove(key);
        Ok(())
    }

    fn has_lock(&self) -> bool {
        true
    }

    async fn try_lock(&self, lock: &str, owner: &str, ttl_ms: u64) -> Result<bool> {
        self.up()?;
        let (mut e, now) = self.entries();
        if e.locks.contains_key(lock) {
            return Ok(false);
        }
        e.locks.insert(
            lock.to_owned(),
            (owner.to_owned(), now.saturating_add(ttl_ms)),
        );
        Ok(true)
    }

    async fn unlock(&self, lock: &str, owner: &str) -> Result<()> {
        self.up()?;
        let (mut e, _) = self.entries();
        if e.locks.get(lock).is_some_and(|(o, _)| o == owner) {
            e.locks.remove(lock);
        }
        Ok(())
    }

    async fn spend(
        &self,
        key: &str,
        limit: u32,
        window_ms: u64,
        now_unix_ms: i64,
    ) -> Result<Spend> {
        self.up()?;
        // What the Redis script does, in one critical section.
        let (mut e, _) = self.entries();
        let window = i64::try_from(window_ms).unwrap_or(i64::MAX);
        let sent = e.budgets.entry(key.to_owned()).or_default();
        sent.retain(|&t| t > now_unix_ms.saturating_sub(window));
        if sent.len() < limit as usize {
            sent.push(now_unix_ms);
            return Ok(Spend::Granted);
        }
        let oldest = sent.iter().min().copied().unwrap_or(now_unix_ms);
        let left = oldest.saturating_add(window).saturating_sub(now_unix_ms);
        Ok(Spend::Refused {
            retry_after_ms: u64::try_from(left).unwrap_or(0).max(1),
        })
    }

    async fn publish(
        &self,
        key: &str,
        record: &str,
        ttl_ms: u64,
        release: Option<(&str, &str)>,
    ) -> Result<()> {
        self.up()?;
        // One critical section: as atomic as the Redis script.
        let (mut e, now) = self.entries();
        let newer = e
            .records
            .get(key)
            .is_none_or(|(stored, _)| later(stored, record));
        if newer {
            e.records.insert(
                key.to_owned(),
                (record.to_owned(), now.saturating_add(ttl_ms)),
            );
        }
        if let Some((lock, owner)) = release {
            if e.locks.get(lock).is_some_and(|(o, _)| o == owner) {
                e.locks.remove(lock);
            }
        }
        Ok(())
    }
}
