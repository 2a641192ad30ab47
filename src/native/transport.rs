//! HTTP over reqwest: rustls, timeouts, no redirects, a capped body.

use std::time::Duration;

use super::network::Network;
use super::process::Process;
use crate::config::HttpOptions;
use crate::error::{Error, ErrorKind, Result};
use crate::request::HttpRequest;
use crate::response::{HttpResponse, MAX_RESPONSE_BYTES};
use crate::transport::Transport;

/// The native transport. It holds only its settings: the HTTP client (TLS
/// configuration and connection pool, shared by every client in the process
/// with the same network settings) and the runtime it runs on are the current
/// process's, looked up per request, so a forked child never uses the parent's.
///
/// Requests run as tasks on that runtime: a shared fetch may be polled by
/// whichever caller gets there first, including a Python or JVM thread outside
/// any runtime, where reqwest cannot do I/O.
#[derive(Clone, Debug)]
pub struct ReqwestTransport {
    network: Network,
    timeout: Duration,
}

impl ReqwestTransport {
    /// A transport with the given timeouts, proxy, CAs and client certificate
    /// that never follows redirects (a redirect would carry the credentials to
    /// another URL). A file that cannot be read or used is a `config` error.
    pub fn new(http: &HttpOptions) -> Result<Self> {
        let network = Network::new(http)?;
        // Built now, so a client that cannot work fails at construction.
        Process::current()?.http_client(&network)?;
        Ok(ReqwestTransport {
            network,
            timeout: Duration::from_millis(http.timeout_ms),
        })
    }
}

#[async_trait::async_trait]
impl Transport for ReqwestTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let process = Process::current()?;
        let client = process.http_client(&self.network)?;
        process
            .runtime()
            .spawn(send_on(client, self.timeout, request))
            .await
            .map_err(|_| {
                Error::new(
                    ErrorKind::Internal,
                    "the HTTP task panicked or was cancelled",
                )
            })?
            .map_err(|e| self.network.scrub(e))
    }
}

async fn send_on(
    client: reqwest::Client,
    timeout: Duration,
    request: HttpRequest,
) -> Result<HttpResponse> {
    // A GET (the discovery of a token endpoint) goes without a body, so
    // without a content length either; everything else is a POST.
    let get = request.method == "GET";
    let mut builder = if get {
        client.get(&request.url)
    } else {
        client.post(&request.url)
    };
    builder = builder.timeout(timeout);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    if !get {
        builder = builder.body(request.body);
    }
    let mut resp = builder.send().await.map_err(classify)?;
    let status = resp.status().as_u16();
    let headers = crate::response::header_list(
        resp.headers()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_bytes())),
    );
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
    {
        return Err(too_large(status));
    }
    // A gzip-encoded body arrives decoded (as `fetch` decodes it in JS): the cap
    // counts decoded bytes, so a gzip bomb stops at the cap.
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(classify)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(too_large(status));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn too_large(status: u16) -> Error {
    Error::new(
        ErrorKind::ResponseTooLarge,
        format!("token response exceeds {MAX_RESPONSE_BYTES} bytes"),
    )
    .with_status(status)
}

fn classify(mut e: reqwest::Error) -> Error {
    // reqwest quotes the URL: never its query's values.
    if let Some(url) = e.url_mut() {
        let shown = crate::redact::display_url(url.as_str());
        if let Ok(shown) = url::Url::parse(&shown) {
            *url = shown;
        }
    }
    let kind = if e.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Network
    };
    Error::new(kind, chain(&e))
}

/// The error and its sources on one line (reqwest's top-level text alone says
/// little: "error sending request").
pub(super) fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
