//! HTTP over the runtime's global `fetch`: no redirects, a timeout that aborts
//! the request, and a body read chunk by chunk up to [`MAX_RESPONSE_BYTES`].

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::config::HttpOptions;
use crate::error::{Error, ErrorKind, Result};
use crate::request::HttpRequest;
use crate::response::{HttpResponse, MAX_RESPONSE_BYTES};
use crate::transport::Transport;

#[wasm_bindgen]
extern "C" {
    /// The standard `AbortController`.
    type AbortController;
    #[wasm_bindgen(constructor, catch)]
    fn new() -> std::result::Result<AbortController, JsValue>;
    #[wasm_bindgen(method, getter)]
    fn signal(this: &AbortController) -> JsValue;
    #[wasm_bindgen(method)]
    fn abort(this: &AbortController);

    /// A fetch `Response`.
    type FetchResponse;
    #[wasm_bindgen(method, getter)]
    fn status(this: &FetchResponse) -> u16;
    #[wasm_bindgen(method, getter)]
    fn headers(this: &FetchResponse) -> FetchHeaders;
    #[wasm_bindgen(method, getter)]
    fn body(this: &FetchResponse) -> Option<ReadableStream>;

    /// `Headers`.
    type FetchHeaders;
    #[wasm_bindgen(method)]
    fn get(this: &FetchHeaders, name: &str) -> Option<String>;

    /// A `ReadableStream` of `Uint8Array` chunks.
    type ReadableStream;
    #[wasm_bindgen(method, js_name = getReader, catch)]
    fn get_reader(this: &ReadableStream) -> std::result::Result<StreamReader, JsValue>;

    /// Its default reader.
    type StreamReader;
    #[wasm_bindgen(method)]
    fn read(this: &StreamReader) -> Promise;
    #[wasm_bindgen(method)]
    fn cancel(this: &StreamReader) -> Promise;

    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// The WebAssembly transport: the runtime's own `fetch` (Node ≥ 18, Deno, Bun,
/// Cloudflare workerd), looked up on `globalThis` at each request, or the
/// application's (the JS `fetch` option: undici with a dispatcher, a Workers
/// mTLS binding's `fetch`), called alike: same init, same limits, same codes.
#[derive(Clone, Debug)]
pub struct FetchTransport {
    timeout_ms: u64,
    fetch: Option<Function>,
}

impl FetchTransport {
    /// A transport that gives up after `http.timeout_ms` (headers and body;
    /// `fetch` has no separate connect timeout), calling `fetch` if given.
    pub fn new(http: &HttpOptions, fetch: Option<Function>) -> Self {
        FetchTransport {
            timeout_ms: http.timeout_ms,
            fetch,
        }
    }
}

/// Aborts the request when the timeout passes; clears the timer when dropped,
/// so a finished request leaves no timer keeping Node's event loop alive.
struct Deadline {
    id: JsValue,
    fired: Rc<Cell<bool>>,
    _handler: Closure<dyn FnMut()>,
}

impl Deadline {
    fn start(controller: &AbortController, ms: u64) -> Deadline {
        let fired = Rc::new(Cell::new(false));
        let flag = fired.clone();
        let controller: JsValue = controller.clone().into();
        let handler = Closure::<dyn FnMut()>::new(move || {
            flag.set(true);
            controller.unchecked_ref::<AbortController>().abort();
        });
        let id = set_timeout(handler.as_ref().unchecked_ref(), ms as f64);
        Deadline {
            id,
            fired,
            _handler: handler,
        }
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        clear_timeout(&self.id);
    }
}

impl Clone for AbortController {
    fn clone(&self) -> Self {
        JsValue::clone(self).unchecked_into()
    }
}

#[async_trait::async_trait(?Send)]
impl Transport for FetchTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let fetch = (self.fetch.clone())
            .or_else(|| super::global_property("fetch").and_then(|f| f.dyn_into().ok()))
            .ok_or_else(|| Error::new(ErrorKind::Network, "this runtime has no global fetch"))?;
        let controller = AbortController::new().map_err(|e| {
            Error::new(
                ErrorKind::Network,
                format!("cannot create an AbortController: {}", describe(&e)),
            )
        })?;
        let deadline = Deadline::start(&controller, self.timeout_ms);
        let fail = |e: JsValue| {
            if deadline.fired.get() {
                Error::new(
                    ErrorKind::Timeout,
                    format!("no complete response within {} ms", self.timeout_ms),
                )
            } else if caused_by(&e, "UND_ERR_HEADERS_OVERFLOW") {
                // Node's fetch refuses big headers itself: the core's own refusal.
                crate::response::head_too_large()
            } else {
                Error::new(ErrorKind::Network, describe(&e))
            }
        };

        let init = request_init(&request, &controller.signal()).map_err(fail)?;
        let promise = fetch
            .call2(&js_sys::global(), &JsValue::from_str(&request.url), &init)
            .map_err(fail)?
            .dyn_into::<Promise>()
            .map_err(|_| Error::new(ErrorKind::Network, "fetch did not return a Promise"))?;
        let response: FetchResponse = JsFuture::from(promise)
            .await
            .map_err(fail)?
            .unchecked_into();

        let status = response.status();
        let js_headers = response.headers();
        let declared = js_headers
            .get("content-length")
            .and_then(|v| v.trim().parse::<u64>().ok());
        let mut headers = Vec::new();
        if let Ok(Some(entries)) = js_sys::try_iter(&js_headers) {
            for entry in entries.flatten() {
                let pair: Array = entry.unchecked_into();
                if let (Some(name), Some(value)) =
                    (pair.get(0).as_string(), pair.get(1).as_string())
                {
                    headers.push((name.to_ascii_lowercase(), value));
                }
            }
        }
        let stream = response.body();
        if declared.is_some_and(|n| n > MAX_RESPONSE_BYTES as u64) {
            if let Some(reader) = stream.and_then(|s| s.get_reader().ok()) {
                let _ = reader.cancel();
            }
            return Err(too_large(status));
        }
        let mut body = Vec::new();
        if let Some(stream) = stream {
            let reader = stream.get_reader().map_err(fail)?;
            loop {
                let chunk = JsFuture::from(reader.read()).await.map_err(fail)?;
                if Reflect::get(&chunk, &JsValue::from_str("done"))
                    .map_err(fail)?
                    .is_truthy()
                {
                    break;
                }
                let value = Reflect::get(&chunk, &JsValue::from_str("value")).map_err(fail)?;
                let bytes: Uint8Array = value.dyn_into().map_err(|_| {
                    Error::new(
                        ErrorKind::Network,
                        "response body chunk is not a Uint8Array",
                    )
                })?;
                let len = bytes.length() as usize;
                if body.len() + len > MAX_RESPONSE_BYTES {
                    let _ = reader.cancel();
                    return Err(too_large(status));
                }
                let start = body.len();
                body.resize(start + len, 0);
                bytes.copy_to(&mut body[start..]);
            }
        }
        drop(deadline);
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// `{method, headers, body, redirect: "manual", signal}`: a redirect comes back as
/// a 3xx response (classed `http_error` by the core) instead of carrying the
/// credentials to another URL.
fn request_init(request: &HttpRequest, signal: &JsValue) -> std::result::Result<JsValue, JsValue> {
    let init = Object::new();
    let headers = Array::new();
    for (name, value) in &request.headers {
        headers.push(&Array::of2(
            &JsValue::from_str(name),
            &JsValue::from_str(value),
        ));
    }
    Reflect::set(&init, &"method".into(), &JsValue::from_str(request.method))?;
    Reflect::set(&init, &"headers".into(), &headers)?;
    // `fetch` refuses a body on a GET (the discovery of a token endpoint).
    if request.method != "GET" {
        Reflect::set(
            &init,
            &"body".into(),
            &Uint8Array::from(request.body.as_slice()),
        )?;
    }
    Reflect::set(&init, &"redirect".into(), &"manual".into())?;
    Reflect::set(&init, &"signal".into(), signal)?;
    Ok(init.into())
}

fn too_large(status: u16) -> Error {
    Error::new(
        ErrorKind::ResponseTooLarge,
        format!("token response exceeds {MAX_RESPONSE_BYTES} bytes"),
    )
    .with_status(status)
}

/// Whether the thrown value, or one of its causes, has this `code` (Node's
/// fetch throws "fetch failed" with undici's error as its `cause`).
fn caused_by(e: &JsValue, code: &str) -> bool {
    let mut current = e.clone();
    for _ in 0..4 {
        let field = |name: &str| Reflect::get(&current, &JsValue::from_str(name)).ok();
        if field("code").and_then(|c| c.as_string()).as_deref() == Some(code) {
            return true;
        }
        match field("cause") {
            Some(cause) if cause.is_object() => current = cause,
            _ => return false,
        }
    }
    false
}

/// A thrown JS value as one line: `name: message` and its `cause` chain
/// (Node's fetch says "fetch failed" and puts the reason in `cause`).
fn describe(e: &JsValue) -> String {
    let mut text = String::new();
    let mut current = e.clone();
    for _ in 0..4 {
        if current.is_undefined() || current.is_null() {
            break;
        }
        let part = match current.dyn_ref::<js_sys::Error>() {
            Some(err) => {
                let name: String = err.name().into();
                let message: String = err.message().into();
                if message.is_empty() {
                    name
                } else {
                    format!("{name}: {message}")
                }
            }
            None => current
                .as_string()
                .unwrap_or_else(|| "unknown error".to_owned()),
        };
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
        current = Reflect::get(&current, &JsValue::from_str("cause")).unwrap_or(JsValue::UNDEFINED);
    }
    if text.is_empty() {
        "fetch failed".to_owned()
    } else {
        text
    }
}
