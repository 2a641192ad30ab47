//! A user's own store, written in JS: the adapter that makes it a core
//! [`Store`], the twin of the uniffi foreign store (`src/native/foreign.rs`) with
//! the same semantics, so the fleet protocol (sealing, lock, publish, remove-if)
//! applies unchanged.
//!
//! The object it calls is the JS wrapper's bridge (`StoreBridge` in
//! js/src/client.mjs) over the user's store: every method returns a Promise
//! (a store's sync answers, throws and rejections alike), `hasLock` and
//! `hasPublish` say once which optional methods the user's store has, and
//! `scriptsRefused` whether the store found its server refuses the core's
//! scripts. What it
//! sees: hashed keys and sealed records. A rejection is a store error with a
//! fixed text (the exception may hold anything); the client time-boxes every
//! call, so a promise that never settles is a miss too.

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::budget::Spend;
use crate::error::{Error, ErrorKind, Result};
use crate::store::{publish_in_steps, record_with_fingerprint, Store};

#[wasm_bindgen]
extern "C" {
    /// The JS store bridge (see the module doc).
    pub type JsStore;
    #[wasm_bindgen(method, structural)]
    fn get(this: &JsStore, key: &str) -> Promise;
    #[wasm_bindgen(method, structural)]
    fn put(this: &JsStore, key: &str, record: &str, ttl_ms: f64) -> Promise;
    #[wasm_bindgen(method, structural, js_name = removeIf)]
    fn remove_if(this: &JsStore, key: &str, record: &str, fingerprint: &str) -> Promise;
    #[wasm_bindgen(method, structural, js_name = tryLock)]
    fn try_lock(this: &JsStore, lock: &str, owner: &str, ttl_ms: f64) -> Promise;
    #[wasm_bindgen(method, structural)]
    fn unlock(this: &JsStore, lock: &str, owner: &str) -> Promise;
    #[wasm_bindgen(method, structural)]
    fn publish(
        this: &JsStore,
        key: &str,
        record: &str,
        ttl_ms: f64,
        lock: Option<String>,
        owner: Option<String>,
    ) -> Promise;
    #[wasm_bindgen(method, structural)]
    fn spend(this: &JsStore, key: &str, limit: u32, window_ms: f64, now_unix_ms: f64) -> Promise;
    #[wasm_bindgen(method, structural, getter, js_name = hasSpend)]
    fn has_spend(this: &JsStore) -> bool;
    #[wasm_bindgen(method, structural, getter, js_name = hasLock)]
    fn has_lock(this: &JsStore) -> bool;
    #[wasm_bindgen(method, structural, getter, js_name = hasPublish)]
    fn has_publish(this: &JsStore) -> bool;
    #[wasm_bindgen(method, structural, getter, js_name = scriptsRefused)]
    fn scripts_refused(this: &JsStore) -> bool;
}

/// A [`JsStore`] as a core [`Store`].
pub struct JsStoreAdapter {
    js: JsStore,
    has_lock: bool,
    has_publish: bool,
    has_spend: bool,
}

impl JsStoreAdapter {
    /// Wraps the bridge, reading once which optional methods it has.
    pub fn new(js: JsStore) -> Self {
        JsStoreAdapter {
            has_lock: js.has_lock(),
            has_publish: js.has_publish(),
            has_spend: js.has_spend(),
            js,
        }
    }
}

/// A `get` answer, read as the Python bridge reads one: a string, null or
/// undefined (no record), or UTF-8 bytes (a `Buffer`); anything else is a store
/// error naming only its type.
fn record_text(value: JsValue) -> Result<Option<String>> {
    if value.is_null() || value.is_undefined() {
        return Ok(None);
    }
    if let Some(text) = value.as_string() {
        return Ok(Some(text));
    }
    if let Some(bytes) = value.dyn_ref::<js_sys::Uint8Array>() {
        return String::from_utf8(bytes.to_vec()).map(Some).map_err(|_| {
            Error::new(
                ErrorKind::Store,
                "the JS store's get returned bytes that are not UTF-8",
            )
        });
    }
    let kind = value.js_typeof().as_string().unwrap_or_default();
    Err(Error::new(
        ErrorKind::Store,
        format!("the JS store's get returned a {kind}, not a string or null"),
    ))
}

/// Awaits one call's promise; a rejection is a store error without its text.
async fn settle(promise: Promise) -> Result<JsValue> {
    JsFuture::from(promise)
        .await
        .map_err(|_| Error::new(ErrorKind::Store, "the JS store threw or rejected"))
}

#[async_trait::async_trait(?Send)]
impl Store for JsStoreAdapter {
    async fn get(&self, key: &str) -> Result<Option<String>> {
        record_text(settle(self.js.get(key)).await?)
    }

    async fn put(&self, key: &str, record: &str, ttl_ms: u64) -> Result<()> {
        settle(self.js.put(key, record, ttl_ms as f64))
            .await
            .map(drop)
    }

    /// Not offered: a JS store only deletes conditionally, and the core only
    /// deletes through [`Store::remove_if`] (overridden below).
    async fn delete(&self, _key: &str) -> Result<()> {
        Err(Error::new(
            ErrorKind::Store,
            "a JS store deletes only with removeIf",
        ))
    }

    fn has_lock(&self) -> bool {
        self.has_lock
    }

    async fn try_lock(&self, lock: &str, owner: &str, ttl_ms: u64) -> Result<bool> {
        if !self.has_lock {
            return Ok(false);
        }
        // Any truthy answer holds it, as in Python: `true`, or node-redis's and
        // ioredis's "OK" from SET NX (null when it is taken).
        Ok(settle(self.js.try_lock(lock, owner, ttl_ms as f64))
            .await?
            .is_truthy())
    }

    async fn unlock(&self, lock: &str, owner: &str) -> Result<()> {
        if !self.has_lock {
            return Ok(());
        }
        settle(self.js.unlock(lock, owner)).await.map(drop)
    }

    /// What the bridge reads from the store (the Redis stores say so once
    /// their server refused a script; the bridge never throws).
    fn refuses_scripts(&self) -> bool {
        self.js.scripts_refused()
    }

    /// The store's own atomic publish if it has one (the Redis stores run the
    /// core's script), else get, put if later, unlock.
    async fn publish(
        &self,
        key: &str,
        record: &str,
        ttl_ms: u64,
        release: Option<(&str, &str)>,
    ) -> Result<()> {
        if !self.has_publish {
            return publish_in_steps(self, key, record, ttl_ms, release).await;
        }
        let (lock, owner) = release.map_or((None, None), |(l, o)| (Some(l.into()), Some(o.into())));
        settle(self.js.publish(key, record, ttl_ms as f64, lock, owner))
            .await
            .map(drop)
    }

    /// The store's own budget counter if it has one (the Redis stores run the
    /// core's script, the Durable Object and the memory store count in one
    /// step): 0 counted, a positive number of ms refused; else each process
    /// keeps its own budget.
    async fn spend(
        &self,
        key: &str,
        limit: u32,
        window_ms: u64,
        now_unix_ms: i64,
    ) -> Result<Spend> {
        if !self.has_spend {
            return Ok(Spend::Unsupported);
        }
        let promise = self
            .js
            .spend(key, limit, window_ms as f64, now_unix_ms as f64);
        // Not a number, or negative: as a failing store.
        match settle(promise).await?.as_f64().unwrap_or(-1.0) {
            ms if ms < 0.0 => Err(Error::new(ErrorKind::Store, "the JS store's spend failed")),
            ms if ms < 1.0 => Ok(Spend::Granted),
            ms => Ok(Spend::Refused {
                retry_after_ms: ms as u64,
            }),
        }
    }

    /// The record is read and its fingerprint checked here; the JS store
    /// deletes it only if it still holds exactly that record (or, for the
    /// Redis stores, the core's script checks the same fingerprint).
    async fn remove_if(&self, key: &str, fingerprint: &str) -> Result<()> {
        if let Some(record) = record_with_fingerprint(self, key, fingerprint).await? {
            settle(self.js.remove_if(key, &record, fingerprint)).await?;
        }
        Ok(())
    }
}
