//! The token endpoint from the authorization server's metadata (OpenID Connect
//! Discovery 1.0, RFC 8414), when the config names an `issuer` instead of a
//! `token_url`.
//!
//! The metadata is read once per client, when the first token is fetched (one
//! request however many callers wait), then reused for `discovery_ttl_secs`.
//! Past that, the next token fetch still uses the endpoint it has and reads the
//! metadata again in the background; a failed refresh keeps the endpoint and
//! warns. Only the first read can fail a `token()`.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard};

use futures::future::{FutureExt, Shared};
use serde_json::Value;

use crate::clock::Clock;
use crate::config::{CredentialsIn, TokenConfig};
use crate::error::{Error, ErrorKind, Quoted, Result};
use crate::request::HttpRequest;
use crate::runtime::{BoxFuture, Spawn};
use crate::transport::Transport;

/// How long metadata is reused when the config does not say: a day.
pub const DEFAULT_TTL_SECS: u64 = 86_400;

const OIDC_PATH: &str = "/.well-known/openid-configuration";
const RFC_8414_PATH: &str = "/.well-known/oauth-authorization-server";

/// Checks the discovery keys of a config; returns the metadata's lifetime in
/// seconds.
pub(crate) fn check_config(cfg: &TokenConfig) -> Result<u64> {
    let ttl = cfg.discovery_ttl_secs.unwrap_or(DEFAULT_TTL_SECS);
    if ttl == 0 {
        return Err(Error::config("discovery_ttl_secs must be at least 1"));
    }
    let Some(issuer) = &cfg.issuer else {
        if cfg.discovery_ttl_secs.is_some() {
            return Err(Error::config(
                "discovery_ttl_secs needs issuer (it is how long the issuer's metadata is reused)",
            ));
        }
        return Ok(ttl);
    };
    for (key, set) in [
        ("token_url", cfg.token_url.is_some()),
        ("base_url", cfg.base_url.is_some()),
    ] {
        if set {
            return Err(Error::config(format!(
                "issuer and {key} exclude each other: the token endpoint comes from the \
                 issuer's metadata"
            )));
        }
    }
    // RFC 8414 §2: an issuer has no query or fragment. A backslash would be read
    // as a slash by the URL parser, so the path would not be the one configured.
    if issuer.contains(['?', '#', '\\']) || !issuer.contains("://") {
        return Err(Error::config(
            "issuer must be an absolute URL without a query or fragment",
        ));
    }
    Ok(ttl)
}

/// Where the metadata of `issuer` is: the OpenID Connect form
/// (`{issuer}/.well-known/openid-configuration`), then the RFC 8414 form (the
/// well-known segment between the host and the issuer's path).
pub fn metadata_urls(issuer: &str) -> [String; 2] {
    let trimmed = issuer.strip_suffix('/').unwrap_or(issuer);
    let authority_at = trimmed.find("://").map_or(0, |i| i + 3);
    let path_at = trimmed[authority_at..]
        .find('/')
        .map_or(trimmed.len(), |i| authority_at + i);
    let (origin, path) = trimmed.split_at(path_at);
    [
        format!("{trimmed}{OIDC_PATH}"),
        format!("{origin}{RFC_8414_PATH}{path}"),
    ]
}

/// The RFC 8414 names of the client authentication methods a `credentials`
/// setting uses; the server must list one of them.
fn method_names(credentials: CredentialsIn) -> &'static [&'static str] {
    match credentials {
        CredentialsIn::Basic => &["client_secret_basic"],
        CredentialsIn::Body => &["client_secret_post"],
        CredentialsIn::Both => &["client_secret_basic", "client_secret_post"],
    }
}

/// Reads a metadata document: its `issuer` must be `issuer` exactly, its
/// `token_endpoint` must pass the token URL's rule, and its
/// `token_endpoint_auth_methods_supported` (absent: `client_secret_basic`)
/// must list the configured method. Returns the token endpoint.
pub fn parse_metadata(body: &[u8], issuer: &str, credentials: CredentialsIn) -> Result<String> {
    let malformed = |what: &str| Error::malformed(format!("the issuer's metadata {what}"));
    let doc: Value = serde_json::from_slice(body).map_err(|_| malformed("is not a JSON object"))?;
    let text = |key: &str| doc.get(key).and_then(Value::as_str);
    let Some(found) = text("issuer") else {
        return Err(malformed("has no issuer"));
    };
    if found != issuer {
        return Err(Error::config(format!(
            "the metadata found for issuer {} is for issuer {}: they must be equal",
            Quoted(issuer),
            Quoted(found)
        )));
    }
    let Some(endpoint) = text("token_endpoint") else {
        return Err(malformed("has no token_endpoint"));
    };
    crate::profile::check_url(endpoint, "token_endpoint")?;
    let listed: Vec<&str> = match doc.get("token_endpoint_auth_methods_supported") {
        None | Some(Value::Null) => vec!["client_secret_basic"],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(_) => {
            return Err(malformed(
                "has a token_endpoint_auth_methods_supported that is not a list",
            ))
        }
    };
    let wanted = method_names(credentials);
    if !wanted.iter().any(|m| listed.contains(m)) {
        return Err(Error::config(format!(
            "credentials {} is not among the issuer's token endpoint auth methods [{}]",
            wanted.join(" or "),
            listed.join(", ")
        )));
    }
    Ok(endpoint.to_owned())
}

/// A status other than 2xx from the metadata endpoint, classed as the token
/// endpoint's statuses are.
fn status_error(status: u16, url: &str) -> Error {
    let kind = match status {
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::ServerError,
        _ => ErrorKind::HttpError,
    };
    Error::new(
        kind,
        format!("the issuer's metadata at {url} answered HTTP {status}"),
    )
    .with_status(status)
}

type Read = Shared<BoxFuture<'static, Result<Arc<str>>>>;

/// One client's discovered token endpoint: read once, reused for the TTL,
/// refreshed in the background.
pub(crate) struct Discovery {
    issuer: String,
    ttl_ms: u64,
    credentials: CredentialsIn,
    transport: Arc<dyn Transport>,
    clock: Arc<dyn Clock>,
    spawner: Arc<dyn Spawn>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The token endpoint, and when (on the client's clock) it was read.
    endpoint: Option<(Arc<str>, u64)>,
    /// The read in flight, with the spawner generation it was started under.
    inflight: Option<(u64, Read)>,
}

impl Discovery {
    pub(crate) fn new(
        issuer: String,
        ttl_secs: u64,
        credentials: CredentialsIn,
        transport: Arc<dyn Transport>,
        clock: Arc<dyn Clock>,
        spawner: Arc<dyn Spawn>,
    ) -> Self {
        Discovery {
            issuer,
            ttl_ms: ttl_secs.saturating_mul(1000),
            credentials,
            transport,
            clock,
            spawner,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The token endpoint: the one read earlier (reading it again in the
    /// background once it is older than the TTL), else the one read now, by
    /// one request shared by every caller.
    pub(crate) async fn token_endpoint(self: &Arc<Self>) -> Result<Arc<str>> {
        let (read, driver) = match self.decide() {
            Ok(endpoint) => return Ok(endpoint),
            Err(wait) => wait,
        };
        if let Some(driver) = driver {
            self.spawner.spawn(driver);
        }
        read.await
    }

    /// The synchronous part: the endpoint at hand (and the background refresh
    /// to spawn, if it is stale), or the read to wait for (and its driver, if
    /// this call started it). The lock is released before anything is spawned.
    #[allow(clippy::type_complexity)]
    fn decide(
        self: &Arc<Self>,
    ) -> std::result::Result<Arc<str>, (Read, Option<BoxFuture<'static, ()>>)> {
        let now = self.clock.now_ms();
        let mut st = self.lock();
        if st
            .inflight
            .as_ref()
            .is_some_and(|(generation, _)| *generation != self.spawner.generation())
        {
            // Started before a fork: its task stayed with the parent.
            st.inflight = None;
        }
        if let Some((endpoint, read_at)) = &st.endpoint {
            let endpoint = endpoint.clone();
            let stale = now.saturating_sub(*read_at) >= self.ttl_ms;
            let refresh = (stale && st.inflight.is_none()).then(|| self.begin(&mut st));
            drop(st);
            if let Some((_, driver)) = refresh {
                self.spawner.spawn(driver);
            }
            return Ok(endpoint);
        }
        if let Some((_, read)) = &st.inflight {
            return Err((read.clone(), None));
        }
        let (read, driver) = self.begin(&mut st);
        Err((read, Some(driver)))
    }

    /// Registers a read as in flight; returns it and the task that drives it
    /// (to be spawned once the lock is released).
    fn begin(self: &Arc<Self>, st: &mut State) -> (Read, BoxFuture<'static, ()>) {
        let this = self.clone();
        let read: BoxFuture<'static, Result<Arc<str>>> = Box::pin(async move {
            // A panicking transport must not leave the read in flight forever.
            let result = AssertUnwindSafe(this.read())
                .catch_unwind()
                .await
                .unwrap_or_else(|_| {
                    Err(Error::new(
                        ErrorKind::Internal,
                        "the metadata read panicked",
                    ))
                });
            let now = this.clock.now_ms();
            let mut st = this.lock();
            st.inflight = None;
            let kept = match &result {
                Ok(endpoint) => {
                    st.endpoint = Some((endpoint.clone(), now));
                    false
                }
                Err(_) => st.endpoint.is_some(),
            };
            drop(st);
            if let (true, Err(e)) = (kept, &result) {
                log::warn!(
                    "tokenwell: could not refresh the issuer's metadata ({e}); keeping the \
                     token endpoint read before"
                );
            }
            result
        });
        let read = read.shared();
        st.inflight = Some((self.spawner.generation(), read.clone()));
        let driver = read.clone();
        let task = Box::pin(async move {
            let _ = driver.await;
        });
        (read, task)
    }

    /// One read of the metadata: the OpenID Connect form, then, on a 404, the
    /// RFC 8414 form.
    async fn read(&self) -> Result<Arc<str>> {
        let [oidc, rfc_8414] = metadata_urls(&self.issuer);
        let mut url = oidc;
        let mut resp = self.get(&url).await?;
        if resp.status == 404 {
            url = rfc_8414;
            resp = self.get(&url).await?;
        }
        if !(200..300).contains(&resp.status) {
            return Err(status_error(resp.status, &url));
        }
        let endpoint = parse_metadata(&resp.body, &self.issuer, self.credentials)?;
        log::debug!(
            "tokenwell: the issuer's metadata names the token endpoint {}",
            crate::redact::display_url(&endpoint)
        );
        Ok(endpoint.into())
    }

    async fn get(&self, url: &str) -> Result<crate::response::HttpResponse> {
        let request = HttpRequest {
            method: "GET",
            url: url.to_owned(),
            headers: vec![("accept".to_owned(), "application/json".to_owned())],
            body: Vec::new(),
        };
        self.transport.send(request).await.map_err(|e| {
            let detail = format!("reading the issuer's metadata at {url}: {}", e.detail());
            let mut err = Error::new(e.kind(), detail);
            if let Some(status) = e.status() {
                err = err.with_status(status);
            }
            err
        })
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn metadata_urls_in_both_forms() {
        for (issuer, oidc, rfc) in [
            (
                "https://h",
                "https://h/.well-known/openid-configuration",
                "https://h/.well-known/oauth-authorization-server",
            ),
            (
                "https://h/",
                "https://h/.well-known/openid-configuration",
                "https://h/.well-known/oauth-authorization-server",
            ),
            (
                "https://h/t1",
                "https://h/t1/.well-known/openid-configuration",
                "https://h/.well-known/oauth-authorization-server/t1",
            ),
            (
                "https://login.example:8443/realms/acme/",
                "https://login.example:8443/realms/acme/.well-known/openid-configuration",
                "https://login.example:8443/.well-known/oauth-authorization-server/realms/acme",
            ),
            (
                "http://127.0.0.1:9/tenant/v2.0",
                "http://127.0.0.1:9/tenant/v2.0/.well-known/openid-configuration",
                "http://127.0.0.1:9/.well-known/oauth-authorization-server/tenant/v2.0",
            ),
        ] {
            assert_eq!(metadata_urls(issuer), [oidc, rfc], "{issuer}");
        }
    }

    fn doc(value: Value) -> Vec<u8> {
        serde_json::to_vec(&value).unwrap()
    }

    const ISSUER: &str = "https://id.example/t1";

    #[test]
    fn a_document_gives_its_token_endpoint() {
        let body = doc(serde_json::json!({
            "issuer": ISSUER,
            "token_endpoint": "https://id.example/t1/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
            "jwks_uri": "https://id.example/t1/keys",
        }));
        let endpoint = parse_metadata(&body, ISSUER, CredentialsIn::Body).unwrap();
        assert_eq!(endpoint, "https://id.example/t1/token");
        // `both` needs either.
        parse_metadata(&body, ISSUER, CredentialsIn::Both).unwrap();
        let e = parse_metadata(&body, ISSUER, CredentialsIn::Basic).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(
            e.detail().contains("client_secret_basic")
                && e.detail().contains("[client_secret_post, private_key_jwt]"),
            "{}",
            e.detail()
        );
    }

    #[test]
    fn an_absent_methods_list_means_client_secret_basic() {
        let body = doc(serde_json::json!({
            "issuer": ISSUER, "token_endpoint": "https://id.example/token",
        }));
        parse_metadata(&body, ISSUER, CredentialsIn::Basic).unwrap();
        parse_metadata(&body, ISSUER, CredentialsIn::Both).unwrap();
        let e = parse_metadata(&body, ISSUER, CredentialsIn::Body).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.detail().contains("client_secret_post"), "{}", e.detail());
    }

    #[test]
    fn the_issuer_must_match_exactly_and_the_endpoint_be_https() {
        let with = |issuer: &str, endpoint: &str| {
            let body = doc(serde_json::json!({"issuer": issuer, "token_endpoint": endpoint}));
            parse_metadata(&body, ISSUER, CredentialsIn::Basic)
        };
        for foreign in [
            "https://id.example/t1/",
            "https://ID.example/t1",
            "https://evil.example/t1",
        ] {
            let e = with(foreign, "https://id.example/token").unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config, "{foreign}");
            assert!(e.detail().contains("must be equal"), "{}", e.detail());
        }
        for insecure in [
            "http://id.example/token",
            "ftp://id.example/token",
            "https://u:p@id.example/t",
        ] {
            let e = with(ISSUER, insecure).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config, "{insecure}");
            assert!(e.detail().contains("token_endpoint"), "{}", e.detail());
        }
        with(ISSUER, "http://127.0.0.1:8080/token").unwrap();
    }

    #[test]
    fn a_broken_document_is_a_malformed_response() {
        for body in [
            &b"<html>"[..],
            br#"[1]"#,
            br#"{"token_endpoint":"https://id.example/token"}"#,
            br#"{"issuer":"https://id.example/t1"}"#,
            br#"{"issuer":"https://id.example/t1","token_endpoint":"https://id.example/token","token_endpoint_auth_methods_supported":"client_secret_basic"}"#,
        ] {
            let e = parse_metadata(body, ISSUER, CredentialsIn::Basic).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::MalformedResponse, "{e}");
        }
    }

    #[test]
    fn metadata_statuses_are_classed_as_token_statuses() {
        assert_eq!(status_error(503, "u").kind(), ErrorKind::ServerError);
        assert_eq!(status_error(429, "u").kind(), ErrorKind::RateLimited);
        assert_eq!(status_error(404, "u").kind(), ErrorKind::HttpError);
        assert_eq!(status_error(404, "u").status(), Some(404));
    }
}
