//! The `wasm-bindgen` exports. The npm package wraps them in its idiomatic
//! `TokenClient` (js/src/client.mjs); they are not meant to be used directly.
//! Records (`crate::records`) reach JS as plain objects through serde.

use std::sync::Arc;

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::client::TokenClient;
use crate::clock::ManualClock;
use crate::config::TokenConfig;
use crate::error::{Error, ErrorKind};
use crate::fleet::Keys;
use crate::records::{CoreEvent, CoreLease, CoreStatus, TokenwellError};

mod to_js;
use to_js::to_js;

/// The flags of the kind whose `ErrorKind` value is `kind` in the core's
/// error table: 1 = credential error, 2 = retryable. With the `ErrorKind` enum
/// wasm-bindgen exports (kind names, whose snake_case is the code) this is the
/// table JS derives its codes and flags from: an index and a bitmask cost the
/// .wasm far less than records.
#[wasm_bindgen(js_name = errorKindFlags)]
pub fn error_kind_flags(kind: u32) -> u8 {
    const FLAGS: [u8; ErrorKind::ALL.len()] = {
        let mut flags = [0; ErrorKind::ALL.len()];
        let mut i = 0;
        while i < flags.len() {
            let kind = ErrorKind::ALL[i];
            flags[i] = kind.is_credential_error() as u8 | (kind.is_retryable() as u8) << 1;
            i += 1;
        }
        flags
    };
    FLAGS.get(kind as usize).copied().unwrap_or(0)
}

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

    /// Moves both clocks forward by `ms` (negative values are ignored: `as`
    /// saturates them, and NaN, to 0).
    pub fn advance(&self, ms: f64) {
        self.0.advance(ms as u64)
    }

    /// Moves only the wall clock (may be negative).
    #[wasm_bindgen(js_name = shiftWall)]
    pub fn shift_wall(&self, delta_ms: f64) {
        self.0.shift_wall(delta_ms as i64)
    }

    /// Monotonic milliseconds.
    #[wasm_bindgen(js_name = nowMs)]
    pub fn now_ms(&self) -> f64 {
        crate::clock::Clock::now_ms(&*self.0) as f64
    }

    /// Wall-clock Unix milliseconds.
    #[wasm_bindgen(js_name = unixMs)]
    pub fn unix_ms(&self) -> f64 {
        crate::clock::Clock::unix_ms(&*self.0) as f64
    }

    /// A second handle on the same clock (the constructor of `WasmClient` takes
    /// ownership of the handle it is given).
    pub fn share(&self) -> WasmClock {
        WasmClock(self.0.clone())
    }
}

/// The keys `[token, lock]` a client built from `config` uses in its shared
/// store (`Keys::for_config`).
#[wasm_bindgen(js_name = storeKeys)]
pub fn store_keys(config: &JsValue) -> Result<Box<[JsValue]>, JsValue> {
    let json = js_sys::JSON::stringify(config)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default();
    let keys = TokenConfig::from_json(&json)
        .and_then(|c| Keys::for_config(&c))
        .map_err(error_to_js)?;
    Ok(Box::new([keys.token.into(), keys.lock.into()]))
}

/// The core's event table (`[{name, fields}]`, see `crate::EVENTS`).
#[wasm_bindgen(js_name = eventKinds)]
pub fn event_kinds() -> JsValue {
    to_js(&crate::records::event_kinds())
}

/// The core's metrics table (`[{name, instrument, unit, description,
/// attributes}]`, see `crate::metrics::METRICS`).
#[wasm_bindgen(js_name = metricKinds)]
pub fn metric_kinds() -> JsValue {
    to_js(&crate::records::metric_kinds())
}

/// Hands a client's events to the JS wrapper's `onEvent(record)`, which queues
/// them (a microtask) off the fetch path; hits and misses are counted here.
struct JsEvents {
    on_event: Function,
    clock: Arc<dyn crate::Clock>,
    /// Fresh hits, stale hits, misses.
    counts: [std::cell::Cell<f64>; 3],
}

impl crate::EventSink for JsEvents {
    fn on_event(&self, event: &crate::Event) {
        let slot = match event {
            crate::Event::Hit { stale: false, .. } => 0,
            crate::Event::Hit { .. } => 1,
            crate::Event::Miss => 2,
            _ => {
                let record = CoreEvent::new(event, self.clock.unix_ms());
                // The wrapper's function only queues; whatever it throws is dropped.
                let _ = self.on_event.call1(&JsValue::NULL, &to_js(&record));
                return;
            }
        };
        self.counts[slot].set(self.counts[slot].get() + 1.0);
    }
}

/// The core client as JS sees it.
#[wasm_bindgen]
pub struct WasmClient {
    client: TokenClient,
    events: Option<Arc<JsEvents>>,
}

#[wasm_bindgen]
impl WasmClient {
    /// Builds a client from a config object (the schema every binding accepts,
    /// snake_case or camelCase keys), an optional manual clock, and options (`{ dangerouslyAllowBrowser?: boolean, jsStore?: StoreBridge,
    /// waitUntil?: (p) => void }`: a JS store's bridge, see `super::store`). Throws a
    /// `TokenwellError` record (`code: "config"`) on a bad config, and in a
    /// browser page unless `dangerouslyAllowBrowser` is `true`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        config: &JsValue,
        clock: Option<WasmClock>,
        options: &JsValue,
    ) -> Result<WasmClient, JsValue> {
        // (`Reflect.get` throws on a missing `options`: then it is `false`.)
        let allow_browser = Reflect::get(options, &"dangerouslyAllowBrowser".into())
            .is_ok_and(|v| v.as_bool() == Some(true));
        if super::is_browser_page() && !allow_browser {
            return Err(error_to_js(Error::config(
                "tokenwell refuses to run in a browser page: a client secret shipped to browsers is public. \
                 Get tokens on a server, or pass dangerouslyAllowBrowser: true if you really mean it",
            )));
        }
        // Anything but an object (an array, a string, a number) fails to parse as a config.
        let json = js_sys::JSON::stringify(config)
            .ok()
            .and_then(|s| s.as_string())
            .ok_or_else(|| error_to_js(Error::config("the config must be an object")))?;
        super::console::install();
        let mut builder = TokenClient::builder(TokenConfig::from_json(&json).map_err(error_to_js)?);
        let clock: Arc<dyn crate::Clock> = match clock {
            Some(clock) => clock.0,
            None => Arc::new(crate::SystemClock),
        };
        builder = builder.clock(clock.clone());
        let option = |name: &str| {
            Reflect::get(options, &name.into())
                .ok()
                .filter(|v| v.is_object() || v.is_function())
        };
        #[allow(clippy::arc_with_non_send_sync)] // single-threaded wasm
        let events = option("onEvent")
            .and_then(|f| f.dyn_into::<Function>().ok())
            .map(|on_event| {
                Arc::new(JsEvents {
                    on_event,
                    clock,
                    counts: Default::default(),
                })
            });
        if let Some(sink) = &events {
            builder = builder.on_event(sink.clone());
        }
        if let Some(js) = option("jsStore") {
            let adapter = super::JsStoreAdapter::new(js.unchecked_into());
            #[allow(clippy::arc_with_non_send_sync)] // single-threaded wasm
            let adapter = Arc::new(adapter);
            builder = builder.store(adapter);
        }
        let wait_until = option("waitUntil").and_then(|f| f.dyn_into::<Function>().ok());
        builder = builder.spawner(super::WaitUntilSpawner::shared(wait_until));
        Ok(WasmClient {
            client: builder.build().map_err(error_to_js)?,
            events,
        })
    }

    /// The client's name in metrics and traces (config `name`, else the provider).
    pub fn name(&self) -> String {
        self.client.name().to_owned()
    }

    /// The client's health, without I/O ([`CoreStatus`] in camelCase).
    pub fn status(&self) -> JsValue {
        to_js(&CoreStatus::from(self.client.status()))
    }

    /// The lookup counters `[hits, stale, misses]` (zeros without `onEvent`).
    pub fn lookups(&self) -> Box<[f64]> {
        let counts = self
            .events
            .as_ref()
            .map(|e| [e.counts[0].get(), e.counts[1].get(), e.counts[2].get()])
            .unwrap_or_default();
        Box::new(counts)
    }

    /// A promise of a [`CoreLease`] record (`{accessToken, tokenType,
    /// expiresAtUnixMs, scope, authorizationHeader, reuseForMs}`); rejects with
    /// a [`TokenwellError`] record. Background work this call starts is handed
    /// to `wait_until` if given (else to the client's).
    pub fn lease(&self, wait_until: Option<Function>) -> Promise {
        let client = self.client.clone();
        future_to_promise(async move {
            let lease = super::WithWaitUntil {
                hook: wait_until,
                inner: Box::pin(async move { client.lease().await }),
            };
            match lease.await {
                Ok(lease) => Ok(to_js(&CoreLease::from(lease))),
                Err(e) => Err(error_to_js(e)),
            }
        })
    }

    /// Drops the cached token if it is still `token`; whether it did. The
    /// store's removal is handed to `wait_until` if given.
    pub fn invalidate(&self, token: &str, wait_until: Option<Function>) -> bool {
        super::with_wait_until(&wait_until, || self.client.invalidate(token))
    }

    /// Resolves once no fetch is in flight and earlier invalidations have left the store.
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

/// A failure as a plain `{code, status, retryAfterMs, detail, summary}` object
/// (the JS wrapper turns it into its `TokenwellError` class). The core's texts
/// never contain the secret or a token.
fn error_to_js(e: Error) -> JsValue {
    to_js(&TokenwellError::from(e))
}
