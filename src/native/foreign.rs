//! A user's own store, implemented in Python or Kotlin: the uniffi foreign
//! trait [`ForeignStore`] and the adapter that makes it a core [`Store`], so the
//! fleet protocol (sealing, lock, publish, remove-if) applies unchanged.
//!
//! What the foreign object sees: keys such as `tokenwell:{<sha-256 hex>}:t`
//! (the configured prefix, then a hash that reveals none of its inputs) and
//! records sealed by the core (AES-GCM; never the token, never the secret).
//!
//! Its methods are plain (blocking) calls. The adapter runs each one on
//! tokenwell's blocking-thread pool, never on a runtime worker, so a slow or
//! hung store only ever costs the client's time-box: the client stops waiting
//! (a miss) while the call finishes, or not, on its own thread. An error, a
//! foreign exception of any type or a panic is a store failure (a miss, a
//! `StoreFailed` event and a warning), never the caller's error.
//!
//! The lock is optional: [`ForeignStore::has_lock`] is asked once, when the
//! client is built. Without a lock, clients sharing the store still share
//! tokens, and each process single-flights its own fetches.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::store::{record_with_fingerprint, Store};

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

/// A [`ForeignStore`] as a core [`Store`].
pub struct ForeignStoreAdapter {
    foreign: Arc<dyn ForeignStore>,
    has_lock: bool,
}

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
        ForeignStoreAdapter { foreign, has_lock }
    }

    /// Runs one foreign call on a blocking thread and awaits its answer.
    async fn call<T, F>(&self, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn ForeignStore) -> std::result::Result<T, ForeignStoreError> + Send + 'static,
    {
        let foreign = self.foreign.clone();
        let (done, answer) = futures::channel::oneshot::channel();
        let job = move || {
            let outcome = catch_unwind(AssertUnwindSafe(|| op(&*foreign)));
            // The client may have stopped waiting (its time-box): nobody to tell.
            let _ = done.send(outcome);
        };
        match super::shared_runtime() {
            Ok(runtime) => drop(runtime.spawn_blocking(job)),
            Err(_) => drop(std::thread::spawn(job)),
        }
        match answer.await {
            Ok(Ok(Ok(value))) => Ok(value),
            Ok(Ok(Err(e))) => Err(Error::new(ErrorKind::Store, e.to_string())),
            Ok(Err(_panic)) => Err(Error::new(ErrorKind::Store, "the store panicked")),
            Err(_) => Err(Error::new(ErrorKind::Store, "the store call was dropped")),
        }
    }
}

#[async_trait::async_trait]
impl Store for ForeignStoreAdapter {
    async fn get(&self, key: &str) -> Result<Option<String>> {
        let key = key.to_owned();
        self.call(move |s| s.get(key)).await
    }

    async fn put(&self, key: &str, record: &str, ttl_ms: u64) -> Result<()> {
        let (key, record) = (key.to_owned(), record.to_owned());
        self.call(move |s| s.put(key, record, ttl_ms)).await
    }

    /// Deletes whatever `key` holds now (the foreign store only offers a
    /// conditional delete).
    async fn delete(&self, key: &str) -> Result<()> {
        if let Some(record) = self.get(key).await? {
            let key = key.to_owned();
            self.call(move |s| s.remove_if(key, record)).await?;
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
        self.call(move |s| s.try_lock(lock, owner, ttl_ms)).await
    }

    async fn unlock(&self, lock: &str, owner: &str) -> Result<()> {
        if !self.has_lock {
            return Ok(());
        }
        let (lock, owner) = (lock.to_owned(), owner.to_owned());
        self.call(move |s| s.unlock(lock, owner)).await
    }

    /// The record is read and its fingerprint checked here; the foreign store
    /// deletes it only if it still holds exactly that record.
    async fn remove_if(&self, key: &str, fingerprint: &str) -> Result<()> {
        if let Some(record) = record_with_fingerprint(self, key, fingerprint).await? {
            let key = key.to_owned();
            self.call(move |s| s.remove_if(key, record)).await?;
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
