//! Reading a token endpoint's answer: RFC 6749 success and error bodies plus the
//! non-standard shapes platforms use (nested paths, string numbers, ISO-8601,
//! `success: false` with HTTP 200, problem+json).

use base64::Engine as _;
use serde_json::Value;

use crate::config::ResponseMapping;
use crate::profile::Profile;
use crate::{Error, ErrorKind, Result, Secret};

/// Largest response body read from a token endpoint. Real token responses are
/// under 10 KiB (Stuart allows 8 KiB tokens); anything bigger is refused.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Longest access token accepted.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// An HTTP response as the transport read it.
#[derive(Clone, Debug, Default)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body, at most [`MAX_RESPONSE_BYTES`].
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of a header (name in lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A token as issued, before the cache turns its lifetime into deadlines.
#[derive(Clone, Debug)]
pub struct Issued {
    /// The access token.
    pub access_token: Secret,
    /// `Bearer` unless the server says otherwise.
    pub token_type: String,
    /// Granted scope, if reported.
    pub scope: Option<String>,
    /// Lifetime in ms, counted from when the request was sent.
    pub lifetime_ms: u64,
}

/// Parses a response to a request sent at wall time `sent_unix_ms`.
pub fn parse(profile: &Profile, resp: &HttpResponse, sent_unix_ms: i64) -> Result<Issued> {
    if resp.body.len() > MAX_RESPONSE_BYTES {
        return Err(Error::new(
            ErrorKind::ResponseTooLarge,
            format!("token response exceeds {MAX_RESPONSE_BYTES} bytes"),
        )
        .with_status(resp.status));
    }
    let server_now = resp
        .header("date")
        .and_then(|d| httpdate::parse_http_date(d).ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(sent_unix_ms, |d| d.as_millis() as i64);
    let json: Option<Value> = serde_json::from_slice(&resp.body).ok();

    if !(200..300).contains(&resp.status) {
        return Err(http_error(resp, json.as_ref(), server_now));
    }
    let Some(json) = json.filter(Value::is_object) else {
        let ct = resp.header("content-type").unwrap_or("none");
        return Err(Error::malformed(format!(
            "token response is not a JSON object (content-type {}, {} bytes)",
            ct.split(';').next().unwrap_or(ct),
            resp.body.len()
        ))
        .with_status(resp.status));
    };
    check_success(&profile.response, &json, resp, server_now)?;
    issued(profile, &json, server_now)
}

/// A 200 can still be an error: an RFC 6749 `error` member, `success: false`
/// (Bringg), or a configured check such as `status == "SUCCESS"` (Toast).
fn check_success(
    map: &ResponseMapping,
    json: &Value,
    resp: &HttpResponse,
    server_now: i64,
) -> Result<()> {
    let configured_ok = map
        .success
        .as_ref()
        .is_none_or(|c| lookup(json, &c.path) == Some(&c.equals));
    let flagged = json.get("success") == Some(&Value::Bool(false));
    let oauth_error = json.get("error").is_some_and(Value::is_string);
    if configured_ok && !flagged && !oauth_error {
        return Ok(());
    }
    // Classify by the status the body reports, if any, else as a rejection.
    let status = json
        .get("status")
        .and_then(Value::as_u64)
        .filter(|s| (400..600).contains(s))
        .map_or(400, |s| s as u16);
    let as_error = HttpResponse {
        status,
        ..resp.clone()
    };
    let mut err = http_error(&as_error, Some(json), server_now);
    err = Error::new(
        err.kind(),
        format!(
            "endpoint answered HTTP {} but reported failure: {}",
            resp.status,
            err.detail()
        ),
    )
    .with_status(resp.status)
    .with_retry_after_ms(err.retry_after_ms());
    Err(err)
}

fn http_error(resp: &HttpResponse, json: Option<&Value>, server_now: i64) -> Error {
    let status = resp.status;
    let code = json.and_then(|j| j.get("error")).and_then(Value::as_str);
    let description = json.and_then(describe);
    let kind = match (status, code.and_then(ErrorKind::from_oauth_code)) {
        (429, _) => ErrorKind::RateLimited,
        (500..=599, _) => ErrorKind::ServerError,
        (_, Some(kind)) => kind,
        (401, None) => ErrorKind::InvalidClient,
        (403, None) => ErrorKind::AccessDenied,
        _ => ErrorKind::HttpError,
    };
    let detail = match (code, description) {
        (Some(c), Some(d)) => format!("{c}: {d}"),
        (Some(c), None) => c.to_owned(),
        (None, Some(d)) => d,
        (None, None) if json.is_none() && !resp.body.is_empty() => {
            let ct = resp.header("content-type").unwrap_or("none");
            format!(
                "non-JSON error body ({})",
                ct.split(';').next().unwrap_or(ct)
            )
        }
        (None, None) => String::new(),
    };
    let retry_after = (kind == ErrorKind::RateLimited)
        .then(|| {
            resp.header("retry-after")
                .and_then(|v| retry_after_ms(v, server_now))
        })
        .flatten();
    Error::new(kind, detail)
        .with_status(status)
        .with_retry_after_ms(retry_after)
}

/// A human-readable description from the error shapes seen in the wild.
fn describe(json: &Value) -> Option<String> {
    let text = |v: &Value| -> Option<String> {
        ["error_description", "message", "detail", "title"]
            .iter()
            .find_map(|k| v.get(*k).and_then(Value::as_str))
            .map(str::to_owned)
    };
    text(json).or_else(|| json.get("errors")?.as_array()?.first().and_then(text))
}

/// `Retry-After` as delay-seconds or an HTTP-date.
fn retry_after_ms(value: &str, server_now: i64) -> Option<u64> {
    if let Ok(secs) = value.trim().parse::<u64>() {
        return Some(secs.saturating_mul(1000));
    }
    let at = httpdate::parse_http_date(value.trim()).ok()?;
    let at_ms = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64;
    Some((at_ms - server_now).max(0) as u64)
}

fn issued(profile: &Profile, json: &Value, server_now: i64) -> Result<Issued> {
    let map = &profile.response;
    let path =
        |p: &Option<String>, default: &'static str| p.clone().unwrap_or_else(|| default.to_owned());

    let token_path = path(&map.access_token, "access_token");
    let token = match lookup(json, &token_path) {
        Some(Value::String(s)) if !s.is_empty() => s,
        Some(_) => {
            return Err(Error::malformed(format!(
                "`{token_path}` is not a non-empty string"
            )))
        }
        None => return Err(Error::malformed(format!("response has no `{token_path}`"))),
    };
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Error::malformed(format!(
            "access token longer than {MAX_TOKEN_BYTES} bytes"
        )));
    }
    // It goes into a header verbatim: refuse anything that could split it.
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::malformed(
            "access token has characters not allowed in a header",
        ));
    }

    let token_type = match lookup(json, &path(&map.token_type, "token_type"))
        .and_then(Value::as_str)
    {
        None => "Bearer".to_owned(),
        Some(t) if t.eq_ignore_ascii_case("bearer") => "Bearer".to_owned(),
        Some(t) if !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') => {
            t.to_owned()
        }
        Some(_) => return Err(Error::malformed("token_type is not a valid scheme name")),
    };
    let scope = match lookup(json, &path(&map.scope, "scope")) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" "),
        ),
        _ => None,
    };

    let expires_in = field(
        json,
        &path(&map.expires_in, "expires_in"),
        "expires_in",
        seconds,
    )?;
    let expires_at = field(
        json,
        &path(&map.expires_at, "expires_at"),
        "expires_at",
        instant_ms,
    )?;
    let created_at = field(
        json,
        &path(&map.created_at, "created_at"),
        "created_at",
        instant_ms,
    )?;

    // Every indicator, as ms from now; the earliest wins.
    let mut indicators = Vec::with_capacity(3);
    indicators.extend(expires_in);
    indicators.extend(expires_at.map(|at| at - server_now));
    if let (Some(created), Some(rel)) = (created_at, expires_in) {
        indicators.push(created + rel - server_now);
    }
    let lifetime = match indicators.into_iter().min() {
        Some(ms) => ms,
        None => match jwt_exp_ms(token) {
            Some(exp) => exp - server_now,
            None => profile.policy.default_lifetime_secs as i64 * 1000,
        },
    };
    if lifetime <= 0 {
        return Err(Error::malformed("token is already expired on arrival"));
    }
    Ok(Issued {
        access_token: Secret::from(token.as_str()),
        token_type,
        scope,
        lifetime_ms: lifetime as u64,
    })
}

/// Reads an optional field with `convert`; a present but unreadable value is an
/// error rather than silently ignored.
fn field(
    json: &Value,
    path: &str,
    what: &str,
    convert: fn(&Value) -> Option<i64>,
) -> Result<Option<i64>> {
    match lookup(json, path) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => convert(v)
            .map(Some)
            .ok_or_else(|| Error::malformed(format!("`{what}` is not a valid time"))),
    }
}

/// Relative seconds (number or numeric string) → ms.
fn seconds(v: &Value) -> Option<i64> {
    let secs = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    (secs.is_finite() && (0.0..1e12).contains(&secs)).then_some((secs * 1000.0) as i64)
}

/// An instant: epoch seconds (or ms, if implausibly large for seconds), as a
/// number or numeric string, or ISO-8601 / RFC 3339 text → Unix ms.
fn instant_ms(v: &Value) -> Option<i64> {
    let number = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    if let Some(n) = number {
        if !n.is_finite() || n < 0.0 {
            return None;
        }
        // 1e11 seconds is the year 5138; anything larger is milliseconds.
        return Some(if n >= 1e11 {
            n as i64
        } else {
            (n * 1000.0) as i64
        });
    }
    let text = v.as_str()?.trim();
    let parsed = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .or_else(|_| {
            // ISO-8601 without an offset: read it as UTC.
            time::PrimitiveDateTime::parse(
                text,
                &time::format_description::well_known::Iso8601::DEFAULT,
            )
            .map(|t| t.assume_utc())
        })
        .ok()?;
    Some((parsed.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// The `exp` claim of a JWT-shaped token, in Unix ms. The signature is not
/// checked: the value only schedules a refresh, it grants nothing.
fn jwt_exp_ms(token: &str) -> Option<i64> {
    let mut parts = token.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp").filter(|v| v.is_number())?;
    instant_ms(exp)
}

/// Follows a dotted path (`token.accessToken`).
fn lookup<'a>(json: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(json, |v, key| v.get(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TokenConfig;

    fn profile() -> Profile {
        let cfg = TokenConfig::from_value(serde_json::json!({
            "provider": "custom", "token_url": "https://a.example/t", "client_id": "c", "client_secret": "s"
        }))
        .unwrap();
        Profile::resolve(&cfg).unwrap().0
    }

    fn reply(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    const NOW: i64 = 1_767_225_600_000;

    #[test]
    fn retry_after_as_http_date() {
        let r = reply(
            429,
            &[
                ("date", "Thu, 01 Jan 2026 00:00:00 GMT"),
                ("retry-after", "Thu, 01 Jan 2026 00:01:30 GMT"),
            ],
            "",
        );
        let e = parse(&profile(), &r, NOW).unwrap_err();
        assert_eq!(
            (e.kind(), e.retry_after_ms()),
            (ErrorKind::RateLimited, Some(90_000))
        );
    }

    #[test]
    fn tokens_that_could_split_a_header_are_refused() {
        for token in ["a b", "a\r\nX-Evil: 1", "tab\there", "é"] {
            let body = serde_json::json!({"access_token": token, "expires_in": 60}).to_string();
            let e = parse(&profile(), &reply(200, &[], &body), NOW).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::MalformedResponse, "{token:?}");
        }
    }

    #[test]
    fn scope_arrays_lowercase_bearer_and_millisecond_epochs() {
        let body = serde_json::json!({
            "access_token": "t", "token_type": "bearer", "scope": ["a", "b"], "expires_at": NOW + 60_000
        });
        let r = reply(
            200,
            &[("date", "Thu, 01 Jan 2026 00:00:00 GMT")],
            &body.to_string(),
        );
        let issued = parse(&profile(), &r, NOW).unwrap();
        assert_eq!(issued.token_type, "Bearer");
        assert_eq!(issued.scope.as_deref(), Some("a b"));
        assert_eq!(issued.lifetime_ms, 60_000);
    }

    #[test]
    fn error_shapes_in_the_wild() {
        let problem =
            r#"{"type":"about:blank","title":"Forbidden","status":403,"detail":"IP not allowed"}"#;
        let e = parse(&profile(), &reply(403, &[], problem), NOW).unwrap_err();
        assert_eq!(
            (e.kind(), e.detail()),
            (ErrorKind::AccessDenied, "IP not allowed")
        );
        let array = r#"{"errors":[{"message":"client disabled"}]}"#;
        let e = parse(&profile(), &reply(400, &[], array), NOW).unwrap_err();
        assert_eq!(
            (e.kind(), e.detail()),
            (ErrorKind::HttpError, "client disabled")
        );
        let unknown = r#"{"error":"weird_code"}"#;
        let e = parse(&profile(), &reply(400, &[], unknown), NOW).unwrap_err();
        assert_eq!((e.kind(), e.detail()), (ErrorKind::HttpError, "weird_code"));
    }
}
