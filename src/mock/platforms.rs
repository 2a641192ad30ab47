//! Uber, Stuart and Toast: their wire formats and the quirks that punish
//! careless token handling (request limits, tokens invalidated by newer ones,
//! the same token handed out again, long tokens).
//!
//! The mock keeps real time here (it never sees a client's manual clock).

use std::collections::{HashMap, VecDeque};

use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::StatusCode;
use serde_json::{json, Value};

use super::http::{json_response, oauth_error, Resp};
use super::providers::{Grant, Parsed, Rejection};
use super::state::Shared;
use super::wire;

/// Uber's documented limit on token requests per client and hour.
pub(crate) const UBER_REQUESTS_PER_HOUR: usize = 100;
/// Uber's live tokens per client: a newer one invalidates the oldest.
pub(crate) const UBER_LIVE_TOKENS: usize = 100;
/// Toast's rule for token requests per client and hour (the mock enforces it
/// only when `toast_rate_limit` is on).
pub(crate) const TOAST_REQUESTS_PER_HOUR: usize = 2;
/// Toast hands out a new token only in the last this many seconds of the old one.
pub(crate) const TOAST_RENEWAL_SECS: u64 = 60;
/// About the size Stuart warns its tokens may reach (8 KiB).
pub(crate) const STUART_TOKEN_BYTES: usize = 8 * 1024;

const HOUR_SECS: u64 = 3600;

/// Per-client memory of the three platforms, cleared by a reset.
#[derive(Debug, Default)]
pub(crate) struct PlatformState {
    /// Uber and Toast: when each recent token request of a client came (Unix s).
    requests: HashMap<(&'static str, String), VecDeque<u64>>,
    /// Uber: each client's live tokens, oldest first.
    uber_live: HashMap<String, VecDeque<String>>,
    /// Toast: each client's current token and its expiry (Unix s).
    toast_current: HashMap<String, (String, u64)>,
}

impl PlatformState {
    /// Forgets the request times (an hour passed), keeping the tokens.
    pub(crate) fn forget_request_times(&mut self) {
        self.requests.clear();
    }
}

/// Uber: a form (or multipart) body with the credentials, `grant_type` and a
/// non-empty `scope`; JSON is refused.
pub(crate) fn uber(headers: &HeaderMap, body: &[u8]) -> Parsed {
    let fields = form_fields(headers, body)?;
    let (client_id, secret) = form_client(&fields)?;
    required("scope", field(&fields, "scope"))?;
    Ok((Grant::for_client(client_id), secret.to_owned()))
}

/// Stuart: a form body with the credentials, `grant_type` and `scope=api`.
pub(crate) fn stuart(headers: &HeaderMap, body: &[u8]) -> Parsed {
    if !wire::content_type_is(headers, "application/x-www-form-urlencoded") {
        return Err(Rejection::invalid_request(
            "Content-Type must be application/x-www-form-urlencoded",
        ));
    }
    let fields: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let (client_id, secret) = form_client(&fields)?;
    if field(&fields, "scope") != Some("api") {
        return Err(Rejection::invalid_request("`scope` must be `api`"));
    }
    Ok((Grant::for_client(client_id), secret.to_owned()))
}

/// Toast: JSON `{"clientId", "clientSecret", "userAccessType":
/// "TOAST_MACHINE_CLIENT"}`, nothing in snake_case.
pub(crate) fn toast(headers: &HeaderMap, body: &[u8]) -> Parsed {
    if !wire::content_type_is(headers, "application/json") {
        return Err(Rejection::invalid_request(
            "Content-Type must be application/json",
        ));
    }
    let fields = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(fields)) => fields,
        _ => return Err(Rejection::invalid_request("body must be a JSON object")),
    };
    let text = |name: &str| fields.get(name).and_then(Value::as_str);
    let client_id = required("clientId", text("clientId"))?;
    let secret = required("clientSecret", text("clientSecret"))?;
    if text("userAccessType") != Some("TOAST_MACHINE_CLIENT") {
        return Err(Rejection::invalid_request(
            "`userAccessType` must be `TOAST_MACHINE_CLIENT`",
        ));
    }
    if let Some(name) = ["client_id", "client_secret", "grant_type"]
        .iter()
        .find(|n| fields.contains_key(**n))
    {
        return Err(Rejection::invalid_request(format!(
            "unexpected field `{name}` (Toast's fields are camelCase)"
        )));
    }
    Ok((Grant::for_client(client_id), secret.to_owned()))
}

/// The 429 a platform answers a client past its hourly limit, or `None` (the
/// request is then counted). Uber's limit always applies; Toast's when
/// `toast_rate_limit` is on.
pub(crate) fn over_limit(
    shared: &Shared,
    platform: &'static str,
    client_id: &str,
    now: u64,
) -> Option<Resp> {
    let mut state = shared.lock();
    let limit = match platform {
        "uber" => UBER_REQUESTS_PER_HOUR,
        "toast" if state.config.toast_rate_limit => TOAST_REQUESTS_PER_HOUR,
        _ => return None,
    };
    let times = state
        .platforms
        .requests
        .entry((platform, client_id.to_owned()))
        .or_default();
    while times
        .front()
        .is_some_and(|t| now.saturating_sub(*t) >= HOUR_SECS)
    {
        times.pop_front();
    }
    if times.len() >= limit {
        let oldest = times.front().copied().unwrap_or(now);
        let retry_after = (oldest + HOUR_SECS).saturating_sub(now).max(1);
        let mut resp = oauth_error(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            &format!("more than {limit} token requests in an hour"),
        );
        if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return Some(resp);
    }
    times.push_back(now);
    None
}

/// Uber's success: a new opaque token, the client's oldest live token
/// invalidated past [`UBER_LIVE_TOKENS`].
pub(crate) fn uber_success(shared: &Shared, client_id: &str, lifetime: u64, id: u64) -> Value {
    let token = format!("mock_uber_{id}");
    let mut state = shared.lock();
    let live = state
        .platforms
        .uber_live
        .entry(client_id.to_owned())
        .or_default();
    live.push_back(token.clone());
    while live.len() > UBER_LIVE_TOKENS {
        live.pop_front();
    }
    json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "scope": "eats.deliveries",
    })
}

/// Stuart's success: a JWT-shaped token of about [`STUART_TOKEN_BYTES`].
pub(crate) fn stuart_success(client_id: &str, now: u64, lifetime: u64, id: u64) -> Value {
    let short = super::jwt::token(client_id, now, now.saturating_add(lifetime), id);
    // The claim grows by 4/3 in base64url, plus `,"pad":""`.
    let room = STUART_TOKEN_BYTES.saturating_sub(short.len()) * 3 / 4;
    let pad = "x".repeat(room.saturating_sub(12));
    json!({
        "access_token": super::jwt::token_with(client_id, now, now.saturating_add(lifetime), id, &pad),
        "token_type": "Bearer",
        "expires_in": lifetime,
        "scope": "api",
        "created_at": now,
    })
}

/// Toast's success: the client's current token again (with the seconds it
/// has left) until its last [`TOAST_RENEWAL_SECS`], then a new one.
pub(crate) fn toast_success(
    shared: &Shared,
    client_id: &str,
    now: u64,
    lifetime: u64,
    id: u64,
) -> Value {
    let mut state = shared.lock();
    let current = state.platforms.toast_current.get(client_id);
    let (token, expires) = match current {
        Some((token, expires)) if now.saturating_add(TOAST_RENEWAL_SECS) < *expires => {
            (token.clone(), *expires)
        }
        _ => {
            let fresh = (format!("mock_toast_{id}"), now.saturating_add(lifetime));
            state
                .platforms
                .toast_current
                .insert(client_id.to_owned(), fresh.clone());
            fresh
        }
    };
    json!({
        "@class": ".SuccessfulResponse",
        "token": {
            "tokenType": "Bearer",
            "scope": null,
            "expiresIn": expires.saturating_sub(now),
            "accessToken": token,
            "idToken": null,
            "refreshToken": null,
        },
        "status": "SUCCESS",
    })
}

/// `GET /uber/ping` and `GET /stuart/ping`: an API call made with a token.
/// 200 for one of Uber's live tokens (or any JWT-shaped token, for Stuart),
/// 401 otherwise: an Uber token invalidated by newer ones answers 401.
pub(crate) fn ping(shared: &Shared, platform: &str, headers: &HeaderMap) -> Resp {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let live = match platform {
        "uber" => shared
            .lock()
            .platforms
            .uber_live
            .values()
            .any(|live| live.iter().any(|t| t == token)),
        _ => token.starts_with("eyJ") && token.split('.').count() == 3,
    };
    if live {
        json_response(
            StatusCode::OK,
            &json!({ "ok": true, "token_bytes": token.len() }),
        )
    } else {
        oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the access token is not valid",
        )
    }
}

/// The body fields of a form or multipart request (Uber takes either).
fn form_fields(headers: &HeaderMap, body: &[u8]) -> Result<Vec<(String, String)>, Rejection> {
    match wire::content_type(headers) {
        Some((essence, _)) if essence == "application/x-www-form-urlencoded" => {
            Ok(form_urlencoded::parse(body).into_owned().collect())
        }
        Some((essence, raw)) if essence == "multipart/form-data" => {
            wire::multipart_fields(raw, body).map_err(Rejection::invalid_request)
        }
        _ => Err(Rejection::invalid_request(
            "Content-Type must be application/x-www-form-urlencoded or multipart/form-data",
        )),
    }
}

/// A form field's first value.
fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// A form's `grant_type` checked, then its `client_id` and `client_secret`.
fn form_client(fields: &[(String, String)]) -> Result<(&str, &str), Rejection> {
    check_grant(field(fields, "grant_type"))?;
    let client_id = required("client_id", field(fields, "client_id"))?;
    let secret = required("client_secret", field(fields, "client_secret"))?;
    Ok((client_id, secret))
}

fn check_grant(got: Option<&str>) -> Result<(), Rejection> {
    match got {
        Some("client_credentials") => Ok(()),
        _ => Err(Rejection::unsupported_grant_type(
            "grant_type must be client_credentials",
        )),
    }
}

fn required<'a>(name: &str, value: Option<&'a str>) -> Result<&'a str, Rejection> {
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(Rejection::invalid_request(format!("missing `{name}`"))),
    }
}
