//! Reading a token endpoint's answer: RFC 6749 success and error bodies plus the
//! non-standard shapes platforms use (nested paths, string numbers, ISO-8601,
//! `success: false` with HTTP 200, problem+json).
//!
//! Every number here comes from a server and may be absurd (`expires_at: 1e300`,
//! `Retry-After: 18446744073709551615`): time arithmetic saturates, lifetimes are
//! capped at [`MAX_LIFETIME_MS`] and `Retry-After` at [`MAX_RETRY_AFTER_MS`], and
//! the lint below keeps every integer operation checked.
#![deny(clippy::arithmetic_side_effects)]

use serde_json::Value;

use crate::config::ResponseMapping;
use crate::error::{Error, ErrorKind, Result};
use crate::expiry::{MAX_LIFETIME_MS, MAX_RETRY_AFTER_MS};
use crate::profile::Profile;
use crate::secret::Secret;

mod dates;

/// Largest response body read from a token endpoint. Real token responses are
/// under 10 KiB (Stuart allows 8 KiB tokens); anything bigger is refused.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Response headers of this many bytes or more (names and values) are refused.
/// It is the limit of Node's `fetch`, which refuses such a response before the
/// core sees it; refusing them here too gives every runtime the same outcome.
pub const MAX_RESPONSE_HEAD_BYTES: usize = 16 * 1024;

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

/// The response's field lines as `fetch` hands them to the WebAssembly build,
/// which every transport gives the core so that each runtime reads a response
/// alike: one entry per name (lowercased), a repeated field's values joined
/// with ", " in order (RFC 9110, section 5.3), and each value's bytes read as
/// Latin-1 (a WHATWG ByteString: every byte one `char`, none dropped).
#[cfg(not(target_arch = "wasm32"))]
pub fn header_list<'a>(
    lines: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Vec<(String, String)> {
    let mut list: Vec<(String, String)> = Vec::new();
    for (name, value) in lines {
        let name = name.to_ascii_lowercase();
        let value = value.iter().map(|&b| char::from(b));
        match list.iter_mut().find(|(n, _)| *n == name) {
            Some((_, joined)) => {
                joined.push_str(", ");
                joined.extend(value);
            }
            None => list.push((name, value.collect())),
        }
    }
    list
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
    /// Lifetime in ms, counted from when the request was sent; at most
    /// [`MAX_LIFETIME_MS`].
    pub lifetime_ms: u64,
}

/// The error for headers over [`MAX_RESPONSE_HEAD_BYTES`]. Without a status:
/// where `fetch` refuses them, the status never reaches the core.
pub(crate) fn head_too_large() -> Error {
    Error::new(
        ErrorKind::ResponseTooLarge,
        format!("token response headers reach {MAX_RESPONSE_HEAD_BYTES} bytes"),
    )
}

/// Parses a response to a request sent at wall time `sent_unix_ms`.
pub fn parse(profile: &Profile, resp: &HttpResponse, sent_unix_ms: i64) -> Result<Issued> {
    // Counted in chars: a value is Latin-1 (see `header_list`), one char a byte on the wire.
    let head_bytes = resp.headers.iter().fold(0usize, |sum, (name, value)| {
        sum.saturating_add(name.len())
            .saturating_add(value.chars().count())
    });
    if head_bytes >= MAX_RESPONSE_HEAD_BYTES {
        return Err(head_too_large());
    }
    if resp.body.len() > MAX_RESPONSE_BYTES {
        return Err(Error::new(
            ErrorKind::ResponseTooLarge,
            format!("token response exceeds {MAX_RESPONSE_BYTES} bytes"),
        )
        .with_status(resp.status));
    }
    let server_now = resp
        .header("date")
        .and_then(dates::http_date_unix_ms)
        .unwrap_or(sent_unix_ms);
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
    // RFC 9110 §10.2.3: Retry-After goes with 429 (RFC 6585) and 503.
    let retry_after = (kind == ErrorKind::RateLimited || status == 503)
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

/// `Retry-After` as delay-seconds or an HTTP-date, at most [`MAX_RETRY_AFTER_MS`].
fn retry_after_ms(value: &str, server_now: i64) -> Option<u64> {
    let value = value.trim();
    let ms = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Digits beyond u64 are still delay-seconds: a very long one.
        value
            .parse::<u64>()
            .unwrap_or(u64::MAX)
            .saturating_mul(1000)
    } else {
        let at_ms = dates::http_date_unix_ms(value)?;
        u64::try_from(at_ms.saturating_sub(server_now)).unwrap_or(0)
    };
    Some(ms.min(MAX_RETRY_AFTER_MS))
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

    // Every indicator present, as ms from now; the earliest wins. A JWT's own
    // `exp` always takes part: the API checks it, whatever the body says.
    let from_now = |at: i64| at.saturating_sub(server_now);
    let mut indicators = Vec::with_capacity(4);
    indicators.extend(expires_in);
    indicators.extend(expires_at.map(from_now));
    if let (Some(created), Some(rel)) = (created_at, expires_in) {
        indicators.push(from_now(created.saturating_add(rel)));
    }
    indicators.extend(jwt_exp_ms(token).map(from_now));
    let lifetime = indicators.into_iter().min().unwrap_or_else(|| {
        let secs = profile.policy.default_lifetime_secs;
        i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
    });
    if lifetime <= 0 {
        return Err(Error::malformed("token is already expired on arrival"));
    }
    Ok(Issued {
        access_token: Secret::from(token.as_str()),
        token_type,
        scope,
        // Ten years at most: beyond that no date type of every language follows.
        lifetime_ms: u64::try_from(lifetime).map_or(0, |ms| ms.min(MAX_LIFETIME_MS)),
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
        Value::String(s) => decimal(s)?,
        _ => return None,
    };
    (secs.is_finite() && (0.0..1e12).contains(&secs)).then_some((secs * 1000.0) as i64)
}

/// An instant: epoch seconds (or ms, if implausibly large for seconds), as a
/// number or numeric string, or ISO-8601 / RFC 3339 text → Unix ms.
fn instant_ms(v: &Value) -> Option<i64> {
    let number = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => decimal(s),
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
    dates::iso8601_unix_ms(v.as_str()?.trim())
}

/// A finite number in Rust's float syntax (`3600`, `+1.5`, `.5`, `5.`, `1e3`;
/// surrounding whitespace ignored), read by serde_json's number parser, which
/// the WebAssembly build carries anyway, rather than `str::parse::<f64>` and its
/// 10 KB table. Both round exactly up to 15 significant digits and an exponent
/// of ±22; beyond that serde_json may differ in the last bit, as it does for
/// the same field sent as a JSON number.
fn decimal(text: &str) -> Option<f64> {
    let s = text.trim();
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    // Checked (though `find` gives a boundary): a slicing panic's message
    // would bring `char`'s Debug and its Unicode tables into WebAssembly.
    let (mantissa, exponent) = s.split_at_checked(s.find(['e', 'E']).unwrap_or(s.len()))?;
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    let exp_digits = exponent
        .get(1..)
        .map(|e| e.strip_prefix(['+', '-']).unwrap_or(e));
    if (int.is_empty() && frac.is_empty())
        || !digits(int)
        || !digits(frac)
        || exp_digits.is_some_and(|e| e.is_empty() || !digits(e))
    {
        return None;
    }
    // The same number in JSON's syntax: no `+`, no leading zeros, digits
    // around the point.
    let mut json = String::with_capacity(s.len().saturating_add(3));
    if negative {
        json.push('-');
    }
    let int = int.trim_start_matches('0');
    json.push_str(if int.is_empty() { "0" } else { int });
    if !frac.is_empty() {
        json.push('.');
        json.push_str(frac);
    }
    json.push_str(exponent);
    serde_json::from_slice::<Value>(json.as_bytes())
        .ok()?
        .as_f64()
}

/// The `exp` claim of a JWT-shaped token (three dot-separated parts, the second
/// base64url JSON with a numeric `exp`), in Unix ms. The signature is not
/// checked: the value only schedules a refresh, it grants nothing.
fn jwt_exp_ms(token: &str) -> Option<i64> {
    let mut parts = token.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = crate::b64::decode_url_safe(payload.trim_end_matches('='))?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp").filter(|v| v.is_number())?;
    instant_ms(exp)
}

/// Follows a dotted path (`token.accessToken`).
pub(crate) fn lookup<'a>(json: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(json, |v, key| v.get(key))
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use crate::config::TokenConfig;

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
    fn header_list_joins_repeated_fields_and_keeps_every_byte() {
        let lines: [(&str, &[u8]); 4] = [
            ("Retry-After", b"5"),
            ("date", b"Thu, 01 Jan 2026 00:00:00 GMT"),
            ("retry-after", b"9"),
            ("x-note", b"caf\xe9 \xa0"),
        ];
        assert_eq!(
            header_list(lines),
            [
                ("retry-after".to_owned(), "5, 9".to_owned()),
                (
                    "date".to_owned(),
                    "Thu, 01 Jan 2026 00:00:00 GMT".to_owned()
                ),
                ("x-note".to_owned(), "caf\u{e9} \u{a0}".to_owned()),
            ]
        );
    }

    #[test]
    fn the_head_is_measured_in_wire_bytes() {
        let ok = r#"{"access_token":"t","expires_in":60}"#;
        // Latin-1 bytes: one char each, though two bytes each in UTF-8.
        let filler: String = "\u{e9}".repeat(MAX_RESPONSE_HEAD_BYTES - "x-filler".len() - 1);
        assert!(parse(&profile(), &reply(200, &[("x-filler", &filler)], ok), NOW).is_ok());
    }

    #[test]
    fn headers_of_16_kib_or_more_are_refused_without_a_status() {
        let ok = r#"{"access_token":"t","expires_in":60}"#;
        let filler = "a".repeat(MAX_RESPONSE_HEAD_BYTES - "x-filler".len() - 1);
        assert!(parse(&profile(), &reply(200, &[("x-filler", &filler)], ok), NOW).is_ok());
        let filler = filler + "a";
        let e = parse(&profile(), &reply(200, &[("x-filler", &filler)], ok), NOW).unwrap_err();
        assert_eq!((e.kind(), e.status()), (ErrorKind::ResponseTooLarge, None));
    }

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

    fn ok(body: serde_json::Value, date: Option<&str>) -> Result<Issued> {
        let headers: Vec<(&str, &str)> = date.map(|d| ("date", d)).into_iter().collect();
        parse(&profile(), &reply(200, &headers, &body.to_string()), NOW)
    }

    #[test]
    fn retry_after_is_read_on_503_and_capped() {
        let r = reply(503, &[("retry-after", "30")], "");
        let e = parse(&profile(), &r, NOW).unwrap_err();
        assert_eq!(
            (e.kind(), e.retry_after_ms()),
            (ErrorKind::ServerError, Some(30_000))
        );
        // Other 5xx carry none: the header is not theirs (RFC 9110).
        let r = reply(502, &[("retry-after", "30")], "");
        assert_eq!(
            parse(&profile(), &r, NOW).unwrap_err().retry_after_ms(),
            None
        );
        for huge in [
            "18446744073709551615",
            "99999999999999999999999999",
            "Fri, 31 Dec 9999 23:59:59 GMT",
        ] {
            for status in [429, 503] {
                let r = reply(status, &[("retry-after", huge)], "");
                let e = parse(&profile(), &r, NOW).unwrap_err();
                assert_eq!(e.retry_after_ms(), Some(MAX_RETRY_AFTER_MS), "{huge}");
            }
        }
        // A date in the past means now; garbage means nothing.
        let r = reply(429, &[("retry-after", "Thu, 01 Jan 1970 00:00:00 GMT")], "");
        assert_eq!(
            parse(&profile(), &r, NOW).unwrap_err().retry_after_ms(),
            Some(0)
        );
        let r = reply(429, &[("retry-after", "-5")], "");
        assert_eq!(
            parse(&profile(), &r, NOW).unwrap_err().retry_after_ms(),
            None
        );
    }

    #[test]
    fn extreme_expiry_fields_are_capped_not_overflowed() {
        let old_date = Some("Thu, 01 Jan 1970 00:00:00 GMT");
        let at = ok(
            serde_json::json!({"access_token": "t", "expires_at": 1e300}),
            old_date,
        );
        assert_eq!(at.unwrap().lifetime_ms, MAX_LIFETIME_MS);
        let created = ok(
            serde_json::json!({"access_token": "t", "expires_in": 60, "created_at": 1e300}),
            old_date,
        );
        assert_eq!(created.unwrap().lifetime_ms, 60_000);
        let long = ok(
            serde_json::json!({"access_token": "t", "expires_in": 999_999_999_999u64}),
            None,
        );
        assert_eq!(long.unwrap().lifetime_ms, MAX_LIFETIME_MS);
        let huge_default = Profile {
            policy: crate::config::Policy {
                default_lifetime_secs: u64::MAX,
                ..Default::default()
            },
            ..profile()
        };
        let body = serde_json::json!({"access_token": "t"}).to_string();
        let issued = parse(&huge_default, &reply(200, &[], &body), NOW).unwrap();
        assert_eq!(issued.lifetime_ms, MAX_LIFETIME_MS);
    }

    /// A JWT whose `exp` is `exp` (Unix seconds).
    fn jwt(exp: i64) -> String {
        let b64 = |v: serde_json::Value| {
            base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                v.to_string(),
            )
        };
        format!(
            "{}.{}.sig",
            b64(serde_json::json!({"alg": "none"})),
            b64(serde_json::json!({"exp": exp}))
        )
    }

    #[test]
    fn the_jwt_exp_takes_part_in_earliest_wins() {
        let date = Some("Thu, 01 Jan 2026 00:00:00 GMT");
        let exp = NOW / 1000 + 600;
        // exp earlier than expires_in: exp wins.
        let issued = ok(
            serde_json::json!({"access_token": jwt(exp), "expires_in": 3600}),
            date,
        );
        assert_eq!(issued.unwrap().lifetime_ms, 600_000);
        // expires_in earlier than exp: expires_in wins.
        let issued = ok(
            serde_json::json!({"access_token": jwt(exp), "expires_in": 60}),
            date,
        );
        assert_eq!(issued.unwrap().lifetime_ms, 60_000);
        // A JWT already expired by its own claim is refused, whatever expires_in says.
        let e = ok(
            serde_json::json!({"access_token": jwt(NOW / 1000 - 1), "expires_in": 3600}),
            date,
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MalformedResponse);
        // Not a JWT (dots, but no JSON payload): ignored.
        let issued = ok(
            serde_json::json!({"access_token": "a.b.c", "expires_in": 60}),
            date,
        );
        assert_eq!(issued.unwrap().lifetime_ms, 60_000);
    }

    /// `decimal` reads what `str::parse::<f64>` (its reference) reads, to the
    /// bit up to 15 significant digits, and refuses what it refuses or reads as
    /// infinite (not a lifetime either way).
    #[test]
    fn decimals_as_rust_reads_them() {
        let mut cases: Vec<String> = [
            "3600",
            " 3600\n",
            "+3600",
            "-3600",
            "3599.5",
            ".5",
            "5.",
            "-.5e3",
            "1e3",
            "1E+3",
            "1e-3",
            "0",
            "-0",
            "00012",
            "0.000",
            "1767225600",
            "1767225600123",
            "1767225600.123",
            "1e400",
            "1e-400",
            "0e999",
            "inf",
            "-inf",
            "infinity",
            "NaN",
            "nan",
            "",
            " ",
            "+",
            "-",
            ".",
            "e5",
            ".e5",
            "1e",
            "1e+",
            "1.2.3",
            "1_000",
            "0x10",
            "1,5",
            "١٢",
            "1e5e3",
            "12345678901234567890",
            "0.1",
            "0.2",
            "123456789012345",
            "9007199254740993",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for _ in 0..100_000 {
            let digits = |n: u64, next: &mut dyn FnMut(u64) -> u64| -> String {
                (0..n).map(|_| char::from(b'0' + next(10) as u8)).collect()
            };
            let mut s = ["", "", "-", "+"][next(4) as usize].to_owned();
            let int = next(9);
            s += &digits(int, &mut next);
            if next(2) == 0 {
                s.push('.');
                let frac = next(8);
                s += &digits(frac, &mut next);
            }
            if next(4) == 0 {
                s += ["e", "E", "e+", "e-"][next(4) as usize];
                let exp = next(3);
                s += &digits(exp, &mut next);
            }
            cases.push(s);
        }
        for s in &cases {
            let rust = s.trim().parse::<f64>().ok().filter(|f| f.is_finite());
            let ours = decimal(s);
            let significant = s
                .trim_start_matches(['-', '+'])
                .split(['e', 'E'])
                .next()
                .unwrap_or_default()
                .replace('.', "");
            let significant = significant.trim_start_matches('0').trim_end_matches('0');
            let exp: i32 = s
                .split(['e', 'E'])
                .nth(1)
                .map_or(0, |e| e.parse().unwrap_or(0));
            if significant.len() <= 15 && exp.abs() <= 6 {
                assert_eq!(ours.map(f64::to_bits), rust.map(f64::to_bits), "{s:?}");
            } else {
                assert_eq!(ours.is_some(), rust.is_some(), "{s:?}");
                if let (Some(a), Some(b)) = (ours, rust) {
                    assert!((a - b).abs() <= b.abs() * 4.0 * f64::EPSILON, "{s:?}");
                }
            }
        }
    }
}
