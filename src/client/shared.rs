//! The client's side of the fleet protocol (see [`crate::fleet`]): adopt a
//! token another process stored, take the lock or wait for its holder, publish
//! what was fetched. Every store call goes through [`Inner::call`]: time-boxed,
//! behind the breaker, a failure a miss.

use std::future::Future;
use std::sync::{Arc, Mutex};

use super::{Cached, Inner};
use crate::budget::{self, Spend};
use crate::credential::Snapshot;
use crate::error::{Error, ErrorKind, Result};
use crate::events::{Event, LockOutcome};
use crate::fleet::{self, record, Breaker, Keys, Timings};
use crate::platform::{self, time_boxed, Host, Platform};
use crate::store::{Store, StoredToken};

/// A client's shared store and its protocol state.
pub(super) struct SharedStore {
    pub(super) store: Arc<dyn Store>,
    /// The key prefix; the keys themselves follow the secret ([`Snapshot::keys`]).
    pub(super) prefix: Box<str>,
    pub(super) timings: Timings,
    breaker: Mutex<Breaker>,
    /// The fingerprint of the last record read that did not open for these
    /// credentials (garbage, a foreign writer, a forged header): the next
    /// publish removes it first, so its clear expiry cannot block ours.
    unreadable: Mutex<Option<String>>,
}

impl SharedStore {
    pub(super) fn new(store: Arc<dyn Store>, prefix: Box<str>, timings: Timings) -> SharedStore {
        SharedStore {
            store,
            prefix,
            timings,
            breaker: Mutex::new(Breaker::default()),
            unreadable: Mutex::new(None),
        }
    }

    /// The token's record; one over [`record::MAX_RECORD_BYTES`] is a store
    /// error (a miss), whatever store returned it.
    async fn record(&self, keys: &Keys) -> Result<Option<String>> {
        match self.store.get(&keys.token).await? {
            Some(stored) if stored.len() > record::MAX_RECORD_BYTES => Err(Error::new(
                ErrorKind::Store,
                format!(
                    "the stored record is over {} bytes; ignored",
                    record::MAX_RECORD_BYTES
                ),
            )),
            stored => Ok(stored),
        }
    }
}

impl SharedStore {
    /// The breaker's state at `now` and how long it stays open.
    pub(super) fn breaker_state(&self, now: u64) -> (crate::status::BreakerState, u64) {
        let breaker = self.breaker.lock().unwrap_or_else(|e| e.into_inner());
        breaker.state(now)
    }
}

impl Inner {
    /// A fetch through the store: adopt, or lock and fetch, or wait for the
    /// holder; the endpoint directly whenever the store cannot help.
    pub(super) async fn fetch_shared(
        &self,
        shared: &SharedStore,
        snapshot: Arc<Snapshot>,
        fetch_id: u64,
    ) -> Result<(Cached, bool, Option<u16>)> {
        let keys = &snapshot.keys(&self.profile, &shared.prefix);
        let lock_ttl = shared.timings.lock_ttl_ms;
        let began = self.clock.now_ms();
        let lock_event = |outcome| {
            let waited_ms = self.clock.now_ms().saturating_sub(began);
            self.emit(|| Event::StoreLock {
                fetch_id,
                outcome,
                waited_ms,
            })
        };
        let mut waited = false;
        // Patience, not the lock's TTL, bounds the wait: a holder that is slow
        // or died, or a lock nobody will release, costs at most this.
        let give_up_at = self
            .clock
            .now_ms()
            .saturating_add(shared.timings.lock_wait_ms);
        let mut attempt = 0;
        loop {
            if let Some(cached) = self.adopt(shared, &snapshot).await {
                if waited {
                    lock_event(LockOutcome::Adopted);
                }
                return Ok((cached, true, None));
            }
            if let Some(spent) = self.refused_fleet_wide() {
                return Err(spent);
            }
            if !shared.store.has_lock() {
                break;
            }
            let owner = fleet::owner_id();
            let lock = shared.store.try_lock(&keys.lock, &owner, lock_ttl);
            match self.call(shared, keys, lock).await {
                Some(true) => {
                    lock_event(if waited {
                        LockOutcome::Waited
                    } else {
                        LockOutcome::Won
                    });
                    return self.fetch_holding(shared, &snapshot, &owner).await;
                }
                // Another process fetches: wait for its token.
                Some(false) if self.clock.now_ms() < give_up_at => waited = true,
                // Out of patience, or the store fails: fetch ourselves.
                _ => {
                    lock_event(LockOutcome::GaveUp);
                    break;
                }
            }
            Host::sleep(fleet::poll_delay_ms(attempt, platform::random_unit())).await;
            attempt += 1;
        }
        let fetched = self.fetch_endpoint(snapshot.clone()).await?;
        self.publish(shared, &fetched.snapshot, &fetched.stored, None)
            .await;
        Ok((fetched.cached, false, Some(fetched.status)))
    }

    /// Holding the lock: re-read (someone may just have published), else fetch
    /// and publish, releasing the lock in the same step. Whatever happens, the
    /// lock is released before the caller gets its answer.
    async fn fetch_holding(
        &self,
        shared: &SharedStore,
        snapshot: &Arc<Snapshot>,
        owner: &str,
    ) -> Result<(Cached, bool, Option<u16>)> {
        if let Some(cached) = self.adopt(shared, snapshot).await {
            self.release(shared, snapshot, owner).await;
            return Ok((cached, true, None));
        }
        match self.fetch_endpoint(snapshot.clone()).await {
            // Fetched with the secret the lock was taken for.
            Ok(fetched) if Arc::ptr_eq(&fetched.snapshot, snapshot) => {
                self.publish(shared, snapshot, &fetched.stored, Some(owner))
                    .await;
                Ok((fetched.cached, false, Some(fetched.status)))
            }
            // With a secret read again on the way: its token goes under its own key.
            Ok(fetched) => {
                self.release(shared, snapshot, owner).await;
                self.publish(shared, &fetched.snapshot, &fetched.stored, None)
                    .await;
                Ok((fetched.cached, false, Some(fetched.status)))
            }
            Err(e) => {
                self.release(shared, snapshot, owner).await;
                Err(e)
            }
        }
    }

    /// A token another client or process stored, if it opens, is fresh (newer
    /// than any we hold past its refresh point) and is not one we dropped.
    async fn adopt(&self, shared: &SharedStore, snapshot: &Snapshot) -> Option<Cached> {
        let keys = &snapshot.keys(&self.profile, &shared.prefix);
        let record = self.call(shared, keys, shared.record(keys)).await??;
        let secret = snapshot.creds.key_material();
        let Some(stored) = record::open(secret, snapshot.key(&self.profile), &record).await else {
            // Not ours to read: replaced by our next publish, whatever its header says.
            let fingerprint = record::header(&record).map(|h| h.fingerprint.to_owned());
            *lock_ignoring_poison(&shared.unreadable) = fingerprint;
            return None;
        };
        {
            // Neither a token we dropped, nor the one we are refreshing away from.
            let st = self.lock();
            let held = st.current.as_ref().map(|c| c.token.as_secret());
            if [st.revoked.as_ref(), held].contains(&Some(&stored.access_token)) {
                return None;
            }
        }
        let cached = self.cached(stored, None);
        (self.clock.now_ms() < cached.deadlines.refresh_at).then_some(cached)
    }

    /// Seals and publishes a fetched token (releasing `owner`'s lock). If the
    /// publish fails, the lock is released on its own (else every other
    /// process would wait for it to lapse).
    async fn publish(
        &self,
        shared: &SharedStore,
        snapshot: &Snapshot,
        stored: &StoredToken,
        owner: Option<&str>,
    ) {
        let (secret, key) = (snapshot.creds.key_material(), snapshot.key(&self.profile));
        let published = match record::seal(secret, key, stored).await {
            Ok(sealed) => {
                let keys = &snapshot.keys(&self.profile, &shared.prefix);
                self.publish_sealed(shared, keys, stored, &sealed, owner)
                    .await
            }
            Err(e) => {
                self.store_failed(e);
                false
            }
        };
        if let (false, Some(owner)) = (published, owner) {
            self.release(shared, snapshot, owner).await;
        }
    }

    /// [`Inner::publish`]'s store calls; whether the publish went through.
    async fn publish_sealed(
        &self,
        shared: &SharedStore,
        keys: &Keys,
        stored: &StoredToken,
        sealed: &str,
        owner: Option<&str>,
    ) -> bool {
        // A record we could not open goes first, by its fingerprint: its clear
        // expiry says nothing we can trust. Not atomic with the publish: a
        // record written in between by a peer is a real one, and the publish
        // keeps the later of the two as always.
        let unreadable = lock_ignoring_poison(&shared.unreadable).take();
        if let Some(fingerprint) = unreadable {
            let remove = shared.store.remove_if(&keys.token, &fingerprint);
            self.call(shared, keys, remove).await;
        }
        // Kept by the store until the token expires.
        let left = stored
            .expires_unix_ms()
            .saturating_sub(self.clock.unix_ms());
        let ttl = u64::try_from(left).unwrap_or(0).max(1_000);
        let release = owner.map(|o| (keys.lock.as_str(), o));
        self.call(
            shared,
            keys,
            shared.store.publish(&keys.token, sealed, ttl, release),
        )
        .await
        .is_some()
    }

    /// Releases our lock, best effort: time-boxed, and asked even while the
    /// breaker is open (the lock was taken moments ago, so the store was up,
    /// and every other process waits on the lock until it is released or
    /// lapses).
    async fn release(&self, shared: &SharedStore, snapshot: &Snapshot, owner: &str) {
        let keys = &snapshot.keys(&self.profile, &shared.prefix);
        let unlock = shared.store.unlock(&keys.lock, owner);
        self.call_past_breaker(shared, keys, unlock, true).await;
    }

    /// Asks the request budget before a token request: the fleet's counter
    /// when the store keeps one, else (or while the store fails) this
    /// process's own window. A spent budget is [`budget::spent`]'s error.
    pub(super) async fn spend_budget(&self, snapshot: &Snapshot) -> Result<()> {
        let Some(limit) = self.profile.policy.max_requests_per_hour else {
            return Ok(());
        };
        if let Some(spent) = self.refused_fleet_wide() {
            return Err(spent);
        }
        let fleet = match &self.shared {
            Some(shared) => {
                let keys = snapshot.keys(&self.profile, &shared.prefix);
                let creds = &snapshot.creds;
                let key = budget::key(&shared.prefix, &self.profile.token_url, &creds.client_id);
                let now_unix = self.clock.unix_ms();
                let spend = shared.store.spend(&key, limit, budget::WINDOW_MS, now_unix);
                self.call(shared, &keys, spend).await
            }
            None => None,
        };
        let now = self.clock.now_ms();
        let mut st = self.lock();
        match fleet {
            Some(Spend::Granted) => {
                st.requests.record(now);
                Ok(())
            }
            Some(Spend::Refused { retry_after_ms }) => {
                st.requests.refuse(now, retry_after_ms);
                Err(budget::spent(limit, retry_after_ms, true))
            }
            Some(Spend::Unsupported) | None => st
                .requests
                .spend(limit, now)
                .map_err(|ms| budget::spent(limit, ms, false)),
        }
    }

    /// The spent budget's error while the fleet's counter is known to refuse
    /// (no store call, and no lock taken for a request that cannot be sent).
    fn refused_fleet_wide(&self) -> Option<Error> {
        let limit = self.profile.policy.max_requests_per_hour?;
        let wait = self.lock().requests.refused(self.clock.now_ms())?;
        Some(budget::spent(limit, wait, true))
    }

    /// Removes `token`'s record after an `invalidate`, if it still holds it.
    pub(super) async fn remove_shared(&self, shared: &SharedStore, token: &str) {
        let snapshot = self.snapshot();
        let keys = &snapshot.keys(&self.profile, &shared.prefix);
        let fingerprint = record::fingerprint(snapshot.key(&self.profile), token);
        self.call(
            shared,
            keys,
            shared.store.remove_if(&keys.token, &fingerprint),
        )
        .await;
    }

    /// One store call: skipped while the breaker is open, time-boxed, and any
    /// failure reported (event and log) and turned into `None`, a miss.
    async fn call<T>(
        &self,
        shared: &SharedStore,
        keys: &Keys,
        op: impl Future<Output = Result<T>>,
    ) -> Option<T> {
        self.call_past_breaker(shared, keys, op, false).await
    }

    /// [`Inner::call`], made even while the breaker is open if `past_breaker`.
    async fn call_past_breaker<T>(
        &self,
        shared: &SharedStore,
        keys: &Keys,
        op: impl Future<Output = Result<T>>,
        past_breaker: bool,
    ) -> Option<T> {
        let breaker = || shared.breaker.lock().unwrap_or_else(|e| e.into_inner());
        if !past_breaker && !breaker().allows(self.clock.now_ms()) {
            return None;
        }
        let timeout = shared.timings.store_timeout_ms;
        match time_boxed(timeout, op).await {
            Some(Ok(value)) => {
                self.call_ended(shared, keys, None);
                Some(value)
            }
            Some(Err(e)) => {
                self.call_ended(shared, keys, Some(e));
                None
            }
            None => {
                let e = Error::new(
                    ErrorKind::Store,
                    format!("the store did not answer within {timeout} ms"),
                );
                self.call_ended(shared, keys, Some(e));
                None
            }
        }
    }

    /// The breaker's and the reports' part of a store call's end: one copy,
    /// not one per answer type of [`Inner::call_past_breaker`].
    #[inline(never)]
    fn call_ended(&self, shared: &SharedStore, keys: &Keys, failure: Option<Error>) {
        let breaker = || shared.breaker.lock().unwrap_or_else(|e| e.into_inner());
        let Some(e) = failure else {
            breaker().success();
            return;
        };
        let now = self.clock.now_ms();
        if shared.store.refuses_scripts() {
            // It cannot publish nor release a lock atomically: a
            // failing store at once, never a lock someone holds.
            breaker().trip(now);
            warn_scripts_refused(keys);
        } else if breaker().failure(now) {
            log::warn!("tokenwell: the token store keeps failing; not asking it for a while");
        }
        self.store_failed(e);
    }

    fn store_failed(&self, e: Error) {
        let e = e.redacted(&self.redactor());
        log::warn!("tokenwell: token store failed ({e}); going on without it");
        self.emit(|| Event::StoreFailed { error: e });
    }
}

fn lock_ignoring_poison<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The rules a Redis ACL user needs for the store (the native store runs the
/// scripts with EVALSHA, loading them once; the JS stores with EVAL). The
/// sorted-set commands are the request budget's counter's.
pub(crate) fn acl_rules(keys: &Keys) -> String {
    format!(
        "+get +set +del +eval +evalsha +script|load ~{}:* \
         +zadd +zcard +zrange +zremrangebyscore +pexpire",
        keys.prefix()
    )
}

/// Warns that the store refuses the core's scripts, once per key prefix in
/// this process (every client on that store would say the same).
fn warn_scripts_refused(keys: &Keys) {
    static WARNED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let prefix = keys.prefix();
    let first = {
        let mut warned = lock_ignoring_poison(&WARNED);
        let first = !warned.iter().any(|p| p == prefix);
        if first {
            warned.push(prefix.to_owned());
        }
        first
    };
    if first {
        log::warn!(
            "tokenwell: the token store refuses to run scripts (a Redis ACL without scripting?): \
             tokens are not shared until its user may run them ({}); each process fetches its own",
            acl_rules(keys)
        );
    }
}
