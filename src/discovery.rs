//! The token endpoint from the authorization server's metadata (OpenID Connect
//! Discovery 1.0, RFC 8414), when the config names an `issuer` instead of a
//! `token_url`.
//!
//! The metadata is read once per client, by its first token fetch (the client's
//! fetches are single-flight: one request however many callers wait), then
//! reused for `discovery_ttl_secs`.
//! Past that, the next token fetch still uses the endpoint it has and reads the
//! metadata again in the background; a failed refresh keeps the endpoint and
//! warns. Only the first read can fail a `token()`.

use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;

use crate::clock::Clock;
use crate::config::{CredentialsIn, TokenConfig};
use crate::error::{Error, ErrorKind, Quoted, Result};
use crate::request::HttpRequest;
use crate::runtime::Spawn;
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
            return Err(Error::config("discovery_ttl_secs needs issuer"));
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
    if issuer.contains(['?', '#', '\\']) {
        return Err(Error::config(
            "issuer must be an absolute URL without a query or fragment",
        ));
    }
    Ok(ttl)
}

/// The issuer follows the token URL's rule (HTTPS, or HTTP to loopback).
pub(crate) fn check_issuer_url(issuer: &str) -> Result<()> {
    checked_as("issuer", issuer)
}

/// [`crate::profile::check_url`], its message prefixed with what was checked.
fn checked_as(what: &str, url: &str) -> Result<()> {
    crate::profile::check_url(url, what)
        .map_err(|e| Error::config([what, ": ", e.detail()].concat()))
}

/// Where the metadata of `issuer` is: the OpenID Connect form
/// (`{issuer}/.well-known/openid-configuration`), then the RFC 8414 form (the
/// well-known segment between the host and the issuer's path).
pub fn metadata_urls(issuer: &str) -> [String; 2] {
    let trimmed = issuer.strip_suffix('/').unwrap_or(issuer);
    // Split without slicing at an index or searching for a substring (their
    // code would cost the WebAssembly module kilobytes): scheme, `//`,
    // authority, then the path. Concatenated without `format!`, for the same reason.
    let parts = trimmed
        .split_once(':')
        .and_then(|(scheme, rest)| Some((scheme, rest.strip_prefix("//")?)));
    let rfc_8414 = match parts {
        Some((scheme, rest)) => match rest.split_once('/') {
            Some((authority, path)) => {
                [scheme, "://", authority, RFC_8414_PATH, "/", path].concat()
            }
            None => [scheme, "://", rest, RFC_8414_PATH].concat(),
        },
        None => [trimmed, RFC_8414_PATH].concat(),
    };
    [[trimmed, OIDC_PATH].concat(), rfc_8414]
}

/// The RFC 8414 names of the client authentication methods a `credentials`
/// setting uses; the server must list one of them.
fn method_names(credentials: CredentialsIn) -> &'static [&'static str] {
    match credentials {
        CredentialsIn::Basic => &["client_secret_basic"],
        CredentialsIn::Body => &["client_secret_post"],
        CredentialsIn::Both => &["client_secret_basic", "client_secret_post"],
        CredentialsIn::ClientSecretJwt => &["client_secret_jwt"],
        CredentialsIn::PrivateKeyJwt => &["private_key_jwt"],
        CredentialsIn::TlsClientAuth => &["tls_client_auth"],
        CredentialsIn::SelfSignedTlsClientAuth => &["self_signed_tls_client_auth"],
    }
}

/// Reads a metadata document: its `issuer` must be `issuer` exactly, its
/// `token_endpoint` must pass the token URL's rule, and its
/// `token_endpoint_auth_methods_supported` (absent: `client_secret_basic`)
/// must list the configured method. Returns the token endpoint: with mutual
/// TLS, its `mtls_endpoint_aliases` entry when there is one (RFC 8705 §5).
pub fn parse_metadata(body: &[u8], issuer: &str, credentials: CredentialsIn) -> Result<String> {
    let doc: Value = serde_json::from_slice(body).unwrap_or_default();
    let text = |key: &str| doc.get(key).and_then(Value::as_str);
    let methods = doc.get("token_endpoint_auth_methods_supported");
    let (Some(found), Some(endpoint), None | Some(Value::Array(_) | Value::Null)) =
        (text("issuer"), text("token_endpoint"), methods)
    else {
        return Err(Error::malformed(
            "the issuer's metadata is not JSON with an issuer, a token_endpoint and a methods list",
        ));
    };
    if found != issuer {
        return Err(Error::config(format!(
            "the metadata found for issuer {} is for issuer {}: they must be equal",
            Quoted(issuer),
            Quoted(found)
        )));
    }
    checked_as("token_endpoint", endpoint)?;
    let listed: Vec<&str> = match methods.and_then(Value::as_array) {
        Some(items) => items.iter().filter_map(Value::as_str).collect(),
        None => vec!["client_secret_basic"],
    };
    let wanted = method_names(credentials);
    if !wanted.iter().any(|m| listed.contains(m)) {
        return Err(Error::config(format!(
            "credentials {} is not among the issuer's token endpoint auth methods [{}]",
            wanted.join(" or "),
            listed.join(", ")
        )));
    }
    const ALIAS: &str = "mtls_endpoint_aliases.token_endpoint";
    let alias = crate::response::lookup(&doc, ALIAS).and_then(Value::as_str);
    let endpoint = match alias {
        Some(alias) if credentials.is_mtls() => {
            checked_as(ALIAS, alias)?;
            alias
        }
        _ => endpoint,
    };
    Ok(endpoint.to_owned())
}

/// A status other than 2xx from the metadata endpoint, classed as the token
/// endpoint's statuses are.
fn status_error(status: u16) -> Error {
    let kind = match status {
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::ServerError,
        _ => ErrorKind::HttpError,
    };
    Error::new(kind, "the issuer's metadata could not be read").with_status(status)
}

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
    /// A background refresh is running, started under this spawner generation.
    refreshing: Option<u64>,
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

    /// The token endpoint: the one read earlier (starting a background refresh
    /// once it is older than the TTL), else the one read now. Called only by
    /// the client's fetch, which is single-flight: first reads never overlap.
    pub(crate) async fn token_endpoint(self: &Arc<Self>) -> Result<Arc<str>> {
        if let Some(endpoint) = self.at_hand() {
            return Ok(endpoint);
        }
        let endpoint = self.read().await?;
        let now = self.clock.now_ms();
        self.lock().endpoint = Some((endpoint.clone(), now));
        Ok(endpoint)
    }

    /// The endpoint read earlier, if any; spawns the refresh if it is stale
    /// and none is running (the lock is released first).
    fn at_hand(self: &Arc<Self>) -> Option<Arc<str>> {
        let now = self.clock.now_ms();
        let generation = self.spawner.generation();
        let mut st = self.lock();
        let (endpoint, read_at) = st.endpoint.clone()?;
        // A refresh started before a fork stayed with the parent's executor.
        let running = st.refreshing == Some(generation);
        let refresh = now.saturating_sub(read_at) >= self.ttl_ms && !running;
        if refresh {
            st.refreshing = Some(generation);
        }
        drop(st);
        if refresh {
            let this = Refreshing(self.clone());
            self.spawner
                .spawn(Box::pin(async move { this.run().await }));
        }
        Some(endpoint)
    }
}

/// A background refresh; clears the flag when it ends, however it ends.
struct Refreshing(Arc<Discovery>);

impl Refreshing {
    async fn run(&self) {
        let discovery = &self.0;
        match discovery.read().await {
            Ok(endpoint) => {
                let now = discovery.clock.now_ms();
                discovery.lock().endpoint = Some((endpoint, now));
            }
            // The code only: the detail may quote what the server sent, and
            // this log line passes no redaction.
            Err(e) => log::warn!(
                "tokenwell: could not refresh the issuer's metadata ({}); keeping the \
                 token endpoint read before",
                e.code()
            ),
        }
    }
}

impl Drop for Refreshing {
    fn drop(&mut self) {
        self.0.lock().refreshing = None;
    }
}

impl Discovery {
    /// One read of the metadata: the OpenID Connect form, then, on a 404, the
    /// RFC 8414 form.
    async fn read(&self) -> Result<Arc<str>> {
        let mut status = 404;
        for url in metadata_urls(&self.issuer) {
            let request = HttpRequest {
                method: "GET",
                url,
                headers: vec![("accept".to_owned(), "application/json".to_owned())],
                body: Vec::new(),
            };
            let resp = self.transport.send(request).await?;
            status = resp.status;
            if (200..300).contains(&status) {
                let endpoint = parse_metadata(&resp.body, &self.issuer, self.credentials)?;
                return Ok(endpoint.into());
            }
            if status != 404 {
                break;
            }
        }
        Err(status_error(status))
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
    fn mutual_tls_uses_the_mtls_endpoint_alias() {
        let body = doc(serde_json::json!({
            "issuer": ISSUER,
            "token_endpoint": "https://id.example/t1/token",
            "token_endpoint_auth_methods_supported": ["tls_client_auth", "private_key_jwt"],
            "mtls_endpoint_aliases": {"token_endpoint": "https://mtls.id.example/t1/token"},
        }));
        let mtls = parse_metadata(&body, ISSUER, CredentialsIn::TlsClientAuth).unwrap();
        assert_eq!(mtls, "https://mtls.id.example/t1/token");
        // Only mutual TLS goes to the alias.
        let jwt = parse_metadata(&body, ISSUER, CredentialsIn::PrivateKeyJwt).unwrap();
        assert_eq!(jwt, "https://id.example/t1/token");
        let e = parse_metadata(&body, ISSUER, CredentialsIn::SelfSignedTlsClientAuth);
        assert!(e
            .unwrap_err()
            .detail()
            .contains("self_signed_tls_client_auth"));
        // Without an alias, the token endpoint; an alias is held to its rule.
        let plain = doc(serde_json::json!({
            "issuer": ISSUER, "token_endpoint": "https://id.example/t1/token",
            "token_endpoint_auth_methods_supported": ["tls_client_auth"],
        }));
        let endpoint = parse_metadata(&plain, ISSUER, CredentialsIn::TlsClientAuth).unwrap();
        assert_eq!(endpoint, "https://id.example/t1/token");
        let bad = doc(serde_json::json!({
            "issuer": ISSUER, "token_endpoint": "https://id.example/t1/token",
            "token_endpoint_auth_methods_supported": ["tls_client_auth"],
            "mtls_endpoint_aliases": {"token_endpoint": "http://mtls.id.example/token"},
        }));
        let e = parse_metadata(&bad, ISSUER, CredentialsIn::TlsClientAuth).unwrap_err();
        assert!(
            e.detail().contains("mtls_endpoint_aliases"),
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
        assert_eq!(status_error(503).kind(), ErrorKind::ServerError);
        assert_eq!(status_error(429).kind(), ErrorKind::RateLimited);
        assert_eq!(status_error(404).kind(), ErrorKind::HttpError);
        assert_eq!(status_error(404).status(), Some(404));
    }
}
