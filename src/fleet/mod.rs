//! The fleet protocol: how many processes share one token through a
//! [`Store`](crate::Store) (Redis, a user's store, or an in-process
//! [`MemoryStore`](crate::MemoryStore)), as data and decisions. The client
//! drives it; a store only executes.
//!
//! On a miss in the process (nothing fresh in memory):
//! 1. **Read** the record: a fresh one, newer than ours, is adopted.
//! 2. **Lock**: `try_lock(lock, owner, ttl)`, the TTL covering the HTTP timeout.
//!    The winner **re-reads** (someone may just have published), else fetches
//!    and **publishes and releases** in one step (a record never replaces one
//!    that expires later; only our own lock is released). Redis-compatible
//!    stores run the core's Lua for it ([`scripts`]). Should the publish fail,
//!    the holder releases its lock on its own before its caller gets the
//!    token; a stored value that did not open for us is removed (by its
//!    fingerprint) before we publish, whatever expiry its header claims.
//! 3. **Losers poll** with jittered backoff ([`poll_delay_ms`]) until a fresh
//!    token appears or the lock is free again (they take it); after the lock's
//!    TTL (the holder died) they fetch themselves.
//! 4. Every store call is **time-boxed**; an error or time-out is a miss, never
//!    a caller's error, and a [`Breaker`] stops paying the time-out while the
//!    store is down. A store that refuses the core's scripts
//!    ([`crate::Store::refuses_scripts`]) opens it at once. A store without a lock still shares tokens; each process
//!    then single-flights on its own.
//!
//! Refresh ahead goes the same way: each process draws its refresh point with
//! jitter, the first to reach it takes the lock, and everyone keeps serving the
//! current token meanwhile. `invalidate` after a 401 removes the record only if
//! it still holds that token (by fingerprint).

pub mod breaker;
pub mod record;
#[cfg(not(target_arch = "wasm32"))]
pub mod scripts;

pub use breaker::Breaker;

use crate::config::{HttpOptions, StoreOptions};
use crate::platform::{Host, Platform};
use crate::store::CacheKey;

/// The default key prefix.
pub const DEFAULT_PREFIX: &str = "tokenwell";
/// Default time-box of one store call.
pub const DEFAULT_STORE_TIMEOUT_MS: u64 = 300;
/// Default patience of a process waiting for the lock's holder to publish.
pub const DEFAULT_LOCK_WAIT_MS: u64 = 5_000;
/// What the lock's TTL adds to the HTTP timeout (connect, read, publish).
pub const LOCK_MARGIN_MS: u64 = 2_000;
/// Losers' first and longest poll delay (before jitter).
pub const POLL_MIN_MS: u64 = 25;
/// See [`POLL_MIN_MS`].
pub const POLL_MAX_MS: u64 = 200;
/// Refresh jitter (fraction of the lifetime) when a shared store is used.
pub const DEFAULT_REFRESH_JITTER: f64 = 0.1;

/// The two keys of one cache key. They share a hash tag (`{…}`) so that both
/// land in one Redis Cluster slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keys {
    /// The token record.
    pub token: String,
    /// The lock.
    pub lock: String,
}

impl Keys {
    /// `<prefix>:{<hex>}:t` and `<prefix>:{<hex>}:l`.
    pub fn new(prefix: &str, key: &CacheKey) -> Keys {
        Keys {
            token: format!("{prefix}:{{{}}}:t", key.hex()),
            lock: format!("{prefix}:{{{}}}:l", key.hex()),
        }
    }

    /// The key prefix both keys start with.
    pub fn prefix(&self) -> &str {
        // The hash tag is the last `{` (hex has none). A `char` search and no
        // indexing keep the substring searcher and the slicing panic's
        // formatting out of the WebAssembly build.
        self.token
            .rsplit_once('{')
            .and_then(|(head, _)| head.strip_suffix(':'))
            .unwrap_or(&self.token)
    }

    /// The keys a client built from `config` uses in its shared store (to
    /// inspect a store, or to drive one in a test).
    #[cfg(any(feature = "ffi", feature = "testing", target_arch = "wasm32"))]
    pub fn for_config(config: &crate::config::TokenConfig) -> crate::error::Result<Keys> {
        let (profile, creds) = crate::profile::Profile::resolve(config)?;
        let options = config.store.clone().unwrap_or_default();
        Ok(Keys::new(
            key_prefix(&options),
            &CacheKey::new(&profile, &creds),
        ))
    }
}

/// The configured key prefix, else [`DEFAULT_PREFIX`].
pub(crate) fn key_prefix(options: &StoreOptions) -> &str {
    options.key_prefix.as_deref().unwrap_or(DEFAULT_PREFIX)
}

/// The protocol's timings for one client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timings {
    /// Time-box of each store call.
    pub store_timeout_ms: u64,
    /// How long a lock holds without its holder: the HTTP timeout plus a margin.
    pub lock_ttl_ms: u64,
    /// How long a process waits for the holder of the lock before it fetches
    /// itself, whatever the lock's TTL (a lock without one, or with a huge
    /// one, must not hold a fleet's cold processes hostage).
    pub lock_wait_ms: u64,
}

impl Timings {
    /// The timings for a client with `http` and `store` options.
    pub fn new(http: &HttpOptions, store: &StoreOptions) -> Timings {
        Timings {
            store_timeout_ms: store.timeout_ms.unwrap_or(DEFAULT_STORE_TIMEOUT_MS),
            lock_wait_ms: store.lock_wait_ms.unwrap_or(DEFAULT_LOCK_WAIT_MS),
            lock_ttl_ms: http
                .connect_timeout_ms
                .saturating_add(http.timeout_ms)
                .saturating_add(LOCK_MARGIN_MS),
        }
    }
}

/// A fresh lock owner id: 128 bits of OS randomness, as hex.
pub fn owner_id() -> String {
    format!("{:016x}{:016x}", Host::random_u64(), Host::random_u64())
}

/// The `attempt`-th poll delay: doubling from [`POLL_MIN_MS`] to
/// [`POLL_MAX_MS`], then "equal jitter" with `random` in `[0, 1)`.
pub fn poll_delay_ms(attempt: u32, random: f64) -> u64 {
    let base = POLL_MIN_MS
        .saturating_mul(1u64 << attempt.min(16))
        .min(POLL_MAX_MS);
    base / 2 + (random * (base / 2) as f64) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_share_a_hash_tag_and_reveal_no_input() {
        let key = crate::store::CacheKey::for_tests("ab12");
        let keys = Keys::new("acme", &key);
        assert_eq!(keys.token, "acme:{ab12}:t");
        assert_eq!(keys.lock, "acme:{ab12}:l");
        assert_eq!(keys.prefix(), "acme");
        assert_eq!(Keys::new("a:{b}", &key).prefix(), "a:{b}");
    }

    #[test]
    fn polls_back_off_with_jitter_within_bounds() {
        for attempt in 0..40 {
            for r in [0.0, 0.5, 0.999] {
                let d = poll_delay_ms(attempt, r);
                assert!(
                    (POLL_MIN_MS / 2..=POLL_MAX_MS).contains(&d),
                    "{attempt} {r} {d}"
                );
            }
        }
        assert!(poll_delay_ms(0, 0.0) < poll_delay_ms(5, 0.0));
    }

    #[test]
    fn the_lock_outlives_the_http_timeout() {
        let t = Timings::new(&HttpOptions::default(), &StoreOptions::default());
        assert!(t.lock_ttl_ms > HttpOptions::default().timeout_ms);
        assert_eq!(t.store_timeout_ms, DEFAULT_STORE_TIMEOUT_MS);
        assert_eq!(t.lock_wait_ms, DEFAULT_LOCK_WAIT_MS);
    }
}
