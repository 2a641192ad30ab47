//! The mock's `/assertion/token` route: client authentication by a JWT client
//! assertion (RFC 7523 §2.2), verified as a server does. RS256, PS256 and
//! ES256 assertions must be signed by one of the test keys in
//! `tests/oidc/keys` (`rsa2048`, `ec256`); HS256 ones by the configured client
//! secret (`--client-secret`), or [`HS256_SECRET`] when none is configured.
//! The claims must name the client (`iss` = `sub` = `client_id`), the route's
//! own URL as `aud`, a `jti` never seen since the last reset, and be valid now
//! for at most 300 s. Anything else is `invalid_client`.

use aws_lc_rs::signature::{
    UnparsedPublicKey, VerificationAlgorithm, ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256,
    RSA_PSS_2048_8192_SHA256,
};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hyper::header::{HeaderMap, AUTHORIZATION, HOST};
use serde_json::Value;

use super::state::Shared;

/// The HS256 key when the mock is started without client credentials.
pub const HS256_SECRET: &str = "tokenwell-mock-hs256-secret";

/// The path of the route.
pub(crate) const PATH: &str = "/assertion/token";

const TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The public keys the route trusts.
const RSA_KEYS: &[&str] = &[include_str!("../../tests/oidc/keys/rsa2048.pub.pem")];
const EC_KEYS: &[&str] = &[include_str!("../../tests/oidc/keys/ec256.pub.pem")];

/// The client id of a request whose assertion verifies, or why it does not
/// (`Err((error, description))`).
pub(crate) fn verify(
    shared: &Shared,
    headers: &HeaderMap,
    body: &[u8],
    now_secs: u64,
) -> Result<String, (&'static str, String)> {
    let invalid_request = |d: &str| ("invalid_request", d.to_owned());
    let invalid_client = |d: &str| ("invalid_client", d.to_owned());
    if !super::wire::content_type_is(headers, "application/x-www-form-urlencoded") {
        return Err(invalid_request(
            "Content-Type must be application/x-www-form-urlencoded",
        ));
    }
    let fields: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let field = |name: &str| -> Result<&str, (&'static str, String)> {
        let mut values = fields.iter().filter(|(n, _)| n == name);
        match (values.next(), values.next()) {
            (Some((_, v)), None) if !v.is_empty() => Ok(v),
            (Some(_), Some(_)) => Err(invalid_request(&format!("duplicate field `{name}`"))),
            _ => Err(invalid_request(&format!("missing `{name}`"))),
        }
    };
    if field("grant_type")? != "client_credentials" {
        return Err(("unsupported_grant_type", "use client_credentials".into()));
    }
    if headers.contains_key(AUTHORIZATION) || fields.iter().any(|(n, _)| n == "client_secret") {
        return Err(invalid_request(
            "a client authenticates with one method: an assertion and no secret",
        ));
    }
    if field("client_assertion_type")? != TYPE {
        return Err(invalid_client("client_assertion_type must be jwt-bearer"));
    }
    let client_id = field("client_id")?.to_owned();
    let jwt = field("client_assertion")?;
    let mut parts = jwt.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid_client("client_assertion is not a compact JWS"));
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).ok();
    let json =
        |part: &str| decode(part).and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
    let (Some(header), Some(claims), Some(signature)) = (json(h), json(c), decode(s)) else {
        return Err(invalid_client("client_assertion is not a JWT"));
    };
    let input = format!("{h}.{c}");
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let signed = match alg {
        "HS256" => {
            let accepted = shared.accepted();
            let secret = match &accepted {
                Some((_, secret)) => secret.as_str(),
                None => HS256_SECRET,
            };
            let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
            aws_lc_rs::hmac::verify(&key, input.as_bytes(), &signature).is_ok()
        }
        "RS256" => verifies(RSA_KEYS, &RSA_PKCS1_2048_8192_SHA256, &input, &signature),
        "PS256" => verifies(RSA_KEYS, &RSA_PSS_2048_8192_SHA256, &input, &signature),
        "ES256" => verifies(EC_KEYS, &ECDSA_P256_SHA256_FIXED, &input, &signature),
        _ => return Err(invalid_client("unsupported assertion alg")),
    };
    if !signed {
        return Err(invalid_client("client_assertion signature does not verify"));
    }
    let claim = |name: &str| claims.get(name).and_then(Value::as_str).unwrap_or_default();
    if claim("iss") != client_id || claim("sub") != client_id {
        return Err(invalid_client("iss and sub must be the client_id"));
    }
    if let Some((want, _)) = shared.accepted() {
        if *want != client_id {
            return Err(invalid_client("unknown client"));
        }
    }
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if claim("aud") != format!("http://{host}{PATH}") {
        return Err(invalid_client("aud must be this token endpoint"));
    }
    let number = |name: &str| claims.get(name).and_then(Value::as_u64);
    let (Some(iat), Some(exp)) = (number("iat"), number("exp")) else {
        return Err(invalid_client("iat and exp are required"));
    };
    if exp <= now_secs {
        return Err(invalid_client("client_assertion has expired"));
    }
    if iat > now_secs + 5 || exp < iat || exp - iat > 300 {
        return Err(invalid_client(
            "client_assertion is not valid now for at most 300 s",
        ));
    }
    let jti = claim("jti");
    if jti.is_empty() || !shared.lock().assertion_ids.insert(jti.to_owned()) {
        return Err(invalid_client(
            "client_assertion jti is missing or replayed",
        ));
    }
    Ok(client_id)
}

fn verifies(
    keys: &[&str],
    algorithm: &'static dyn VerificationAlgorithm,
    input: &str,
    signature: &[u8],
) -> bool {
    keys.iter().any(|pem| {
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        STANDARD.decode(b64).is_ok_and(|spki| {
            UnparsedPublicKey::new(algorithm, spki)
                .verify(input.as_bytes(), signature)
                .is_ok()
        })
    })
}
