//! Embedded mock token provider.
//!
//! A loopback HTTP/1.1 server that imitates the client-credentials token
//! endpoints of four platforms, each strict about its documented wire format:
//!
//! | route | imitates | request format |
//! | --- | --- | --- |
//! | `POST /deliverect/oauth/token` | Deliverect | JSON body with `client_id`, `client_secret`, `audience`, `grant_type` |
//! | `POST /bringg/oauth/token` | Bringg / Delivery Hub | `multipart/form-data` with `grant_type`, `client_id`, `client_secret`, optional `ttl` |
//! | `POST /passport/api/oauth/token` | Laravel Passport | JSON body, `Accept: application/json` |
//! | `POST /deliveroo/oauth2/token` | Deliveroo | HTTP Basic credentials, form body `grant_type=client_credentials` only |
//! | `POST /assertion/token` | a server of RFC 7523 client assertions | form body with `client_id`, `client_assertion_type`, `client_assertion` (RS256/PS256/ES256 by the test keys in `tests/oidc/keys`, HS256 by the client secret), no secret |
//! | `POST /uber/oauth/v2/token` | Uber (Eats, Direct) | form or multipart with `grant_type`, `client_id`, `client_secret` and a required `scope`; 429 past 100 requests an hour; past 100 live tokens the oldest is invalidated (`GET /uber/ping` answers 401 with it) |
//! | `POST /stuart/oauth/token` | Stuart | form with `grant_type`, `client_id`, `client_secret`, `scope=api`; JWT-shaped tokens of about 8 KiB (`GET /stuart/ping` takes one as `Authorization`) |
//! | `POST /toast/authentication/v1/authentication/login` | Toast | JSON `clientId`, `clientSecret`, `userAccessType: TOAST_MACHINE_CLIENT`; answers `{"token": {"accessToken", "expiresIn"}, "status": "SUCCESS"}`, the same token until its last minute; with `toast_rate_limit` on, 429 past 2 requests an hour |
//! | `POST /custom/{*rest}` | anything | no validation |
//! | `* /doordash/drive/v2/{*rest}` | DoorDash Drive's API (no token endpoint) | `Authorization: Bearer <jwt>` minted by the client, verified as `doordash.rs` says; 401 otherwise |
//! | `GET …/.well-known/openid-configuration`, `GET /.well-known/oauth-authorization-server/…` | issuer metadata | see `metadata.rs` |
//!
//! Tests steer it through [`MockServer`] (in process) or through the JSON admin
//! routes under `/__admin/` (out of process, see [`run_cli`]): script exact
//! responses, inject faults, read back every recorded token request. A scripted
//! response can break the exchange at the wire ([`WireFault`]), stream a huge or
//! chunked body, or echo the request's credentials back.

mod admin;
mod assertion;
mod cli;
mod doordash;
mod faults;
mod http;
mod jwt;
mod metadata;
mod platforms;
mod providers;
mod server;
mod state;
mod token;
mod wire;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};

use serde::{Deserialize, Serialize};

pub use assertion::HS256_SECRET;
pub use cli::{run_cli, MockArgs};
pub use doordash::{
    DEVELOPER_ID as DOORDASH_DEVELOPER_ID, KEY_ID as DOORDASH_KEY_ID,
    SIGNING_SECRET as DOORDASH_SIGNING_SECRET,
};
pub use faults::WireFault;
pub use server::MockServer;

/// How a [`MockServer`] starts.
#[derive(Clone, Debug)]
pub struct MockOptions {
    /// Address to bind; the default `127.0.0.1:0` picks a free port.
    pub addr: SocketAddr,
    /// Overrides every provider's default token lifetime, in seconds.
    pub lifetime_secs: Option<u64>,
    /// Delay before every token response, in milliseconds.
    pub latency_ms: u64,
    /// Fault applied to every valid token request while no scripted response is queued.
    pub fault: Option<Fault>,
    /// When set, only this `(client_id, client_secret)` pair is accepted;
    /// otherwise any non-empty pair is.
    pub credentials: Option<(String, String)>,
}

impl Default for MockOptions {
    fn default() -> Self {
        MockOptions {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            lifetime_secs: None,
            latency_ms: 0,
            fault: None,
            credentials: None,
        }
    }
}

/// A failure the mock injects into token responses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Respond with this status (200..=599): `{"error":"server_error"}` for 5xx,
    /// `{"error":"invalid_client"}` for 401, `{"error":"slow_down"}` with
    /// `Retry-After: 2` for 429, a plain-text body otherwise.
    Status(u16),
    /// Respond 200 with an HTML (non-JSON) body, like a misbehaving gateway.
    Malformed,
    /// Respond normally after this many milliseconds.
    Delay(u64),
}

/// A token request as the mock received it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// Request path without the query.
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// Headers by lowercased name; repeated headers are joined with `", "`.
    pub headers: BTreeMap<String, String>,
    /// Body as UTF-8 (invalid bytes replaced); empty if it exceeded the size limit.
    pub body: String,
    /// The connection it arrived on: 1 for the first the mock accepted, and
    /// so on. Two requests with the same number shared a kept-alive connection.
    #[serde(default)]
    pub connection: u64,
}

/// A response the mock sends instead of its default success, once, in FIFO order.
///
/// `Default` is an empty `200` response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedResponse {
    /// HTTP status (200..=999).
    #[serde(default = "default_status")]
    pub status: u16,
    /// Headers sent exactly as given (no `Date` is added). `Content-Length`
    /// and `Transfer-Encoding` are ignored: the server frames the body itself.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Field lines sent after `headers`, in order, as `[name, value]` pairs: a
    /// name may repeat, and a value's characters up to U+00FF go out as single
    /// bytes (Latin-1), so bytes that are not ASCII can be scripted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub header_lines: Vec<(String, String)>,
    /// Raw body text, used when `json` is `None`.
    #[serde(default)]
    pub body: Option<String>,
    /// JSON body; also sets `Content-Type: application/json` unless `headers` has one.
    #[serde(default)]
    pub json: Option<serde_json::Value>,
    /// Extra delay before this response, in milliseconds (added to the latency).
    #[serde(default)]
    pub delay_ms: u64,
    /// Sends the body gzip-compressed, with `Content-Encoding: gzip`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub gzip: bool,
    /// Sends the body this many times in a row (before compression, so with
    /// `gzip` a few bytes of script make a gzip bomb); at most 64 MiB in all.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub repeat: u64,
    /// Frames the body with chunked encoding instead of `Content-Length`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub chunked: bool,
    /// Replaces `{authorization}` and `{body}` in the body (in every string of
    /// `json`) with the request's `Authorization` header and body, as servers
    /// that echo what they were sent do.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub echo: bool,
    /// Breaks the exchange at the wire instead of answering properly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<WireFault>,
}

fn one() -> u64 {
    1
}

fn is_one(n: &u64) -> bool {
    *n == 1
}

fn default_status() -> u16 {
    200
}

impl Default for ScriptedResponse {
    fn default() -> Self {
        ScriptedResponse {
            status: default_status(),
            headers: BTreeMap::new(),
            header_lines: Vec::new(),
            body: None,
            json: None,
            delay_ms: 0,
            gzip: false,
            repeat: 1,
            chunked: false,
            echo: false,
            fault: None,
        }
    }
}

impl ScriptedResponse {
    /// A response with this status and JSON body.
    pub fn json(status: u16, json: serde_json::Value) -> Self {
        ScriptedResponse {
            status,
            json: Some(json),
            ..Self::default()
        }
    }

    /// A response with this status and raw text body.
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        ScriptedResponse {
            status,
            body: Some(body.into()),
            ..Self::default()
        }
    }

    /// Adds a header (replacing one of the same name).
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// Sends the body gzip-compressed (`Content-Encoding: gzip`).
    pub fn gzipped(mut self) -> Self {
        self.gzip = true;
        self
    }

    /// Sets the extra delay before this response.
    pub fn with_delay_ms(mut self, delay_ms: u64) -> Self {
        self.delay_ms = delay_ms;
        self
    }

    /// Breaks the exchange at the wire with `fault`.
    pub fn with_fault(mut self, fault: WireFault) -> Self {
        self.fault = Some(fault);
        self
    }
}
