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
use crate::records::{CoreLease, TokenwellError};
use crate::secret::Secret;

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
    /// A clock at monotonic 0 and wall time `unix_ms`, else the core's default
    /// ([`ManualClock::DEFAULT_UNIX_MS`]).
    #[wasm_bindgen(constructor)]
    pub fn new(unix_ms: Option<f64>) -> WasmClock {
        let unix_ms = unix_ms.map_or(ManualClock::DEFAULT_UNIX_MS, |ms| ms as i64);
        WasmClock(Arc::new(ManualClock::new(unix_ms)))
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
                let fields = event_fields(event, self.clock.unix_ms());
                // The wrapper's function only queues; whatever it throws is dropped.
                let _ = self.on_event.call1(&JsValue::NULL, &fields);
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
    /// snake_case or camelCase keys), an optional manual clock, and options
    /// (`{ dangerouslyAllowBrowser?: boolean, jsStore?: StoreBridge, waitUntil?:
    /// (p) => void, onEvent?: Function, fetch?: typeof fetch, credentialProvider?:
    /// true | string }`: `jsStore` a JS store's bridge, see `super::store`;
    /// `fetch` the application's own; `credentialProvider` a client whose
    /// secret or key the wrapper's provider gives: its answer, or `true` for
    /// none yet). Throws a `TokenwellError`
    /// record (`code: "config"`) on a bad config, and in a browser page unless
    /// `dangerouslyAllowBrowser` is `true`.
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
        let mut config = TokenConfig::from_json(&json).map_err(error_to_js)?;
        // A provider's client: with its answer (a string), a client like any
        // other; without (`true`), one that has no secret (or key) yet.
        let provider = Reflect::get(options, &"credentialProvider".into()).unwrap_or_default();
        let waiting = provider.as_bool() == Some(true);
        if let Some(answer) = provider.as_string() {
            crate::profile::Profile::place_provided(&mut config, Secret::new(answer));
        }
        let http = config.http.clone();
        let mut builder = TokenClient::builder(config);
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
        if waiting {
            builder = builder.provider_in_wrapper();
        }
        if let Some(fetch) = option("fetch").and_then(|f| f.dyn_into::<Function>().ok()) {
            #[allow(clippy::arc_with_non_send_sync)] // single-threaded wasm
            let transport = Arc::new(super::FetchTransport::new(&http, Some(fetch)));
            builder = builder.transport(transport);
        }
        let wait_until = option("waitUntil").and_then(|f| f.dyn_into::<Function>().ok());
        builder = builder.spawner(super::WaitUntilSpawner::shared(wait_until));
        Ok(WasmClient {
            client: builder.build().map_err(error_to_js)?,
            events,
        })
    }

    /// The `config` error of a fetch whose credential provider failed before
    /// it ever answered (`why`: how, without the secret).
    #[wasm_bindgen(js_name = noSecretYet)]
    pub fn no_secret_yet(&self, why: &str) -> JsValue {
        error_to_js(self.client.no_secret_yet(why))
    }

    /// The client's name in metrics and traces (config `name`, else the provider).
    pub fn name(&self) -> String {
        self.client.name().to_owned()
    }

    /// The token endpoint's host, for spans.
    #[wasm_bindgen(js_name = serverAddress)]
    pub fn server_address(&self) -> String {
        self.client.server_address()
    }

    /// The client's health, without I/O: [`CoreStatus`]'s fields as one array
    /// in its order, the last error's as three (code, status, detail).
    pub fn status(&self) -> js_sys::Array {
        let s = self.client.status();
        let error = s.last_error.as_ref();
        let fields = js_sys::Array::of4(
            &s.health.code().into(),
            &s.health.is_healthy().into(),
            &s.token_usable.into(),
            &num(s.token_expires_in_ms),
        );
        push_error(&fields, error.map(|(e, _)| e));
        for value in [
            num(error.map(|(_, at)| *at)),
            num(s.backoff_ms),
            s.fetching.into(),
            s.store.map_or(JsValue::NULL, |h| h.breaker.code().into()),
            num(s.store.map(|h| h.open_for_ms)),
        ] {
            fields.push(&value);
        }
        fields
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

/// An event's fields as one array, in [`crate::records::CoreEvent`]'s order
/// (the error's as three: code, status, detail), without the record's
/// allocations.
fn event_fields(event: &crate::Event, at_unix_ms: i64) -> js_sys::Array {
    use crate::Event as E;
    let (mut fetch, mut reason, mut outcome, mut stale) = (None, None, None, None);
    let (mut lifetime, mut from_store, mut latency, mut status, mut waited) =
        (None, None, None, None, None);
    match *event {
        E::Hit { stale: s } => stale = Some(s),
        E::FetchStarted {
            fetch_id,
            reason: r,
        } => (fetch, reason) = (Some(fetch_id), Some(r.code())),
        E::Fetched {
            fetch_id,
            reason: r,
            lifetime_ms,
            from_store: f,
            latency_ms,
            status: st,
        } => {
            (fetch, reason, lifetime, from_store) =
                (Some(fetch_id), Some(r.code()), Some(lifetime_ms), Some(f));
            (latency, status) = (Some(latency_ms), st);
        }
        E::RefreshStarted { fetch_id } => fetch = Some(fetch_id),
        // A failure's status is its error's (`errorStatus`).
        E::RefreshFailed {
            fetch_id,
            latency_ms,
            lifetime_ms,
            ..
        } => (fetch, latency, lifetime) = (Some(fetch_id), Some(latency_ms), Some(lifetime_ms)),
        E::FetchFailed {
            fetch_id,
            reason: r,
            latency_ms,
            ..
        } => (fetch, reason, latency) = (Some(fetch_id), Some(r.code()), Some(latency_ms)),
        E::StoreLock {
            fetch_id,
            outcome: o,
            waited_ms,
        } => (fetch, outcome, waited) = (Some(fetch_id), Some(o.code()), Some(waited_ms)),
        E::Miss | E::StoreFailed { .. } => {}
    }
    let fields = js_sys::Array::of4(
        &event.name().into(),
        &num(fetch),
        &reason.map_or(JsValue::NULL, JsValue::from_str),
        &outcome.map_or(JsValue::NULL, JsValue::from_str),
    );
    for value in [
        stale.map_or(JsValue::NULL, JsValue::from),
        num(lifetime),
        from_store.map_or(JsValue::NULL, JsValue::from),
        num(latency),
        num(status),
    ] {
        fields.push(&value);
    }
    push_error(&fields, event.error());
    fields.push(&num(waited));
    fields.push(&num(Some(at_unix_ms)));
    fields
}

/// An error's code, status and detail onto `fields` (three nulls without one).
fn push_error(fields: &js_sys::Array, error: Option<&Error>) {
    fields.push(&error.map_or(JsValue::NULL, |e| e.code().into()));
    fields.push(&num(error.and_then(Error::status)));
    fields.push(&error.map_or(JsValue::NULL, |e| e.detail().into()));
}

/// A number, or `null` (a JS number holds every value these reach exactly).
fn num<T: ToF64>(value: Option<T>) -> JsValue {
    value.map_or(JsValue::NULL, |v| JsValue::from_f64(v.to_f64()))
}

trait ToF64 {
    fn to_f64(self) -> f64;
}

macro_rules! to_f64 {
    ($($ty:ty),*) => {$(impl ToF64 for $ty {
        fn to_f64(self) -> f64 {
            self as f64
        }
    })*};
}
to_f64!(u16, u64, i64);

/// A failure as a plain `{code, status, retryAfterMs, detail, summary}` object
/// (the JS wrapper turns it into its `TokenwellError` class). The core's texts
/// never contain the secret or a token.
fn error_to_js(e: Error) -> JsValue {
    to_js(&TokenwellError::from(e))
}
