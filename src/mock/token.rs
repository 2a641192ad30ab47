//! One token request: record, validate, then answer with the next scripted
//! response, the configured fault, or the provider's default success.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use hyper::body::Incoming;
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Method, Request, Response, StatusCode};

use super::faults::{self, Broken};
use super::http::{
    broken_body, method_not_allowed, oauth_error, own_response, read_body, too_large, unix_secs,
    BodyError, MockBody, Resp, BODY_LIMIT,
};
use super::providers::{self, Provider};
use super::server::ConnectionId;
use super::state::Shared;
use super::{Fault, RecordedRequest, ScriptedResponse};

/// Largest body a scripted response may send (after `repeat`, before `gzip`).
const MAX_SCRIPTED_BODY: u64 = 64 * 1024 * 1024;

/// What the server does with a token request.
pub(crate) enum Reply {
    /// Sends this response.
    Http(Resp),
    /// Breaks the exchange at the wire (see [`faults`]).
    Broken(Broken),
}

impl From<Resp> for Reply {
    fn from(resp: Resp) -> Self {
        Reply::Http(resp)
    }
}

/// What a valid request is answered with, chosen when it arrives so the
/// script is consumed in arrival order.
enum Answer {
    Script(ScriptedResponse),
    Status(u16),
    Malformed,
    /// The default success after this many extra milliseconds.
    Success(u64),
}

pub(crate) async fn handle(shared: &Shared, provider: Provider, req: Request<Incoming>) -> Reply {
    let (parts, body) = req.into_parts();
    let body = read_body(body, BODY_LIMIT).await;
    let request = record(&parts, body.as_deref().unwrap_or_default());
    let latency_ms = {
        let mut state = shared.lock();
        state.requests.push(request.clone());
        state.config.latency_ms
    };

    let checked = if parts.method != Method::POST {
        Err(method_not_allowed("POST"))
    } else {
        match &body {
            Err(BodyError::TooLarge) => Err(too_large()),
            Err(BodyError::Broken) => Err(broken_body()),
            Ok(body) => providers::validate(provider, &parts.headers, body, shared)
                .map_err(providers::Rejection::into_response),
        }
    };
    let grant = match checked {
        Ok(grant) => grant,
        Err(rejection) => {
            sleep_ms(latency_ms).await;
            return rejection.into();
        }
    };
    // The platform's hourly limit, before any scripted answer: a client past
    // it gets the 429 the platform would send.
    let now_secs = unix_secs(SystemTime::now());
    if let Some(limited) =
        super::platforms::over_limit(shared, provider.name(), &grant.client_id, now_secs)
    {
        sleep_ms(latency_ms).await;
        return limited.into();
    }

    let (answer, config) = {
        let mut state = shared.lock();
        let answer = match state.script.pop_front() {
            Some(script) => Answer::Script(script),
            None => match state.config.fault {
                Some(Fault::Status(code)) => Answer::Status(code),
                Some(Fault::Malformed) => Answer::Malformed,
                Some(Fault::Delay(ms)) => Answer::Success(ms),
                None => Answer::Success(0),
            },
        };
        (answer, state.config.clone())
    };
    let extra_ms = match &answer {
        Answer::Script(script) => script.delay_ms,
        Answer::Success(ms) => *ms,
        Answer::Status(_) | Answer::Malformed => 0,
    };
    sleep_ms(config.latency_ms.saturating_add(extra_ms)).await;

    // Timestamps are taken after the delay: the token is issued when it is sent.
    let now = SystemTime::now();
    match answer {
        Answer::Script(mut script) => {
            faults::echo(&mut script, &request);
            return scripted(script);
        }
        Answer::Status(code) => fault_response(code, now),
        Answer::Malformed => own_response(
            StatusCode::OK,
            "text/html",
            "<html><body>Bad Gateway</body></html>",
            now,
        ),
        Answer::Success(_) => {
            let body = providers::success_body(
                shared,
                provider,
                &grant,
                config.lifetime_secs,
                unix_secs(now),
                shared.next_token_id(),
            );
            let mut resp = own_response(StatusCode::OK, "application/json", body.to_string(), now);
            // RFC 6749 §5.1: token responses must not be cached.
            let headers = resp.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            resp
        }
    }
    .into()
}

async fn sleep_ms(ms: u64) {
    if ms > 0 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}

fn record(parts: &Parts, body: &[u8]) -> RecordedRequest {
    let mut headers = BTreeMap::<String, String>::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        headers
            .entry(name.as_str().to_string())
            .and_modify(|joined| {
                joined.push_str(", ");
                joined.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    RecordedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers,
        body: String::from_utf8_lossy(body).into_owned(),
        connection: parts.extensions.get::<ConnectionId>().map_or(0, |id| id.0),
    }
}

/// A fault is usable if its status is a final status a client could get from a server.
pub(crate) fn check_fault(fault: &Fault) -> Result<(), String> {
    match fault {
        Fault::Status(code) if !(200..=599).contains(code) => {
            Err(format!("fault status {code} is not in 200..=599"))
        }
        _ => Ok(()),
    }
}

fn fault_response(code: u16, now: SystemTime) -> Resp {
    let Some(status) = (200..=599)
        .contains(&code)
        .then(|| StatusCode::from_u16(code).ok())
        .flatten()
    else {
        return oauth_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            &format!("invalid fault status {code}"),
        );
    };
    let json = "application/json";
    match code {
        500..=599 => own_response(status, json, r#"{"error":"server_error"}"#, now),
        401 => own_response(status, json, r#"{"error":"invalid_client"}"#, now),
        429 => {
            let mut resp = own_response(status, json, r#"{"error":"slow_down"}"#, now);
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
            resp
        }
        _ => {
            let text = format!("{code} {}", status.canonical_reason().unwrap_or("Error"));
            own_response(status, "text/plain; charset=utf-8", text, now)
        }
    }
}

/// Sends a scripted response, or breaks it as its fault says; one that cannot
/// be sent becomes a 500 that says why.
fn scripted(script: ScriptedResponse) -> Reply {
    let fault = script.fault;
    match build_scripted(script) {
        Ok(resp) => match fault {
            Some(fault) => Reply::Broken(Broken::new(fault, resp)),
            None => Reply::Http(resp),
        },
        Err(e) => Reply::Http(oauth_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            &format!("invalid scripted response: {e}"),
        )),
    }
}

/// Checks that a scripted response can be sent, so the admin API can refuse it up front.
pub(crate) fn check_script(script: &ScriptedResponse) -> Result<(), String> {
    build_scripted(script.clone()).map(drop)
}

fn build_scripted(script: ScriptedResponse) -> Result<Resp, String> {
    let status = StatusCode::from_u16(script.status)
        .ok()
        .filter(|s| s.as_u16() >= 200)
        .ok_or_else(|| format!("status {} is not in 200..=999", script.status))?;
    let mut resp = Response::new(MockBody::default());
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    for (name, value) in script
        .headers
        .iter()
        .chain(script.header_lines.iter().map(|(n, v)| (n, v)))
    {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("invalid header name {name:?}"))?;
        // The server frames the body itself; a conflicting length would hang clients.
        if name == header::CONTENT_LENGTH || name == header::TRANSFER_ENCODING {
            continue;
        }
        // Latin-1: each char up to U+00FF is one byte on the wire.
        let bytes = value
            .chars()
            .map(|c| u8::try_from(c).ok())
            .collect::<Option<Vec<u8>>>()
            .and_then(|b| HeaderValue::from_bytes(&b).ok())
            .ok_or_else(|| format!("invalid value for header {name}: {value:?}"))?;
        headers.append(name, bytes);
    }
    let body = match (script.json, script.body) {
        (Some(json), _) => {
            if !headers.contains_key(header::CONTENT_TYPE) {
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
            }
            json.to_string()
        }
        (None, Some(text)) => text,
        (None, None) => String::new(),
    };
    let total = (body.len() as u64).saturating_mul(script.repeat);
    if script.repeat == 0 {
        return Err("repeat must be 1 or more".into());
    }
    if total > MAX_SCRIPTED_BODY {
        return Err(format!(
            "repeat {} makes a {total}-byte body, over the {MAX_SCRIPTED_BODY}-byte limit",
            script.repeat
        ));
    }
    *resp.body_mut() = if script.gzip {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        MockBody::repeated(
            gzip(body.as_bytes(), script.repeat)?.into(),
            1,
            script.chunked,
        )
    } else {
        MockBody::repeated(body.into(), script.repeat, script.chunked)
    };
    Ok(resp)
}

/// `data` repeated `times` times, gzip-compressed (a long run of one byte
/// shrinks a thousandfold: a gzip bomb in a few lines of script).
fn gzip(data: &[u8], times: u64) -> Result<Vec<u8>, String> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // In blocks of about 64 KiB: a write per repetition of one byte would be slow.
    let per_block = (64 * 1024 / data.len().max(1)).clamp(1, times.max(1) as usize) as u64;
    let block = data.repeat(per_block as usize);
    (0..times / per_block)
        .try_for_each(|_| encoder.write_all(&block))
        .and_then(|()| encoder.write_all(&data.repeat((times % per_block) as usize)))
        .and_then(|()| encoder.finish())
        .map_err(|e| format!("gzip failed: {e}"))
}
