//! The configuration schema: one serde type that every language accepts, as a
//! JSON object, a TOML table or native keyword arguments. Keys are snake_case;
//! the camelCase spelling of every multi-word key is accepted too, so JS and
//! Kotlin users can write `clientId`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::redact::Redactor;

pub(crate) mod de;
#[cfg(any(target_arch = "wasm32", test))]
mod lite;
use crate::error::{Error, Result};
use crate::secret::Secret;

pub use crate::presets::Provider;

/// How the token request body is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// `application/json`.
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
    /// `multipart/form-data`.
    Multipart,
}

/// How the client authenticates: where the client id and secret go, or which
/// signed client assertion (RFC 7523) it sends instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum CredentialsIn {
    /// As body fields (`client_secret_post` is the same).
    #[serde(alias = "client_secret_post")]
    Body,
    /// As HTTP Basic `client_id:client_secret` (`client_secret_basic` is the same).
    #[serde(alias = "client_secret_basic")]
    Basic,
    /// Both (some servers want either, some both).
    Both,
    /// A client assertion signed HS256 with the client secret (the secret
    /// itself is never sent).
    ClientSecretJwt,
    /// A client assertion signed with `private_key` (RS256, PS256 or ES256);
    /// no client secret.
    PrivateKeyJwt,
    /// Mutual TLS with a certificate a CA issued (RFC 8705): `client_id` in
    /// the body, no secret; the certificate is `http.client_cert_file`'s.
    TlsClientAuth,
    /// Mutual TLS with a self-signed certificate registered at the server
    /// (RFC 8705), as `tls_client_auth`.
    SelfSignedTlsClientAuth,
}

impl CredentialsIn {
    /// Whether the client authenticates with a signed client assertion.
    pub(crate) fn is_assertion(self) -> bool {
        matches!(
            self,
            CredentialsIn::ClientSecretJwt | CredentialsIn::PrivateKeyJwt
        )
    }

    /// Whether the client authenticates by mutual TLS (`client_id` in the
    /// body, no secret).
    pub(crate) fn is_mtls(self) -> bool {
        matches!(
            self,
            CredentialsIn::TlsClientAuth | CredentialsIn::SelfSignedTlsClientAuth
        )
    }

    test_hook! {
        /// Test-only: whether the request carries HTTP Basic credentials.
        fn uses_basic(self) -> bool {
            matches!(self, CredentialsIn::Basic | CredentialsIn::Both)
        }
    }

    /// Whether the client id and secret go in the body.
    pub(crate) fn secret_in_body(self) -> bool {
        matches!(self, CredentialsIn::Body | CredentialsIn::Both)
    }
}

/// The JWS algorithm of a client assertion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum AssertionAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (an RSA key of at least 2048 bits).
    RS256,
    /// RSASSA-PSS with SHA-256 (an RSA key of at least 2048 bits).
    PS256,
    /// ECDSA on P-256 with SHA-256 (an EC P-256 key).
    ES256,
    /// HMAC-SHA256 keyed by the client secret (`client_secret_jwt`).
    HS256,
}

impl AssertionAlgorithm {
    /// The JWS `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            AssertionAlgorithm::RS256 => "RS256",
            AssertionAlgorithm::PS256 => "PS256",
            AssertionAlgorithm::ES256 => "ES256",
            AssertionAlgorithm::HS256 => "HS256",
        }
    }
}

/// The client assertion's algorithm, audience and lifetime (each optional).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AssertionOptions {
    /// `RS256`, `PS256`, `ES256` or `HS256`. Default: from the key (RSA:
    /// RS256, EC P-256: ES256); HS256 with `client_secret_jwt`.
    #[serde(default)]
    pub algorithm: Option<AssertionAlgorithm>,
    /// The `aud` claim: `token_endpoint` (the default: the token URL),
    /// `issuer` (the `issuer` key's value) or an absolute URL.
    #[serde(default)]
    pub audience: Option<String>,
    /// Seconds from `iat` to `exp`: 1 to 300. Default 60.
    #[serde(default, alias = "lifetimeSecs")]
    pub lifetime_secs: Option<u64>,
}

/// How the client id and secret are written into HTTP Basic credentials.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum BasicEncoding {
    /// Each form-encoded first (`application/x-www-form-urlencoded`), as RFC 6749
    /// §2.3.1 requires: a `:` in the client id cannot move into the secret.
    #[default]
    Form,
    /// As they are, for servers that do not decode them (a client id containing
    /// `:` is then refused).
    Raw,
}

/// Everything needed to get tokens for one client of one platform.
#[derive(Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// The preset, or `custom`.
    pub provider: Provider,
    /// This client's name in metrics, traces and health checks (their
    /// `client` attribute): 1 to 64 characters, none a control character.
    /// Default: the provider's name.
    #[serde(default)]
    pub name: Option<String>,
    /// Preset environment (`staging`/`production`, `sandbox`/`production`).
    #[serde(default)]
    pub environment: Option<String>,
    /// Preset region (Bringg: `eu`/`us`).
    #[serde(default)]
    pub region: Option<String>,
    /// Scheme and host (and optional path prefix) replacing the preset's; the
    /// preset's path is appended. Required for `passport`.
    #[serde(default, alias = "baseUrl")]
    pub base_url: Option<String>,
    /// The full token URL; overrides everything else. Required for `custom`.
    #[serde(default, alias = "tokenUrl")]
    pub token_url: Option<String>,
    /// The authorization server's issuer identifier (an absolute `https` URL,
    /// or `http` to loopback): the token endpoint is read from its metadata
    /// (`{issuer}/.well-known/openid-configuration`, else the RFC 8414 form).
    /// Replaces `token_url` and `base_url`.
    #[serde(default)]
    pub issuer: Option<String>,
    /// How long the issuer's metadata is reused before it is read again in the
    /// background, in seconds (at least 1). Default 86400.
    #[serde(default, alias = "discoveryTtlSecs")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1)))]
    pub discovery_ttl_secs: Option<u64>,
    /// The client id. Required, except with `doordash` (which has none).
    #[serde(default, alias = "clientId")]
    pub client_id: String,
    /// The client secret; never printed. Required unless `client_secret_file`
    /// or a credential provider gives it; refused with
    /// `credentials: "private_key_jwt"`.
    #[serde(default, alias = "clientSecret")]
    pub client_secret: Option<Secret>,
    /// A file holding the client secret (one trailing newline is not part of
    /// it), re-read when it changes: a Kubernetes secret volume rotates it
    /// without a restart. Not with `client_secret`; not in WebAssembly.
    #[serde(default, alias = "clientSecretFile")]
    pub client_secret_file: Option<String>,
    /// `private_key_jwt`: the PKCS#8 PEM private key (`-----BEGIN PRIVATE
    /// KEY-----`); never printed. Exactly one of this and `private_key_file`.
    #[serde(default, alias = "privateKey")]
    pub private_key: Option<Secret>,
    /// `private_key_jwt`: the path of a PKCS#8 PEM private key file (read
    /// when the client is built; native only).
    #[serde(default, alias = "privateKeyFile")]
    pub private_key_file: Option<String>,
    /// `private_key_jwt`: the path of the key's PEM certificate, whose SHA-256
    /// thumbprint becomes the assertion's `x5t#S256` header (Entra ID; native
    /// only).
    #[serde(default, alias = "certificateFile")]
    pub certificate_file: Option<String>,
    /// The assertion's `kid` header (the key's id at the server); with
    /// `doordash`, the key id of the signing secret.
    #[serde(default, alias = "keyId")]
    pub key_id: Option<String>,
    /// The client assertion's algorithm, audience and lifetime.
    #[serde(default)]
    pub assertion: Option<AssertionOptions>,
    /// `audience` body parameter (Deliverect has a per-environment default).
    #[serde(default)]
    pub audience: Option<String>,
    /// `scope` body parameter (space-delimited).
    #[serde(default)]
    pub scope: Option<String>,
    /// `ttl` body parameter in seconds (Bringg).
    #[serde(default)]
    pub ttl: Option<u64>,
    /// The `grant_type` value; an empty string leaves the field out.
    #[serde(default, alias = "grantType")]
    pub grant_type: Option<String>,
    /// Body encoding, overriding the preset's.
    #[serde(default)]
    pub encoding: Option<Encoding>,
    /// Where credentials go, overriding the preset's.
    #[serde(default)]
    pub credentials: Option<CredentialsIn>,
    /// How HTTP Basic credentials are written: `form` (RFC 6749, the default)
    /// or `raw`.
    #[serde(default, alias = "basicEncoding")]
    pub basic_encoding: BasicEncoding,
    /// Body field names, for platforms that spell them differently (`clientId`).
    #[serde(default, alias = "fieldNames")]
    pub field_names: FieldNames,
    /// Further static body parameters (strings, numbers, booleans).
    #[serde(default, alias = "extraParams")]
    pub extra_params: BTreeMap<String, serde_json::Value>,
    /// Extra request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Where the response carries the token and its expiry.
    #[serde(default)]
    pub response: ResponseMapping,
    /// Expiry, refresh and backoff policy.
    #[serde(default)]
    pub policy: Policy,
    /// Transport timeouts, proxy, CAs and client certificate.
    #[serde(default)]
    pub http: HttpOptions,
    /// A store shared by a fleet of processes (one token for all of them).
    /// Not used with `doordash`: every process mints its own JWT.
    #[serde(default)]
    pub store: Option<StoreOptions>,
    /// `doordash`: the developer id (the JWT's `iss`).
    #[serde(default, alias = "developerId")]
    pub developer_id: Option<String>,
    /// `doordash`: the signing secret as DoorDash shows it (base64url); never
    /// printed. The JWT's key id is `key_id`, its lifetime
    /// `assertion.lifetime_secs` (60 to 1800, default 1800).
    #[serde(default, alias = "signingSecret")]
    pub signing_secret: Option<Secret>,
}

/// No secret, no value of a URL's query, of a header or of an extra body
/// parameter (each may carry an API key): their names only.
impl std::fmt::Debug for TokenConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = |u: &Option<String>| u.as_deref().map(crate::redact::display_url);
        f.debug_struct("TokenConfig")
            .field("provider", &self.provider)
            .field("name", &self.name)
            .field("environment", &self.environment)
            .field("region", &self.region)
            .field("base_url", &url(&self.base_url))
            .field("token_url", &url(&self.token_url))
            .field("issuer", &url(&self.issuer))
            .field("discovery_ttl_secs", &self.discovery_ttl_secs)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("client_secret_file", &self.client_secret_file)
            .field("private_key", &self.private_key)
            .field("private_key_file", &self.private_key_file)
            .field("certificate_file", &self.certificate_file)
            .field("key_id", &self.key_id)
            .field("assertion", &self.assertion)
            .field("audience", &self.audience)
            .field("scope", &self.scope)
            .field("ttl", &self.ttl)
            .field("grant_type", &self.grant_type)
            .field("encoding", &self.encoding)
            .field("credentials", &self.credentials)
            .field("basic_encoding", &self.basic_encoding)
            .field("field_names", &self.field_names)
            .field("extra_params", &self.extra_params.keys())
            .field("headers", &self.headers.keys())
            .field("response", &self.response)
            .field("policy", &self.policy)
            .field("http", &self.http)
            .field("store", &self.store)
            .field("developer_id", &self.developer_id)
            .field("signing_secret", &self.signing_secret)
            .finish()
    }
}

/// A store shared by every process with the same credentials: Redis or
/// Valkey natively (in WebAssembly, pass a JS store instead).
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct StoreOptions {
    /// `redis://` or `rediss://` (TLS) URL of a standalone Redis or Valkey
    /// server, e.g. `rediss://:password@cache.internal:6380/0`. Its password
    /// is a secret: never printed. Query parameters other than `protocol` (and
    /// `db`, `user`, `pass` on a `unix://` socket) are refused. With
    /// `cluster_nodes` or `sentinel`, it gives the user, password, TLS and
    /// database of the data nodes (its host is then only a placeholder).
    #[serde(default, alias = "redisUrl")]
    pub redis_url: Option<Secret>,
    /// Prefix of every key tokenwell writes. Default `tokenwell`.
    #[serde(default, alias = "keyPrefix")]
    pub key_prefix: Option<String>,
    /// Longest wait for one store call before it counts as a miss, in ms
    /// (1 to 2147483647). Default 300.
    #[serde(default, alias = "timeoutMs")]
    pub timeout_ms: Option<u64>,
    /// How long a process waits for another process's fetch (the holder of the
    /// lock) before it fetches for itself, in ms (1 to 2147483647). Default
    /// 5000. A lock that is never released, or outlives its holder, costs a
    /// cold process at most this long.
    #[serde(default, alias = "lockWaitMs")]
    pub lock_wait_ms: Option<u64>,
    /// A PEM file of the CA that signed the server's certificate (`rediss://`
    /// with a private CA); the system's roots otherwise. A regular file of at
    /// most 1 MiB.
    #[serde(default, alias = "caFile")]
    pub ca_file: Option<String>,
    /// A Redis Cluster: some of its nodes as `host:port` (the client finds the
    /// others, and follows `MOVED`/`ASK` redirections and failovers). They are
    /// reached with `redis_url`'s user, password and TLS (`ca_file`); its
    /// database must be 0.
    ///
    /// Native only: WebAssembly refuses it as an unknown key (in JS, pass a
    /// cluster client to `redisStore`).
    #[cfg(not(target_arch = "wasm32"))]
    #[serde(default, alias = "clusterNodes")]
    pub cluster_nodes: Option<Vec<String>>,
    /// A primary and its replicas watched by Redis Sentinel: the client asks
    /// the sentinels for the primary of `service`, and asks again after a
    /// connection error or a `READONLY` answer (a primary demoted by a
    /// failover). The data nodes are reached with `redis_url`'s user,
    /// password, TLS and database. Native only: WebAssembly refuses it as an
    /// unknown key.
    #[cfg(not(target_arch = "wasm32"))]
    #[serde(default)]
    pub sentinel: Option<SentinelOptions>,
}

/// The sentinels to ask for a primary's address.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SentinelOptions {
    /// Sentinels as `host:port`, asked in order. They are reached with
    /// `redis_url`'s TLS (and `ca_file`), without a password.
    pub nodes: Vec<String>,
    /// The name the sentinels monitor the primary under (`sentinel monitor
    /// <service> ...`).
    pub service: String,
}

/// Body field names. Each defaults to the RFC 6749 spelling.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct FieldNames {
    #[serde(default, alias = "clientId")]
    pub client_id: Option<String>,
    #[serde(default, alias = "clientSecret")]
    pub client_secret: Option<String>,
    #[serde(default, alias = "grantType")]
    pub grant_type: Option<String>,
    #[serde(default)]
    pub audience: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub ttl: Option<String>,
}

/// Dotted paths into the JSON response (`token.accessToken`,
/// `data.oauth_token.access_token`). Each defaults to the RFC 6749 name.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ResponseMapping {
    /// Path of the access token.
    #[serde(default, alias = "accessToken")]
    pub access_token: Option<String>,
    /// Path of the token type.
    #[serde(default, alias = "tokenType")]
    pub token_type: Option<String>,
    /// Path of the granted scope.
    #[serde(default)]
    pub scope: Option<String>,
    /// Path of the relative lifetime in seconds (number or numeric string).
    #[serde(default, alias = "expiresIn")]
    pub expires_in: Option<String>,
    /// Path of the absolute expiry (epoch seconds or ISO-8601).
    #[serde(default, alias = "expiresAt")]
    pub expires_at: Option<String>,
    /// Path of the creation time (epoch seconds or ISO-8601), added to `expires_in`.
    #[serde(default, alias = "createdAt")]
    pub created_at: Option<String>,
    /// A success check beyond the HTTP status.
    #[serde(default)]
    pub success: Option<SuccessCheck>,
}

/// The response is a success only if the value at `path` equals `equals`
/// (e.g. `{"path": "status", "equals": "SUCCESS"}`). Independently of this, a
/// top-level `"success": false` always marks an error.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SuccessCheck {
    /// Dotted path to the field.
    pub path: String,
    /// The value it must have.
    pub equals: serde_json::Value,
}

/// When a token is reused, refreshed ahead, or given up on. The defaults are the
/// behaviour of every language.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Fraction of the lifetime after which the first caller starts a background
    /// refresh (and still gets the current token). Default 0.8.
    #[serde(alias = "refreshRatio")]
    pub refresh_ratio: f64,
    /// Safety margin as a fraction of the lifetime. Default 0.1.
    #[serde(alias = "skewRatio")]
    pub skew_ratio: f64,
    /// Upper bound of the safety margin in seconds. Default 30.
    #[serde(alias = "maxSkewSecs")]
    pub max_skew_secs: u64,
    /// Lifetime assumed when the response carries no expiry at all and the token
    /// is not a JWT with `exp`. Default 300 (the shortest of the presets).
    #[serde(alias = "defaultLifetimeSecs")]
    pub default_lifetime_secs: u64,
    /// First backoff after a failed fetch, before jitter. Default 1000.
    #[serde(alias = "backoffInitialMs")]
    pub backoff_initial_ms: u64,
    /// Longest backoff. Default 60000.
    #[serde(alias = "backoffMaxMs")]
    pub backoff_max_ms: u64,
    /// Fraction of the lifetime by which each process draws its refresh point
    /// early, at random, so a fleet sharing a store spreads its refreshes.
    /// Default 0.1 with a shared store, 0 without.
    #[serde(alias = "refreshJitterRatio")]
    pub refresh_jitter_ratio: Option<f64>,
    /// Refresh ahead only within this many seconds of the expiry, for servers
    /// that return the same token until then (at least 1); a token received
    /// already within it is not refreshed ahead (the server would return it
    /// again), only fetched once no longer usable. Default: the preset's
    /// (Toast: 60), else none.
    #[serde(alias = "refreshWindowSecs")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1)))]
    pub refresh_window_secs: Option<u64>,
    /// The request budget: at most this many token requests in any sliding
    /// hour (fleet-wide with a shared store, else per process). Default: the
    /// preset's documented limit, if any, else none.
    #[serde(alias = "maxRequestsPerHour")]
    pub max_requests_per_hour: Option<u32>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            refresh_ratio: 0.8,
            skew_ratio: 0.1,
            max_skew_secs: 30,
            default_lifetime_secs: 300,
            backoff_initial_ms: 1_000,
            backoff_max_ms: 60_000,
            refresh_jitter_ratio: None,
            refresh_window_secs: None,
            max_requests_per_hour: None,
        }
    }
}

/// Transport timeouts (native: both; WebAssembly: `timeout_ms` only, `fetch` has
/// no connect timeout), and natively the proxy, CAs and client certificate (in
/// WebAssembly those are the `fetch`'s: a `config` error here).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct HttpOptions {
    /// Connect timeout, in ms (1 to 2147483647). Default 5000.
    #[serde(alias = "connectTimeoutMs")]
    pub connect_timeout_ms: u64,
    /// Whole-request timeout, including reading the body, in ms (1 to
    /// 2147483647). Default 15000.
    #[serde(alias = "timeoutMs")]
    pub timeout_ms: u64,
    /// The proxy every request goes through: `http://`, `https://` or
    /// `socks5://` URL, e.g. `http://user:password@proxy.internal:3128`; its
    /// user and password are a secret, never printed. Default: the
    /// `HTTPS_PROXY` / `ALL_PROXY` environment variables (and `NO_PROXY`).
    /// Native only (in JS, pass a `fetch` that uses the proxy).
    #[cfg(not(target_arch = "wasm32"))]
    pub proxy: Option<Secret>,
    /// Hosts reached without `proxy`, comma-separated (`NO_PROXY`'s form: a
    /// domain also covers its subdomains, `*` every host; IP addresses and
    /// CIDR blocks too). Only with `proxy`. Native only.
    #[cfg(not(target_arch = "wasm32"))]
    #[serde(alias = "noProxy")]
    pub no_proxy: Option<String>,
    /// A PEM file of CA certificates trusted for the token endpoint (and the
    /// issuer's metadata), in addition to the system's roots (see `ca_only`).
    /// A regular file of at most 1 MiB. Native only.
    #[cfg(not(target_arch = "wasm32"))]
    #[serde(alias = "caFile")]
    pub ca_file: Option<String>,
    /// Trust only `ca_file`'s certificates, not the system's roots. Default
    /// false. Native only.
    #[cfg(not(target_arch = "wasm32"))]
    #[serde(alias = "caOnly")]
    pub ca_only: bool,
    /// Mutual TLS: the PEM certificate (chain) this client presents, the
    /// first certificate its own. With `client_key_file`. Native only (in
    /// JS, pass a `fetch` that does mutual TLS).
    #[cfg(not(target_arch = "wasm32"))]
    #[serde(alias = "clientCertFile")]
    pub client_cert_file: Option<String>,
    /// Mutual TLS: the PEM private key (PKCS#8, PKCS#1 or SEC1) of
    /// `client_cert_file`'s certificate; a secret, never printed. Native only.
    #[cfg(not(target_arch = "wasm32"))]
    #[serde(alias = "clientKeyFile")]
    pub client_key_file: Option<String>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            connect_timeout_ms: 5_000,
            timeout_ms: 15_000,
            #[cfg(not(target_arch = "wasm32"))]
            proxy: None,
            #[cfg(not(target_arch = "wasm32"))]
            no_proxy: None,
            #[cfg(not(target_arch = "wasm32"))]
            ca_file: None,
            #[cfg(not(target_arch = "wasm32"))]
            ca_only: false,
            #[cfg(not(target_arch = "wasm32"))]
            client_cert_file: None,
            #[cfg(not(target_arch = "wasm32"))]
            client_key_file: None,
        }
    }
}

impl TokenConfig {
    /// Parses a JSON object.
    pub fn from_json(text: &str) -> Result<Self> {
        // `from_slice`, not `from_str`: one instance of the parser (the response's).
        let value = serde_json::from_slice(text.as_bytes()).map_err(|e| {
            Error::config(format!(
                "config is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        Self::from_value(value)
    }

    /// Parses a TOML table (not in the WebAssembly build: JS hands over objects).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_toml(text: &str) -> Result<Self> {
        let value = toml::from_str(text)
            .map_err(|e| Error::config(format!("config is not valid TOML: {}", e.message())))?;
        Self::from_value(value)
    }

    /// Converts an already-parsed JSON value (what every binding hands over).
    pub fn from_value(value: serde_json::Value) -> Result<Self> {
        // serde's messages quote offending values: keep the secret out of them.
        let secret = ["client_secret", "clientSecret"]
            .iter()
            .find_map(|k| value.get(*k))
            .map(|v| {
                v.as_str().map_or_else(
                    || serde_json::to_string(v).unwrap_or_default(),
                    str::to_owned,
                )
            });
        // serde's message for a wrong type would not name the key.
        let ttl = ["discovery_ttl_secs", "discoveryTtlSecs"]
            .iter()
            .find_map(|k| value.get(*k));
        if ttl.is_some_and(|v| !v.is_u64() && !v.is_null()) {
            return Err(Error::config(
                "invalid config: discovery_ttl_secs must be a whole number of seconds",
            ));
        }
        crate::budget::check_config(&value)?;
        // Not `serde_json::from_value`: see `de` (the same decisions and messages),
        // and `lite` (the same again in less WebAssembly).
        #[cfg(not(target_arch = "wasm32"))]
        let config = de::from_value(&value);
        #[cfg(target_arch = "wasm32")]
        let config = lite::from_value(&value);
        config.map_err(|e| {
            let redactor = Redactor::new("", secret.as_deref().unwrap_or_default());
            Error::config(format!("invalid config: {e}")).redacted(&redactor)
        })
    }
}
