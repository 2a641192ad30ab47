//! The imitated platforms: which request each accepts, and its success body.

use hyper::header::HeaderMap;
use hyper::StatusCode;
use serde_json::{json, Map, Value};

use super::http::{oauth_error, Resp};
use super::jwt;
use super::state::Shared;
use super::wire;

/// A token route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Provider {
    Deliverect,
    Bringg,
    Passport,
    Deliveroo,
    Uber,
    Stuart,
    Toast,
    Assertion,
    Custom,
}

impl Provider {
    pub fn from_path(path: &str) -> Option<Self> {
        match path {
            "/deliverect/oauth/token" => Some(Provider::Deliverect),
            "/bringg/oauth/token" => Some(Provider::Bringg),
            "/passport/api/oauth/token" => Some(Provider::Passport),
            "/deliveroo/oauth2/token" => Some(Provider::Deliveroo),
            "/uber/oauth/v2/token" => Some(Provider::Uber),
            "/stuart/oauth/token" => Some(Provider::Stuart),
            "/toast/authentication/v1/authentication/login" => Some(Provider::Toast),
            super::assertion::PATH => Some(Provider::Assertion),
            p if p.starts_with("/custom/") => Some(Provider::Custom),
            _ => None,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Provider::Deliverect => "deliverect",
            Provider::Bringg => "bringg",
            Provider::Passport => "passport",
            Provider::Deliveroo => "deliveroo",
            Provider::Uber => "uber",
            Provider::Stuart => "stuart",
            Provider::Toast => "toast",
            Provider::Assertion => "assertion",
            Provider::Custom => "custom",
        }
    }

    /// Token lifetime in seconds when nothing overrides it.
    fn default_lifetime(self) -> u64 {
        match self {
            Provider::Deliverect => 86_400,
            Provider::Bringg => 1_800,
            Provider::Passport | Provider::Assertion | Provider::Custom => 3_600,
            Provider::Deliveroo => 300,
            Provider::Uber | Provider::Stuart => 30 * 24 * 3600,
            Provider::Toast => 86_400,
        }
    }
}

/// What a valid token request asked for.
#[derive(Debug, Default)]
pub(crate) struct Grant {
    pub(crate) client_id: String,
    /// Bringg's requested lifetime, which wins over every other setting.
    ttl: Option<u64>,
}

/// Why a token request was refused, as an RFC 6749 §5.2 error.
#[derive(Debug)]
pub(crate) struct Rejection {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl Grant {
    pub(crate) fn for_client(client_id: &str) -> Self {
        grant(client_id, None)
    }
}

impl Rejection {
    pub(crate) fn invalid_request(description: impl Into<String>) -> Self {
        Rejection {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_request",
            description: description.into(),
        }
    }

    pub(crate) fn unsupported_grant_type(description: impl Into<String>) -> Self {
        Rejection {
            status: StatusCode::BAD_REQUEST,
            error: "unsupported_grant_type",
            description: description.into(),
        }
    }

    fn invalid_client(description: impl Into<String>) -> Self {
        Rejection {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: description.into(),
        }
    }

    pub fn into_response(self) -> Resp {
        oauth_error(self.status, self.error, &self.description)
    }
}

/// Checks a request against the provider's documented wire format.
pub(crate) fn validate(
    provider: Provider,
    headers: &HeaderMap,
    body: &[u8],
    shared: &Shared,
) -> Result<Grant, Rejection> {
    let (grant, secret) = match provider {
        Provider::Deliverect => deliverect(headers, body)?,
        Provider::Bringg => bringg(headers, body)?,
        Provider::Passport => passport(headers, body)?,
        Provider::Deliveroo => deliveroo(headers, body)?,
        Provider::Uber => super::platforms::uber(headers, body)?,
        Provider::Stuart => super::platforms::stuart(headers, body)?,
        Provider::Toast => super::platforms::toast(headers, body)?,
        Provider::Custom => return Ok(Grant::default()),
        Provider::Assertion => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            return match super::assertion::verify(shared, headers, body, now) {
                Ok(client_id) => Ok(grant(&client_id, None)),
                Err(("invalid_client", description)) => Err(Rejection::invalid_client(description)),
                Err(("unsupported_grant_type", description)) => {
                    Err(Rejection::unsupported_grant_type(description))
                }
                Err((_, description)) => Err(Rejection::invalid_request(description)),
            };
        }
    };
    check_client(shared, &grant.client_id, &secret)?;
    Ok(grant)
}

/// A well-formed request: what it asked for, and the secret it presented.
pub(crate) type Parsed = Result<(Grant, String), Rejection>;

/// Rejects credentials other than the configured pair; runs after the format checks.
fn check_client(shared: &Shared, id: &str, secret: &str) -> Result<(), Rejection> {
    if shared.credentials_match(id, secret) {
        Ok(())
    } else {
        Err(Rejection::invalid_client(
            "unknown client or wrong client secret",
        ))
    }
}

/// Deliverect: JSON with `client_id`, `client_secret`, `audience`, and
/// `grant_type` `token` (its docs) or `client_credentials` (its examples).
fn deliverect(headers: &HeaderMap, body: &[u8]) -> Parsed {
    require_content_type(headers, "application/json")?;
    let fields = json_object(body)?;
    check_grant_type(
        fields.get("grant_type").and_then(Value::as_str),
        &["token", "client_credentials"],
    )?;
    let client_id = json_string(&fields, "client_id")?;
    let client_secret = json_string(&fields, "client_secret")?;
    json_string(&fields, "audience")?;
    Ok((grant(client_id, None), client_secret.to_string()))
}

/// Bringg: `multipart/form-data` (`curl -F`) with an optional `ttl`.
fn bringg(headers: &HeaderMap, body: &[u8]) -> Parsed {
    let raw = match wire::content_type(headers) {
        Some((essence, raw)) if essence == "multipart/form-data" => raw,
        _ => {
            return Err(Rejection::invalid_request(
                "Content-Type must be multipart/form-data",
            ))
        }
    };
    let fields = wire::multipart_fields(raw, body).map_err(Rejection::invalid_request)?;
    let field = |name: &str| -> Result<Option<&str>, Rejection> {
        let mut values = fields.iter().filter(|(n, _)| n == name);
        let first = values.next().map(|(_, v)| v.as_str());
        if values.next().is_some() {
            return Err(Rejection::invalid_request(format!(
                "duplicate field `{name}`"
            )));
        }
        Ok(first)
    };
    check_grant_type(field("grant_type")?, &["client_credentials"])?;
    let client_id = non_empty("client_id", field("client_id")?)?;
    let client_secret = non_empty("client_secret", field("client_secret")?)?;
    let ttl = match field("ttl")? {
        None => None,
        Some(ttl) => Some(
            ttl.parse::<u64>()
                .ok()
                .filter(|&t| t > 0 && ttl.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| {
                    Rejection::invalid_request("`ttl` must be a positive integer of seconds")
                })?,
        ),
    };
    Ok((grant(client_id, ttl), client_secret.to_string()))
}

/// Laravel Passport: JSON in and, only when asked with `Accept`, JSON out.
fn passport(headers: &HeaderMap, body: &[u8]) -> Parsed {
    require_content_type(headers, "application/json")?;
    if !wire::accepts(headers, "application/json") {
        return Err(Rejection::invalid_request(
            "Accept must include application/json",
        ));
    }
    let fields = json_object(body)?;
    check_grant_type(
        fields.get("grant_type").and_then(Value::as_str),
        &["client_credentials"],
    )?;
    let client_id = json_string(&fields, "client_id")?;
    let client_secret = json_string(&fields, "client_secret")?;
    Ok((grant(client_id, None), client_secret.to_string()))
}

/// Deliveroo: credentials only in HTTP Basic, body exactly `grant_type=client_credentials`.
fn deliveroo(headers: &HeaderMap, body: &[u8]) -> Parsed {
    // Client authentication comes first, as at the real endpoint: a client that
    // posts its credentials in the body instead gets 401 invalid_client.
    let (client_id, client_secret) =
        wire::basic_credentials(headers).map_err(Rejection::invalid_client)?;
    require_content_type(headers, "application/x-www-form-urlencoded")?;
    let fields: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    if fields
        .iter()
        .any(|(n, _)| n == "client_id" || n == "client_secret")
    {
        return Err(Rejection::invalid_request(
            "client credentials belong in the Basic Authorization header only, not in the body",
        ));
    }
    let grant_types: Vec<&str> = fields
        .iter()
        .filter(|(n, _)| n == "grant_type")
        .map(|(_, v)| v.as_str())
        .collect();
    match grant_types.as_slice() {
        [one] => check_grant_type(Some(one), &["client_credentials"])?,
        [] => check_grant_type(None, &["client_credentials"])?,
        _ => return Err(Rejection::invalid_request("duplicate field `grant_type`")),
    }
    if let Some((name, _)) = fields.iter().find(|(n, _)| n != "grant_type") {
        return Err(Rejection::invalid_request(format!(
            "unexpected field `{name}`: the body must be exactly grant_type=client_credentials"
        )));
    }
    Ok((grant(&client_id, None), client_secret))
}

fn grant(client_id: &str, ttl: Option<u64>) -> Grant {
    Grant {
        client_id: client_id.to_string(),
        ttl,
    }
}

fn require_content_type(headers: &HeaderMap, want: &str) -> Result<(), Rejection> {
    if wire::content_type_is(headers, want) {
        Ok(())
    } else {
        Err(Rejection::invalid_request(format!(
            "Content-Type must be {want}"
        )))
    }
}

fn check_grant_type(got: Option<&str>, allowed: &[&str]) -> Result<(), Rejection> {
    match got {
        Some(g) if allowed.contains(&g) => Ok(()),
        Some(g) => Err(Rejection::unsupported_grant_type(format!(
            "grant_type `{g}` is not supported; use {}",
            allowed.join(" or ")
        ))),
        None => Err(Rejection::unsupported_grant_type(format!(
            "missing grant_type; use {}",
            allowed.join(" or ")
        ))),
    }
}

fn json_object(body: &[u8]) -> Result<Map<String, Value>, Rejection> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(_) => Err(Rejection::invalid_request("body must be a JSON object")),
        Err(e) => Err(Rejection::invalid_request(format!(
            "body is not valid JSON: {e}"
        ))),
    }
}

/// A required, non-empty string member.
fn json_string<'a>(fields: &'a Map<String, Value>, name: &str) -> Result<&'a str, Rejection> {
    match fields.get(name) {
        Some(Value::String(s)) => non_empty(name, Some(s)),
        Some(_) => Err(Rejection::invalid_request(format!(
            "`{name}` must be a string"
        ))),
        None => non_empty(name, None),
    }
}

fn non_empty<'a>(name: &str, value: Option<&'a str>) -> Result<&'a str, Rejection> {
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        Some(_) => Err(Rejection::invalid_request(format!("`{name}` is empty"))),
        None => Err(Rejection::invalid_request(format!("missing `{name}`"))),
    }
}

/// The provider's default success body for a token issued at `now` (Unix seconds).
pub(crate) fn success_body(
    shared: &Shared,
    provider: Provider,
    grant: &Grant,
    lifetime_override: Option<u64>,
    now: u64,
    id: u64,
) -> Value {
    let lifetime = grant
        .ttl
        .or(lifetime_override)
        .unwrap_or(provider.default_lifetime());
    let opaque = format!("mock_{}_{id}", provider.name());
    match provider {
        Provider::Deliverect => json!({
            "access_token": opaque,
            "token_type": "Bearer",
            "expires_in": lifetime,
            "expires_at": now.saturating_add(lifetime),
            "scope": "genericPOS",
        }),
        Provider::Bringg => json!({
            "access_token": opaque,
            "token_type": "Bearer",
            "expires_in": lifetime,
            "created_at": now,
        }),
        Provider::Passport => json!({
            "token_type": "Bearer",
            "expires_in": lifetime,
            "access_token": jwt::token(&grant.client_id, now, now.saturating_add(lifetime), id),
        }),
        Provider::Deliveroo => json!({
            "access_token": jwt::token(&grant.client_id, now, now.saturating_add(lifetime), id),
            "expires_in": lifetime,
            "token_type": "Bearer",
        }),
        Provider::Uber => super::platforms::uber_success(shared, &grant.client_id, lifetime, id),
        Provider::Stuart => super::platforms::stuart_success(&grant.client_id, now, lifetime, id),
        Provider::Toast => {
            super::platforms::toast_success(shared, &grant.client_id, now, lifetime, id)
        }
        Provider::Assertion | Provider::Custom => json!({
            "access_token": opaque,
            "token_type": "Bearer",
            "expires_in": lifetime,
        }),
    }
}
