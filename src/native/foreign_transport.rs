//! The application's own HTTP client as the core's [`Transport`]: an
//! `httpx.Client` or `requests.Session` in Python, an `OkHttpClient` or a
//! `java.net.http.HttpClient` in Kotlin, behind a thin adapter in each wrapper.
//!
//! The adapter only moves bytes. Every decision stays here: the request is
//! the core's (method, URL, headers, body), redirects are never followed (the
//! adapter asks its library not to; a 3xx reaches the core as the HTTP error
//! it is), and the limits of the built-in transport hold: the adapter reads at
//! most [`MAX_RESPONSE_BYTES`] + 1 body bytes (decoded, as the built-in
//! transport counts them) and stops keeping headers once they reach
//! [`MAX_RESPONSE_HEAD_BYTES`]; the core refuses anything past either limit
//! exactly as it refuses it from reqwest or `fetch`. The adapter maps its
//! library's failures to `timeout` or `network` (or `response_too_large`,
//! for a library that refuses a head itself), naming the exception's type only.
//!
//! Calls run like an own store's (see [`super::foreign`]): a Kotlin adapter on
//! the own-store pool, a Python one on the Python threads, never on tokio's
//! blocking pool, at most [`super::foreign::MAX_CALLS_IN_FLIGHT`] in flight per
//! transport. The core waits at most `http.timeout_ms` for the answer (the
//! adapter also hands its library both timeouts): a hung client costs a
//! `timeout` error, never a hung caller.

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::foreign::{Backend, Foreign, StoreAnswer, StoreCall, NEXT_FOREIGN_KEY};
use crate::config::HttpOptions;
use crate::error::{Error, ErrorKind, Result};
use crate::request::HttpRequest;
use crate::response::{header_list, HttpResponse, MAX_RESPONSE_BYTES, MAX_RESPONSE_HEAD_BYTES};
use crate::transport::Transport;

/// One header field.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct ForeignHeader {
    /// Its name (lowercase in requests).
    pub name: String,
    /// Its value: in responses, the field's bytes read as Latin-1 (one char a byte).
    pub value: String,
}

/// A request for the application's HTTP client to send as it is. `Debug`
/// shows no header value and no body: they carry the client secret.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct ForeignRequest {
    /// `POST`, or `GET` (then without a body).
    pub method: String,
    /// The absolute URL.
    pub url: String,
    /// The headers, to send as they are (the `authorization` header, when
    /// present, holds the client secret).
    pub headers: Vec<ForeignHeader>,
    /// The body (it may hold the client secret or a client assertion).
    pub body: Vec<u8>,
    /// Connect timeout for the library, in ms.
    pub connect_timeout_ms: u64,
    /// Whole-request timeout for the library, in ms.
    pub timeout_ms: u64,
    /// Read no more than this many (decoded) body bytes: one past the core's
    /// limit, so that the core sees the response is too large.
    pub max_body_bytes: u64,
    /// Stop keeping headers once their names and values reach this many bytes.
    pub max_head_bytes: u64,
}

impl fmt::Debug for ForeignRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|h| h.name.as_str()).collect();
        let (url, body) = (&self.url, self.body.len());
        crate::redact::debug_request(
            &mut f.debug_struct("ForeignRequest"),
            &self.method,
            url,
            &names,
            body,
        )
        .finish_non_exhaustive()
    }
}

/// The response as the application's HTTP client read it.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct ForeignResponse {
    /// The status code.
    pub status: u16,
    /// The header fields in order, repeated names repeated.
    pub headers: Vec<ForeignHeader>,
    /// The decoded body, at most the request's `max_body_bytes`.
    pub body: Vec<u8>,
}

impl fmt::Debug for ForeignResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForeignResponse")
            .field("status", &self.status)
            .field("headers", &self.headers.len())
            .field("body", &format_args!("[{} bytes]", self.body.len()))
            .finish()
    }
}

/// Why the application's HTTP client gave no response. `reason` names the
/// exception's type (never its message: it may quote the URL or the server).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Error)]
pub enum ForeignTransportError {
    /// A connect or read timeout of the library.
    Timeout {
        /// What timed out (e.g. `httpx.ReadTimeout`).
        reason: String,
    },
    /// A connect, TLS, protocol or decoding failure of the library.
    Network {
        /// What failed (e.g. `httpx.ConnectError`).
        reason: String,
    },
    /// The library itself refused a response head over its own limit.
    TooLarge {
        /// What refused it.
        reason: String,
    },
}

impl fmt::Display for ForeignTransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (ForeignTransportError::Timeout { reason }
        | ForeignTransportError::Network { reason }
        | ForeignTransportError::TooLarge { reason }) = self;
        write!(f, "the application's HTTP client failed: {reason}")
    }
}

impl std::error::Error for ForeignTransportError {}

impl From<uniffi::UnexpectedUniFFICallbackError> for ForeignTransportError {
    fn from(_: uniffi::UnexpectedUniFFICallbackError) -> Self {
        // Its `reason` is the foreign exception's text: not repeated.
        ForeignTransportError::Network {
            reason: "an unexpected exception".into(),
        }
    }
}

/// The application's HTTP client, behind a wrapper's adapter (Kotlin's
/// `OkHttp` and `java.net.http` adapters implement it through uniffi).
#[uniffi::export(with_foreign)]
pub trait ForeignTransport: Send + Sync {
    /// Sends `request` without following redirects and reads the response
    /// within its limits.
    fn send(
        &self,
        request: ForeignRequest,
    ) -> std::result::Result<ForeignResponse, ForeignTransportError>;
}

/// A foreign transport as the core's [`Transport`].
pub struct ForeignTransportAdapter {
    backend: Backend,
    bound_key: u64,
    http: HttpOptions,
}

impl fmt::Debug for ForeignTransportAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForeignTransportAdapter")
            .field("http", &self.http)
            .finish_non_exhaustive()
    }
}

impl ForeignTransportAdapter {
    /// A uniffi transport (Kotlin), run on the own-store pool.
    pub fn new(transport: Arc<dyn ForeignTransport>, http: &HttpOptions) -> Self {
        ForeignTransportAdapter {
            backend: Backend::Foreign(Foreign::Transport(transport)),
            bound_key: NEXT_FOREIGN_KEY.fetch_add(1, Ordering::Relaxed),
            http: http.clone(),
        }
    }

    /// The Python transport the Python threads know as `transport_id`.
    pub fn queued(transport_id: u64, http: &HttpOptions) -> Self {
        ForeignTransportAdapter {
            backend: Backend::Queued(transport_id),
            bound_key: transport_id,
            http: http.clone(),
        }
    }

    fn foreign_request(&self, request: HttpRequest) -> ForeignRequest {
        ForeignRequest {
            method: request.method.to_owned(),
            url: request.url,
            headers: request
                .headers
                .into_iter()
                .map(|(name, value)| ForeignHeader { name, value })
                .collect(),
            body: request.body,
            connect_timeout_ms: self.http.connect_timeout_ms,
            timeout_ms: self.http.timeout_ms,
            max_body_bytes: MAX_RESPONSE_BYTES as u64 + 1,
            max_head_bytes: MAX_RESPONSE_HEAD_BYTES as u64,
        }
    }
}

#[async_trait::async_trait]
impl Transport for ForeignTransportAdapter {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let call = StoreCall::Send {
            request: self.foreign_request(request),
        };
        let timeout_ms = self.http.timeout_ms;
        let answer =
            crate::platform::time_boxed(timeout_ms, self.backend.call(self.bound_key, call))
                .await
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::Timeout,
                        format!(
                            "the application's HTTP client did not answer within {timeout_ms} ms"
                        ),
                    )
                })?;
        match answer {
            Ok(StoreAnswer::Response { response }) => into_response(response),
            Ok(StoreAnswer::Unsent { error }) => Err(Error::new(
                match error {
                    ForeignTransportError::Timeout { .. } => ErrorKind::Timeout,
                    ForeignTransportError::Network { .. } => ErrorKind::Network,
                    ForeignTransportError::TooLarge { .. } => ErrorKind::ResponseTooLarge,
                },
                error.to_string(),
            )),
            Ok(StoreAnswer::Failed { reason }) => Err(Error::new(
                ErrorKind::Network,
                format!("the application's HTTP client failed: {reason}"),
            )),
            Ok(_) => Err(Error::new(
                ErrorKind::Network,
                "the application's HTTP client gave an answer of the wrong kind",
            )),
            // The bound on calls in flight, or a dropped call: said of the transport.
            Err(e) => Err(Error::new(
                ErrorKind::Network,
                e.detail()
                    .replacen("the store", "the application's HTTP client", 1),
            )),
        }
    }
}

/// The core's response from the adapter's, with the built-in transport's
/// limits: a body past [`MAX_RESPONSE_BYTES`] is refused with its status;
/// headers are listed as every transport lists them ([`header_list`]), and
/// [`crate::response::parse`] refuses a head at [`MAX_RESPONSE_HEAD_BYTES`].
fn into_response(response: ForeignResponse) -> Result<HttpResponse> {
    let ForeignResponse {
        status,
        headers,
        body,
    } = response;
    if !(100..=999).contains(&status) {
        return Err(Error::new(
            ErrorKind::Network,
            format!("the application's HTTP client gave status {status}"),
        ));
    }
    if body.len() > MAX_RESPONSE_BYTES {
        return Err(Error::new(
            ErrorKind::ResponseTooLarge,
            format!("token response exceeds {MAX_RESPONSE_BYTES} bytes"),
        )
        .with_status(status));
    }
    // Values come back as text, one char per byte read (Latin-1); a char past
    // U+00FF (a library that decoded UTF-8) counts as its UTF-8 bytes.
    let lines: Vec<(String, Vec<u8>)> = headers
        .into_iter()
        .map(|h| {
            let mut bytes = Vec::with_capacity(h.value.len());
            for c in h.value.chars() {
                match u8::try_from(u32::from(c)) {
                    Ok(b) => bytes.push(b),
                    Err(_) => bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                }
            }
            (h.name, bytes)
        })
        .collect();
    Ok(HttpResponse {
        status,
        headers: header_list(lines.iter().map(|(n, v)| (n.as_str(), v.as_slice()))),
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn block<T>(f: impl std::future::Future<Output = T>) -> T {
        futures::executor::block_on(f)
    }

    fn request() -> HttpRequest {
        HttpRequest {
            method: "POST",
            url: "https://idp.example/token?k=v".into(),
            headers: vec![("authorization".into(), "Basic c2VjcmV0".into())],
            body: b"client_secret=s3cret".to_vec(),
        }
    }

    /// Answers with a fixed result and remembers what it was sent.
    struct Fixed {
        answer: std::result::Result<ForeignResponse, ForeignTransportError>,
        seen: Mutex<Vec<ForeignRequest>>,
        delay_ms: u64,
    }

    impl ForeignTransport for Fixed {
        fn send(
            &self,
            request: ForeignRequest,
        ) -> std::result::Result<ForeignResponse, ForeignTransportError> {
            self.seen.lock().unwrap().push(request);
            std::thread::sleep(std::time::Duration::from_millis(self.delay_ms));
            self.answer.clone()
        }
    }

    fn adapter(
        answer: std::result::Result<ForeignResponse, ForeignTransportError>,
        delay_ms: u64,
        timeout_ms: u64,
    ) -> (Arc<Fixed>, ForeignTransportAdapter) {
        let fixed = Arc::new(Fixed {
            answer,
            seen: Mutex::new(Vec::new()),
            delay_ms,
        });
        let http = HttpOptions {
            connect_timeout_ms: 1_000,
            timeout_ms,
            ..HttpOptions::default()
        };
        (fixed.clone(), ForeignTransportAdapter::new(fixed, &http))
    }

    fn response(body: usize, headers: Vec<(&str, &str)>) -> ForeignResponse {
        ForeignResponse {
            status: 200,
            headers: headers
                .into_iter()
                .map(|(n, v)| ForeignHeader {
                    name: n.into(),
                    value: v.into(),
                })
                .collect(),
            body: vec![b'x'; body],
        }
    }

    #[test]
    fn the_request_goes_as_built_with_the_limits_and_timeouts() {
        let (fixed, t) = adapter(Ok(response(2, vec![])), 0, 700);
        let got = block(t.send(request())).unwrap();
        assert_eq!((got.status, got.body.len()), (200, 2));
        let seen = fixed.seen.lock().unwrap();
        let sent = &seen[0];
        assert_eq!(
            (sent.method.as_str(), sent.url.as_str()),
            ("POST", "https://idp.example/token?k=v")
        );
        assert_eq!(sent.headers[0].value, "Basic c2VjcmV0");
        assert_eq!(sent.body, b"client_secret=s3cret");
        assert_eq!((sent.connect_timeout_ms, sent.timeout_ms), (1_000, 700));
        assert_eq!(sent.max_body_bytes, 64 * 1024 + 1);
        assert_eq!(sent.max_head_bytes, 16 * 1024);
        let shown = format!("{sent:?}");
        assert!(
            !shown.contains("c2VjcmV0") && !shown.contains("s3cret"),
            "{shown}"
        );
    }

    #[test]
    fn limits_and_failures_get_the_built_in_transports_codes() {
        let (_, t) = adapter(Ok(response(MAX_RESPONSE_BYTES + 1, vec![])), 0, 1_000);
        let e = block(t.send(request())).unwrap_err();
        assert_eq!(
            (e.kind(), e.status()),
            (ErrorKind::ResponseTooLarge, Some(200))
        );

        let (_, t) = adapter(Ok(response(MAX_RESPONSE_BYTES, vec![])), 0, 1_000);
        assert!(
            block(t.send(request())).is_ok(),
            "the limit itself is allowed"
        );

        for (error, kind) in [
            (
                ForeignTransportError::Timeout {
                    reason: "ReadTimeout".into(),
                },
                ErrorKind::Timeout,
            ),
            (
                ForeignTransportError::Network {
                    reason: "ConnectError".into(),
                },
                ErrorKind::Network,
            ),
            (
                ForeignTransportError::TooLarge {
                    reason: "LineTooLong".into(),
                },
                ErrorKind::ResponseTooLarge,
            ),
            (
                uniffi::UnexpectedUniFFICallbackError::new("boom s3cret").into(),
                ErrorKind::Network,
            ),
        ] {
            let (_, t) = adapter(Err(error), 0, 1_000);
            let e = block(t.send(request())).unwrap_err();
            assert_eq!(e.kind(), kind, "{e}");
            assert!(!e.to_string().contains("s3cret"), "{e}");
        }
    }

    #[test]
    fn a_hung_client_costs_the_timeout_and_no_more() {
        let (_, t) = adapter(Ok(response(2, vec![])), 3_000, 200);
        let started = std::time::Instant::now();
        let e = block(t.send(request())).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
        assert!(started.elapsed() < std::time::Duration::from_millis(1_500));
    }

    #[test]
    fn headers_are_listed_like_every_transports() {
        let (_, t) = adapter(
            Ok(response(
                0,
                vec![("Retry-After", "2"), ("x-a", "1"), ("X-A", "\u{e9}")],
            )),
            0,
            1_000,
        );
        let got = block(t.send(request())).unwrap();
        assert_eq!(
            got.headers,
            vec![
                ("retry-after".to_owned(), "2".to_owned()),
                ("x-a".to_owned(), "1, \u{e9}".to_owned())
            ]
        );
    }
}
