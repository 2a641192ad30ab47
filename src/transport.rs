//! The only I/O the core asks for: send one HTTP request, read the response.

use crate::error::Result;
use crate::request::HttpRequest;
use crate::response::HttpResponse;
use crate::runtime::MaybeSendSync;

/// The seam for the application's own HTTP client: what the core asks of any
/// transport it sends with. The default is reqwest natively and `fetch` in
/// WebAssembly; [`crate::Builder::transport`] replaces it (the Python and
/// Kotlin wrappers plug in `httpx`, `requests`, OkHttp or `java.net.http`
/// through the same seam).
///
/// The core keeps every decision; an implementation only moves bytes, and
/// must keep the built-in transport's limits so that every failure gets the
/// same error code:
///
/// - send the request as it is (method, URL, headers, body). Its
///   `authorization` header or its body carries the client secret (or a client
///   assertion): never log them;
/// - never follow a redirect (it would resend the secret elsewhere): hand the
///   3xx to the core, which reports it as an `http_error`;
/// - enforce the timeouts it was built with ([`crate::config::HttpOptions`]),
///   reporting [`crate::ErrorKind::Timeout`]; a connect, TLS or protocol
///   failure is [`crate::ErrorKind::Network`];
/// - read at most [`crate::MAX_RESPONSE_BYTES`] of (decoded) body, returning
///   [`crate::ErrorKind::ResponseTooLarge`] with the status past it. Response
///   heads of [`crate::MAX_RESPONSE_HEAD_BYTES`] or more are refused
///   by the core itself;
/// - list the response's headers with [`crate::header_list`].
///
/// ```
/// use std::sync::Arc;
/// use tokenwell::{header_list, Error, ErrorKind, HttpRequest, HttpResponse, Result};
/// use tokenwell::{TokenClient, TokenConfig, Transport};
///
/// /// A transport that answers every request itself (a test double; a real
/// /// one would call the application's HTTP client here).
/// struct Canned;
///
/// #[async_trait::async_trait]
/// impl Transport for Canned {
///     async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
///         if request.method != "POST" {
///             return Err(Error::new(ErrorKind::Network, "unexpected request"));
///         }
///         let body = br#"{"access_token":"tok-1","token_type":"Bearer","expires_in":3600}"#;
///         Ok(HttpResponse {
///             status: 200,
///             headers: header_list([("Content-Type", &b"application/json"[..])]),
///             body: body.to_vec(),
///         })
///     }
/// }
///
/// # futures::executor::block_on(async {
/// let config = TokenConfig::from_json(r#"{"provider": "custom",
///     "token_url": "https://idp.example/oauth/token",
///     "client_id": "my-id", "client_secret": "my-secret"}"#)?;
/// let client = TokenClient::builder(config).transport(Arc::new(Canned)).build()?;
/// assert_eq!(client.authorization_header().await?, "Bearer tok-1");
/// # Ok::<(), tokenwell::Error>(())
/// # }).unwrap();
/// ```
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait Transport: MaybeSendSync {
    /// Sends `request` and returns the response, or a
    /// network / timeout / too-large error.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse>;
}
