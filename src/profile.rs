//! Provider profiles: a config resolved, over its preset (see [`crate::presets`]),
//! into the exact shape of one token endpoint.

use crate::config::{
    BasicEncoding, CredentialsIn, Encoding, HttpOptions, Policy, Provider, ResponseMapping,
    TokenConfig,
};
use crate::error::{Error, Quoted, Result};
use crate::platform::{Host, Platform};
use crate::secret::Secret;

/// A resolved token endpoint: everything request building and response parsing
/// need, with every default applied. `Debug` shows no value of the token URL's
/// query.
#[derive(Clone, PartialEq)]
pub struct Profile {
    /// The preset it came from.
    pub provider: Provider,
    /// The token URL (https, or http on loopback only). With `issuer` set, the
    /// issuer: it names the endpoint in the cache key, which stays the same
    /// whatever endpoint the metadata gives.
    pub token_url: String,
    /// The issuer whose metadata gives the token endpoint (see
    /// [`crate::discovery`]), if the endpoint is discovered.
    pub issuer: Option<String>,
    /// How long the issuer's metadata is reused, in seconds.
    pub discovery_ttl_secs: u64,
    /// Body encoding.
    pub encoding: Encoding,
    /// Where credentials go.
    pub credentials: CredentialsIn,
    /// How HTTP Basic credentials are written.
    pub basic_encoding: BasicEncoding,
    /// Body field name of the client id.
    pub client_id_field: String,
    /// Body field name of the client secret.
    pub client_secret_field: String,
    /// `grant_type` as (field name, value); `None` leaves it out.
    pub grant_type: Option<(String, String)>,
    /// Further body parameters in order: audience, scope, ttl, then extras by name.
    pub params: Vec<(String, serde_json::Value)>,
    /// Extra headers (`Content-Type` and `Authorization` are set by request building).
    pub headers: Vec<(String, String)>,
    /// Response field paths.
    pub response: ResponseMapping,
    /// Cache policy.
    pub policy: Policy,
    /// Transport timeouts.
    pub http: HttpOptions,
}

/// The token URL's query values, the parameters' and headers' values are not
/// shown (each may carry an API key): their names are.
impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("provider", &self.provider)
            .field("token_url", &crate::redact::display_url(&self.token_url))
            .field("issuer", &self.issuer)
            .field("discovery_ttl_secs", &self.discovery_ttl_secs)
            .field("encoding", &self.encoding)
            .field("credentials", &self.credentials)
            .field("basic_encoding", &self.basic_encoding)
            .field("client_id_field", &self.client_id_field)
            .field("client_secret_field", &self.client_secret_field)
            .field("grant_type", &self.grant_type)
            .field("params", &names(&self.params))
            .field("headers", &names(&self.headers))
            .field("response", &self.response)
            .field("policy", &self.policy)
            .field("http", &self.http)
            .finish()
    }
}

fn names<V>(pairs: &[(String, V)]) -> Vec<&str> {
    pairs.iter().map(|(name, _)| name.as_str()).collect()
}

/// The client's identity.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// The client id (not secret, but part of the cache key).
    pub client_id: String,
    /// The client secret (empty with `private_key_jwt`).
    pub client_secret: Secret,
    /// The client assertion's settings, with `client_secret_jwt` and
    /// `private_key_jwt`.
    pub assertion: Option<std::sync::Arc<crate::assertion::Assertion>>,
    /// What mints the token locally (`doordash`; the client secret is then the
    /// signing secret as configured).
    pub minter: Option<std::sync::Arc<crate::doordash::Minter>>,
}

impl Credentials {
    /// What the cache key and the shared store's sealing key derive from: the
    /// private key's fingerprint with `private_key_jwt`, the client secret
    /// otherwise (with mutual TLS, where no secret is sent, `client_secret`
    /// holds the client key's fingerprint). Either way the store never sees it.
    pub fn key_material(&self) -> &Secret {
        match self.assertion.as_ref().and_then(|a| a.key.as_ref()) {
            Some(key) => key.fingerprint(),
            None => &self.client_secret,
        }
    }
}

/// What a preset contributes before the user's overrides.
struct Preset {
    url: String,
    encoding: Encoding,
    grant_type: &'static str,
    audience: Option<String>,
    table: &'static crate::presets::Preset,
}

/// Applies the config's provider, host choice and `base_url` to its preset.
fn preset(cfg: &TokenConfig) -> Result<Preset> {
    let p = cfg.provider.preset();
    let host = match p.host_key {
        Some(key) => {
            // Bringg's region may also be given as `environment`.
            let chosen = match key {
                "region" => cfg.region.as_deref().or(cfg.environment.as_deref()),
                _ => cfg.environment.as_deref(),
            };
            match chosen.or(p.default_host) {
                Some(name) => match p.hosts.iter().find(|(n, _)| *n == name) {
                    // An undocumented host is not guessed: `base_url` gives it.
                    Some((_, origin)) => Some(*origin).filter(|o| !o.is_empty()),
                    None => {
                        let names: Vec<_> = p.hosts.iter().map(|(n, _)| *n).collect();
                        return Err(unknown(key, name, &names.join(", ")));
                    }
                },
                None => None,
            }
        }
        None => None,
    };
    let url = match (&cfg.token_url, cfg.base_url.as_deref().or(host)) {
        (Some(url), _) => url.clone(),
        (None, _) if cfg.issuer.is_some() => String::new(),
        (None, Some(base)) => format!("{base}{}", p.path),
        (None, None) => {
            // A preset with hosts gets here only for an undocumented one.
            let key = p.required.unwrap_or("base_url");
            return Err(Error::config(format!("provider {} needs {key}", p.name)));
        }
    };
    Ok(Preset {
        url,
        encoding: p.encoding,
        grant_type: p.grant_type,
        audience: host.filter(|_| p.audience_is_host).map(str::to_owned),
        table: p,
    })
}

/// How the client authenticates: the config's method, else its preset's.
fn credentials_in(cfg: &TokenConfig) -> CredentialsIn {
    cfg.credentials.unwrap_or(cfg.provider.preset().credentials)
}

fn unknown(what: &str, got: &str, allowed: &str) -> Error {
    Error::config(format!(
        "unknown {what} {} (expected one of: {allowed})",
        Quoted(got)
    ))
}

impl Profile {
    /// Whether the client mints its tokens itself (`doordash`) instead of
    /// requesting them: such a token costs no request, so it is never shared
    /// through a store (each process mints its own) and never counted against
    /// a request budget. The one place that decides it.
    pub fn mints_locally(&self) -> bool {
        self.provider.name() == crate::doordash::PROVIDER
    }

    /// Resolves a config: preset defaults, then the user's overrides.
    #[cfg(any(test, feature = "ffi", feature = "testing", target_arch = "wasm32"))]
    pub fn resolve(cfg: &TokenConfig) -> Result<(Profile, Credentials)> {
        Self::resolve_with(cfg, false).map(|(profile, creds, _)| (profile, creds))
    }

    /// Puts the JS wrapper's credential provider's answer where the config
    /// holds it: the private key with `private_key_jwt`, else the client
    /// secret. The client built from `cfg` then checks it as it would the
    /// config's own.
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn place_provided(cfg: &mut TokenConfig, answer: Secret) {
        match credentials_in(cfg) {
            CredentialsIn::PrivateKeyJwt => cfg.private_key = Some(answer),
            _ => cfg.client_secret = Some(answer),
        }
    }

    /// [`Profile::resolve`] for a client whose secret may come from a
    /// credential provider (`provider`): then none is in the config, and the
    /// credentials carry an empty secret until the provider gives one (the
    /// third value says whether they hold a secret).
    pub(crate) fn resolve_with(
        cfg: &TokenConfig,
        provider: bool,
    ) -> Result<(Profile, Credentials, bool)> {
        let p = preset(cfg)?;
        let discovery_ttl_secs = crate::discovery::check_config(cfg)?;
        let token_url = match &cfg.issuer {
            Some(issuer) => {
                crate::discovery::check_issuer_url(issuer)?;
                issuer.clone()
            }
            None => {
                let token_url = cfg.token_url.clone().unwrap_or(p.url);
                let url_field = match (&cfg.token_url, &cfg.base_url) {
                    (None, Some(_)) => "base_url",
                    _ => "token_url",
                };
                check_url(&token_url, url_field)?;
                token_url
            }
        };
        let local = crate::doordash::Minter::resolve(cfg, provider)?;
        if cfg.client_id.is_empty() && local.is_none() {
            return Err(Error::config("client_id is empty"));
        }
        let method = credentials_in(cfg);
        let secret = if let Some((_, signing_secret)) = &local {
            Some(signing_secret.clone())
        } else if method == CredentialsIn::PrivateKeyJwt {
            if cfg.client_secret.is_some() || cfg.client_secret_file.is_some() {
                return Err(Error::config(
                    "client_secret is not used with credentials \"private_key_jwt\" (the \
                     private key authenticates the client): remove it",
                ));
            }
            // A provider gives the key at the first fetch; until then there is none.
            (!provider).then(|| Secret::new(""))
        } else if method.is_mtls() {
            Some(crate::mtls::key_material(cfg, provider)?)
        } else {
            crate::credential::initial_secret(cfg, provider)?
        };
        if local.is_none() {
            crate::assertion::check_unused(cfg, method)?;
        }
        let assertion = if local.is_none() && method.is_assertion() {
            let assertion = crate::assertion::Assertion::resolve(cfg, method, provider)?;
            Some(std::sync::Arc::new(assertion))
        } else {
            None
        };
        let names = &cfg.field_names;
        let name =
            |n: &Option<String>, default: &str| n.clone().unwrap_or_else(|| default.to_owned());

        let grant_value = cfg
            .grant_type
            .clone()
            .unwrap_or_else(|| p.grant_type.to_owned());
        let grant_type =
            (!grant_value.is_empty()).then(|| (name(&names.grant_type, "grant_type"), grant_value));

        let mut params = Vec::new();
        if let Some(aud) = cfg.audience.clone().or(p.audience) {
            params.push((name(&names.audience, "audience"), aud.into()));
        }
        let scope = cfg.scope.as_deref().or(p.table.more.scope);
        if p.table.more.scope_required && scope.is_none_or(str::is_empty) {
            let name = p.table.name;
            return Err(Error::config(format!("provider {name} needs scope")));
        }
        if let Some(scope) = scope {
            params.push((name(&names.scope, "scope"), scope.into()));
        }
        if let Some(ttl) = cfg.ttl {
            params.push((name(&names.ttl, "ttl"), ttl.into()));
        }
        for (k, v) in &cfg.extra_params {
            if v.is_object() || v.is_array() || v.is_null() {
                return Err(Error::config(format!(
                    "extra_params.{k} must be a string, number or boolean"
                )));
            }
            params.push((k.clone(), v.clone()));
        }
        // The preset's fixed parameters, unless the config gives its own value.
        for (k, v) in p.table.more.extra_params {
            if !cfg.extra_params.contains_key(*k) {
                params.push(((*k).to_owned(), (*v).into()));
            }
        }

        let mut headers = Vec::new();
        // Every preset's endpoint answers JSON; some only when asked.
        if !cfg.headers.keys().any(|k| k.eq_ignore_ascii_case("accept")) {
            let (name, value) = DEFAULT_ACCEPT;
            headers.push((name.to_owned(), value.to_owned()));
        }
        for (k, v) in &cfg.headers {
            if k.eq_ignore_ascii_case("authorization") || k.eq_ignore_ascii_case("content-type") {
                return Err(Error::config(format!("header {k} is set by tokenwell")));
            }
            check_header(k, v)?;
            headers.push((k.to_ascii_lowercase(), v.clone()));
        }

        let mut policy = preset_policy(cfg.policy.clone(), p.table);
        policy.max_requests_per_hour = policy
            .max_requests_per_hour
            .or(cfg.provider.preset().max_requests_per_hour);
        check_policy(&policy)?;
        check_timeouts(cfg)?;
        #[cfg(not(target_arch = "wasm32"))]
        check_store_topology(cfg.store.as_ref())?;
        check_name(cfg.name.as_deref())?;
        let profile = Profile {
            provider: cfg.provider,
            token_url,
            issuer: cfg.issuer.clone(),
            discovery_ttl_secs,
            encoding: cfg.encoding.unwrap_or(p.encoding),
            credentials: method,
            basic_encoding: cfg.basic_encoding,
            client_id_field: name(&names.client_id, p.table.more.id_fields.0),
            client_secret_field: name(&names.client_secret, p.table.more.id_fields.1),
            grant_type,
            params,
            headers,
            response: preset_response(&cfg.response, &p.table.more.response),
            policy,
            http: cfg.http.clone(),
        };
        let good = secret.is_some();
        let minter = local.map(|(minter, _)| std::sync::Arc::new(minter));
        let creds = Credentials {
            client_id: match &minter {
                Some(minter) => minter.developer_id().to_owned(),
                None => cfg.client_id.clone(),
            },
            client_secret: secret.unwrap_or_else(|| Secret::new("")),
            assertion,
            minter,
        };
        check_sendable(&profile, &creds)?;
        Ok((profile, creds, good))
    }
}

/// Headers tokenwell or the transport sets, or that frame the connection: set
/// from a config they would differ between runtimes (`fetch` refuses most).
const RESERVED_HEADERS: &[&str] = &[
    "accept-encoding",
    "connection",
    "content-length",
    "expect",
    "host",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// A header every transport sends as given (RFC 9110 §5: a token name; a
/// value of visible ASCII, spaces and tabs inside). The value is never quoted
/// in the error: it may be a credential.
fn check_header(name: &str, value: &str) -> Result<()> {
    let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(tchar) {
        return Err(Error::config(format!(
            "headers: {} is not a valid header name",
            Quoted(name)
        )));
    }
    if RESERVED_HEADERS
        .iter()
        .any(|h| name.eq_ignore_ascii_case(h))
    {
        return Err(Error::config(format!(
            "headers: {name} is set by the HTTP transport, not by the config"
        )));
    }
    let visible = |b: u8| b.is_ascii_graphic() || b == b' ' || b == b'\t';
    let padded = value.starts_with([' ', '\t']) || value.ends_with([' ', '\t']);
    if !value.bytes().all(visible) || padded {
        return Err(Error::config(format!(
            "headers: the value of {name} cannot be sent (only visible ASCII, with \
             spaces and tabs inside; no line breaks or control characters)"
        )));
    }
    Ok(())
}

/// Refuses a config whose request could not be sent as meant: a body field
/// name with control characters, a multipart value that could end its part
/// (a line break, or the boundary), a client id that raw Basic credentials
/// would split. Errors name the field, never its value.
fn check_sendable(profile: &Profile, creds: &Credentials) -> Result<()> {
    use std::borrow::Cow;
    let mut fields: Vec<(&str, Cow<'_, str>)> = Vec::new();
    if let Some((name, value)) = &profile.grant_type {
        fields.push((name, Cow::Borrowed(value)));
    }
    if profile.credentials.secret_in_body() {
        fields.push((&profile.client_id_field, Cow::Borrowed(&creds.client_id)));
        let secret = creds.client_secret.expose();
        fields.push((&profile.client_secret_field, Cow::Borrowed(secret)));
    }
    if profile.credentials.is_assertion() || profile.credentials.is_mtls() {
        fields.push((&profile.client_id_field, Cow::Borrowed(&creds.client_id)));
    }
    if profile.credentials.is_assertion() {
        let assertion_type = crate::assertion::ASSERTION_TYPE;
        fields.push(("client_assertion_type", Cow::Borrowed(assertion_type)));
        // The assertion itself is base64url and dots: only its name can clash.
        fields.push(("client_assertion", Cow::Borrowed("")));
    }
    for (name, value) in &profile.params {
        let text = match value {
            serde_json::Value::String(s) => Cow::Borrowed(s.as_str()),
            // `to_string`, not `Display`: one serializer in the WebAssembly (1 KB).
            other => Cow::Owned(serde_json::to_string(other).unwrap_or_default()),
        };
        fields.push((name, text));
    }
    for (i, (name, value)) in fields.iter().enumerate() {
        // One value a field: a second would override the first (JSON) or be read
        // by one server and not another (form), e.g. a client_secret in extra_params.
        if fields[..i].iter().any(|(earlier, _)| earlier == name) {
            return Err(Error::config(format!(
                "body field {} is sent twice (extra_params or field_names repeat a field \
                 tokenwell sends)",
                Quoted(name)
            )));
        }
        if name.is_empty() || name.chars().any(char::is_control) {
            return Err(Error::config(format!(
                "body field name {} is empty or has control characters",
                Quoted(name)
            )));
        }
        // The boundary found bytewise: `str::contains(&str)` brings a 2.5 KB searcher.
        let boundary = crate::request::MULTIPART_BOUNDARY.as_bytes();
        let breaks_part = value.contains(['\r', '\n'])
            || (value.as_bytes().windows(boundary.len())).any(|w| w == boundary);
        if profile.encoding == Encoding::Multipart && breaks_part {
            return Err(Error::config(format!(
                "body field {name} cannot be sent in a multipart body: its value has a \
                 line break or the multipart boundary"
            )));
        }
    }
    if profile.credentials.uses_basic()
        && profile.basic_encoding == BasicEncoding::Raw
        && creds.client_id.contains(':')
    {
        return Err(Error::config(
            "client_id contains `:`, which raw HTTP Basic credentials cannot carry \
             (basic_encoding \"form\" encodes it)",
        ));
    }
    Ok(())
}

/// HTTPS only: a client secret must never cross the network in clear text. Plain
/// HTTP is allowed to loopback, where tests and the mock provider live.
pub(crate) fn check_url(raw: &str, field: &str) -> Result<()> {
    // A URL parser drops tabs and line breaks and encodes spaces; the URL would
    // not be the one configured (nor the cache key's).
    if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Error::config(format!(
            "{field}: the token URL has whitespace or control characters"
        )));
    }
    let url =
        Host::parse_url(raw).map_err(|e| Error::config(format!("token URL is invalid: {e}")))?;
    if url.has_credentials {
        return Err(Error::config("token URL must not carry credentials"));
    }
    match url.scheme.as_str() {
        "https" => Ok(()),
        "http" if is_loopback(&url.host) => Ok(()),
        "http" => Err(Error::config(
            "token URL must use https (plain http is allowed only to loopback)",
        )),
        other => Err(Error::config(format!(
            "token URL scheme {} is not https",
            Quoted(other)
        ))),
    }
}

/// Whether a canonical host ([`crate::platform::UrlParts::host`]) is loopback:
/// `localhost`, `127.x.y.z` or `[::1]`, the only forms a WHATWG parser leaves.
/// Read by hand: `std::net`'s parsers would add 3 KB to the WebAssembly module.
fn is_loopback(host: &str) -> bool {
    let octet = |l: &str| {
        l.len() <= 3
            && l.bytes().all(|b| b.is_ascii_digit())
            && l.parse::<u8>().is_ok()
            && (l.len() == 1 || !l.starts_with('0'))
    };
    let labels: Vec<&str> = host.split('.').collect();
    let ipv4 = labels.len() == 4 && labels.iter().all(|l| octet(l));
    host == "[::1]" || (ipv4 && labels[0] == "127") || host.eq_ignore_ascii_case("localhost")
}

/// The header every profile sends unless the config sets its own Accept.
pub(crate) const DEFAULT_ACCEPT: (&str, &str) = ("accept", "application/json");

/// The longest wait a config may ask for: the largest delay every runtime's timer
/// honours (JS `setTimeout` fires at once, after 1 ms, beyond it), about 24.8 days.
pub(crate) const MAX_TIMEOUT_MS: u64 = i32::MAX as u64;

/// A client's name becomes a metric attribute: short, and printable.
fn check_name(name: Option<&str>) -> Result<()> {
    match name {
        Some(n) if n.is_empty() || n.chars().count() > 64 || n.chars().any(char::is_control) => {
            Err(Error::config(
                "name must be 1 to 64 characters, none a control character",
            ))
        }
        _ => Ok(()),
    }
}

/// Every timeout is at least 1 ms (0 would fail each request or store call at
/// once) and at most [`MAX_TIMEOUT_MS`], in every language alike.
fn check_timeouts(cfg: &TokenConfig) -> Result<()> {
    let store = cfg.store.as_ref();
    for (name, ms) in [
        ("http.connect_timeout_ms", Some(cfg.http.connect_timeout_ms)),
        ("http.timeout_ms", Some(cfg.http.timeout_ms)),
        ("store.timeout_ms", store.and_then(|s| s.timeout_ms)),
        ("store.lock_wait_ms", store.and_then(|s| s.lock_wait_ms)),
    ] {
        if ms.is_some_and(|ms| !(1..=MAX_TIMEOUT_MS).contains(&ms)) {
            return Err(Error::config(format!(
                "{name} must be between 1 and {MAX_TIMEOUT_MS} ms"
            )));
        }
    }
    Ok(())
}

/// `cluster_nodes` and `sentinel` say where `redis_url`'s data nodes are: each
/// needs it. The native Redis store checks the rest (the addresses, the two
/// together). WebAssembly has neither key.
#[cfg(not(target_arch = "wasm32"))]
fn check_store_topology(store: Option<&crate::config::StoreOptions>) -> Result<()> {
    match store {
        Some(s) if s.redis_url.is_none() && (s.cluster_nodes.is_some() || s.sentinel.is_some()) => {
            Err(Error::config(
                "store.cluster_nodes and store.sentinel need store.redis_url (the data nodes' user, password and TLS)",
            ))
        }
        _ => Ok(()),
    }
}

/// The config's response mapping, each path it leaves out taken from the preset.
fn preset_response(
    cfg: &ResponseMapping,
    preset: &crate::presets::PresetResponse,
) -> ResponseMapping {
    let or = |given: &Option<String>, default: Option<&str>| {
        given.clone().or_else(|| default.map(str::to_owned))
    };
    ResponseMapping {
        access_token: or(&cfg.access_token, preset.access_token),
        token_type: or(&cfg.token_type, preset.token_type),
        expires_in: or(&cfg.expires_in, preset.expires_in),
        success: cfg.success.clone().or_else(|| {
            preset
                .success
                .map(|(path, equals)| crate::config::SuccessCheck {
                    path: path.to_owned(),
                    equals: equals.into(),
                })
        }),
        ..cfg.clone()
    }
}

/// The config's policy over the preset's: its refresh window unless the config
/// sets one, its default lifetime unless the config's differs from the default.
fn preset_policy(mut policy: Policy, preset: &crate::presets::Preset) -> Policy {
    let more = preset.more;
    let window = more.refresh_window_secs.map(u64::from);
    policy.refresh_window_secs = policy.refresh_window_secs.or(window);
    if let Some(secs) = more.default_lifetime_secs {
        if policy.default_lifetime_secs == Policy::default().default_lifetime_secs {
            policy.default_lifetime_secs = secs.into();
        }
    }
    policy
}

fn check_policy(p: &Policy) -> Result<()> {
    let ratio = |r: f64| (0.0..=1.0).contains(&r);
    let jitter = p.refresh_jitter_ratio.unwrap_or(0.0);
    if !ratio(p.refresh_ratio) || !ratio(p.skew_ratio) || !ratio(jitter) {
        return Err(Error::config("policy ratios must be between 0 and 1"));
    }
    if p.refresh_window_secs == Some(0) {
        return Err(Error::config(
            "policy.refresh_window_secs must be at least 1",
        ));
    }
    if p.backoff_initial_ms == 0 || p.backoff_max_ms < p.backoff_initial_ms {
        return Err(Error::config(
            "policy backoff must satisfy 0 < initial <= max",
        ));
    }
    Ok(())
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::{is_loopback, Profile, MAX_TIMEOUT_MS};
    use crate::config::TokenConfig;
    use crate::platform::Platform;
    use crate::ErrorKind;

    #[test]
    fn a_body_field_is_sent_once() {
        let build = |extra: &str| {
            let json = format!(
                r#"{{"provider":"custom","token_url":"https://a.example/t","client_id":"i","client_secret":"s",{extra}}}"#
            );
            TokenConfig::from_json(&json).and_then(|c| Profile::resolve(&c).map(|_| ()))
        };
        for twice in [
            r#""credentials":"body","field_names":{"client_id":"x","client_secret":"x"}"#,
            r#""extra_params":{"grant_type":"password"}"#,
            r#""scope":"a","extra_params":{"scope":"b"}"#,
        ] {
            let e = build(twice).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config, "{twice}");
            assert!(e.detail().contains("sent twice"), "{}", e.detail());
        }
        // With Basic credentials the id is not a body field: a provider may want it there too.
        build(r#""credentials":"basic","extra_params":{"client_id":"i"}"#).unwrap();
    }

    #[test]
    fn a_preset_supplies_defaults_the_config_overrides() {
        let resolve = |json: &str| {
            let cfg = TokenConfig::from_json(json).unwrap();
            Profile::resolve(&cfg).map(|(p, _)| p)
        };
        let toast = resolve(r#"{"provider":"toast","client_id":"i","client_secret":"s"}"#).unwrap();
        assert_eq!(
            toast.token_url,
            "https://ws-api.toasttab.com/authentication/v1/authentication/login"
        );
        assert_eq!(
            (toast.client_id_field.as_str(), toast.grant_type.as_ref()),
            ("clientId", None)
        );
        assert_eq!(
            toast.params,
            [("userAccessType".to_owned(), "TOAST_MACHINE_CLIENT".into())]
        );
        assert_eq!(
            toast.response.access_token.as_deref(),
            Some("token.accessToken")
        );
        assert_eq!(toast.response.success.as_ref().unwrap().equals, "SUCCESS");
        assert_eq!(toast.policy.refresh_window_secs, Some(60));
        assert_eq!(toast.policy.default_lifetime_secs, 86_400);
        let own = resolve(
            r#"{"provider":"toast","client_id":"i","client_secret":"s",
                "extra_params":{"userAccessType":"TOAST_OTHER"},"response":{"access_token":"t"},
                "field_names":{"client_id":"id"},
                "policy":{"refresh_window_secs":120,"default_lifetime_secs":600}}"#,
        )
        .unwrap();
        assert_eq!(
            own.params,
            [("userAccessType".to_owned(), "TOAST_OTHER".into())]
        );
        assert_eq!(own.response.access_token.as_deref(), Some("t"));
        assert_eq!(own.response.expires_in.as_deref(), Some("token.expiresIn"));
        assert_eq!(own.client_id_field, "id");
        assert_eq!(own.policy.refresh_window_secs, Some(120));
        assert_eq!(own.policy.default_lifetime_secs, 600);
        let stuart =
            resolve(r#"{"provider":"stuart","client_id":"i","client_secret":"s"}"#).unwrap();
        assert_eq!(stuart.params, [("scope".to_owned(), "api".into())]);
        assert_eq!(stuart.token_url, "https://api.stuart.com/oauth/token");
        assert_eq!(stuart.policy.refresh_window_secs, None);
        // Uber: scope is required, and the error names it.
        for scope in ["", r#","scope":"""#] {
            let json =
                format!(r#"{{"provider":"uber","client_id":"i","client_secret":"s"{scope}}}"#);
            let e = resolve(&json).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config);
            assert!(e.detail().contains("needs scope"), "{}", e.detail());
        }
        let uber = resolve(
            r#"{"provider":"uber","client_id":"i","client_secret":"s","scope":"eats.store"}"#,
        )
        .unwrap();
        assert_eq!(uber.token_url, "https://auth.uber.com/oauth/v2/token");
        // Toast's sandbox host is not public: base_url gives it.
        let e = resolve(
            r#"{"provider":"toast","environment":"sandbox","client_id":"i","client_secret":"s"}"#,
        )
        .unwrap_err();
        assert!(e.detail().contains("needs base_url"), "{}", e.detail());
        let sandbox = resolve(
            r#"{"provider":"toast","environment":"sandbox","base_url":"https://toast.example","client_id":"i","client_secret":"s"}"#,
        )
        .unwrap();
        assert_eq!(
            sandbox.token_url,
            "https://toast.example/authentication/v1/authentication/login"
        );
        let e = resolve(r#"{"provider":"toast","client_id":"i","client_secret":"s","policy":{"refresh_window_secs":0}}"#)
            .unwrap_err();
        assert!(e.detail().contains("refresh_window_secs"), "{}", e.detail());
    }

    #[test]
    fn timeouts_are_between_1_ms_and_the_timer_limit() {
        let build = |extra: &str| {
            let json = format!(
                r#"{{"provider":"custom","token_url":"https://a.example/t","client_id":"i","client_secret":"s",{extra}}}"#
            );
            TokenConfig::from_json(&json).and_then(|c| Profile::resolve(&c).map(|_| ()))
        };
        let max = MAX_TIMEOUT_MS;
        build(&format!(
            r#""http":{{"connect_timeout_ms":1,"timeout_ms":{max}}},"store":{{"timeout_ms":{max},"lock_wait_ms":{max}}}"#
        ))
        .unwrap();
        for (extra, field) in [
            (
                r#""http":{"connect_timeout_ms":0}"#.to_owned(),
                "http.connect_timeout_ms",
            ),
            (
                format!(r#""http":{{"timeout_ms":{}}}"#, max + 1),
                "http.timeout_ms",
            ),
            (r#""store":{"timeout_ms":0}"#.to_owned(), "store.timeout_ms"),
            (
                r#""store":{"lock_wait_ms":0}"#.to_owned(),
                "store.lock_wait_ms",
            ),
            (
                format!(r#""store":{{"lock_wait_ms":{}}}"#, max + 1),
                "store.lock_wait_ms",
            ),
        ] {
            let e = build(&extra).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config);
            assert!(e.detail().contains(field), "{}", e.detail());
        }
    }

    #[test]
    fn cluster_and_sentinel_need_a_url() {
        let build = |store: &str| {
            let json = format!(
                r#"{{"provider":"custom","token_url":"https://a.example/t","client_id":"i","client_secret":"s","store":{store}}}"#
            );
            TokenConfig::from_json(&json).and_then(|c| Profile::resolve(&c).map(|_| ()))
        };
        build(r#"{"redis_url":"redis://:pw@h","cluster_nodes":["h:1"]}"#).unwrap();
        for bad in [
            r#"{"cluster_nodes":["h:7000"]}"#,
            r#"{"sentinel":{"nodes":["s:26379"],"service":"m"}}"#,
        ] {
            let e = build(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config, "{bad}");
            assert!(
                e.detail().contains("need store.redis_url"),
                "{}",
                e.detail()
            );
        }
    }

    /// What `is_loopback` is held to: `std::net` over the host as given.
    fn reference(host: &str) -> bool {
        let ip = host.trim_start_matches('[').trim_end_matches(']');
        match ip.parse::<std::net::IpAddr>() {
            Ok(ip) => ip.is_loopback(),
            Err(_) => host.eq_ignore_ascii_case("localhost"),
        }
    }

    #[test]
    fn loopback_by_hand_decides_as_std_net_on_every_parsed_host() {
        let hosts = [
            "127.0.0.1",
            "127.1",
            "127.0.1",
            "0x7f.1",
            "0177.0.0.1",
            "2130706433",
            "127.255.255.255",
            "128.0.0.1",
            "126.255.255.255",
            "10.0.0.1",
            "0.0.0.0",
            "127.0.0.1.example.com",
            "127.example",
            "localhost",
            "LOCALHOST",
            "localhost.",
            "localhost.example.com",
            "[::1]",
            "[0:0:0:0:0:0:0:1]",
            "[::0:1]",
            "[::ffff:127.0.0.1]",
            "[::2]",
            "[::]",
            "[fe80::1]",
            "example.com",
            "xn--lcalhost-1za",
            "ｌｏｃａｌｈｏｓｔ",
            "127。0。0。1",
            "%31%32%37.0.0.1",
            "1.2.3.4",
            "255.255.255.255",
            "[::127.0.0.1]",
        ];
        let (mut parsed, mut loopback) = (0, 0);
        for host in hosts {
            let Ok(url) = crate::native::Native::parse_url(&format!("http://{host}:8080/t")) else {
                continue;
            };
            parsed += 1;
            loopback += usize::from(reference(&url.host));
            assert_eq!(
                is_loopback(&url.host),
                reference(&url.host),
                "{host} -> {}",
                url.host
            );
        }
        assert!(
            parsed >= 30 && (12..=18).contains(&loopback),
            "{parsed} {loopback}"
        );
        // Direct, on strings no parser would leave (documented as not canonical).
        for (host, want) in [
            ("127.0.0.01", false),
            ("127.0.0.256", false),
            ("+127.0.0.1", false),
        ] {
            assert_eq!(is_loopback(host), want, "{host}");
        }
    }
}
