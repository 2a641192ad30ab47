//! The mock's DoorDash Drive API (`/doordash/drive/v2/…`, any method): DoorDash
//! has no token endpoint, so this route checks what a client mints, as the
//! platform does (developer.doordash.com, "JWTs"): `Authorization: Bearer
//! <jwt>`, header `alg` HS256, `dd-ver` `DD-JWT-V1` and `kid`; claims `aud`
//! `doordash`, `iss` the developer id, `kid` the key id, `iat` not in the
//! future (60 s of skew), `exp` not past and at most 1800 s after `iat`; the
//! signature HMAC-SHA256 keyed by the base64url-decoded signing secret. The
//! developer id and signing secret are `--client-id`/`--client-secret` when
//! given (any key id then), else [`DEVELOPER_ID`], [`SIGNING_SECRET`] and
//! [`KEY_ID`]. Anything else is a 401 `authentication_error`, as is every
//! call while `reject_next` (`POST /__admin/doordash`) is above zero (the
//! platform revoking a token a client still holds).

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hyper::body::Incoming;
use hyper::header::AUTHORIZATION;
use hyper::{Request, StatusCode};
use serde_json::{json, Value};

use super::http::{json_response, Resp};
use super::state::Shared;

/// The developer id accepted when the mock runs without client credentials.
pub const DEVELOPER_ID: &str = "tokenwell-mock-developer";
/// The key id accepted when the mock runs without client credentials.
pub const KEY_ID: &str = "tokenwell-mock-key";
/// The signing secret (base64url) accepted when the mock runs without client
/// credentials.
pub const SIGNING_SECRET: &str = "dG9rZW53ZWxsLW1vY2stZG9vcmRhc2gtc2lnbmluZy1zZWNyZXQ";

/// The route's prefix.
pub(crate) const PREFIX: &str = "/doordash/drive/v2/";

pub(crate) async fn handle(shared: &Shared, req: Request<Incoming>) -> Resp {
    let path = req.uri().path().to_owned();
    let checked = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| "missing Authorization: Bearer <jwt>".to_owned())
        .and_then(|jwt| {
            verify(
                shared,
                jwt,
                super::http::unix_secs(std::time::SystemTime::now()),
            )
        });
    let mut state = shared.lock();
    state.doordash.calls += 1;
    let checked = match checked {
        Ok(()) if state.doordash.reject_next > 0 => {
            state.doordash.reject_next -= 1;
            Err("the token was revoked".to_owned())
        }
        other => other,
    };
    match checked {
        Ok(()) => {
            state.doordash.accepted += 1;
            let id = path.rsplit('/').next().unwrap_or_default().to_owned();
            json_response(
                StatusCode::OK,
                &json!({"external_delivery_id": id, "delivery_status": "created"}),
            )
        }
        Err(message) => json_response(
            StatusCode::UNAUTHORIZED,
            &json!({"code": "authentication_error", "message": message}),
        ),
    }
}

/// Whether `jwt` is a DoorDash JWT of the accepted developer, valid at `now`.
fn verify(shared: &Shared, jwt: &str, now: u64) -> Result<(), String> {
    let (developer_id, secret, key_id) = match shared.accepted() {
        Some((id, secret)) => (id, secret, None),
        None => (DEVELOPER_ID.into(), SIGNING_SECRET.into(), Some(KEY_ID)),
    };
    let mut parts = jwt.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("not a compact JWS".into());
    };
    let json = |part: &str| -> Result<Value, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| "a part is not base64url")?;
        serde_json::from_slice(&bytes).map_err(|_| "a part is not JSON".into())
    };
    let (h, c) = (json(header)?, json(claims)?);
    if h["alg"] != "HS256" || h["dd-ver"] != "DD-JWT-V1" {
        return Err("the header must have alg HS256 and dd-ver DD-JWT-V1".into());
    }
    let kid = h["kid"].as_str().filter(|k| !k.is_empty());
    if kid.is_none() || c["kid"].as_str() != kid || key_id.is_some_and(|k| kid != Some(k)) {
        return Err("unknown kid".into());
    }
    if c["aud"] != "doordash" || c["iss"].as_str() != Some(developer_id.as_str()) {
        return Err("aud must be doordash and iss the developer id".into());
    }
    let (Some(iat), Some(exp)) = (c["iat"].as_u64(), c["exp"].as_u64()) else {
        return Err("iat and exp must be integers".into());
    };
    if iat > now + 60 || exp <= now || exp < iat || exp - iat > 1800 {
        return Err("expired, not yet valid, or valid for more than 30 minutes".into());
    }
    let key = URL_SAFE_NO_PAD
        .decode(secret.trim_end_matches('='))
        .map_err(|_| "the mock's signing secret is not base64url")?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| "the signature is not base64url")?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, &key);
    hmac::verify(&key, format!("{header}.{claims}").as_bytes(), &signature)
        .map_err(|_| "bad signature".to_owned())
}

/// `POST /__admin/doordash` `{"reject_next": n}`, and the counters.
pub(crate) fn admin(shared: &Shared, body: Option<&[u8]>) -> Result<Value, String> {
    let mut state = shared.lock();
    if let Some(body) = body {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| format!("invalid body: {e}"))?;
        let n = value["reject_next"]
            .as_u64()
            .ok_or("reject_next must be a non-negative integer")?;
        state.doordash.reject_next = n;
    }
    let d = &state.doordash;
    Ok(json!({"calls": d.calls, "accepted": d.accepted, "reject_next": d.reject_next}))
}
