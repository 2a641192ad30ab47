//! The WebAssembly adapter: the runtime's own `fetch` for HTTP, the JS microtask
//! queue for background fetches, `performance.now()` for the monotonic clock, and
//! the `wasm-bindgen` exports the npm package `tokenwell` wraps (see `js/`).
//!
//! Only what needs JS lives here; every decision (cache, refresh, backoff) stays in
//! [`crate::TokenClient`].

mod console;
mod exports;
mod fetch;
mod store;
mod webcrypto;

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};

pub use fetch::FetchTransport;
use store::JsStoreAdapter;

use crate::config::{HttpOptions, StoreOptions};
use crate::error::Result;
use crate::platform::{Platform, UrlParts};
use crate::runtime::{BoxFuture, Spawn};
use crate::secret::Secret;
use crate::store::Store;
use crate::transport::Transport;

/// The npm package's allocator (`small-alloc`, which js/scripts/build.sh turns on):
/// talc, 4 KB less WebAssembly than Rust's default dlmalloc. Single-threaded here.
#[cfg(feature = "small-alloc")]
#[global_allocator]
static ALLOCATOR: talc::TalckWasm = unsafe { talc::TalckWasm::new_global() };

/// Runs background fetches on the JS microtask queue (never inline).
#[derive(Clone, Copy, Debug, Default)]
pub struct LocalSpawner;

impl Spawn for LocalSpawner {
    fn spawn(&self, task: BoxFuture<'static, ()>) {
        wasm_bindgen_futures::spawn_local(task);
    }
}

thread_local! {
    /// The `waitUntil` of the call being polled (see [`WithWaitUntil`]).
    static CALL_WAIT_UNTIL: RefCell<Option<Function>> = const { RefCell::new(None) };
}

/// Background work (fetches, store writes, lock releases) on the microtask
/// queue, also handed as a Promise to a `waitUntil` hook (Workers'
/// `ctx.waitUntil`), so the runtime does not cancel it with the response: the
/// call's own hook if it gave one, else the client's. A throwing hook is ignored
/// (the work runs anyway).
pub struct WaitUntilSpawner(pub Option<Function>);

impl Spawn for WaitUntilSpawner {
    fn spawn(&self, task: BoxFuture<'static, ()>) {
        let hook = CALL_WAIT_UNTIL
            .with(|h| h.borrow().clone())
            .or_else(|| self.0.clone());
        match hook {
            None => wasm_bindgen_futures::spawn_local(task),
            Some(hook) => {
                let promise = wasm_bindgen_futures::future_to_promise(async move {
                    task.await;
                    Ok(JsValue::UNDEFINED)
                });
                let _ = hook.call1(&JsValue::UNDEFINED, &promise);
            }
        }
    }
}

thread_local! {
    /// The spawner of every client without a `waitUntil` of its own: one for
    /// a thousand clients, not one per client.
    static NO_HOOK: Arc<WaitUntilSpawner> = Arc::new(WaitUntilSpawner(None));
}

impl WaitUntilSpawner {
    /// The spawner for a client with this `waitUntil` hook (the shared one for none).
    #[allow(clippy::arc_with_non_send_sync)] // single-threaded wasm
    pub fn shared(hook: Option<Function>) -> Arc<dyn Spawn> {
        match hook {
            None => NO_HOOK.with(|s| s.clone()),
            hook => Arc::new(WaitUntilSpawner(hook)),
        }
    }
}

/// Runs `f` with `hook` as the current call's `waitUntil`.
pub(crate) fn with_wait_until<T>(hook: &Option<Function>, f: impl FnOnce() -> T) -> T {
    let previous = CALL_WAIT_UNTIL.with(|h| h.replace(hook.clone()));
    let out = f();
    CALL_WAIT_UNTIL.with(|h| h.replace(previous));
    out
}

/// A future polled with its call's `waitUntil` current (what it spawns while
/// polled is handed to that hook).
pub(crate) struct WithWaitUntil<F> {
    pub hook: Option<Function>,
    pub inner: std::pin::Pin<Box<F>>,
}

impl<F: std::future::Future> std::future::Future for WithWaitUntil<F> {
    type Output = F::Output;
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let this = &mut *self;
        with_wait_until(&this.hook, || this.inner.as_mut().poll(cx))
    }
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// The runtime's WHATWG `URL`.
    #[wasm_bindgen(js_name = URL)]
    type JsUrl;
    #[wasm_bindgen(constructor, js_class = "URL", catch)]
    fn new(raw: &str) -> std::result::Result<JsUrl, JsValue>;
    #[wasm_bindgen(method, getter)]
    fn protocol(this: &JsUrl) -> String;
    #[wasm_bindgen(method, getter)]
    fn hostname(this: &JsUrl) -> String;
    #[wasm_bindgen(method, getter)]
    fn username(this: &JsUrl) -> String;
    #[wasm_bindgen(method, getter)]
    fn password(this: &JsUrl) -> String;

    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &js_sys::Function, ms: f64) -> JsValue;

    /// `crypto.getRandomValues` (WebCrypto).
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues, catch)]
    fn get_random_values(buf: &mut [u8]) -> std::result::Result<JsValue, JsValue>;
}

/// The WebAssembly platform: the JS runtime's `URL`, `performance.now()`,
/// `Date.now()`, `fetch`, microtask queue, `setTimeout` and `crypto`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Wasm;

impl Platform for Wasm {
    fn parse_url(raw: &str) -> std::result::Result<UrlParts, String> {
        // Some runtimes quote the input in their message: keep it out of ours.
        let url = JsUrl::new(raw).map_err(|_| "not an absolute URL".to_owned())?;
        Ok(UrlParts {
            scheme: url.protocol().trim_end_matches(':').to_owned(),
            host: url.hostname(),
            has_credentials: !url.username().is_empty() || !url.password().is_empty(),
        })
    }

    fn monotonic_ms() -> u64 {
        performance_now_ms()
    }

    fn unix_ms() -> i64 {
        js_sys::Date::now() as i64
    }

    fn default_transport(http: &HttpOptions) -> Result<Arc<dyn Transport>> {
        Ok(Arc::new(FetchTransport::new(http, None)))
    }

    fn default_spawner() -> Result<Arc<dyn Spawn>> {
        Ok(Arc::new(LocalSpawner))
    }

    fn redis_store(_: &StoreOptions, _: &Secret) -> Result<Arc<dyn Store>> {
        Err(crate::error::Error::config(
            "store.redis_url: WebAssembly cannot open a TCP socket to Redis; pass a JS store \
             (redisStore(client) over node-redis or ioredis, upstashStore, denoKvStore, \
             workersKvStore: see the npm package's README)",
        ))
    }

    fn sleep(ms: u64) -> BoxFuture<'static, ()> {
        let promise = js_sys::Promise::new(&mut |resolve, _reject| {
            set_timeout(&resolve, ms as f64);
        });
        Box::pin(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        })
    }

    fn random_u64() -> u64 {
        let mut bytes = [0u8; 8];
        // Every runtime tokenwell supports has WebCrypto's getRandomValues; if one
        // lacks it, Math.random still gives distinct (if predictable) values.
        if get_random_values(&mut bytes).is_err() {
            let high = (js_sys::Math::random() * 4_294_967_296.0) as u64;
            let low = (js_sys::Math::random() * 4_294_967_296.0) as u64;
            return high << 32 | low;
        }
        u64::from_le_bytes(bytes)
    }

    fn seal(
        ikm: Vec<u8>,
        info: Vec<u8>,
        nonce: [u8; 12],
        aad: Vec<u8>,
        plaintext: Vec<u8>,
    ) -> BoxFuture<'static, Result<Vec<u8>>> {
        Box::pin(webcrypto::seal(ikm, info, nonce, aad, plaintext))
    }

    fn sign(
        algorithm: crate::config::AssertionAlgorithm,
        pkcs8: std::sync::Arc<[u8]>,
        message: Vec<u8>,
    ) -> BoxFuture<'static, Result<Vec<u8>>> {
        Box::pin(webcrypto::sign(algorithm, pkcs8, message))
    }

    fn open(
        ikm: Vec<u8>,
        info: Vec<u8>,
        nonce: [u8; 12],
        aad: Vec<u8>,
        sealed: Vec<u8>,
    ) -> BoxFuture<'static, Result<Vec<u8>>> {
        Box::pin(webcrypto::open(ikm, info, nonce, aad, sealed))
    }
}

/// A property of the global object (`globalThis`), if present and not `undefined`.
pub(crate) fn global_property(name: &str) -> Option<JsValue> {
    Reflect::get(&js_sys::global(), &JsValue::from_str(name))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

thread_local! {
    /// `performance` and its `now`, looked up once.
    static PERFORMANCE: Option<(JsValue, Function)> = global_property("performance").and_then(|perf| {
        let now = Reflect::get(&perf, &JsValue::from_str("now")).ok()?.dyn_into::<Function>().ok()?;
        Some((perf, now))
    });
    /// The last value handed out, so the `Date.now()` fallback never goes backwards.
    static LAST_MS: Cell<u64> = const { Cell::new(0) };
}

/// Monotonic milliseconds: the global `performance.now()` (Node, Deno, Bun and
/// workerd all have it), else `Date.now()`, never decreasing. The JS wrapper
/// reads `Math.floor(performance.now())` for its memo: the same clock.
fn performance_now_ms() -> u64 {
    let raw = PERFORMANCE.with(|p| {
        p.as_ref()
            .and_then(|(perf, now)| now.call0(perf).ok())
            .and_then(|v| v.as_f64())
            .unwrap_or_else(js_sys::Date::now)
    });
    let ms = if raw.is_finite() && raw > 0.0 {
        raw as u64
    } else {
        0
    };
    LAST_MS.with(|last| {
        let ms = ms.max(last.get());
        last.set(ms);
        ms
    })
}

/// Whether this looks like a browser page (a `window` and a `document`).
pub(crate) fn is_browser_page() -> bool {
    global_property("window").is_some() && global_property("document").is_some()
}
