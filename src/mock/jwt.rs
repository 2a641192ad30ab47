//! JWT-shaped (unsigned) access tokens, as Passport and Deliveroo issue JWTs.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// `base64url(header).base64url(claims).mock-signature`; `jti` keeps it unique.
/// Only the client id goes in: a token must never reveal the secret.
pub(crate) fn token(client_id: &str, iat: u64, exp: u64, jti: u64) -> String {
    token_with(client_id, iat, exp, jti, "")
}

/// [`token`] with a `pad` claim of `pad` (bytes that make the token as long
/// as a platform's with many claims), left out when empty.
pub(crate) fn token_with(client_id: &str, iat: u64, exp: u64, jti: u64, pad: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let mut claims = serde_json::json!({
        "sub": client_id,
        "iat": iat,
        "exp": exp,
        "jti": jti.to_string(),
    });
    if !pad.is_empty() {
        claims["pad"] = pad.into();
    }
    let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{claims}.mock-signature")
}
