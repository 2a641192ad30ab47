//! The `wasm-bindgen` exports. The npm package wraps them in its idiomatic
//! `TokenClient` (js/src/client.mjs); they are not meant to be used directly.

use std::sync::Arc;

use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::{Error, Lease, ManualClock, MemoryStore, TokenClient, TokenConfig};

/// A clock moved by hand (wraps [`ManualClock`]), for deterministic tests.
#[wasm_bindgen]
pub struct WasmClock(Arc<ManualClock>);

#[wasm_bindgen]
impl WasmClock {
    /// A clock at monotonic 0 and wall time `unix_ms`.
    #[wasm_bindgen(constructor)]
    pub fn new(unix_ms: f64) -> WasmClock {
        WasmClock(Arc::new(ManualClock::new(unix_ms as i64)))
    }

    /// Moves both clocks forward by `ms` (negative values are ignored).
    pub fn advance(&self, ms: f64) {
        self.0.advance(if ms > 0.0 { ms as u64 } else { 0 })
    }

    /// Moves only the wall clock (may be negative).
    #[wasm_bindgen(js_name = shiftWall)]
    pub fn shift_wall(&self, delta_ms: f64) {
        self.0.shift_wall(delta_ms as i64)
    }

    /// Monotonic milliseconds.
    #[wasm_bindgen(js_name = nowMs)]
    pub fn now_ms(&self) -> f64 {
        crate::Clock::now_ms(&*self.0) as f64
    }

    /// Wall-clock Unix milliseconds.
    #[wasm_bindgen(js_name = unixMs)]
    pub fn unix_ms(&self) -> f64 {
        crate::Clock::unix_ms(&*self.0) as f64
    }

    /// A second handle on the same clock (the constructor of `WasmClient` takes
    /// ownership of the handle it is given).
    pub fn share(&self) -> WasmClock {
        WasmClock(self.0.clone())
    }
}

/// An in-process token store shared by every client given the same instance.
#[wasm_bindgen]
pub struct WasmStore(Arc<MemoryStore>);

#[wasm_bindgen]
impl WasmStore {
    /// An empty store.
    #[wasm_bindgen(constructor)]
    // Single-threaded wasm: the store's clock handle need not be Send.
    #[allow(clippy::new_without_default, clippy::arc_with_non_send_sync)]
    pub fn new() -> WasmStore {
        WasmStore(Arc::new(MemoryStore::new()))
    }

    /// A second handle on the same store (the constructor of `WasmClient` takes
    /// ownership of the handle it is given).
    pub fn share(&self) -> WasmStore {
        WasmStore(self.0.clone())
    }
}

/// The core client as JS sees it.
#[wasm_bindgen]
pub struct WasmClient {
    client: TokenClient,
}

#[wasm_bindgen]
impl WasmClient {
    /// Builds a client from a config object (the schema every binding accepts,
    /// snake_case or camelCase keys), an optional manual clock and shared store,
    /// and options (`{ dangerouslyAllowBrowser?: boolean }`). Throws a
    /// `TokenwellError`-shaped `Error` (`code: "config"`) on a bad config, and in a
    /// browser page unless `dangerouslyAllowBrowser` is `true`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        config: &JsValue,
        clock: Option<WasmClock>,
        store: Option<WasmStore>,
        options: &JsValue,
    ) -> Result<WasmClient, JsValue> {
        let allow_browser = !options.is_undefined()
            && !options.is_null()
            && Reflect::get(options, &"dangerouslyAllowBrowser".into())
                .map(|v| v.as_bool() == Some(true))
                .unwrap_or(false);
        if super::is_browser_page() && !allow_browser {
            return Err(to_js(&Error::config(
                "tokenwell refuses to run in a browser page: a client secret shipped to browsers is public. \
                 Get tokens on a server, or pass dangerouslyAllowBrowser: true if you really mean it",
            )));
        }
        if !config.is_object() {
            return Err(to_js(&Error::config("the config must be an object")));
        }
        let json = js_sys::JSON::stringify(config)
            .ok()
            .and_then(|s| s.as_string())
            .ok_or_else(|| to_js(&Error::config("the config cannot be converted to JSON")))?;
        let config = TokenConfig::from_json(&json).map_err(|e| to_js(&e))?;
        let mut builder = TokenClient::builder(config);
        if let Some(clock) = clock {
            builder = builder.clock(clock.0.clone());
        }
        if let Some(store) = store {
            builder = builder.store(store.0.clone());
        }
        Ok(WasmClient {
            client: builder.build().map_err(|e| to_js(&e))?,
        })
    }

    /// A promise of `{accessToken, tokenType, expiresAtUnixMs, scope,
    /// authorizationHeader, reuseForMs}`; rejects with a `TokenwellError`-shaped
    /// `Error`.
    pub fn lease(&self) -> Promise {
        let client = self.client.clone();
        future_to_promise(async move {
            client
                .lease()
                .await
                .map(|l| lease_to_js(&l))
                .map_err(|e| to_js(&e))
        })
    }

    /// Drops the cached token if it is still `token`; whether it did.
    pub fn invalidate(&self, token: &str) -> bool {
        self.client.invalidate(token)
    }

    /// Resolves once no fetch is in flight.
    pub fn settle(&self) -> Promise {
        let client = self.client.clone();
        future_to_promise(async move {
            client.settle().await;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// A description without secrets (for `inspect` / `toString`).
    pub fn describe(&self) -> String {
        self.client.describe()
    }
}

fn set(obj: &Object, key: &str, value: &JsValue) {
    // Setting a data property on a fresh plain object cannot fail.
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

fn lease_to_js(lease: &Lease) -> JsValue {
    let t = &lease.token;
    let obj = Object::new();
    set(&obj, "accessToken", &t.secret().into());
    set(&obj, "tokenType", &t.token_type().into());
    set(
        &obj,
        "expiresAtUnixMs",
        &(t.expires_at_unix_ms() as f64).into(),
    );
    set(
        &obj,
        "scope",
        &t.scope().map_or(JsValue::NULL, JsValue::from_str),
    );
    set(
        &obj,
        "authorizationHeader",
        &t.authorization_header().into(),
    );
    set(&obj, "reuseForMs", &(lease.reuse_for_ms as f64).into());
    obj.into()
}

/// An `Error` named `TokenwellError` with `code`, `status`, `retryAfterMs` and
/// `detail` (the JS wrapper turns it into its `TokenwellError` class). The core's
/// texts never contain the secret or a token.
fn to_js(e: &Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name("TokenwellError");
    set(&err, "code", &e.code().into());
    set(
        &err,
        "status",
        &e.status().map_or(JsValue::NULL, |s| f64::from(s).into()),
    );
    set(
        &err,
        "retryAfterMs",
        &e.retry_after_ms()
            .map_or(JsValue::NULL, |ms| (ms as f64).into()),
    );
    set(&err, "detail", &e.detail().into());
    err.into()
}
