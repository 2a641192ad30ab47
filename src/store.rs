//! Where tokens live beyond one client: a small async interface so a process-wide
//! map, Redis, or a user's own store can share tokens between clients and
//! processes. The client's own slot is always consulted first; a store is read
//! only when that slot has nothing fresh, and written after every fetch.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::profile::{Credentials, Profile};
use crate::{MaybeSendSync, Result, Secret};

/// Identifies the token of one client at one endpoint with one set of parameters:
/// a SHA-256 over the token URL, the client id, a fingerprint of the secret,
/// the grant type and every body parameter. Two tenants never share a key, and a
/// rotated secret gets a new one. The key reveals none of its inputs.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CacheKey(String);

impl CacheKey {
    /// The key for a resolved profile and credentials.
    pub fn new(profile: &Profile, creds: &Credentials) -> Self {
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
            &Sha256::digest(creds.client_secret.expose().as_bytes()),
        );
        if let Some((name, value)) = &profile.grant_type {
            part(name, value.as_bytes());
        }
        for (name, value) in &profile.params {
            part(name, value.to_string().as_bytes());
        }
        let digest = h.finalize();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        CacheKey(format!("tokenwell:{hex}"))
    }

    /// The key as text (for a store's own keyspace).
    pub fn as_str(&self) -> &str {
        &self.0
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

/// A shared token store. Errors are reported through events and never stop a
/// caller from getting a token: the endpoint is always the fallback.
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait Store: MaybeSendSync {
    /// The token stored under `key`, if any.
    async fn get(&self, key: &CacheKey) -> Result<Option<StoredToken>>;
    /// Stores `token` under `key`, replacing what was there.
    async fn put(&self, key: &CacheKey, token: &StoredToken) -> Result<()>;
    /// Removes the token under `key` only if it is still `access_token` (a 401 on
    /// an old token must not discard a newer one).
    async fn remove_if(&self, key: &CacheKey, access_token: &Secret) -> Result<()>;
}

/// An in-process store shared by every client given the same instance.
#[derive(Debug, Default)]
pub struct MemoryStore {
    map: Mutex<HashMap<CacheKey, StoredToken>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<CacheKey, StoredToken>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl Store for MemoryStore {
    async fn get(&self, key: &CacheKey) -> Result<Option<StoredToken>> {
        Ok(self.map().get(key).cloned())
    }

    async fn put(&self, key: &CacheKey, token: &StoredToken) -> Result<()> {
        self.map().insert(key.clone(), token.clone());
        Ok(())
    }

    async fn remove_if(&self, key: &CacheKey, access_token: &Secret) -> Result<()> {
        let mut map = self.map();
        if map
            .get(key)
            .is_some_and(|t| &t.access_token == access_token)
        {
            map.remove(key);
        }
        Ok(())
    }
}
