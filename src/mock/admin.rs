//! JSON admin routes under `/__admin/`, so tests in other languages can steer
//! a mock that runs as a separate process.
//!
//! - `GET /__admin/requests` → `{"count": n, "requests": [RecordedRequest...],
//!   "metadata_count": m, "metadata": [path...]}` (token requests, then metadata requests)
//! - `POST /__admin/reset` → clears requests, script and fault
//! - `POST /__admin/script` with `{"responses": [ScriptedResponse...]}` → appends
//! - `GET|POST /__admin/config` with `{"lifetime_secs"?, "latency_ms"?, "fault"?,
//!   "toast_rate_limit"?}` → reads or changes settings
//! - `GET|POST /__admin/doordash` with `{"reject_next": n}` → the DoorDash API
//!   route's `{"calls", "accepted", "reject_next"}`; the next `n` calls answer 401
//! - `POST /__admin/rotate` with `{"client_secret": "..."}` → the accepted client's
//!   new secret; the old one is refused from then on (needs `--client-id`)

use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::http::{
    broken_body, json_response, method_not_allowed, not_found, oauth_error, read_body, too_large,
    BodyError, Resp, BODY_LIMIT,
};
use super::state::{Config, Shared};
use super::token::{check_fault, check_script};
use super::{Fault, ScriptedResponse};

pub(crate) async fn handle(shared: &Shared, req: Request<Incoming>) -> Resp {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let body = match read_body(req.into_body(), BODY_LIMIT).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => return too_large(),
        Err(BodyError::Broken) => return broken_body(),
    };
    let result = match (path.as_str(), &method) {
        ("/__admin/requests", &Method::GET) => Ok(requests(shared)),
        ("/__admin/reset", &Method::POST) => {
            shared.reset();
            Ok(json!({ "ok": true }))
        }
        ("/__admin/script", &Method::POST) => script(shared, &body),
        ("/__admin/rotate", &Method::POST) => rotate(shared, &body),
        ("/__admin/doordash", &Method::GET) => super::doordash::admin(shared, None),
        ("/__admin/doordash", &Method::POST) => super::doordash::admin(shared, Some(&body)),
        ("/__admin/config", &Method::GET) => Ok(config_json(&shared.lock().config)),
        ("/__admin/config", &Method::POST) => set_config(shared, &body),
        ("/__admin/requests", _) => return method_not_allowed("GET"),
        ("/__admin/reset" | "/__admin/script" | "/__admin/rotate", _) => {
            return method_not_allowed("POST")
        }
        ("/__admin/config", _) => return method_not_allowed("GET, POST"),
        _ => return not_found(&path),
    };
    match result {
        Ok(value) => json_response(StatusCode::OK, &value),
        Err(description) => oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &description),
    }
}

fn requests(shared: &Shared) -> Value {
    let state = shared.lock();
    json!({
        "count": state.requests.len(),
        "requests": state.requests,
        "metadata_count": state.metadata.len(),
        "metadata": state.metadata,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptBody {
    responses: Vec<ScriptedResponse>,
}

/// Appends all responses, or none if any is invalid.
fn script(shared: &Shared, body: &[u8]) -> Result<Value, String> {
    let ScriptBody { responses } =
        serde_json::from_slice(body).map_err(|e| format!("invalid script: {e}"))?;
    for (i, response) in responses.iter().enumerate() {
        check_script(response).map_err(|e| format!("responses[{i}]: {e}"))?;
    }
    let mut state = shared.lock();
    state.script.extend(responses);
    Ok(json!({ "queued": state.script.len() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RotateBody {
    client_secret: String,
}

/// A new secret for the accepted client (never echoed back).
fn rotate(shared: &Shared, body: &[u8]) -> Result<Value, String> {
    let RotateBody { client_secret } = serde_json::from_slice(body)
        .map_err(|_| r#"expected {"client_secret": "<non-empty string>"}"#.to_owned())?;
    if client_secret.is_empty() {
        return Err("client_secret is empty".into());
    }
    if !shared.rotate_secret(&client_secret) {
        return Err("the mock accepts any client: start it with a client id and secret".into());
    }
    Ok(json!({ "rotated": true }))
}

/// Applies every given setting, or none if any is invalid. Absent keys keep
/// their value; `null` clears `lifetime_secs` and `fault`.
fn set_config(shared: &Shared, body: &[u8]) -> Result<Value, String> {
    let fields: Map<String, Value> =
        serde_json::from_slice(body).map_err(|e| format!("config must be a JSON object: {e}"))?;
    let mut lifetime_secs = None;
    let mut latency_ms = None;
    let mut fault = None;
    let mut toast_rate_limit = None;
    for (key, value) in &fields {
        match key.as_str() {
            "lifetime_secs" => lifetime_secs = Some(optional_u64(key, value)?),
            "latency_ms" => latency_ms = Some(optional_u64(key, value)?.unwrap_or(0)),
            "fault" => fault = Some(parse_fault(value)?),
            "toast_rate_limit" => {
                let on = value
                    .as_bool()
                    .ok_or("`toast_rate_limit` must be a boolean")?;
                toast_rate_limit = Some(on);
            }
            other => return Err(format!("unknown config key `{other}`")),
        }
    }
    let mut state = shared.lock();
    let config = &mut state.config;
    if let Some(lifetime_secs) = lifetime_secs {
        config.lifetime_secs = lifetime_secs;
    }
    if let Some(latency_ms) = latency_ms {
        config.latency_ms = latency_ms;
    }
    if let Some(fault) = fault {
        config.fault = fault;
    }
    if let Some(on) = toast_rate_limit {
        config.toast_rate_limit = on;
    }
    Ok(config_json(config))
}

fn optional_u64(key: &str, value: &Value) -> Result<Option<u64>, String> {
    match value {
        Value::Null => Ok(None),
        v => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("`{key}` must be a non-negative integer or null")),
    }
}

/// `{"status": u16} | {"malformed": true} | {"delay_ms": u64} | null`.
fn parse_fault(value: &Value) -> Result<Option<Fault>, String> {
    const SHAPES: &str =
        r#"`fault` must be {"status": n}, {"malformed": true}, {"delay_ms": n} or null"#;
    let fields = match value {
        Value::Null => return Ok(None),
        Value::Object(fields) if fields.len() == 1 => fields,
        _ => return Err(SHAPES.into()),
    };
    let fault = match fields.iter().next() {
        Some((key, v)) if key == "status" => v
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .map(Fault::Status),
        Some((key, Value::Bool(true))) if key == "malformed" => Some(Fault::Malformed),
        Some((key, v)) if key == "delay_ms" => v.as_u64().map(Fault::Delay),
        _ => None,
    }
    .ok_or(SHAPES)?;
    check_fault(&fault)?;
    Ok(Some(fault))
}

fn config_json(config: &Config) -> Value {
    let fault = match config.fault {
        None => Value::Null,
        Some(Fault::Status(status)) => json!({ "status": status }),
        Some(Fault::Malformed) => json!({ "malformed": true }),
        Some(Fault::Delay(ms)) => json!({ "delay_ms": ms }),
    };
    json!({
        "lifetime_secs": config.lifetime_secs,
        "latency_ms": config.latency_ms,
        "fault": fault,
        "toast_rate_limit": config.toast_rate_limit,
    })
}
